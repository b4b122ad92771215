"""The exercise registry: the one place that knows which exercises exist and where their files are.

Notebook: 00_welcome.ipynb (how exercises work)

An exercise ``exNN_topic`` is made of files found by name, so adding
``ex04_hmm`` needs no grading code:

- ``solutions/exNN_topic.py`` the reference answer (with solution markers);
- ``exercises/exNN_topic.py`` the learner's stub, generated from it;
- ``tests/exercises/test_exNN*.py`` its checks: the file whose top level says
  ``EXERCISE = "exNN_topic"`` (read without importing it);
- ``tests/exercises/mutants/exNN_topic.toml`` deliberately wrong variants.

:func:`exercises` lists them; every other grading module asks it.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

__all__ = ["Exercise", "exercises", "parse_name", "short_name", "check_file_exercise",
           "CHECK_FILE", "RegistryError"]

# The only patterns that recognise exercise file names anywhere in the grader.
NAME = re.compile(r"^ex(\d{2,3})_([a-z][a-z0-9_]*)$")
CHECK_FILE = re.compile(r"^test_ex(\d{2,3})(?:_\w+)?\.py$")


class RegistryError(ValueError):
    """The exercise files contradict each other; the message names the files."""


def parse_name(stem: str):
    """``"ex04_hmm"`` -> ``4``; ``None`` for anything that is not an exercise name."""
    m = NAME.match(stem)
    return int(m.group(1)) if m else None


def short_name(name: str) -> str:
    """``"ex04_hmm"`` -> ``"ex04"`` (the CSV column prefix and the ``course check`` name)."""
    number = parse_name(name)
    return f"ex{number:02d}" if number is not None else name


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise and its files (``None`` where a file does not exist yet)."""

    number: int
    name: str
    solution: Path | None
    stub: Path  # where `course stubs` writes the learner's file (may not exist yet)
    checks: Path | None
    mutants: Path | None

    @property
    def short(self) -> str:
        return f"ex{self.number:02d}"


def check_file_exercise(path: Path):
    """The ``EXERCISE = "..."`` string of a checks file (parsed, not imported), else ``None``."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "EXERCISE" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            return value if isinstance(value, str) else None
    return None


def _stems(folder: Path) -> dict:
    return {p.stem: p for p in sorted(folder.glob("ex*.py")) if parse_name(p.stem) is not None}


def exercises(root=None) -> dict:
    """``{name: Exercise}`` for every exercise of the course at ``root``, sorted by number.

    An exercise exists when it has a solution, a stub or a checks file. Two
    names with one number, a checks file whose ``EXERCISE`` disagrees with its
    file name, or two checks files for one exercise raise :class:`RegistryError`.
    """
    if root is None:
        from . import find_repo_root

        root = find_repo_root()
    root = Path(root)
    solutions, stubs = _stems(root / "solutions"), _stems(root / "exercises")
    checks: dict = {}
    tests = root / "tests" / "exercises"
    for path in sorted(tests.glob("test_ex*.py")):
        m = CHECK_FILE.match(path.name)
        name = check_file_exercise(path) if m else None
        if name is None:
            continue  # a helper test module of a chapter, not a checks file
        if parse_name(name) != int(m.group(1)):
            raise RegistryError(f"{path}: EXERCISE = {name!r} does not match the file name "
                                f"(expected ex{int(m.group(1)):02d}_<topic>)")
        if name in checks:
            raise RegistryError(f"two checks files for {name}: {checks[name].name} and {path.name}; "
                                "keep one file per exercise")
        checks[name] = path
    names = sorted(set(solutions) | set(stubs) | set(checks), key=lambda n: (parse_name(n), n))
    by_number: dict = {}
    for name in names:
        by_number.setdefault(parse_name(name), []).append(name)
    clash = {n: v for n, v in by_number.items() if len(v) > 1}
    if clash:
        n, v = next(iter(clash.items()))
        raise RegistryError(f"exercise {n:02d} has several names {v} across solutions/, exercises/ "
                            "and tests/exercises/; rename the files so they agree")
    out = {}
    for name in names:
        mut = tests / "mutants" / f"{name}.toml"
        out[name] = Exercise(number=parse_name(name), name=name, solution=solutions.get(name),
                             stub=root / "exercises" / f"{name}.py", checks=checks.get(name),
                             mutants=mut if mut.is_file() else None)
    return out
