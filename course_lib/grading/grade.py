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
import os
import re
import stat
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import find_repo_root
from .checks import Check, Verdict, evaluate, load_checks
from .registry import CHECK_FILE, exercises
from .registry import short_name as short
from .sandbox import (DEFAULT_MEMORY, DEFAULT_TIMEOUT, UNSAFE_WARNING, choose_isolation, make_tree,
                      remove_tree, run_calls)

__all__ = ["SCORING_RULE", "function_points", "ExerciseResult", "public_checks", "extra_checks", "grade_file", "grade_class",
           "STATUSES", "write_csv", "feedback_markdown"]

SCORING_RULE = ("Scoring: each function is worth one point per check and earns them only when "
                "all of its checks pass (instructor checks included); a run that crashed or timed out "
                "earns nothing.")
STATUSES = ("ok", "fail", "timeout", "crash", "not_attempted", "missing", "invalid")


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


MAX_SUBMISSION_BYTES = 2**20


class InvalidSubmission(ValueError):
    """A submitted file that is not a plain, readable, reasonably small regular file."""


def read_submission(path: Path, *, max_bytes: int = MAX_SUBMISSION_BYTES) -> bytes:
    """The bytes of one submitted file, trusting nothing about it.

    Opened without following a symlink and without blocking (a FIFO cannot hang
    the grader), accepted only when ``fstat`` says it is a regular file of at most
    ``max_bytes``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InvalidSubmission(f"{Path(path).name} cannot be opened as a plain file "
                                f"({exc.strerror}; a symbolic link?)") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidSubmission(f"{Path(path).name} is not a regular file")
        if st.st_size > max_bytes:
            raise InvalidSubmission(f"{Path(path).name} is {st.st_size} bytes, more than {max_bytes}")
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise InvalidSubmission(f"{Path(path).name} grew past {max_bytes} bytes while being read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def grade_file(root: Path, exercise: str, checks: list, student_file: Path | None, *,
               hidden: list | None = None, timeout: float = DEFAULT_TIMEOUT,
               memory: int = DEFAULT_MEMORY, scratch: Path | None = None,
               keep_tree: bool = False, isolation: str | None = None) -> ExerciseResult:
    """Run ``checks`` (public) and ``hidden`` (instructor) against one file in a fresh tree."""
    hidden = list(hidden or [])
    allc = [(c, False) for c in checks] + [(c, True) for c in hidden]
    max_points = len(allc)
    nothing = [GradedCheck(c, h, None) for c, h in allc]
    if student_file is None or not os.path.lexists(student_file):
        return ExerciseResult(exercise, "missing", 0, max_points, nothing,
                              detail=f"no {exercise}.py in the submission")
    try:
        source = read_submission(Path(student_file))
    except InvalidSubmission as exc:
        return ExerciseResult(exercise, "invalid", 0, max_points, nothing,
                              detail=f"not graded: {exc} (submit the .py file itself)")
    scratch_dir = Path(tempfile.mkdtemp(prefix="course-grade-", dir=scratch))
    try:
        tree = make_tree(root, scratch_dir / "tree", files={f"exercises/{exercise}.py": source})
        calls = [{"id": f"c{i}", "function": c.function, "args": c.args, "kwargs": c.kwargs}
                 for i, (c, _) in enumerate(allc)]
        run = run_calls(tree, tree / "exercises" / f"{exercise}.py", calls, module_name=exercise,
                        timeout=timeout, memory=memory, logdir=scratch_dir, isolation=isolation)
    finally:
        if not keep_tree:
            remove_tree(scratch_dir)
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


def display_name(name: str) -> str:
    """A student folder name as text that can always be written (undecodable bytes as ``\\xNN``)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def csv_cell(value):
    """Neutralise spreadsheet formulas: a text cell starting with ``= + - @``, tab or CR gets a ``'``."""
    if isinstance(value, str):
        value = display_name(value)
        if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return "'" + value
    return value


def feedback_markdown(student: str, result: StudentResult, *, isolation: str | None = None) -> str:
    shown = display_name(student)
    lines = [f"# Feedback for {shown}", "",
             f"**Total: {result.total} / {result.max_total}**", "",
             SCORING_RULE, ""]
    if isolation:
        lines += [f"Graded in isolation: {isolation}.", ""]
    lines += ["| exercise | status | points |", "|---|---|---|"]
    for ex, r in result.exercises.items():
        lines.append(f"| {ex} | {r.status} | {r.points} / {r.max_points} |")
    for ex, r in result.exercises.items():
        lines += ["", f"## {ex}: {r.status} ({r.points} / {r.max_points})", ""]
        if r.status == "missing":
            lines.append(f"No `{ex}.py` was submitted.")
            continue
        if r.status == "invalid":
            lines.append(f"{r.detail}.")
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


def _header(exercises: list) -> list:
    header = ["student", "total", "max_total"]
    for ex in exercises:
        header += [f"{short(ex)}_points", f"{short(ex)}_status"]
    return header


def _row(r: StudentResult, exercises: list) -> list:
    row = [csv_cell(r.student), r.total, r.max_total]
    for ex in exercises:
        row += [r.exercises[ex].points, r.exercises[ex].status]
    return row


def write_csv(path: Path, results: list, exercises: list, *, kept_rows: list = ()) -> None:
    """Write the class CSV atomically: ``results`` plus ``kept_rows`` (rows of a resumed run)."""
    rows = [list(r) for r in kept_rows] + [_row(r, exercises) for r in results]
    rows.sort(key=lambda row: str(row[0]))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        w = csv.writer(f)
        w.writerow(_header(exercises))
        w.writerows(rows)
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


def list_students(submissions: Path) -> list:
    """``[(name, folder or None)]``: every entry of ``submissions`` not starting with ``.``.

    A real folder is a student; a symbolic link in place of a folder (archives
    unpack them) is listed with ``None`` and graded ``invalid``: it is never
    followed. Plain files at the top level are ignored.
    """
    out = []
    with os.scandir(submissions) as it:
        for entry in it:
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                out.append((entry.name, None))
            elif entry.is_dir(follow_symlinks=False):
                out.append((entry.name, Path(entry.path)))
    return sorted(out, key=lambda item: item[0])


def _read_previous(out_csv: Path, exercises: list) -> dict:
    """Rows of an earlier run of the same grading (``{student cell: row}``), for resuming."""
    if not out_csv.is_file():
        return {}
    with open(out_csv, newline="", encoding="utf-8", errors="backslashreplace") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    if rows[0] != _header(exercises):
        raise ValueError(f"{out_csv} was written for other exercises ({', '.join(rows[0][3::2])}); "
                         "grade into another --out or pass --regrade to start over")
    return {row[0]: row for row in rows[1:] if row}


def grade_class(submissions: Path, out_csv: Path, *, extra_dir: Path | None = None,
                timeout: float = DEFAULT_TIMEOUT, memory: int = DEFAULT_MEMORY, jobs: int | None = None,
                root: Path | None = None, progress: bool = True, log=print, isolation: str = "auto",
                allow_unsafe: bool = False, regrade: bool = False) -> list:
    """Grade every ``submissions/<student>/`` folder; write the CSV, ``feedback/`` and a summary.

    Students already in ``out_csv`` (from an interrupted run) are kept and not
    graded again unless ``regrade``; the CSV is rewritten after every student, so
    an interruption loses at most the students in progress. ``jobs`` students are
    graded in parallel (default: the number of CPU cores), each in its own tree
    with the same isolation.
    """
    root = Path(root) if root is not None else find_repo_root()
    submissions = Path(submissions).resolve()
    out_csv = Path(out_csv).resolve()
    public = public_checks(root)
    if not public:
        raise ValueError(f"no exercise checks found in {root / 'tests' / 'exercises'}")
    extra = extra_checks(extra_dir, public) if extra_dir is not None else {}
    exercises = sorted(public)
    mode = choose_isolation(isolation, allow_unsafe=allow_unsafe)
    if mode == "none" and log is not None:
        log(UNSAFE_WARNING)
    jobs = max(1, int(jobs if jobs is not None else (os.cpu_count() or 1)))
    previous = {} if regrade else _read_previous(out_csv, exercises)
    everyone = list_students(submissions)
    kept = [previous[csv_cell(name)] for name, _ in everyone if csv_cell(name) in previous]
    students = [(name, folder) for name, folder in everyone if csv_cell(name) not in previous]
    feedback_dir = out_csv.parent / "feedback"
    feedback_dir.mkdir(parents=True, exist_ok=True)
    # Every student's tree lives under one scratch folder, removed at the end.
    scratch = Path(tempfile.mkdtemp(prefix="course-grading-")).resolve()

    def one(name: str, folder) -> StudentResult:
        res = {}
        for ex in exercises:
            if folder is None:
                res[ex] = ExerciseResult(ex, "invalid", 0, len(public[ex]) + len(extra.get(ex, [])), [],
                                         detail="not graded: the submission folder is a symbolic link")
                continue
            try:
                res[ex] = grade_file(root, ex, public[ex], folder / f"{ex}.py", hidden=extra.get(ex),
                                     timeout=timeout, memory=memory, scratch=scratch, isolation=mode)
            except Exception as exc:  # a grader failure on one file must not stop the class
                res[ex] = ExerciseResult(ex, "crash", 0, len(public[ex]) + len(extra.get(ex, [])), [],
                                         detail=f"the grader failed on this file ({type(exc).__name__}: {exc})")
        sr = StudentResult(name, res)
        with open(feedback_dir / f"{name}.md", "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(feedback_markdown(name, sr, isolation=mode))
        return sr

    results = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(students), desc="grading", unit="student")
    start = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(one, name, folder): name for name, folder in students}
            for fut in as_completed(futures):
                results.append(fut.result())
                write_csv(out_csv, results, exercises, kept_rows=kept)
                if bar is not None:
                    bar.update(1)
    finally:
        remove_tree(scratch)
        if bar is not None:
            bar.close()
    seconds = time.monotonic() - start
    results.sort(key=lambda r: r.student)
    write_csv(out_csv, results, exercises, kept_rows=kept)
    summary = [f"Graded {len(results)} student(s) in {seconds:.1f} s with --jobs {jobs}"
               + (f" ({seconds / len(results):.2f} s per student)" if results else "")
               + (f"; kept {len(kept)} from the previous run (--regrade grades them again)" if kept else ""),
               f"Isolation: {mode}" + (" (UNSAFE: see the warning above)" if mode == "none" else ""),
               f"Limits per exercise: {timeout:g} s wall time (sandbox start, imports and every call), "
               f"{memory / 2**30:.2g} GiB memory (RLIMIT_DATA)",
               SCORING_RULE]
    if results:
        summary += ["", summary_table(results, exercises)]
    summary_path = out_csv.with_name(out_csv.stem + ".summary.txt")
    summary_path.write_text("\n".join(summary) + "\n", encoding="utf-8", errors="backslashreplace")
    if log is not None:
        log(f"\n-> {out_csv}, {feedback_dir}/ and {summary_path.name}")
        log("\n".join(summary))
    return results
