"""Checks for exercise 01 (quantisation, RMS level in dBFS, aliasing).

Notebook: 01_digital_audio.ipynb

Expected values are known answers worked out by hand, or re-derived here in a
different way than the reference (nearest level instead of floor; explicit
sums instead of np.mean; aliasing by listing the images ``f + m*sr``).
Run with ``course check ex01`` (learner) or pytest (``--impl solutions``).
"""

from __future__ import annotations

import math

import numpy as np

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex01_digital_audio"

_rng = np.random.default_rng(1)


# --------------------------------------------------------------------------- quantize

def _nearest_level(y, bits):
    """Mid-rise quantiser as 'nearest of the 2**bits cell midpoints' (not floor)."""
    n = 2**bits
    step = 2.0 / n
    levels = -1.0 + step / 2 + step * np.arange(n)
    y = np.asarray(y, dtype=float)
    return levels[np.argmin(np.abs(y[..., None] - levels), axis=-1)]


_Y3 = np.round(_rng.uniform(-0.99, 0.99, 12), 4)
_Y2D = np.round(_rng.uniform(-1, 1, (2, 5)), 3)
_SINE16 = 0.9 * np.sin(2 * np.pi * 5 * np.arange(400) / 400)


def _error_within_half_step(got, expected, args, kwargs):
    y, bits = np.asarray(args[0]), kwargs["bits"]
    got = np.asarray(got, dtype=float)
    if got.shape != y.shape:
        raise AssertionError(f"expected shape {y.shape}, got {got.shape}")
    step = 2.0 / 2**bits
    err = np.max(np.abs(got - y))
    if err > step / 2 + 1e-12:
        raise AssertionError(
            f"largest error |quantize(y) - y| = {err:.3g}, more than half a step ({step / 2:.3g}) "
            f"for bits={bits}")
    n_levels = len(np.unique(got))
    if n_levels > 2**bits:
        raise AssertionError(f"{n_levels} distinct output values, more than 2**bits = {2**bits}")


def _float_output(got, expected, args, kwargs):
    if not (isinstance(got, np.ndarray) and got.dtype.kind == "f"):
        raise AssertionError(
            f"expected a float array, got {type(got).__name__}"
            + (f" of dtype {got.dtype}" if isinstance(got, np.ndarray) else ""))
    np.testing.assert_allclose(got, expected)


QUANTIZE = [
    Check("quantize", args=(np.linspace(-1, 1, 5),), kwargs={"bits": 2},
          expected=np.array([-0.75, -0.25, 0.25, 0.75, 0.75]),
          name="2-bit quantisation of [-1, -0.5, 0, 0.5, 1]"),
    Check("quantize", args=(np.array([0.3, -0.2, 0.0, -1.0, 0.999]),), kwargs={"bits": 1},
          expected=np.array([0.5, -0.5, 0.5, -0.5, 0.5]),
          name="1 bit: two levels at -0.5 and +0.5, zero goes up"),
    Check("quantize", args=(_Y3,), kwargs={"bits": 3}, expected=_nearest_level(_Y3, 3),
          atol=1e-12, name="3 bits: each sample goes to the nearest of 8 cell midpoints"),
    Check("quantize", args=(np.array([1.0, 1.5, -1.5, -1.0]),), kwargs={"bits": 8},
          expected=np.array([1 - 1 / 256, 1 - 1 / 256, -1 + 1 / 256, -1 + 1 / 256]),
          atol=1e-12, name="8 bits: values at or beyond ±1 clip to the outer levels"),
    Check("quantize", args=(_SINE16,), kwargs={"bits": 16}, compare=_error_within_half_step,
          name="16 bits: error at most half a step"),
    Check("quantize", args=(_Y2D,), kwargs={"bits": 4}, expected=_nearest_level(_Y2D, 4),
          atol=1e-12, name="a (2, 5) array keeps its shape"),
    Check("quantize", args=([0.1, -0.6],), kwargs={"bits": 2}, compare=_float_output,
          expected=np.array([0.25, -0.75]), name="a list in, a float array out"),
    Check("quantize", args=(np.zeros(4),), kwargs={"bits": 0}, raises=ValueError,
          name="bits=0 is rejected"),
    Check("quantize", args=(np.zeros(4),), kwargs={"bits": 2.5}, raises=ValueError,
          name="bits=2.5 is rejected"),
    Check("quantize", args=(np.array([0.1, np.nan]),), kwargs={"bits": 8}, raises=ValueError,
          name="NaN in y is rejected"),
]


# --------------------------------------------------------------------------- rms_dbfs

def _db_by_sums(y):
    y = np.asarray(y, dtype=float).ravel()
    return 10 * math.log10(sum(float(v) ** 2 for v in y) / len(y))


_NOISE = np.round(_rng.normal(0, 0.1, 64), 4)
_STEREO = np.round(_rng.uniform(-0.5, 0.5, (2, 8)), 3)
_SINE = np.sin(2 * np.pi * 3 * np.arange(96) / 96)  # exactly 3 periods

RMS_DBFS = [
    Check("rms_dbfs", args=(_SINE,), expected=20 * math.log10(1 / math.sqrt(2)), rtol=1e-9,
          name="full-scale sine: -3.01 dBFS"),
    Check("rms_dbfs", args=(np.full(10, 0.5),), expected=-6.020599913279624, rtol=1e-9,
          name="constant 0.5: -6.02 dBFS"),
    Check("rms_dbfs", args=(np.array([1.0, -1.0, 1.0, -1.0]),), expected=0.0, atol=1e-12,
          name="full-scale square wave: 0 dBFS"),
    Check("rms_dbfs", args=(np.array([0.0, 0.0, 0.0]),), expected=-math.inf,
          name="silence: -inf"),
    Check("rms_dbfs", args=(_NOISE,), expected=_db_by_sums(_NOISE), rtol=1e-9,
          name="64 noise samples (re-derived with explicit sums)"),
    Check("rms_dbfs", args=(_STEREO,), expected=_db_by_sums(_STEREO), rtol=1e-9,
          name="a (2, 8) array: mean over every sample"),
    Check("rms_dbfs", args=(np.array([]),), raises=ValueError, name="empty input is rejected"),
    Check("rms_dbfs", args=(np.array([0.5, np.inf]),), raises=ValueError,
          name="Inf in y is rejected"),
]


# --------------------------------------------------------------------------- aliased_frequency

def _alias_by_images(f, sr):
    """The smallest |f + m*sr| over integer m: the image nearest 0 Hz."""
    m = np.arange(-50, 51)
    return float(np.min(np.abs(f + m * sr)))


_ALIAS_CASES = [(900.0, 1000), (300.0, 1000), (500.0, 1000), (1000.0, 1000), (1300.0, 1000),
                (25_000.0, 16_000), (30_000.0, 44_100), (-300.0, 1000), (7_999.5, 8000)]

ALIASED = [
    Check("aliased_frequency", args=(f,), kwargs={"sr": sr}, expected=_alias_by_images(f, sr),
          atol=1e-9, name=f"{f:g} Hz sampled at {sr} Hz")
    for f, sr in _ALIAS_CASES
] + [
    Check("aliased_frequency", args=(np.array([0.0, 250.0, 750.0, 1250.0, 2000.0]),),
          kwargs={"sr": 1000}, expected=np.array([0.0, 250.0, 250.0, 250.0, 0.0]), atol=1e-9,
          name="an array of frequencies"),
    Check("aliased_frequency", args=(440.0,), kwargs={"sr": 0}, raises=ValueError,
          name="sr=0 is rejected"),
    Check("aliased_frequency", args=(440.0,), kwargs={"sr": -8000}, raises=ValueError,
          name="negative sr is rejected"),
]

CHECKS = QUANTIZE + RMS_DBFS + ALIASED

test_checks = pytest_checks(EXERCISE, CHECKS)
