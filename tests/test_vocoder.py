"""The chapter 11/12 mel convention and Griffin-Lim (course_lib.tts.vocoder) against librosa."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from course_lib import data, spectral
from course_lib.errors import ParameterError
from course_lib.tts import vocoder

SR = 16000
LIBROSA_KW = dict(sr=SR, n_fft=1024, hop_length=256, win_length=1024, n_mels=80, fmin=0.0, fmax=8000.0,
                  htk=False, norm="slaney")


def _signals():
    rng = np.random.default_rng(3)
    t = np.arange(SR) / SR
    chirp = (0.3 * np.sin(2 * np.pi * (200 + 1500 * t) * t)).astype(np.float32)
    noise = (0.05 * rng.standard_normal(12000)).astype(np.float32)
    speech = data.tts_sentences(split="test", check=False)[0].audio
    long = np.tile(speech, 5)[: 450 * 256]    # 451 frames: more than one of librosa's NNLS blocks (409)
    return {"chirp": chirp, "noise": noise, "speech": speech, "long": long}


SIGNALS = _signals()


def test_filterbank_is_librosas():
    ref = librosa.filters.mel(sr=SR, n_fft=1024, n_mels=80, fmin=0.0, fmax=8000.0, htk=False, norm="slaney",
                              dtype=np.float64)
    np.testing.assert_allclose(vocoder.MEL.filterbank(), ref, rtol=1e-5, atol=0)


@pytest.mark.parametrize("name", ["chirp", "noise", "speech"])
def test_log_mel_is_librosas(name):
    y = SIGNALS[name]
    M = librosa.feature.melspectrogram(y=y.astype(np.float64), power=1.0, **LIBROSA_KW)
    ref = np.log(np.maximum(M, 1e-5))
    ours = vocoder.log_mel(y, sr=SR)
    assert ours.dtype == np.float32 and ours.shape == (80, 1 + len(y) // 256)
    # float64 inside, float32 out: |log| <= 12 so a float32 rounding is <= 12 * 6e-8 = 7e-7
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_mel_to_stft_is_librosas(name):
    """NNLS with 80 equations and 513 unknowns has many solutions: equal only because it is the same
    solver (pinv start, L-BFGS-B, same objective, same blocks); the iterates differ by the order of
    summation (einsum vs @), measured 3e-8 of the peak on speech. Tolerance 1e-5 of the peak."""
    M = np.exp(vocoder.log_mel(SIGNALS[name], sr=SR).astype(np.float64))
    ref = librosa.feature.inverse.mel_to_stft(M, sr=SR, n_fft=1024, power=1.0, fmax=8000.0)
    ours = vocoder.mel_to_stft(M)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5 * ref.max())


@pytest.mark.parametrize("init", [None, "random"])
@pytest.mark.parametrize("momentum", [0.0, 0.99])
@pytest.mark.parametrize("name", ["speech", "chirp"])
def test_griffin_lim_is_librosas(name, init, momentum):
    """Same magnitude, same initial phases, float64: the same iterations on our stft/istft (each equal
    to librosa's to ~1e-12), so agreement to 1e-8 of the peak (measured ~1e-10)."""
    S = np.abs(spectral.stft(SIGNALS[name].astype(np.float64), n_fft=1024, hop_length=256))
    ref = librosa.griffinlim(S, n_iter=16, hop_length=256, win_length=1024, n_fft=1024, momentum=momentum,
                             init=init, random_state=0, dtype=np.float64)
    ours = vocoder.griffin_lim(S, n_iter=16, momentum=momentum, init=init, seed=0)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-8 * np.abs(ref).max())


def test_griffin_lim_mel_is_librosas_mel_to_audio():
    """librosa.feature.inverse.mel_to_audio = griffinlim(mel_to_stft(M)) with *unseeded* phases; with
    the seed given to both halves the pipelines agree. The 3e-8 NNLS difference passes through 32
    momentum iterations: measured 1e-5 of the peak; tolerance 1e-4 of the peak."""
    L = vocoder.log_mel(SIGNALS["speech"], sr=SR).astype(np.float64)
    S = librosa.feature.inverse.mel_to_stft(np.exp(L), sr=SR, n_fft=1024, power=1.0, fmax=8000.0)
    ref = librosa.griffinlim(S, n_iter=32, hop_length=256, win_length=1024, n_fft=1024, random_state=0,
                             dtype=np.float64)
    ours = vocoder.griffin_lim_mel(L, seed=0)
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4 * np.abs(ref).max())


def test_griffin_lim_converges():
    """More iterations fit the target magnitude better (spectral convergence falls)."""
    S = np.abs(spectral.stft(SIGNALS["speech"].astype(np.float64), n_fft=1024, hop_length=256))

    def sc(y):
        return np.linalg.norm(np.abs(spectral.stft(y, n_fft=1024, hop_length=256)) - S) / np.linalg.norm(S)

    errs = [sc(vocoder.griffin_lim(S, n_iter=n, seed=0)) for n in (1, 8, 64)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.5 * errs[0]


def test_bad_input():
    with pytest.raises(ParameterError, match="resample"):
        vocoder.log_mel(SIGNALS["chirp"], sr=22050)
    with pytest.raises(ParameterError, match=r"\.T"):
        vocoder.griffin_lim_mel(np.zeros((10, 80)))
    with pytest.raises(ParameterError, match="non-negative"):
        vocoder.mel_to_stft(-np.ones((80, 4)))
    with pytest.raises(ParameterError, match="momentum"):
        vocoder.griffin_lim(np.ones((513, 4)), momentum=1.5)
    with pytest.raises(ParameterError, match="init"):
        vocoder.griffin_lim(np.ones((513, 4)), init="zeros")
    with pytest.raises(ParameterError, match="win_length"):
        vocoder.MelConfig(win_length=2048)
    with pytest.raises(ParameterError, match="fmax"):
        vocoder.MelConfig(fmax=9000.0)
