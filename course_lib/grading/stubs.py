"""Generate exercise stubs from the reference solutions.

``solutions/exNN_topic.py`` is the single source of truth. Every region::

        ### BEGIN SOLUTION
        ... reference code ...
        ### END SOLUTION

(indented inside a function body) becomes, in ``exercises/exNN_topic.py``::

        raise NotImplementedError()

at the marker's indentation; everything outside the regions (imports,
signatures, docstrings, helpers) is copied unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["StubError", "make_stub", "write_stubs", "check_stubs", "BEGIN", "END", "HEADER"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
HEADER = (
    "# Exercise file generated from solutions/ by `course stubs`.\n"
    "# Replace each `raise NotImplementedError()` with your code, then run `course check {short}`.\n"
)


class StubError(ValueError):
    """A solution file's markers are malformed; the message names file and line."""


def make_stub(source: str, *, filename: str = "<solution>") -> str:
    """Return ``source`` with every solution region replaced by ``raise NotImplementedError()``."""
    out: list[str] = []
    begin_line = None
    indent = ""
    n_regions = 0
    for lineno, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if begin_line is not None:
                raise StubError(
                    f"{filename}:{lineno}: '{BEGIN}' inside the region opened at line "
                    f"{begin_line}; close it with '{END}' first"
                )
            indent = line[: len(line) - len(line.lstrip())]
            if not indent:
                raise StubError(
                    f"{filename}:{lineno}: '{BEGIN}' must be indented inside a function body"
                )
            begin_line = lineno
            continue
        if stripped == END:
            if begin_line is None:
                raise StubError(f"{filename}:{lineno}: '{END}' without a matching '{BEGIN}'")
            out.append(f"{indent}raise NotImplementedError()\n")
            begin_line = None
            n_regions += 1
            continue
        if begin_line is None:
            if stripped.startswith("###") and "SOLUTION" in stripped.upper():
                raise StubError(
                    f"{filename}:{lineno}: unrecognised marker {stripped!r}; use exactly "
                    f"'{BEGIN}' and '{END}'"
                )
            out.append(line)
    if begin_line is not None:
        raise StubError(
            f"{filename}:{begin_line}: '{BEGIN}' has no matching '{END}' before the end of the file"
        )
    if n_regions == 0:
        raise StubError(f"{filename}: no '{BEGIN}' ... '{END}' region found")
    text = "".join(out)
    if text and not text.endswith("\n"):
        text += "\n"
    from .registry import parse_name, short_name

    stem = Path(filename).stem
    stub = HEADER.format(short=short_name(stem) if parse_name(stem) is not None else "exNN") + text
    try:
        compile(stub, filename, "exec")
    except SyntaxError as exc:
        raise StubError(f"{filename}: the generated stub is not valid Python ({exc})") from exc
    return stub


@dataclass
class StubReport:
    written: list
    unchanged: list
    stale: list  # out of date or missing (check mode)
    orphans: list  # exercises/ex*.py with no solution


def _plan(root: Path):
    from .registry import exercises

    plan, orphans = {}, []
    for ex in exercises(root).values():
        if ex.solution is None:
            if ex.stub.exists():
                orphans.append(ex.stub)
            continue
        plan[ex.stub] = make_stub(ex.solution.read_text(encoding="utf-8"),
                                  filename=str(ex.solution.relative_to(root)))
    return plan, orphans


def write_stubs(root: Path) -> StubReport:
    """Regenerate ``exercises/exNN_*.py`` from ``solutions/``; returns what changed."""
    plan, orphans = _plan(root)
    (root / "exercises").mkdir(exist_ok=True)
    written, unchanged = [], []
    for dest, text in plan.items():
        if dest.exists() and dest.read_text(encoding="utf-8") == text:
            unchanged.append(dest)
            continue
        tmp = dest.with_suffix(".py.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(dest)
        written.append(dest)
    return StubReport(written, unchanged, [], orphans)


def check_stubs(root: Path) -> StubReport:
    """Compare ``exercises/`` with what ``course stubs`` would write; changes nothing."""
    plan, orphans = _plan(root)
    stale, unchanged = [], []
    for dest, text in plan.items():
        if dest.exists() and dest.read_text(encoding="utf-8") == text:
            unchanged.append(dest)
        else:
            stale.append(dest)
    return StubReport([], unchanged, stale, orphans)
