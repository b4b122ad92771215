"""Checks for exercise 02 (framing, zero-crossing rate, spectral centroid and rolloff).

Notebook: 02_spectral_analysis.ipynb

Expected values come from librosa (computed here, in float64) or from answers
worked out by hand; the inputs are small so a failure message is readable.
Run with ``course check ex02`` (learner) or pytest (``--impl solutions``).
"""

from __future__ import annotations

import librosa
import numpy as np

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex02_spectral"

_rng = np.random.default_rng(2)
_NOISE = np.round(_rng.standard_normal(50), 3)  # 50 samples, 3 decimals: readable
_SR = 8000
_N_FFT = 16


def _librosa_frame(y, fl, hop):
    return np.ascontiguousarray(librosa.util.frame(np.asarray(y, dtype=np.float64), frame_length=fl, hop_length=hop))


def _librosa_zcr(y, fl, hop):
    return librosa.feature.zero_crossing_rate(np.asarray(y, dtype=np.float64), frame_length=fl,
                                              hop_length=hop, center=False)[0]


# A magnitude spectrogram (9 bins = 1 + 16 // 2, 5 frames) with very different
# frames: low, high, flat, silent and "all at Nyquist".
_S = np.round(np.abs(_rng.standard_normal((_N_FFT // 2 + 1, 5))), 2)
_S[:, 0] *= np.linspace(1.0, 0.0, 9) ** 2   # mostly low frequencies
_S[:, 1] *= np.linspace(0.0, 1.0, 9) ** 2   # mostly high frequencies
_S[:, 3] = 0.0                               # silence
_S[:, 4] = 0.0
_S[-1, 4] = 1.0                              # everything in the Nyquist bin (sr/2)


def _centroid(S):
    return librosa.feature.spectral_centroid(S=S, sr=_SR, n_fft=_N_FFT)[0]


def _rolloff(S, p=0.85):
    return librosa.feature.spectral_rolloff(S=S, sr=_SR, n_fft=_N_FFT, roll_percent=p)[0]


_ONE_BIN = np.zeros((5, 1))
_ONE_BIN[2, 0] = 1.0
_TWO_BINS = np.zeros((5, 1))
_TWO_BINS[[1, 3], 0] = 1.0
_FLAT_TO_3 = np.array([[1.0], [1.0], [1.0], [1.0], [0.0]])

CHECKS = [
    # ---------------------------------------------------------------- frame
    Check("frame", args=(np.arange(10.0),), kwargs={"frame_length": 4, "hop_length": 2},
          expected=np.array([[0., 2., 4., 6.], [1., 3., 5., 7.], [2., 4., 6., 8.], [3., 5., 7., 9.]]),
          name="arange(10), frame_length=4, hop_length=2 -> 4 frames as columns"),
    Check("frame", args=(np.arange(7.0),), kwargs={"frame_length": 3, "hop_length": 3},
          expected=np.array([[0., 3.], [1., 4.], [2., 5.]]),
          name="arange(7), frame_length=3, hop_length=3 -> 2 whole frames, sample 6 dropped"),
    Check("frame", args=(np.arange(5.0),), kwargs={"frame_length": 5, "hop_length": 1},
          expected=np.arange(5.0).reshape(5, 1), name="signal exactly one frame long -> shape (5, 1)"),
    Check("frame", args=(_NOISE,), kwargs={"frame_length": 8, "hop_length": 3},
          expected=_librosa_frame(_NOISE, 8, 3),
          name="50 random samples, frame_length=8, hop_length=3 (= librosa.util.frame)"),
    Check("frame", args=(np.arange(10.0),), kwargs={"frame_length": 4, "hop_length": 0},
          raises=ValueError, name="hop_length=0 is rejected"),
    Check("frame", args=(np.arange(3.0),), kwargs={"frame_length": 4, "hop_length": 1},
          raises=ValueError, name="a signal shorter than one frame is rejected"),
    # ---------------------------------------------------------------- zero_crossing_rate
    Check("zero_crossing_rate", args=(np.array([1., -1., 1., -1., 1., -1.]),),
          kwargs={"frame_length": 4, "hop_length": 2}, expected=np.array([0.75, 0.75]),
          name="alternating signs: 3 crossings in each frame of 4 -> 3/4"),
    Check("zero_crossing_rate", args=(np.array([1., 2., 3., 4., -1., -2., -3., -4.]),),
          kwargs={"frame_length": 4, "hop_length": 4}, expected=np.array([0.0, 0.0]),
          name="no sign change inside either frame -> 0 (the change falls between frames)"),
    Check("zero_crossing_rate", args=(np.array([0., -1., 0., 1., 0., -1., 0., 1.]),),
          kwargs={"frame_length": 8, "hop_length": 8},
          expected=_librosa_zcr([0., -1., 0., 1., 0., -1., 0., 1.], 8, 8),
          name="exact zeros count as positive: [0,-1,0,1,0,-1,0,1] has 4 crossings -> 4/8"),
    Check("zero_crossing_rate", args=(_NOISE,), kwargs={"frame_length": 10, "hop_length": 5},
          expected=_librosa_zcr(_NOISE, 10, 5),
          name="50 random samples, frame_length=10, hop_length=5 (= librosa, center=False)"),
    Check("zero_crossing_rate", args=(np.arange(10.0),), kwargs={"frame_length": 0, "hop_length": 2},
          raises=ValueError, name="frame_length=0 is rejected"),
    # ---------------------------------------------------------------- spectral_centroid
    Check("spectral_centroid", args=(_ONE_BIN,), kwargs={"sr": 8000, "n_fft": 8},
          expected=np.array([2000.0]), name="all energy in bin 2 of n_fft=8 at 8 kHz -> 2000 Hz"),
    Check("spectral_centroid", args=(_TWO_BINS,), kwargs={"sr": 8000, "n_fft": 8},
          expected=np.array([2000.0]), name="equal energy at 1000 Hz and 3000 Hz -> 2000 Hz"),
    Check("spectral_centroid", args=(_S,), kwargs={"sr": _SR, "n_fft": _N_FFT}, expected=_centroid(_S),
          rtol=1e-9, atol=1e-9,
          name="5 frames: low, high, flat, silent (-> 0 Hz), all at Nyquist (-> +4000 Hz, not negative)"),
    Check("spectral_centroid", args=(np.ones((4, 2)),), kwargs={"sr": 8000, "n_fft": 8},
          raises=ValueError, name="4 rows do not match n_fft=8 (needs 1 + 8 // 2 = 5)"),
    # ---------------------------------------------------------------- spectral_rolloff
    Check("spectral_rolloff", args=(_FLAT_TO_3,), kwargs={"sr": 8000, "n_fft": 8},
          expected=np.array([3000.0]), name="flat up to bin 3: 85 % is first reached at bin 3 -> 3000 Hz"),
    Check("spectral_rolloff", args=(_S,), kwargs={"sr": _SR, "n_fft": _N_FFT}, expected=_rolloff(_S),
          name="5 frames, roll_percent=0.85: a different answer per frame (= librosa)"),
    Check("spectral_rolloff", args=(_S,), kwargs={"sr": _SR, "n_fft": _N_FFT, "roll_percent": 0.5},
          expected=_rolloff(_S, 0.5), name="5 frames, roll_percent=0.5 (the median frequency)"),
    Check("spectral_rolloff", args=(_FLAT_TO_3,), kwargs={"sr": 8000, "n_fft": 8, "roll_percent": 1.5},
          raises=ValueError, name="roll_percent=1.5 is rejected"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
