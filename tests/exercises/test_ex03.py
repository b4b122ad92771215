"""Checks for exercise 03 (mel scale, mel filterbank, MFCC from a power spectrogram, CMVN).

Notebook: 03_mel_and_mfcc.ipynb

Expected values come from librosa computed here in float64 (its filterbank
defaults to float32, so we ask for float64) or from known answers; inputs are
small so a failure message stays readable.
"""

from __future__ import annotations

import librosa
import numpy as np
import scipy.fft

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex03_mel_mfcc"

_HZ = np.array([0.0, 200.0, 700.0, 1000.0, 2000.0, 8000.0])
_MELS_HTK = np.array([0.0, 500.0, 1000.0, 2000.0])
_MELS_SLANEY = np.array([0.0, 7.5, 15.0, 30.0, 45.0])


def _fb(**kw):
    return librosa.filters.mel(dtype=np.float64, **kw)


_rng = np.random.default_rng(3)
_SR = 8000
_N_FFT = 32
# A small power spectrogram: 17 bins x 6 frames, with one silent frame so that
# the 80 dB floor (top_db) matters.
_S = np.abs(_rng.standard_normal((_N_FFT // 2 + 1, 6))) ** 2
_S[:, 2] = 0.0


def _mfcc_ref(S, *, sr, n_mfcc, n_mels, fmin=0.0, fmax=None):
    n_fft = 2 * (S.shape[0] - 1)
    M = _fb(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax) @ S
    L = librosa.power_to_db(M)  # ref=1, amin=1e-10, top_db=80
    ref = librosa.feature.mfcc(S=L, n_mfcc=n_mfcc)
    # Re-derive once more with scipy so both references agree before we trust them.
    np.testing.assert_allclose(ref, scipy.fft.dct(L, type=2, norm="ortho", axis=0)[:n_mfcc], rtol=1e-12, atol=1e-9)
    return ref


# A real(ish) signal for a second MFCC check: a chirp, n_fft=256.
_t = np.arange(2048) / 16000
_CHIRP = np.sin(2 * np.pi * (200 * _t + 3000 * _t**2)) + 0.01 * _rng.standard_normal(_t.size)
_S_CHIRP = np.abs(librosa.stft(_CHIRP, n_fft=256, hop_length=256)) ** 2

_X = np.round(_rng.standard_normal((3, 6)) * [[1.0], [5.0], [0.1]] + [[0.0], [10.0], [-3.0]], 3)


def _cmvn_ref(X):
    return (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)


CHECKS = [
    # ---------------------------------------------------------------- hz_to_mel / mel_to_hz
    Check("hz_to_mel", args=(700.0,), kwargs={"htk": True}, expected=2595 * np.log10(2.0),
          name="700 Hz on the HTK scale = 2595 * log10(2) mel"),
    Check("hz_to_mel", args=(_HZ,), kwargs={"htk": True}, expected=librosa.hz_to_mel(_HZ, htk=True),
          name="HTK scale: 2595 * log10(1 + f / 700)"),
    Check("hz_to_mel", args=(_HZ,), kwargs={"htk": False}, expected=librosa.hz_to_mel(_HZ, htk=False),
          name="Slaney scale: linear to 1 kHz (= 15 mel), logarithmic above"),
    Check("hz_to_mel", args=(_HZ,), expected=librosa.hz_to_mel(_HZ),
          name="the default scale is Slaney's (htk=False), as librosa's and course_lib's"),
    Check("mel_to_hz", args=(_MELS_SLANEY,), expected=librosa.mel_to_hz(_MELS_SLANEY),
          name="mel_to_hz's default scale is Slaney's too"),
    Check("hz_to_mel", args=(np.array([-10.0, 100.0]),), kwargs={"htk": True}, raises=ValueError,
          name="a negative frequency is rejected"),
    Check("mel_to_hz", args=(_MELS_HTK,), kwargs={"htk": True}, expected=librosa.mel_to_hz(_MELS_HTK, htk=True),
          name="HTK scale back to Hz"),
    Check("mel_to_hz", args=(_MELS_SLANEY,), kwargs={"htk": False},
          expected=librosa.mel_to_hz(_MELS_SLANEY, htk=False), name="Slaney scale back to Hz (15 mel = 1000 Hz)"),
    # ---------------------------------------------------------------- mel_filterbank
    Check("mel_filterbank", kwargs={"sr": 8000, "n_fft": 16, "n_mels": 3, "htk": True, "norm": None},
          expected=_fb(sr=8000, n_fft=16, n_mels=3, htk=True, norm=None), rtol=1e-9, atol=1e-12,
          name="3 HTK triangles over 9 bins, peaks at 1 (norm=None)"),
    Check("mel_filterbank", kwargs={"sr": 8000, "n_fft": 32, "n_mels": 6},
          expected=_fb(sr=8000, n_fft=32, n_mels=6), rtol=1e-9, atol=1e-12,
          name="6 Slaney triangles over 17 bins, slaney area normalisation (the defaults)"),
    Check("mel_filterbank", kwargs={"sr": 16000, "n_fft": 64, "n_mels": 8, "fmin": 100.0, "fmax": 6000.0,
                                    "htk": True, "norm": "slaney"},
          expected=_fb(sr=16000, n_fft=64, n_mels=8, fmin=100.0, fmax=6000.0, htk=True, norm="slaney"),
          rtol=1e-9, atol=1e-12, name="8 HTK bands from 100 Hz to 6 kHz, slaney norm"),
    Check("mel_filterbank", kwargs={"sr": 8000, "n_fft": 32, "n_mels": 6, "fmax": 5000.0},
          raises=ValueError, name="fmax=5000 above the Nyquist frequency 4000 is rejected"),
    # ---------------------------------------------------------------- mfcc_from_power
    Check("mfcc_from_power", args=(_S,), kwargs={"sr": _SR, "n_mfcc": 5, "n_mels": 8},
          expected=_mfcc_ref(_S, sr=_SR, n_mfcc=5, n_mels=8), rtol=1e-7, atol=1e-7,
          name="17x6 random power spectrogram with one silent frame, 8 mels, 5 MFCCs"),
    Check("mfcc_from_power", args=(_S_CHIRP,), kwargs={"sr": 16000, "n_mfcc": 13, "n_mels": 40, "fmin": 50.0,
                                                       "fmax": 7000.0},
          expected=_mfcc_ref(_S_CHIRP, sr=16000, n_mfcc=13, n_mels=40, fmin=50.0, fmax=7000.0),
          rtol=1e-7, atol=1e-6, name="a chirp at 16 kHz, n_fft=256, 40 mels from 50 Hz to 7 kHz, 13 MFCCs"),
    Check("mfcc_from_power", args=(_S,), kwargs={"sr": _SR, "n_mfcc": 9, "n_mels": 8}, raises=ValueError,
          name="n_mfcc=9 > n_mels=8 is rejected"),
    # ---------------------------------------------------------------- cmvn
    Check("cmvn", args=(np.array([[1.0, 3.0], [5.0, 5.0]]),), expected=np.array([[-1.0, 1.0], [0.0, 0.0]]),
          name="[[1, 3], [5, 5]]: mean 0 / std 1 per row; a constant row becomes 0"),
    Check("cmvn", args=(_X,), expected=_cmvn_ref(_X), rtol=1e-9, atol=1e-12,
          name="3 coefficients x 6 frames with different offsets and scales (population std)"),
    Check("cmvn", args=(np.ones((3, 1)),), raises=ValueError, name="a single frame is rejected"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
