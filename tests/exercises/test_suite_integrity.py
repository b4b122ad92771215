"""The exercise checks cannot be vacuous: solutions pass, stubs fail, mutants are caught.

For every ``tests/exercises/test_exNN*.py`` found (so new exercises are covered
without editing this file), a child pytest runs the checks against

- the reference solutions: every check must pass;
- stubs generated afresh from the solutions (not the learner-editable
  ``exercises/`` folder): every check must *fail*, as "not attempted";
- each deliberately wrong variant listed in ``tests/exercises/mutants/exNN_topic.toml``
  (at least two per exercise), built from the *current* solution by replacing
  one snippet: at least one check must fail;
- generated **constant mutants** of every checked function (return ``0``, ``0.0``,
  ``None``, the first argument unchanged, ``np.zeros_like`` of it, an empty array,
  raise ``ValueError``): under the grader's scoring rule each must earn zero points.

Outcomes are read from the child's JUnit XML, never from its exit code. A
single child pytest runs everything: ``COURSE_IMPL_MATRIX`` lists, per
exercise, every implementation to check (see tests/exercises/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import types

import numpy as np
import pytest

from course_lib.grading.checks import call_in_process, evaluate, load_checks
from course_lib.grading.grade import GradedCheck, function_points
from course_lib.grading.registry import exercises
from course_lib.grading.stubs import check_stubs, make_stub

REPO = Path(__file__).resolve().parents[2]
HERE = REPO / "tests" / "exercises"
MIN_MUTANTS = 2


REGISTRY = exercises(REPO)
CHECK_FILES = {name: ex.checks for name, ex in REGISTRY.items() if ex.checks is not None}
EXERCISES = sorted(CHECK_FILES)


def _mutants(exercise: str) -> list[dict]:
    path = REGISTRY[exercise].mutants
    return tomllib.loads(path.read_text(encoding="utf-8"))["mutant"] if path is not None else []


MUTANTS = {ex: _mutants(ex) for ex in EXERCISES}


def build_mutant(exercise: str, mutant: dict) -> str:
    """The solution's source with the mutant's replacements applied (each ``old`` exactly once)."""
    source = (REPO / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    for rep in mutant["replace"]:
        count = source.count(rep["old"])
        if count != 1:
            raise AssertionError(
                f"mutant {mutant['name']!r} of {exercise}: its `old` snippet occurs {count} times in "
                f"solutions/{exercise}.py (must be exactly once); update tests/exercises/mutants/{exercise}.toml:\n"
                f"{rep['old']}")
        source = source.replace(rep["old"], rep["new"])
    return source


def _run_child(tmp: Path, matrix: dict) -> dict:
    """Run every exercise's checks against every implementation in ``matrix``.

    ``matrix`` is ``{exercise: {label: path}}``; returns
    ``{(exercise, label): {test_id: (outcome, message)}}`` read from JUnit XML.
    """
    xml, matrix_file = tmp / "checks.xml", tmp / "matrix.json"
    matrix_file.write_text(json.dumps({ex: {k: str(v) for k, v in m.items()} for ex, m in matrix.items()}))
    env = {k: v for k, v in os.environ.items()
           if k not in ("COURSE_IMPL", "COURSE_IMPL_FILE", "COURSE_IMPL_DIR", "PYTEST_ADDOPTS")}
    env["COURSE_IMPL_MATRIX"] = str(matrix_file)
    env["COURSE_FAST"] = "1"
    files = [str(CHECK_FILES[ex]) for ex in matrix]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         "-o", "junit_family=xunit1", f"--junitxml={xml}", *files],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    if not xml.exists():
        pytest.fail(f"child pytest wrote no JUnit XML:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    by_file = {CHECK_FILES[ex].stem: ex for ex in matrix}
    out: dict = {(ex, label): {} for ex, m in matrix.items() for label in m}
    for case in ET.parse(xml).getroot().iter("testcase"):
        ex = by_file.get(case.get("classname", "").rsplit(".", 1)[-1])
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        label = props.get("impl_variant")
        if ex is None or (ex, label) not in out:
            continue
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            el = case.find(kind)
            if el is not None:
                outcome, message = kind, (el.get("message") or "") + (el.text or "")
                break
        name = case.get("name").replace(f"[{label}-", "[").replace(f"-{label}]", "]")
        out[(ex, label)][name] = (outcome, message)
    empty = [key for key, cases in out.items() if not cases]
    if empty:
        pytest.fail(f"child pytest ran no check for {empty}:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return out


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("integrity")
    stub_dir = tmp / "stubs"
    stub_dir.mkdir()
    matrix = {}
    for ex in EXERCISES:
        src = REPO / "solutions" / f"{ex}.py"
        stub = stub_dir / src.name
        stub.write_text(make_stub(src.read_text(encoding="utf-8"), filename=src.name), encoding="utf-8")
        matrix[ex] = {"solution": src, "stub": stub}
        for mutant in MUTANTS[ex]:
            try:
                source = build_mutant(ex, mutant)
            except AssertionError:  # stale: test_mutant_applies_to_the_current_solution says why
                continue
            path = tmp / "mutants" / ex / f"{mutant['name']}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source, encoding="utf-8")
            matrix[ex][f"mutant.{mutant['name']}"] = path
    return _run_child(tmp, matrix)


def test_exercises_are_discovered():
    assert "ex01_digital_audio" in EXERCISES


@pytest.mark.parametrize("exercise", EXERCISES)
def test_exercise_has_solution_and_mutants(exercise):
    assert REGISTRY[exercise].solution is not None, f"solutions/{exercise}.py is missing"
    assert len(MUTANTS[exercise]) >= MIN_MUTANTS, (
        f"tests/exercises/mutants/{exercise}.toml lists {len(MUTANTS[exercise])} mutant(s); "
        f"write at least {MIN_MUTANTS} deliberately wrong variants")


def test_exercises_folder_is_in_sync_with_solutions():
    report = check_stubs(REPO)
    assert not report.stale, f"run `course stubs`: out of date: {[p.name for p in report.stale]}"
    assert not report.orphans, f"exercise files without a solution: {[p.name for p in report.orphans]}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_solution_passes_every_check(exercise, results):
    cases = results[(exercise, "solution")]
    bad = {name: msg[:300] for name, (outcome, msg) in cases.items() if outcome != "passed"}
    assert not bad, f"solutions/{exercise}.py fails {len(bad)} of {len(cases)} checks: {bad}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_stub_fails_every_check(exercise, results):
    cases = results[(exercise, "stub")]
    assert set(cases) == set(results[(exercise, "solution")]), "stub and solution runs collected different checks"
    not_failed = [name for name, (outcome, _) in cases.items() if outcome != "failure"]
    assert not not_failed, f"the untouched stub of {exercise} does not fail: {not_failed}"
    not_nie = [name for name, (_, msg) in cases.items() if "not attempted" not in msg]
    assert not not_nie, f"stub checks failing for another reason than NotImplementedError: {not_nie}"


ALL_MUTANTS = [(ex, m) for ex in EXERCISES for m in MUTANTS[ex]]


@pytest.mark.parametrize("exercise,mutant", ALL_MUTANTS, ids=[f"{ex}-{m['name']}" for ex, m in ALL_MUTANTS])
def test_mutant_applies_to_the_current_solution(exercise, mutant):
    assert mutant.get("bug"), f"mutant {mutant['name']!r} of {exercise} must say what its bug is"
    source = build_mutant(exercise, mutant)  # raises if an `old` snippet went stale
    assert source != (REPO / "solutions" / f"{exercise}.py").read_text(encoding="utf-8")
    compile(source, mutant["name"], "exec")


@pytest.mark.parametrize("exercise,mutant", [(ex, m["name"]) for ex, m in ALL_MUTANTS])
def test_mutant_is_caught(exercise, mutant, results):
    if (exercise, f"mutant.{mutant}") not in results:
        pytest.fail(f"mutant {mutant!r} could not be built from the current solution (see the test above)")
    cases = results[(exercise, f"mutant.{mutant}")]
    errors = {n: m[:300] for n, (o, m) in cases.items() if o == "error"}
    assert not errors, f"mutant {mutant} errored instead of failing a check: {errors}"
    failed = [n for n, (o, _) in cases.items() if o == "failure"]
    assert failed, (f"mutant {mutant!r} in tests/exercises/mutants/{exercise}.toml passes all {len(cases)} checks: "
                    "the checks miss this bug")


# --------------------------------------------------------------------------- constant mutants

def _first(args, kwargs):
    return args[0] if args else next(iter(kwargs.values()))


def _raise_value_error(*args, **kwargs):
    raise ValueError("constant mutant: rejects every input")


CONSTANT_MUTANTS = {
    "return_0": lambda *a, **k: 0,
    "return_0.0": lambda *a, **k: 0.0,
    "return_None": lambda *a, **k: None,
    "first_argument": lambda *a, **k: _first(a, k),
    "zeros_like": lambda *a, **k: np.zeros_like(_first(a, k)),
    "empty_array": lambda *a, **k: np.array([]),
    "raise_ValueError": _raise_value_error,
}


@pytest.mark.parametrize("kind", sorted(CONSTANT_MUTANTS))
@pytest.mark.parametrize("exercise", EXERCISES)
def test_constant_mutant_earns_nothing(exercise, kind):
    """Every checked function replaced by the same constant answer: zero points under the
    grader's own scoring (grade.function_points), so a learner who writes nothing useful scores 0.
    Runs in-process: the constants are ours, only the checks' comparison code runs."""
    checks = load_checks(CHECK_FILES[exercise]).checks
    fake = types.SimpleNamespace(**{c.function: CONSTANT_MUTANTS[kind] for c in checks})
    graded = [GradedCheck(c, False, evaluate(c, call_in_process(fake, c))) for c in checks]
    earned = {fn: pts for fn, (pts, _) in function_points(graded).items() if pts}
    assert not earned, (f"{exercise}: the constant answer {kind!r} earns points for {earned}; "
                        f"add a check to tests/exercises/{CHECK_FILES[exercise].name} that it fails")
