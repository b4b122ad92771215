"""Tests for course_lib.validation: the shared argument checks, and that they stay shared."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import course_lib
from course_lib import validation as V
from course_lib.errors import ParameterError

LIB = Path(course_lib.__file__).parent


# --------------------------------------------------------------------------- check_signal / valid_audio

@pytest.mark.parametrize("y,kwargs,match", [
    ([0.0, 1.0], {}, "must be a numpy array"),
    (np.zeros(4, dtype=np.int16), {}, "int16_to_float"),
    (np.zeros(4, dtype=np.int32), {}, "dtype=int32"),
    (np.array(0.5), {}, "0-d"),
    (np.zeros(0), {}, "empty"),
    (np.zeros((2, 0)), {}, "empty"),
    (np.array([0.0, np.nan, np.inf]), {}, "2 NaN or Inf"),
    (np.zeros((2, 8)), {"mono": True}, "to_mono"),
    (np.zeros((2, 2, 8)), {"max_ndim": 2}, r"\(n,\) or \(channels, n\)"),
    (np.zeros((2, 2, 2, 8)), {"max_ndim": 3}, "at most 3 dimensions"),
])
def test_check_signal_refuses(y, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        V.check_signal(y, **kwargs)


def test_check_signal_returns_the_same_array_and_names_the_argument():
    y = np.zeros((3, 2, 5), dtype=np.float32)
    assert V.check_signal(y) is y
    with pytest.raises(ParameterError, match="^clip is empty"):
        V.check_signal(np.zeros(0), name="clip")


def test_valid_audio_allows_mono_and_channels_first_only():
    assert V.valid_audio(np.zeros(3)) is True
    assert V.valid_audio(np.zeros((2, 3), dtype=np.float32)) is True
    with pytest.raises(ParameterError, match=r"shape=\(1, 2, 3\)"):
        V.valid_audio(np.zeros((1, 2, 3)))


# --------------------------------------------------------------------------- numbers

@pytest.mark.parametrize("sr,expected", [(16000, 16000), (np.int64(8000), 8000), (22050.0, 22050),
                                         (np.float32(44100), 44100)])
def test_check_sr_accepts_whole_numbers_and_returns_int(sr, expected):
    got = V.check_sr(sr)
    assert got == expected and type(got) is int


@pytest.mark.parametrize("sr", [0, -8000, 22050.5, float("nan"), float("inf"), True, "16000", None])
def test_check_sr_refuses(sr):
    with pytest.raises(ParameterError, match=r"orig_sr=.* positive integer sample rate"):
        V.check_sr(sr, name="orig_sr")


def test_check_positive_int_and_positive():
    assert V.check_positive_int(np.int32(7), name="n") == 7
    for bad in (0, -1, 2.0, True, "3", None):
        with pytest.raises(ParameterError, match="hop_length=.* positive integer"):
            V.check_positive_int(bad, name="hop_length")
    assert V.check_positive(0.5, name="p") == 0.5
    for bad in (0, -0.1, float("nan"), float("inf"), False, "1"):
        with pytest.raises(ParameterError, match="power=.* > 0"):
            V.check_positive(bad, name="power")


def test_check_finite_counts_the_bad_values():
    assert V.check_finite([1, 2]).dtype.kind == "i"
    with pytest.raises(ParameterError, match="log_b contains 3 NaN or Inf"):
        V.check_finite(np.array([np.nan, -np.inf, 1.0, np.inf]), name="log_b")


# --------------------------------------------------------------------------- check_shape

def test_check_shape_exact_wildcards_names_and_leading_axes():
    assert V.check_shape(np.zeros((4, 3)), (None, 3)).shape == (4, 3)
    assert V.check_shape([[1, 2], [3, 4]], ("n", "n")).shape == (2, 2)
    assert V.check_shape(np.zeros((40, 7)), (..., 40, "n_frames")).shape == (40, 7)
    assert V.check_shape(np.zeros((2, 3, 40, 7)), (..., 40, None)).shape == (2, 3, 40, 7)


@pytest.mark.parametrize("x,shape,match", [
    (np.zeros((4, 2)), (None, 3), r"log_b must have shape \(\?, 3\), got shape=\(4, 2\) \(axis -1 has size 2"),
    (np.zeros((2, 3)), ("n", "n"), r"axes named 'n' differ \(2 vs 3\)"),
    (np.zeros(5), (None, 3), r"2 axes\), got shape=\(5,\)"),
    (np.zeros(5), (..., 3, None), r"at least 2 axes"),
    (np.zeros((2, 3)), (2, ..., 3), r"'\.\.\.' may only come first"),
])
def test_check_shape_refuses(x, shape, match):
    with pytest.raises(ParameterError, match=match):
        V.check_shape(x, shape, name="log_b")


# --------------------------------------------------------------------------- one copy only

_SHARED = {"check_signal", "valid_audio", "check_sr", "check_positive_int", "check_positive",
           "check_shape", "check_finite"}


def _library_modules():
    return [p for p in LIB.rglob("*.py") if p.name != "validation.py"]


def test_no_module_defines_its_own_copy_of_a_shared_check():
    """A second ``check_sr`` (with another meaning) is how the duplicates started: refuse it."""
    copies = []
    for path in _library_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bare = node.name.lstrip("_")
                if bare in _SHARED or bare in {"check_signal", "check_sr"} or bare.startswith("check_sr"):
                    copies.append(f"{path.relative_to(LIB)}:{node.lineno} def {node.name}")
    assert not copies, f"define these once in course_lib/validation.py and import them: {copies}"


# the signal-processing floor; other packages' internals are their owners' business
_FLOOR = ["validation.py", "audio.py", "dsp.py", "spectral.py", "features.py"]


def test_signal_modules_import_no_private_names_from_a_sibling():
    """features imported five private names from spectral; shared internals are public or live here."""
    private = []
    for path in (LIB / name for name in _FLOOR):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level >= 1:
                private += [f"{path.relative_to(LIB)}:{node.lineno} {a.name} from .{node.module}"
                            for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    assert not private, f"import public names only: {private}"


def test_shared_checks_are_the_validation_objects():
    from course_lib import audio

    assert audio.valid_audio is V.valid_audio and audio.check_sr is V.check_sr
