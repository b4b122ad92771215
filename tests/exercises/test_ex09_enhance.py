"""Checks for exercise 09 (mixing at an SNR, the spectral-subtraction gain, SI-SDR).

Notebook: 09_enhancement.ipynb

Expected values come from ``course_lib``: ``metrics.si_sdr`` and
``enhance.subtraction_gain(..., exponent=2)`` (each tested against a hand
derivation in tests/test_metrics.py and tests/test_enhance.py), and for the
mixture the closed form ``clean + g·noise``; a mixture is also checked by
measuring its SNR with ``metrics.snr``. Float64 throughout: ``rtol=1e-9``.
"""

from __future__ import annotations

import numpy as np

from course_lib import enhance, metrics
from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex09_enhance"

_rng = np.random.default_rng(9)
_CLEAN = np.round(_rng.standard_normal(400) * np.hanning(400), 4)      # a burst
_NOISE = np.round(_rng.standard_normal(400) * 0.3, 4)
_NOISE_LOUD = np.round(_rng.standard_normal(400) * 5.0, 4)
_P = np.round(_rng.exponential(size=(6, 9)) * 3, 4)
_LAM = np.round(_rng.exponential(size=(6, 1)) + 0.2, 4)
_LAM_T = np.round(_rng.exponential(size=(6, 9)) + 0.2, 4)
_P0 = _P.copy()
_P0[2, 3] = 0.0
_EST = np.round(0.7 * _CLEAN + 0.2 * _NOISE, 4)


def _mix(clean, noise, snr_db):
    return clean + noise * np.sqrt(np.sum(clean ** 2) / (np.sum(noise ** 2) * 10 ** (snr_db / 10)))


def _snr_is(target):
    def compare(got, expected, args, kwargs):
        got = np.asarray(got, dtype=np.float64)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
        measured = metrics.snr(args[0], got)
        if not abs(measured - target) < 1e-6:
            raise AssertionError(f"the mixture's SNR is {measured:.4f} dB, not {target} dB")
    return compare


CHECKS = [
    # ---------------------------------------------------------------- mix_at_snr
    Check("mix_at_snr", args=(np.array([1.0, 1.0]), np.array([1.0, -1.0])), kwargs={"snr_db": 20.0},
          expected=np.array([1.1, 0.9]), rtol=1e-9, name="the docstring example: noise at 1/10 amplitude"),
    Check("mix_at_snr", args=(_CLEAN, _NOISE), kwargs={"snr_db": 5.0}, expected=_mix(_CLEAN, _NOISE, 5.0),
          compare=_snr_is(5.0), name="a 400-sample burst with noise at 5 dB SNR (measured by metrics.snr)"),
    Check("mix_at_snr", args=(_CLEAN, _NOISE_LOUD), kwargs={"snr_db": -5.0},
          expected=_mix(_CLEAN, _NOISE_LOUD, -5.0), compare=_snr_is(-5.0),
          name="-5 dB: the noise is louder than the speech (energy ratio, not amplitude)"),
    Check("mix_at_snr", args=(_CLEAN, _NOISE[:300]), kwargs={"snr_db": 0.0}, raises=ValueError,
          name="noise shorter than clean is rejected"),
    Check("mix_at_snr", args=(np.zeros(10), np.ones(10)), kwargs={"snr_db": 0.0}, raises=ValueError,
          name="a silent clean signal is rejected (no SNR exists)"),
    # ---------------------------------------------------------------- subtraction_gain
    Check("subtraction_gain", args=(np.array([[4.0, 1.0]]), np.array([[1.0]])),
          kwargs={"alpha": 1.0, "beta": 0.25}, expected=np.array([[np.sqrt(0.75), 0.5]]), rtol=1e-9,
          name="the docstring example: sqrt(3/4), and a bin at the floor sqrt(0.25/1)"),
    Check("subtraction_gain", args=(_P, _LAM), kwargs={"alpha": 2.0, "beta": 0.02},
          expected=enhance.subtraction_gain(_P, _LAM, alpha=2.0, beta=0.02, exponent=2), rtol=1e-9,
          name="6 x 9 power spectrogram, one noise column broadcast over frames, alpha=2, beta=0.02"),
    Check("subtraction_gain", args=(_P, _LAM_T), kwargs={"alpha": 4.0, "beta": 0.1},
          expected=enhance.subtraction_gain(_P, _LAM_T, alpha=4.0, beta=0.1, exponent=2), rtol=1e-9,
          name="a noise estimate per frame (6 x 9), alpha=4, beta=0.1"),
    Check("subtraction_gain", args=(_P0, _LAM), kwargs={"alpha": 0.5, "beta": 3.0},
          expected=enhance.subtraction_gain(_P0, _LAM, alpha=0.5, beta=3.0, exponent=2), rtol=1e-9,
          name="a floor above the signal is capped at G = 1, and an empty bin (P = 0) gets G = 0"),
    Check("subtraction_gain", args=(_P, _LAM), kwargs={"alpha": -1.0, "beta": 0.02}, raises=ValueError,
          name="a negative alpha is rejected"),
    # ---------------------------------------------------------------- si_sdr
    Check("si_sdr", args=(np.array([1.0, 0.0]), np.array([2.0, 1.0])), expected=10 * np.log10(4.0), rtol=1e-9,
          name="the docstring example: target (2, 0), error (0, 1)"),
    Check("si_sdr", args=(_CLEAN, _EST), expected=metrics.si_sdr(_CLEAN, _EST), rtol=1e-9,
          name="a scaled burst plus noise"),
    Check("si_sdr", args=(_CLEAN, -40.0 * _EST), expected=metrics.si_sdr(_CLEAN, _EST), rtol=1e-9,
          name="scale invariance: -40 x the estimate scores the same"),
    Check("si_sdr", args=(_CLEAN, _CLEAN + _NOISE), expected=metrics.si_sdr(_CLEAN, _CLEAN + _NOISE), rtol=1e-9,
          name="clean + noise: close to, but not equal to, the plain SNR"),
    Check("si_sdr", args=(_CLEAN, _EST[:-1]), raises=ValueError, name="different lengths are rejected"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
