"""Grade one exercise file, or a folder of submissions, with the sandbox.

Used by ``course check`` (one learner, their ``exercises/`` file) and
``course grade`` (a class). Scoring happens here, in the trusted process, by
function (:data:`SCORING_RULE`): a function is worth one point per check (public
and instructor checks alike) and earns them only when every one of its checks
passes, so an answer that is right on a few easy inputs by accident (``return 0``,
raising ``ValueError`` everywhere) earns nothing. An exercise whose run timed out
or crashed scores 0.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import shutil
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import find_repo_root
from .checks import Check, Verdict, evaluate, load_checks
from .registry import CHECK_FILE, exercises
from .registry import short_name as short
from .sandbox import DEFAULT_MEMORY, DEFAULT_TIMEOUT, make_tree, run_calls

__all__ = ["SCORING_RULE", "function_points", "ExerciseResult", "public_checks", "extra_checks", "grade_file", "grade_class",
           "STATUSES", "write_csv", "feedback_markdown"]

SCORING_RULE = ("Scoring: each function is worth one point per check and earns them only when "
                "all of its checks pass (instructor checks included); a run that crashed or timed out "
                "earns nothing.")
STATUSES = ("ok", "fail", "timeout", "crash", "not_attempted", "missing")


@dataclasses.dataclass
class GradedCheck:
    check: Check
    hidden: bool
    verdict: Verdict | None  # None when the run did not complete


@dataclasses.dataclass
class ExerciseResult:
    exercise: str
    status: str
    points: int
    max_points: int
    checks: list  # of GradedCheck
    detail: str = ""
    stdout: str = ""
    stderr: str = ""


def public_checks(root: Path, *, number: int | None = None) -> dict:
    """``{exercise: [Check]}`` for every exercise of the registry that has a checks file
    (only exercise ``number`` if given)."""
    out = {}
    for name, ex in exercises(root).items():
        if ex.checks is None or (number is not None and ex.number != number):
            continue
        ec = load_checks(ex.checks)
        if ec.exercise != name:
            raise ValueError(f"{ex.checks}: EXERCISE={ec.exercise!r} changed while loading (expected {name!r})")
        out[name] = ec.checks
    return out


def extra_checks(folder: Path, known) -> dict:
    """Instructor-only checks: ``{exercise: [Check]}`` from ``folder/test_exNN*.py``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"--extra-tests {folder}: not a folder")
    out: dict = {}
    files = sorted(p for p in folder.glob("test_ex*.py") if CHECK_FILE.match(p.name))
    if not files:
        raise ValueError(f"--extra-tests {folder}: no test_exNN*.py files in it")
    for path in files:
        ec = load_checks(path)
        if ec.exercise not in known:
            raise ValueError(f"{path}: EXERCISE={ec.exercise!r} is not one of {sorted(known)}")
        out.setdefault(ec.exercise, []).extend(ec.checks)
    return out


def function_points(graded) -> dict:
    """``{function: (earned, possible)}`` under :data:`SCORING_RULE` (``graded``: GradedCheck list)."""
    by_fn: dict = {}
    for g in graded:
        by_fn.setdefault(g.check.function, []).append(g.verdict is not None and g.verdict.passed)
    return {fn: (len(ok) if all(ok) else 0, len(ok)) for fn, ok in by_fn.items()}


def _status(verdicts) -> str:
    if all(v.passed for v in verdicts):
        return "ok"
    if all(v.not_attempted for v in verdicts):
        return "not_attempted"
    return "fail"


def grade_file(root: Path, exercise: str, checks: list, student_file: Path | None, *,
               hidden: list | None = None, timeout: float = DEFAULT_TIMEOUT,
               memory: int = DEFAULT_MEMORY, scratch: Path | None = None,
               keep_tree: bool = False) -> ExerciseResult:
    """Run ``checks`` (public) and ``hidden`` (instructor) against one file in a fresh tree."""
    hidden = list(hidden or [])
    allc = [(c, False) for c in checks] + [(c, True) for c in hidden]
    max_points = len(allc)
    if student_file is None or not Path(student_file).is_file():
        return ExerciseResult(exercise, "missing", 0, max_points,
                              [GradedCheck(c, h, None) for c, h in allc],
                              detail=f"no {exercise}.py in the submission")
    scratch_dir = Path(tempfile.mkdtemp(prefix="course-grade-", dir=scratch))
    try:
        tree = make_tree(root, scratch_dir / "tree",
                         files={f"exercises/{exercise}.py": Path(student_file)})
        calls = [{"id": f"c{i}", "function": c.function, "args": c.args, "kwargs": c.kwargs}
                 for i, (c, _) in enumerate(allc)]
        run = run_calls(tree, tree / "exercises" / f"{exercise}.py", calls, module_name=exercise,
                        timeout=timeout, memory=memory, logdir=scratch_dir)
    finally:
        if not keep_tree:
            shutil.rmtree(scratch_dir, ignore_errors=True)
    out = dict(detail=run.detail, stdout=run.stdout, stderr=run.stderr)
    if run.status != "done":
        return ExerciseResult(exercise, run.status, 0, max_points,
                              [GradedCheck(c, h, None) for c, h in allc], **out)
    if run.import_error is not None:
        e = run.import_error
        detail = f"importing the file failed: {e['type']}: {e['message'][:500]}"
        tb = e.get("traceback", "")
        return ExerciseResult(exercise, "crash", 0, max_points,
                              [GradedCheck(c, h, None) for c, h in allc],
                              detail=detail + ("\n" + tb if tb else ""), stdout=run.stdout,
                              stderr=run.stderr)
    graded = [GradedCheck(c, h, evaluate(c, run.outcomes[f"c{i}"])) for i, (c, h) in enumerate(allc)]
    verdicts = [g.verdict for g in graded]
    points = sum(earned for earned, _ in function_points(graded).values())
    return ExerciseResult(exercise, _status(verdicts), points, max_points, graded, **out)


# --------------------------------------------------------------------------- a class

@dataclasses.dataclass
class StudentResult:
    student: str
    exercises: dict  # exercise -> ExerciseResult

    @property
    def total(self) -> int:
        return sum(r.points for r in self.exercises.values())

    @property
    def max_total(self) -> int:
        return sum(r.max_points for r in self.exercises.values())


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+|~+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def feedback_markdown(student: str, result: StudentResult) -> str:
    lines = [f"# Feedback for {student}", "",
             f"**Total: {result.total} / {result.max_total}**", "",
             SCORING_RULE, "",
             "| exercise | status | points |", "|---|---|---|"]
    for ex, r in result.exercises.items():
        lines.append(f"| {ex} | {r.status} | {r.points} / {r.max_points} |")
    for ex, r in result.exercises.items():
        lines += ["", f"## {ex}: {r.status} ({r.points} / {r.max_points})", ""]
        if r.status == "missing":
            lines.append(f"No `{ex}.py` was submitted.")
            continue
        if r.status in ("timeout", "crash"):
            lines.append(f"The code did not finish: {r.detail.splitlines()[0] if r.detail else r.status}. "
                         "No check could be scored.")
            if r.detail and "\n" in r.detail:
                lines += ["", _fence(r.detail.split("\n", 1)[1])]
        fp = function_points(r.checks) if r.status not in ("timeout", "crash") else {}
        current = None
        for g in r.checks:
            if g.verdict is None:
                continue
            if g.check.function != current:
                current = g.check.function
                earned, possible = fp[current]
                lines += ["", f"`{current}`: {earned} / {possible} points"
                          + ("" if earned == possible else " (not every check passed)"), ""]
            mark = "passed" if g.verdict.passed else ("not attempted" if g.verdict.not_attempted else "failed")
            if g.hidden:
                lines.append(f"- [{mark}] (instructor check) {g.check.label}")
            elif g.verdict.passed:
                lines.append(f"- [passed] {g.check.label}")
            else:
                msg = " ".join(g.verdict.message.split())
                lines.append(f"- [{mark}] {g.check.label}: {msg}")
        for name, text in (("stdout", r.stdout), ("stderr", r.stderr)):
            if text.strip():
                lines += ["", f"Output on {name} (truncated):", "", _fence(text)]
    return "\n".join(lines) + "\n"


def write_csv(path: Path, results: list, exercises: list) -> None:
    header = ["student", "total", "max_total"]
    for ex in exercises:
        header += [f"{short(ex)}_points", f"{short(ex)}_status"]
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in results:
            row = [r.student, r.total, r.max_total]
            for ex in exercises:
                row += [r.exercises[ex].points, r.exercises[ex].status]
            w.writerow(row)
    tmp.replace(path)


def summary_table(results: list, exercises: list) -> str:
    rows = [("exercise", "max", "mean", *STATUSES)]
    for ex in exercises:
        rs = [r.exercises[ex] for r in results]
        counts = Counter(x.status for x in rs)
        mean = sum(x.points for x in rs) / len(rs) if rs else 0.0
        rows.append((short(ex), str(rs[0].max_points if rs else 0), f"{mean:.1f}",
                     *(str(counts.get(s, 0)) for s in STATUSES)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in
                               enumerate(zip(row, widths))) for row in rows)


def grade_class(submissions: Path, out_csv: Path, *, extra_dir: Path | None = None,
                timeout: float = DEFAULT_TIMEOUT, memory: int = DEFAULT_MEMORY, jobs: int = 1,
                root: Path | None = None, progress: bool = True, log=print) -> list:
    """Grade every ``submissions/<student>/`` folder; write the CSV and ``feedback/``."""
    root = Path(root) if root is not None else find_repo_root()
    submissions = Path(submissions).resolve()
    out_csv = Path(out_csv).resolve()
    public = public_checks(root)
    if not public:
        raise ValueError(f"no exercise checks found in {root / 'tests' / 'exercises'}")
    extra = extra_checks(extra_dir, public) if extra_dir is not None else {}
    exercises = sorted(public)
    students = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    feedback_dir = out_csv.parent / "feedback"
    feedback_dir.mkdir(parents=True, exist_ok=True)
    # Every student's tree lives under one scratch folder; a run may read only its own
    # tree and the Python installation, so parallel runs cannot read each other, the
    # submissions, the hidden tests or any copy of solutions/.
    scratch = Path(tempfile.mkdtemp(prefix="course-grading-")).resolve()

    def one(student_dir: Path) -> StudentResult:
        res = {}
        for ex in exercises:
            f = student_dir / f"{ex}.py"
            res[ex] = grade_file(root, ex, public[ex], f if f.is_file() else None,
                                 hidden=extra.get(ex), timeout=timeout, memory=memory,
                                 scratch=scratch)
        sr = StudentResult(student_dir.name, res)
        (feedback_dir / f"{student_dir.name}.md").write_text(
            feedback_markdown(student_dir.name, sr), encoding="utf-8")
        return sr

    results = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(students), desc="grading", unit="student")
    try:
        with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
            futures = {pool.submit(one, s): s for s in students}
            for fut in as_completed(futures):
                results.append(fut.result())
                if bar is not None:
                    bar.update(1)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if bar is not None:
        bar.close()
    results.sort(key=lambda r: r.student)
    write_csv(out_csv, results, exercises)
    if log is not None:
        log(f"\nGraded {len(results)} student(s) -> {out_csv} and {feedback_dir}/")
        if results:
            log(summary_table(results, exercises))
    return results
