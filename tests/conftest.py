"""Shared pytest configuration: headless plotting, repo paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]

# Never import these as test modules (make test runs with --doctest-modules):
# the grading fixtures include hostile submissions (infinite loops, os._exit,
# segfaults) and the mutants are deliberately wrong copies of the solutions.
collect_ignore_glob = ["fixtures/*", "exercises/mutants/*"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
