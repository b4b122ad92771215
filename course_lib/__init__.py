"""course_lib — the library behind the Speech & Audio Processing course.

Submodules are imported lazily, so ``import course_lib`` is quick and does
not import torch or librosa; ``course_lib.audio`` (or ``from course_lib
import audio``) loads a submodule on first use.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "errors", "validation", "config", "audio", "dsp", "data", "spectral", "features", "display",
    "widgets", "tryit", "metrics", "grading", "asr", "train", "batching", "pretrained",
)

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'course_lib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
