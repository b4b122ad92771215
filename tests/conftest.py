"""Shared pytest configuration: headless plotting, repo paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# Property tests are deterministic by default, so CI and learners never see a
# random red; COURSE_HYPOTHESIS_EXAMPLES=1000 explores fresh random cases.
_EXPLORE = os.environ.get("COURSE_HYPOTHESIS_EXAMPLES")
settings.register_profile(
    "course", deadline=None, derandomize=_EXPLORE is None,
    **({"max_examples": int(_EXPLORE)} if _EXPLORE else {}),
)
settings.load_profile("course")

REPO = Path(__file__).resolve().parents[1]

# Never import these as test modules (make test runs with --doctest-modules):
# the grading fixtures include hostile submissions (infinite loops, os._exit,
# segfaults).
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
