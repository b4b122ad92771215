"""Every notebook follows the course's conventions (nbval runs them; this checks their shape)."""

from __future__ import annotations

import json
import re

import pytest

from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def test_notebooks_exist_and_are_numbered_in_order():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers[:2] == [0, 1], f"notebooks 00 and 01 must exist, found {[p.name for p in NOTEBOOKS]}"
    assert len(set(numbers)) == len(numbers), f"two notebooks share a number: {[p.name for p in NOTEBOOKS]}"
    # chapters land out of order; a missing number must be a chapter README's table marks as planned
    readme = (REPO / "README.md").read_text()
    planned = {int(m) for m in re.findall(r"^\| (\d\d) \| `\d\d_\w+\.ipynb` \|.*\| planned", readme, re.M)}
    gaps = set(range(max(numbers) + 1)) - set(numbers)
    assert gaps <= planned, f"notebooks {sorted(gaps - planned)} are missing and not marked planned in README.md"
    for p in NOTEBOOKS:
        row = re.search(rf"^\| {p.name[:2]} \| `([^`]+)` \|.*\|\s*([^|]+?)\s*\|$", readme, re.M)
        assert row and row.group(1) == p.name, f"README.md's chapter table must list {p.name}"
        assert "planned" not in row.group(2), f"README.md still marks {p.name} as planned"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    dirty = [i for i, c in enumerate(_cells(path)) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; run jupyter nbconvert --clear-output --inplace {path}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_opens_with_what_you_will_learn(path):
    cells = _cells(path)
    first_md = next(_source(c) for c in cells if c["cell_type"] == "markdown")
    assert re.search(r"what you will learn", first_md, re.I), f"{path.name}: the first markdown cell must say what you will learn"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_seeds(path):
    first_code = next(_source(c) for c in _cells(path) if c["cell_type"] == "code")
    assert "seed_everything(" in first_code, f"{path.name}: the first code cell must call config.seed_everything"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("00_")], ids=lambda p: p.name)
def test_ends_with_exercises_and_course_check(path):
    cells = _cells(path)
    headings = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and re.search(r"^#+\s*Exercises", _source(c), re.M)]
    assert headings, f"{path.name}: needs an '## Exercises' section"
    tail = "".join(_source(c) for c in cells[headings[-1]:])
    number = path.name[:2]
    assert f"course check ex{number}" in tail, f"{path.name}: the Exercises section must say `course check ex{number}`"
