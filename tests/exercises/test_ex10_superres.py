"""Checks for exercise 10 (zero-order hold, linear upsampling, log-spectral distance).

Notebook: 10_super_resolution.ipynb

Expected values: ``np.repeat`` for the hold; ``np.interp`` (which holds the last
value past the end, as the exercise asks) for the linear interpolation; for the
LSD, librosa's STFT with ``center=False`` (the exercise's framing: no padding,
periodic Hann window) plugged into the Kuleshov et al. formula. Both sides are
float64 computations of the same sums, so ``rtol=1e-9`` (1e-7 for the LSD, whose
FFTs are computed by different libraries).
"""

from __future__ import annotations

import librosa
import numpy as np

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex10_superres"

_rng = np.random.default_rng(10)
_Y = np.round(_rng.standard_normal(7), 3)
_LONG = _rng.standard_normal(1001)


def _interp(y, f):
    return np.interp(np.arange(len(y) * f) / f, np.arange(len(y)), y)


def _lsd(a, b, n_fft=2048, hop=512, eps=1e-10):
    A = np.log10(np.abs(librosa.stft(a, n_fft=n_fft, hop_length=hop, center=False)) ** 2 + eps)
    B = np.log10(np.abs(librosa.stft(b, n_fft=n_fft, hop_length=hop, center=False)) ** 2 + eps)
    return float(np.mean(np.sqrt(np.mean((A - B) ** 2, axis=0))))


_SPEECHLIKE = np.sin(2 * np.pi * 300 * np.arange(8000) / 16000) + 0.1 * _rng.standard_normal(8000)
_LOWPASSED = np.convolve(_SPEECHLIKE, np.ones(8) / 8, mode="same")     # the top of the band attenuated

CHECKS = [
    # ---------------------------------------------------------------- zero_order_hold
    Check("zero_order_hold", args=([1.0, 2.0], 3), expected=np.array([1.0, 1, 1, 2, 2, 2]),
          name="the docstring example"),
    Check("zero_order_hold", args=(_Y, 4), expected=np.repeat(_Y, 4), rtol=1e-12,
          name="7 samples x 4: each sample repeated, exactly 28 samples"),
    Check("zero_order_hold", args=(_Y, 1), expected=_Y, rtol=1e-12, name="factor 1 changes nothing"),
    Check("zero_order_hold", args=(_Y, 2.5), raises=ValueError, name="a fractional factor is rejected"),
    # ---------------------------------------------------------------- linear_upsample
    Check("linear_upsample", args=([0.0, 1.0, 3.0], 2), expected=np.array([0.0, 0.5, 1.0, 2.0, 3.0, 3.0]),
          name="the docstring example (the last value is held)"),
    Check("linear_upsample", args=(_Y, 3), expected=_interp(_Y, 3), rtol=1e-9, atol=1e-12,
          name="7 samples x 3: 21 samples on straight lines, input samples kept"),
    Check("linear_upsample", args=(_LONG, 4), expected=_interp(_LONG, 4), rtol=1e-9, atol=1e-12,
          name="1001 samples x 4: exactly 4004 samples"),
    Check("linear_upsample", args=(np.zeros((2, 3)), 2), raises=ValueError, name="a 2-D signal is rejected"),
    # ---------------------------------------------------------------- log_spectral_distance
    Check("log_spectral_distance", args=(_SPEECHLIKE, _SPEECHLIKE), expected=0.0, atol=1e-12,
          name="identical signals: 0"),
    Check("log_spectral_distance", args=(_SPEECHLIKE, _LOWPASSED), expected=_lsd(_SPEECHLIKE, _LOWPASSED),
          rtol=1e-7, name="a signal and its 8-tap moving average (n_fft 2048, hop 512)"),
    Check("log_spectral_distance", args=(_SPEECHLIKE, 0.5 * _SPEECHLIKE), kwargs={"n_fft": 512, "hop_length": 128},
          expected=_lsd(_SPEECHLIKE, 0.5 * _SPEECHLIKE, 512, 128), rtol=1e-7,
          name="half the amplitude: log10(4) ~ 0.602 in every bin (n_fft 512, hop 128)"),
    Check("log_spectral_distance", args=(_SPEECHLIKE, _SPEECHLIKE[:-1]), raises=ValueError,
          name="different lengths are rejected"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
