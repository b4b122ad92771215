"""The ``course`` command: ``course check``, ``course grade``, ``course stubs``.

Run ``course --help`` (or ``python -m course_lib.grading.cli --help``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _cmd_stubs(args) -> int:
    from . import find_repo_root
    from .stubs import StubError, check_stubs, write_stubs

    root = find_repo_root()
    try:
        report = check_stubs(root) if args.check else write_stubs(root)
    except StubError as exc:
        print(f"course stubs: {exc}", file=sys.stderr)
        return 1
    rel = lambda p: str(Path(p).relative_to(root))  # noqa: E731
    if args.check:
        problems = [f"  out of date or missing: {rel(p)}" for p in report.stale]
        problems += [f"  no solution for: {rel(p)}" for p in report.orphans]
        if problems:
            print("course stubs --check: exercises/ does not match solutions/:", file=sys.stderr)
            print("\n".join(problems), file=sys.stderr)
            print("Run `course stubs` and commit the result.", file=sys.stderr)
            return 1
        print(f"course stubs --check: {len(report.unchanged)} exercise file(s) up to date")
        return 0
    for p in report.written:
        print(f"wrote {rel(p)}")
    for p in report.orphans:
        print(f"warning: {rel(p)} has no solution file", file=sys.stderr)
    print(f"{len(report.written)} written, {len(report.unchanged)} unchanged")
    return 0


def _cmd_check(args) -> int:
    from . import find_repo_root, resolve_exercise
    from .grade import grade_file, public_checks
    from .registry import exercises
    from .sandbox import parse_size

    root = find_repo_root()
    try:
        registry = exercises(root)
        exercise = resolve_exercise(args.exercise, root,
                                    known={n: ex.number for n, ex in registry.items()})
        if registry[exercise].checks is None:
            raise ValueError(f"{exercise} has no checks yet (no tests/exercises/test_{registry[exercise].short}*.py)")
        public = public_checks(root, number=registry[exercise].number)
    except ValueError as exc:
        print(f"course check: {exc}", file=sys.stderr)
        return 2
    path = Path(args.file) if args.file else registry[exercise].stub
    if not path.is_file():
        print(f"course check: {path} does not exist (run `course stubs` to create the stubs)",
              file=sys.stderr)
        return 2
    checks = public[exercise]
    try:
        shown = path.resolve().relative_to(root)
    except ValueError:
        shown = path
    from .sandbox import UNSAFE_WARNING, IsolationError, choose_isolation

    try:
        isolation = choose_isolation(args.isolation, allow_unsafe=args.unsafe_no_isolation)
    except (IsolationError, ValueError) as exc:
        print(f"course check: {exc}", file=sys.stderr)
        return 2
    if isolation == "none":
        print(UNSAFE_WARNING, file=sys.stderr)
    print(f"Checking {exercise} in {shown} ({len(checks)} checks, isolation: {isolation})...")
    result = grade_file(root, exercise, checks, path, timeout=args.timeout,
                        memory=parse_size(args.memory), isolation=isolation)
    print(format_check_report(result))
    return 0 if result.status == "ok" else 1


def format_check_report(result) -> str:
    """The learner's view: per function passed / failed (with messages) / not attempted."""
    lines = []
    if result.status in ("timeout", "crash"):
        lines.append(f"Your code did not run to the end: {result.detail.splitlines()[0]}")
        rest = result.detail.split("\n", 1)[1] if "\n" in result.detail else ""
        if rest.strip():
            lines.append(rest.rstrip())
        for name, text in (("output", result.stdout), ("errors", result.stderr)):
            if text.strip():
                lines += [f"--- {name} (truncated) ---", text.rstrip()]
        lines.append(f"Score: 0/{result.max_points} points.")
        return "\n".join(lines)
    from .grade import SCORING_RULE, function_points

    points = function_points(result.checks)
    functions: dict = {}
    for g in result.checks:
        functions.setdefault(g.check.function, []).append(g)
    width = max(len(f) for f in functions) if functions else 10
    for fn, items in functions.items():
        verdicts = [g.verdict for g in items]
        n_ok = sum(v.passed for v in verdicts)
        if n_ok == len(verdicts):
            lines.append(f"  {fn:<{width}}  passed ({n_ok}/{len(verdicts)} checks, {points[fn][0]} points)")
        elif all(v.not_attempted for v in verdicts):
            lines.append(f"  {fn:<{width}}  not attempted (still raises NotImplementedError)")
        else:
            lines.append(f"  {fn:<{width}}  FAILED ({n_ok}/{len(verdicts)} checks passed, 0 points)")
            for g in items:
                if not g.verdict.passed:
                    msg = "hidden check" if g.hidden else g.verdict.message
                    lines.append(f"      x {g.check.name}: {msg}")
    lines.append(f"Score: {result.points}/{result.max_points} points."
                 + ("  All correct!" if result.status == "ok" else ""))
    lines.append(SCORING_RULE)
    if result.stdout.strip():
        lines += ["--- your code printed (truncated) ---", result.stdout.rstrip()]
    return "\n".join(lines)


def _cmd_grade(args) -> int:
    from .grade import grade_class
    from .sandbox import IsolationError, parse_size

    subs = Path(args.submissions)
    if not subs.is_dir():
        print(f"course grade: {subs} is not a folder of submissions", file=sys.stderr)
        return 2
    try:
        memory = parse_size(args.memory)
        if args.timeout <= 0:
            raise ValueError(f"--timeout {args.timeout} must be positive")
        if args.jobs is not None and args.jobs < 1:
            raise ValueError(f"--jobs {args.jobs} must be at least 1")
        grade_class(subs, Path(args.out), extra_dir=Path(args.extra_tests) if args.extra_tests else None,
                    timeout=args.timeout, memory=memory, jobs=args.jobs,
                    progress=not args.no_progress, isolation=args.isolation,
                    allow_unsafe=args.unsafe_no_isolation, regrade=args.regrade)
    except (ValueError, OSError, ImportError, SyntaxError, IsolationError) as exc:
        print(f"course grade: {exc}", file=sys.stderr)
        return 2
    return 0


def _isolation_options(p) -> None:
    p.add_argument("--isolation", choices=("auto", "bubblewrap", "landlock", "none"), default="auto",
                   help="how student code is confined (default auto: bubblewrap, else Landlock)")
    p.add_argument("--unsafe-no-isolation", action="store_true",
                   help="allow grading with no OS isolation where neither exists (only in a throwaway "
                        "container or VM)")


def build_parser() -> argparse.ArgumentParser:
    import os

    from .sandbox import DEFAULT_TIMEOUT

    p = argparse.ArgumentParser(prog="course", description="Speech & Audio course: exercises and grading.")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check your exercise, e.g. `course check ex01`")
    c.add_argument("exercise", help="ex01, ex1, 01 or ex01_digital_audio")
    c.add_argument("--file", help="check this file instead of exercises/exNN_*.py")
    c.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds (default 60)")
    c.add_argument("--memory", default="2G", help="memory limit (default 2G)")
    _isolation_options(c)
    c.set_defaults(func=_cmd_check)

    g = sub.add_parser("grade", help="grade a folder of submissions into a CSV and feedback/")
    g.add_argument("submissions", help="folder holding <student>/exNN_topic.py")
    g.add_argument("--out", default="grades.csv", help="CSV to write (feedback/ goes beside it)")
    g.add_argument("--extra-tests", help="folder of instructor-only test_exNN*.py check files")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per exercise (default 60)")
    g.add_argument("--memory", default="2G", help="memory limit per exercise (default 2G)")
    g.add_argument("--jobs", type=int, default=None,
                   help=f"students graded in parallel (default: the number of CPU cores, {os.cpu_count()})")
    g.add_argument("--regrade", action="store_true",
                   help="grade every student again (default: keep students already in --out)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    _isolation_options(g)
    g.set_defaults(func=_cmd_grade)

    s = sub.add_parser("stubs", help="regenerate exercises/ from solutions/")
    s.add_argument("--check", action="store_true", help="fail if exercises/ is out of date")
    s.set_defaults(func=_cmd_stubs)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
