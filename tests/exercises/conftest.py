"""The ``impl`` fixture: which implementation the exercise checks run against.

Choose with (first match wins):

- ``--impl-file PATH`` / ``COURSE_IMPL_FILE=PATH``: this one module file, for
  every exercise collected (run it with one test file, e.g. a mutant);
- ``--impl-dir DIR`` / ``COURSE_IMPL_DIR=DIR``: ``DIR/exNN_topic.py`` per exercise
  (the meta-test points this at freshly generated stubs or at mutants);
- ``--impl exercises|solutions`` / ``COURSE_IMPL`` (default ``exercises``, the
  learner's files; ``make test`` uses ``solutions``).

The options are registered when this folder is on the command line
(``pytest tests/exercises ...``); the environment variables always work.

``COURSE_IMPL_MATRIX=FILE.json`` (``{exercise: {label: path}}``, used by
test_suite_integrity.py) runs every check once per listed implementation in a
single session; each test records its label as the JUnit property
``impl_variant``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from course_lib.grading import load_module

REPO = Path(__file__).resolve().parents[2]


def pytest_addoption(parser):
    group = parser.getgroup("course exercises")
    group.addoption("--impl", choices=("exercises", "solutions"), default=None,
                    help="run exercise checks against exercises/ (default) or solutions/")
    group.addoption("--impl-file", default=None, help="run exercise checks against this module file")
    group.addoption("--impl-dir", default=None, help="folder holding exNN_topic.py files to check")


def _option(config, name, env):
    try:
        value = config.getoption(name)
    except ValueError:  # options not registered (this conftest was not an initial one)
        value = None
    return value or os.environ.get(env) or None


def _matrix() -> dict:
    path = os.environ.get("COURSE_IMPL_MATRIX")
    if not path:
        return {}
    return json.loads(Path(path).read_text(encoding="utf-8"))


def pytest_generate_tests(metafunc):
    matrix = _matrix()
    if matrix and "impl_variant" in metafunc.fixturenames:
        exercise = getattr(metafunc.module, "EXERCISE", None)
        labels = sorted(matrix.get(exercise, {}))
        metafunc.parametrize("impl_variant", labels, ids=labels)


@pytest.fixture
def impl_variant():
    """A label of COURSE_IMPL_MATRIX (parametrized by pytest_generate_tests), else None."""
    return None


@pytest.fixture(scope="session")
def _impl_loader(pytestconfig):
    impl_file = _option(pytestconfig, "impl_file", "COURSE_IMPL_FILE")
    impl_dir = _option(pytestconfig, "impl_dir", "COURSE_IMPL_DIR")
    which = _option(pytestconfig, "impl", "COURSE_IMPL") or "exercises"
    if which not in ("exercises", "solutions"):
        raise pytest.UsageError(f"COURSE_IMPL={which!r} must be 'exercises' or 'solutions'")
    cache: dict = {}

    def load(exercise: str, path=None):
        if path is None:
            if impl_file:
                path = Path(impl_file)
            elif impl_dir:
                path = Path(impl_dir) / f"{exercise}.py"
            else:
                path = REPO / which / f"{exercise}.py"
        path = Path(path)
        key = (exercise, str(path.resolve()))
        if key not in cache:
            if not path.is_file():
                pytest.fail(f"{path} does not exist (run `course stubs`?)", pytrace=False)
            tag = abs(hash(key)) % 10**8
            cache[key] = load_module(path, module_name=f"_impl_{exercise}_{tag}")
        return cache[key]

    return load


@pytest.fixture
def impl(_impl_loader, impl_variant, record_property):
    """``impl(exercise) -> module`` under test (imported once per session and file)."""
    if impl_variant is None:
        return _impl_loader
    matrix = _matrix()
    record_property("impl_variant", impl_variant)
    return lambda exercise: _impl_loader(exercise, matrix[exercise][impl_variant])
