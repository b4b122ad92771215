"""Checks for exercise 14 (autocorrelation pitch, YIN's normalised difference, gross pitch error, UAR).

Notebook: 14_emotion_recognition.ipynb

Expected values: the autocorrelation peak from ``np.correlate`` (full mode, an
independent computation), the normalised difference from ``course_lib.prosody.cmnd``
(FFT-based, tested against a loop in tests/test_prosody.py), the gross pitch error
from ``course_lib.prosody.compare_pitch``, UAR from ``sklearn.metrics.recall_score``
(macro). Float64 throughout: ``rtol=1e-9``.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import recall_score

from course_lib import prosody
from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex14_prosody"

_rng = np.random.default_rng(14)


def _tone(f0, sr, n, seed):
    r = np.random.default_rng(seed)
    t = np.arange(n) / sr
    y = sum(np.sin(2 * np.pi * k * f0 * t + r.uniform(0, 6.28)) / k for k in range(1, 6))
    return np.round(y + 0.05 * r.standard_normal(n), 4)


def _ac(x, sr, fmin=60.0, fmax=500.0):
    r = np.correlate(x, x, mode="full")[len(x) - 1:]
    lo, hi = int(np.ceil(sr / fmax)), int(np.floor(sr / fmin))
    return float(sr / (lo + int(np.argmax(r[lo:hi + 1]))))


_T1 = _tone(160.0, 16000, 800, 1)        # period 100 samples
_T2 = _tone(123.0, 8000, 600, 2)         # not an integer period
_T3 = _tone(400.0, 16000, 800, 3)        # high voice: the first peak, not its multiples
_T4 = np.round(_rng.standard_normal(700), 3)
_C1 = np.round(_rng.standard_normal(40), 3)
_C2 = _tone(200.0, 8000, 120, 4)


def _cm(x, lag):
    return prosody.cmnd(np.asarray(x, dtype=np.float64)[None, :], max_lag=lag)[0]


_R = np.round(_rng.uniform(80, 300, 60), 2)
_E = np.round(_R * np.exp(_rng.normal(0, 0.2, 60)), 2)
_R[_rng.random(60) < 0.3] = np.nan
_E[_rng.random(60) < 0.3] = 0.0
_E2 = _R * 2.0                            # octave errors everywhere


def _gpe(r, e, tol=0.2):
    return prosody.compare_pitch(np.asarray(r, float), np.asarray(e, float), gross=tol).gpe


_L = ["neutral", "happy", "sad", "angry"]
_YT = list(_rng.choice(_L, 40))
_YP = [t if _rng.random() < 0.6 else str(_rng.choice(_L)) for t in _YT]
_YT2 = ["sad"] * 30 + ["angry"] * 3 + ["happy"] * 2
_YP2 = ["sad"] * 35


def _uar(t, p, labels):
    return float(recall_score(t, p, labels=sorted(set(t)), average="macro"))


CHECKS = [
    # ---------------------------------------------------------------- autocorr_pitch
    Check("autocorr_pitch", args=(np.sin(2 * np.pi * 200 * np.arange(400) / 8000),), kwargs={"sr": 8000},
          expected=200.0, rtol=1e-9, name="a 200 Hz sine at 8 kHz (the docstring example)"),
    Check("autocorr_pitch", args=(_T1,), kwargs={"sr": 16000}, expected=_ac(_T1, 16000), rtol=1e-9,
          name="160 Hz with 5 harmonics and a little noise, 16 kHz"),
    Check("autocorr_pitch", args=(_T2,), kwargs={"sr": 8000}, expected=_ac(_T2, 8000), rtol=1e-9,
          name="123 Hz at 8 kHz: the period is not a whole number of samples"),
    Check("autocorr_pitch", args=(_T3,), kwargs={"sr": 16000, "fmin": 100.0, "fmax": 450.0},
          expected=_ac(_T3, 16000, 100.0, 450.0), rtol=1e-9, name="400 Hz, search 100-450 Hz"),
    Check("autocorr_pitch", args=(_T4,), kwargs={"sr": 16000}, expected=_ac(_T4, 16000), rtol=1e-9,
          name="white noise: still the largest r in the lag range"),
    Check("autocorr_pitch", args=(_T1[:200],), kwargs={"sr": 16000}, raises=ValueError,
          name="a frame shorter than the largest lag (266 samples)"),
    Check("autocorr_pitch", args=(_T1,), kwargs={"sr": 16000, "fmin": 300.0, "fmax": 200.0}, raises=ValueError,
          name="fmin above fmax"),
    # ---------------------------------------------------------------- cmnd
    Check("cmnd", args=(np.array([1.0, -1, 1, -1, 1, -1]),), kwargs={"max_lag": 2}, expected=np.array([1.0, 1, 0]),
          rtol=1e-9, atol=1e-12, name="period 2 (the docstring example)"),
    Check("cmnd", args=(_C1,), kwargs={"max_lag": 15}, expected=_cm(_C1, 15), rtol=1e-9, atol=1e-12,
          name="40 random samples, lags 0..15"),
    Check("cmnd", args=(_C2,), kwargs={"max_lag": 60}, expected=_cm(_C2, 60), rtol=1e-9, atol=1e-12,
          name="a 200 Hz tone at 8 kHz: the dip at lag 40"),
    Check("cmnd", args=(np.zeros(20),), kwargs={"max_lag": 5}, expected=np.ones(6), rtol=1e-9,
          name="silence: no periodicity, all ones"),
    Check("cmnd", args=(_C1,), kwargs={"max_lag": 40}, raises=ValueError, name="max_lag = frame length"),
    # ---------------------------------------------------------------- gross_pitch_error
    Check("gross_pitch_error", args=([100, 100, np.nan, 200], [100, 150, 120, 210]), expected=1 / 3, rtol=1e-9,
          name="the docstring example"),
    Check("gross_pitch_error", args=(_R, _E), expected=_gpe(_R, _E), rtol=1e-9,
          name="60 frames, 20 % log-normal errors, NaN and 0 as unvoiced"),
    Check("gross_pitch_error", args=(_R, _E), kwargs={"tolerance": 0.05}, expected=_gpe(_R, _E, 0.05), rtol=1e-9,
          name="the same with a 5 % tolerance"),
    Check("gross_pitch_error", args=(_R, _E2), expected=1.0, rtol=1e-9, name="octave errors on every frame"),
    Check("gross_pitch_error", args=([100.0, 0.0], [105.0, 200.0]), expected=0.0, rtol=1e-9, atol=1e-12,
          name="a frame voiced in one track only does not count"),
    Check("gross_pitch_error", args=([100.0, 120.0], [100.0]), raises=ValueError, name="different lengths"),
    # ---------------------------------------------------------------- uar
    Check("uar", args=(["a", "a", "a", "b"], ["a", "a", "a", "a"]), kwargs={"labels": ["a", "b"]}, expected=0.5,
          rtol=1e-9, name="the docstring example (accuracy would say 0.75)"),
    Check("uar", args=(_YT, _YP), kwargs={"labels": _L}, expected=_uar(_YT, _YP, _L), rtol=1e-9,
          name="four styles, 40 items, 60 % right plus chance"),
    Check("uar", args=(_YT2, _YP2), kwargs={"labels": _L}, expected=_uar(_YT2, _YP2, _L), rtol=1e-9,
          name="imbalanced: always 'sad' has accuracy 0.86 but UAR 1/3 (neutral never occurs)"),
]

assert abs(CHECKS[-1].expected - 1 / 3) < 1e-12

test_checks = pytest_checks(EXERCISE, CHECKS)
