"""Shared pytest configuration: headless plotting, repo paths, tolerances, hypothesis profiles.

Settings every test file shares live here, once:

- ``contract_rtol(dtype)`` (fixture): the DESIGN's "equal" tolerance, rtol 1e-5
  in float64 and 1e-4 in float32.
- Hypothesis profiles: ``course`` (loaded for the whole suite: deterministic,
  no deadline, slow data generation allowed) and ``quick`` (the same with 30
  examples, for property tests that each call librosa); use it as
  ``QUICK = settings.get_profile("quick")`` and ``@QUICK`` on a test.
  ``COURSE_HYPOTHESIS_EXAMPLES=500`` explores fresh random cases in both.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("MPLBACKEND", "Agg")

# Property tests are deterministic by default, so CI and learners never see a
# random red; COURSE_HYPOTHESIS_EXAMPLES=1000 explores fresh random cases.
_EXPLORE = os.environ.get("COURSE_HYPOTHESIS_EXAMPLES")
settings.register_profile(
    "course", deadline=None, derandomize=_EXPLORE is None,
    suppress_health_check=[HealthCheck.too_slow],
    **({"max_examples": int(_EXPLORE)} if _EXPLORE else {}),
)
settings.register_profile("quick", parent=settings.get_profile("course"),
                          max_examples=int(_EXPLORE or 30))
settings.load_profile("course")

#: rtol of the contract's "equal" (DESIGN.md), per float precision
CONTRACT_RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-5}

REPO = Path(__file__).resolve().parents[1]

# Never import these as test modules (make test runs with --doctest-modules):
# the grading fixtures include hostile submissions (infinite loops, os._exit,
# segfaults).
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def contract_rtol():
    """``contract_rtol(np.float32) -> 1e-4``: the contract's relative tolerance for a dtype."""
    return lambda dtype: CONTRACT_RTOL[np.dtype(dtype)]

# `make test` runs with --doctest-modules over tests/ too: importing the conftest files
# as doctest modules would load three modules all named "conftest" (tests/, tests/browser/,
# tests/exercises/) and abort collection. They hold no doctests; pytest still loads them
# as plugins.
collect_ignore = ["conftest.py", "browser/conftest.py", "exercises/conftest.py"]
