"""Run-time configuration shared by every notebook: fast mode, device, seeding.

Notebook: 00_welcome.ipynb

- ``FAST`` is true when the environment variable ``COURSE_FAST`` is set to a
  true value (``1``, ``true``, ``yes``); CI and ``make test`` set it, and every
  notebook then picks its small configuration (fewer epochs, shorter audio).
- ``IMPL`` says whose exercise code a notebook calls: ``"exercises"`` (the
  learner's, the default) or ``"solutions"`` (CI), from ``COURSE_IMPL``.
- :func:`device` returns ``"cuda"`` when a GPU is usable, else ``"cpu"``.
- :func:`seed_everything` seeds Python, NumPy and (if imported) torch.

This module must stay cheap to import: torch is only touched when it is
already imported or when :func:`device` / :func:`seed_everything` need it.
"""

from __future__ import annotations

import os
import random
import sys

from .errors import ParameterError

__all__ = ["FAST", "IMPL", "fast", "impl", "pick", "device", "seed_everything"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def fast() -> bool:
    """Whether fast mode is on (read from ``COURSE_FAST`` at call time)."""
    value = os.environ.get("COURSE_FAST", "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ParameterError(
        f"COURSE_FAST={value!r} is not understood; set it to 1 (fast mode) or 0 (full mode)"
    )


def impl() -> str:
    """Whose exercise code notebooks call: ``"exercises"`` or ``"solutions"`` (``COURSE_IMPL``)."""
    value = os.environ.get("COURSE_IMPL", "exercises").strip().lower() or "exercises"
    if value not in {"exercises", "solutions"}:
        raise ParameterError(
            f"COURSE_IMPL={value!r} must be 'exercises' or 'solutions'"
        )
    return value


FAST: bool = fast()
IMPL: str = impl()


def pick(*, fast, full):
    """Return ``fast`` in fast mode and ``full`` otherwise.

    >>> pick(fast=2, full=20) in (2, 20)
    True
    """
    return fast if FAST else full


def device() -> str:
    """``"cuda"`` if torch sees a usable GPU, else ``"cpu"`` (imports torch)."""
    import torch  # deferred: importing course_lib must not import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def seed_everything(seed: int = 0) -> int:
    """Seed Python's ``random``, NumPy's legacy global state and torch.

    Library code never relies on global random state (it takes ``rng`` or
    ``seed``); this is for notebooks and training scripts, so that a re-run
    gives the same plots and numbers. torch is seeded only if it is already
    imported, so calling this does not pull torch into a notebook that does
    not use it.

    Returns the seed, so a notebook can print it.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed={seed!r} must be a non-negative integer")
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["PYTHONHASHSEED"] = str(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    return seed
