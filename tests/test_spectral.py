"""Tests for course_lib.spectral: equal to librosa / scipy, plus properties.

"Equal" is the project's contract: assert_allclose with rtol 1e-5 (float64)
or 1e-4 (float32). STFT bins near zero (the padded, windowed edges, or a
bin that cancels) carry only rounding error, so every comparison also gets
an absolute tolerance tied to the signal's scale: ``rtol * scale`` where
``scale = sum|y| over one window`` bounds any bin's magnitude. That is the
same precision, expressed relative to the largest value a bin could take.
"""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import spectral
from course_lib.errors import ParameterError

# Shared settings (tests/conftest.py): the contract tolerance comes from the ``contract_rtol``
# fixture; property tests run the "quick" hypothesis profile (deterministic, 30 examples,
# COURSE_HYPOTHESIS_EXAMPLES=500 explores).
QUICK = settings.get_profile("quick")


def _signal(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


@st.composite
def stft_args(draw):
    """Random but valid STFT parameters and a random (multichannel) signal."""
    n_fft = draw(st.integers(2, 600))
    win_length = draw(st.integers(1, n_fft))
    hop_length = draw(st.integers(1, 300))
    center = draw(st.booleans())
    n_min = 1 if center else n_fft
    n = draw(st.integers(n_min, n_min + 3000))
    pad_mode = draw(st.sampled_from(["constant", "reflect", "edge"]))
    if pad_mode == "reflect" and n == 1:  # nothing to reflect
        pad_mode = "constant"
    return dict(
        n=n, lead=draw(st.sampled_from([(), (2,), (2, 3)])),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
        seed=draw(st.integers(0, 2**32 - 1)),
        kw=dict(n_fft=n_fft, win_length=win_length, hop_length=hop_length, center=center,
                pad_mode=pad_mode,
                window=draw(st.sampled_from(["hann", "hamming", "blackman", "boxcar"]))),
    )


# --------------------------------------------------------------------------- windows, frames

@pytest.mark.parametrize("name", ["hann", "hamming", "blackman", "boxcar"])
@pytest.mark.parametrize("n", [1, 2, 7, 64, 513])
@pytest.mark.parametrize("fftbins", [True, False])
def test_get_window_equals_scipy(name, n, fftbins):
    expected = scipy.signal.get_window(name, n, fftbins=fftbins)
    np.testing.assert_allclose(spectral.get_window(name, n, fftbins=fftbins), expected,
                               rtol=1e-12, atol=1e-15)


def test_get_window_aliases_arrays_and_errors():
    np.testing.assert_array_equal(spectral.get_window("rectangular", 5), np.ones(5))
    np.testing.assert_array_equal(spectral.get_window(np.arange(3.0), 3), np.arange(3.0))
    np.testing.assert_allclose(spectral.get_window(np.hanning, 4), np.hanning(4))
    with pytest.raises(ParameterError, match="parametrised"):
        spectral.get_window(("kaiser", 8.0), 8)
    with pytest.raises(ParameterError, match="kaiserr"):
        spectral.get_window("kaiserr", 8)
    with pytest.raises(ParameterError, match="win_length=4"):
        spectral.get_window(np.ones(3), 4)


def test_periodic_hann_overlap_adds_to_constant():
    # The reason STFT windows are periodic: at hop n/4, Hann windows sum to 2.
    n, hop = 64, 16
    w = spectral.get_window("hann", n)
    total = np.zeros(n * 4)
    for start in range(0, n * 3 + 1, hop):
        total[start:start + n] += w
    np.testing.assert_allclose(total[n:2 * n], 2.0, rtol=1e-12)


@given(n=st.integers(1, 500), frame_length=st.integers(1, 100), hop=st.integers(1, 50),
       lead=st.sampled_from([(), (3,)]))
@QUICK
def test_frame_equals_librosa_and_is_a_view(n, frame_length, hop, lead):
    y = np.arange(np.prod(lead, dtype=int) * n, dtype=float).reshape(*lead, n)
    if n < frame_length:
        with pytest.raises(ParameterError, match="frame_length"):
            spectral.frame(y, frame_length=frame_length, hop_length=hop)
        return
    got = spectral.frame(y, frame_length=frame_length, hop_length=hop)
    np.testing.assert_array_equal(got, librosa.util.frame(y, frame_length=frame_length, hop_length=hop))
    assert np.shares_memory(got, y)


def test_pad_center_and_fft_frequencies():
    np.testing.assert_array_equal(spectral.pad_center(np.ones(3), size=6),
                                  librosa.util.pad_center(np.ones(3), size=6))
    np.testing.assert_allclose(spectral.fft_frequencies(sr=22050, n_fft=1023),
                               librosa.fft_frequencies(sr=22050, n_fft=1023))
    np.testing.assert_allclose(spectral.frames_to_time(np.arange(5), sr=16000, hop_length=160),
                               librosa.frames_to_time(np.arange(5), sr=16000, hop_length=160))


# --------------------------------------------------------------------------- STFT

@given(stft_args())
@QUICK
def test_stft_equals_librosa(contract_rtol, args):
    rng = np.random.default_rng(args["seed"])
    y = _signal(rng, args["lead"] + (args["n"],), args["dtype"])
    kw = args["kw"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # n_fft > n with center=True
        got = spectral.stft(y, **kw)
        if kw["center"] and kw["pad_mode"] == "reflect":
            # librosa 0.11 pads the tail frames from a slice of the last
            # n - tail_k * hop + n_fft // 2 samples; when that is <= n_fft // 2,
            # np.pad's reflection bounces back and differs from padding the whole
            # signal (e.g. n=72, n_fft=6, hop=18). Compare with the definition:
            # pad everything, then librosa's uncentred STFT.
            p = kw["n_fft"] // 2
            y_pad = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(p, p)], mode="reflect")
            expected = librosa.stft(y_pad, **{**kw, "center": False})
        else:
            expected = librosa.stft(y, **kw)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    rtol = contract_rtol(args["dtype"])
    scale = kw["win_length"]  # |bin| <= sum |w y| <= win_length * max|y| ~ win_length * 4
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale)


def test_librosa_reflect_tail_bug_is_not_copied():
    # Known case where librosa.stft(pad_mode="reflect") != its definition (see above).
    y = np.random.default_rng(0).standard_normal(72)
    y_pad = np.pad(y, 3, mode="reflect")
    definition = librosa.stft(y_pad, n_fft=6, hop_length=18, center=False)
    np.testing.assert_allclose(spectral.stft(y, n_fft=6, hop_length=18, pad_mode="reflect"),
                               definition, atol=1e-12)
    assert not np.allclose(librosa.stft(y, n_fft=6, hop_length=18, pad_mode="reflect"), definition)


@pytest.mark.parametrize("dtype,cdtype", [(np.float16, np.complex64), (np.float32, np.complex64),
                                          (np.float64, np.complex128)])
def test_stft_dtype_and_shape_known(dtype, cdtype):
    D = spectral.stft(np.zeros(16000, dtype=dtype), n_fft=512, hop_length=160)
    assert D.shape == (257, 1 + 16000 // 160)
    assert D.dtype == cdtype


def test_stft_of_a_bin_centred_sine_is_a_spike():
    # Known answer: a cosine at bin k with a rectangular window gives n_fft/2 at bin k only.
    n_fft, k = 64, 5
    y = np.cos(2 * np.pi * k * np.arange(4 * n_fft) / n_fft)
    D = spectral.stft(y, n_fft=n_fft, hop_length=n_fft, window="boxcar", center=False)
    expected = np.zeros((n_fft // 2 + 1, 4))
    expected[k] = n_fft / 2
    np.testing.assert_allclose(np.abs(D), expected, atol=1e-9)


@given(n_fft=st.integers(1, 300), seed=st.integers(0, 2**32 - 1))
@QUICK
def test_parseval(n_fft, seed):
    # One frame, rectangular window: sum |x|^2 = (1/N) sum_k |X_k|^2 over all N bins;
    # the rfft half counts every bin except DC (and Nyquist for even N) twice.
    x = np.random.default_rng(seed).standard_normal(n_fft)
    X = spectral.stft(x, n_fft=n_fft, window="boxcar", center=False, hop_length=1)[:, 0]
    weights = np.full(X.shape, 2.0)
    weights[0] = 1.0
    if n_fft % 2 == 0:
        weights[-1] = 1.0
    np.testing.assert_allclose(np.sum(weights * np.abs(X) ** 2) / n_fft, np.sum(x**2), rtol=1e-10)


# --------------------------------------------------------------------------- ISTFT

@given(stft_args(), st.sampled_from([None, 0, -7, 13]))
@QUICK
def test_istft_equals_librosa(contract_rtol, args, extra):
    kw = dict(args["kw"])
    kw.pop("pad_mode")
    if kw["hop_length"] > kw["win_length"]:  # leave gaps: both give zeros there, still equal
        kw["hop_length"] = kw["win_length"]
    rng = np.random.default_rng(args["seed"])
    n = args["n"]
    y = _signal(rng, args["lead"] + (n,), args["dtype"])
    length = None if extra is None else max(1, n + extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        D = librosa.stft(y, **kw)
    expected = librosa.istft(D, length=length, **kw)
    got = spectral.istft(D, length=length, **kw)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    rtol = contract_rtol(args["dtype"])
    # Where the summed squared window is tiny, both divide rounding noise by it.
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * 10)


@pytest.mark.parametrize("n_fft,hop,window", [(512, 128, "hann"), (511, 100, "hann"),
                                              (400, 160, "hamming"), (64, 16, "blackman"),
                                              (256, 128, "boxcar")])
@pytest.mark.parametrize("center", [True, False])
def test_istft_round_trip(n_fft, hop, window, center):
    y = np.random.default_rng(0).standard_normal((2, 5000))
    D = spectral.stft(y, n_fft=n_fft, hop_length=hop, window=window, center=center)
    back = spectral.istft(D, n_fft=n_fft, hop_length=hop, window=window, center=center,
                          length=y.shape[-1])
    if center:
        np.testing.assert_allclose(back, y, atol=1e-6)
    else:  # the last partial frame is not covered: compare where the windows overlap
        end = n_fft + hop * (D.shape[-1] - 1) - n_fft
        np.testing.assert_allclose(back[..., n_fft:end], y[..., n_fft:end], atol=1e-6)


# --------------------------------------------------------------------------- decibels

@given(seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.float32, np.float64]),
       ref=st.sampled_from([1.0, 0.5, np.max, np.median]), amin=st.sampled_from([1e-10, 1e-5]),
       top_db=st.sampled_from([None, 80.0, 20.0]))
@QUICK
def test_db_conversions_equal_librosa(contract_rtol, seed, dtype, ref, amin, top_db):
    S = np.random.default_rng(seed).exponential(size=(20, 30)).astype(dtype) ** 4
    S[0, :5] = 0.0  # exercise amin
    rtol = contract_rtol(dtype)
    # dB values cross 0, so relative error alone is meaningless there: atol = rtol * 100 dB.
    np.testing.assert_allclose(spectral.power_to_db(S, ref=ref, amin=amin, top_db=top_db),
                               librosa.power_to_db(S, ref=ref, amin=amin, top_db=top_db),
                               rtol=rtol, atol=rtol * 100)
    np.testing.assert_allclose(spectral.amplitude_to_db(S, ref=ref, amin=amin, top_db=top_db),
                               librosa.amplitude_to_db(S, ref=ref, amin=amin, top_db=top_db),
                               rtol=rtol, atol=rtol * 100)
    db = spectral.power_to_db(S, amin=amin, top_db=None)
    np.testing.assert_allclose(spectral.db_to_power(db), np.maximum(S, amin), rtol=10 * rtol)
    np.testing.assert_allclose(spectral.db_to_amplitude(spectral.amplitude_to_db(S, top_db=None)),
                               np.maximum(S, 1e-5), rtol=10 * rtol)


def test_power_to_db_known_values_and_warnings():
    np.testing.assert_allclose(spectral.power_to_db(np.array([1.0, 10.0, 1000.0]), top_db=None),
                               [0.0, 10.0, 30.0])
    np.testing.assert_allclose(spectral.power_to_db(np.array([1.0, 1e-12]), top_db=50.0), [0.0, -50.0])
    with pytest.warns(UserWarning, match="phase"):
        spectral.power_to_db(np.array([1 + 1j]))
    with pytest.raises(ParameterError, match="amin"):
        spectral.power_to_db(np.ones(3), amin=0)
    with pytest.raises(ParameterError, match="top_db"):
        spectral.power_to_db(np.ones(3), top_db=-1)


# --------------------------------------------------------------------------- bad input

Y = np.zeros(1000, dtype=np.float32)


@pytest.mark.parametrize("kwargs,match", [
    (dict(n_fft=0), "n_fft=0"),
    (dict(n_fft=-4), "n_fft=-4"),
    (dict(n_fft=256.0), "n_fft=256.0"),
    (dict(hop_length=0), "hop_length=0"),
    (dict(hop_length=-1), "hop_length=-1"),
    (dict(n_fft=256, win_length=512), "win_length=512"),
    (dict(n_fft=256, win_length=0), "win_length=0"),
    (dict(n_fft=2, hop_length=None), "hop_length=None"),
    (dict(window="kaiserr"), "window='kaiserr'"),
    (dict(pad_mode="wrap"), "pad_mode='wrap'"),
    (dict(pad_mode="nonsense"), "pad_mode='nonsense'"),
    (dict(n_fft=2048, center=False), "n_fft=2048"),
])
def test_stft_bad_parameters(kwargs, match):
    kwargs = {"n_fft": 256, **kwargs}
    with pytest.raises(ParameterError, match=match):
        spectral.stft(Y, **kwargs)


@pytest.mark.parametrize("y,match", [
    (np.zeros(0, dtype=np.float32), "empty"),
    (np.array([0.0, np.nan, 1.0]), "NaN"),
    (np.array([0.0, np.inf]), "NaN or Inf"),
    (np.zeros(100, dtype=np.int16), "int16"),
    (np.array(1.0), "0-d"),
    ([0.0, 1.0], "numpy array"),
])
def test_stft_bad_signals(y, match):
    with pytest.raises(ParameterError, match=match):
        spectral.stft(y, n_fft=4)


def test_stft_warns_when_n_fft_exceeds_signal_with_center():
    with pytest.warns(UserWarning, match="n_fft=2048"):
        D = spectral.stft(np.ones(100), n_fft=2048)
    assert D.shape == (1025, 1)


@pytest.mark.parametrize("kwargs,match", [
    (dict(hop_length=0), "hop_length=0"),
    (dict(n_fft=100), "n_fft=100 gives 51"),
    (dict(length=0), "length=0"),
])
def test_istft_bad_parameters(kwargs, match):
    D = spectral.stft(np.ones(1000), n_fft=64)
    with pytest.raises(ParameterError, match=match):
        spectral.istft(D, **kwargs)
    with pytest.raises(ParameterError, match="D must be"):
        spectral.istft(np.ones(5, dtype=complex))
