"""Tests for course_lib.features: equal to librosa (and torchaudio where it agrees), plus properties.

Tolerances: the contract's rtol (1e-5 float64, 1e-4 float32). Values that
can legitimately be ~0 (an empty mel band, an MFCC coefficient, a dB value
crossing 0) also get an absolute tolerance tied to the array's scale,
``rtol * max|expected|``: the same precision, relative to the largest value.
"""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import features
from course_lib.errors import ParameterError

# Shared settings (tests/conftest.py): the contract tolerance comes from the ``contract_rtol``
# fixture; property tests run the "quick" hypothesis profile (deterministic, 30 examples,
# COURSE_HYPOTHESIS_EXAMPLES=500 explores).
QUICK = settings.get_profile("quick")


def assert_equal_scaled(got, expected, rtol):
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


@st.composite
def spectral_case(draw):
    """A random signal (mono or stereo, float32/64) and analysis parameters."""
    sr = draw(st.sampled_from([8000, 16000, 22050, 44100]))
    n_fft = draw(st.sampled_from([64, 256, 400, 512, 1024]))
    return dict(
        sr=sr, n_fft=n_fft,
        hop_length=draw(st.integers(32, 512)),
        n=draw(st.integers(n_fft, 6000)),
        lead=draw(st.sampled_from([(), (2,)])),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
        seed=draw(st.integers(0, 2**32 - 1)),
        color=draw(st.sampled_from(["white", "brown", "sine"])),
    )


def _make_signal(case):
    rng = np.random.default_rng(case["seed"])
    shape = case["lead"] + (case["n"],)
    if case["color"] == "white":
        y = rng.standard_normal(shape)
    elif case["color"] == "brown":
        y = np.cumsum(rng.standard_normal(shape), axis=-1)
        y /= np.abs(y).max()
    else:
        f = rng.uniform(50, case["sr"] / 2 - 50)
        y = np.sin(2 * np.pi * f * np.arange(case["n"]) / case["sr"]) * np.ones(shape)
        y += 1e-3 * rng.standard_normal(shape)
    return (rng.uniform(0.01, 1.0) * y).astype(case["dtype"])


# --------------------------------------------------------------------------- time domain

@pytest.mark.parametrize("dist", ["normal", "exponential", "uniform"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_time_features_equal_numpy_scipy_librosa(dist, dtype):
    rng = np.random.default_rng(1)
    y = getattr(rng, dist)(size=3001).astype(dtype)
    f = features.time_features(y)
    x = y.astype(np.float64)
    np.testing.assert_allclose(f["rms_energy"], np.sqrt(np.mean(x**2)), rtol=1e-12)
    np.testing.assert_allclose(f["mean"], x.mean(), rtol=1e-12)
    np.testing.assert_allclose(f["std"], x.std(), rtol=1e-12)
    np.testing.assert_allclose(f["skewness"], scipy.stats.skew(x), rtol=1e-9)
    np.testing.assert_allclose(f["kurtosis"], scipy.stats.kurtosis(x), rtol=1e-9)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=y.size, hop_length=y.size, center=False)
    assert f["zero_crossing_rate"] == pytest.approx(float(zcr[0, 0]), abs=1e-15)
    assert all(isinstance(v, float) for v in f.values())


def test_time_features_known_answers():
    f = features.time_features(np.array([1.0, -1.0, 1.0, -1.0]))
    assert f == {"rms_energy": 1.0, "zero_crossing_rate": 0.75, "mean": 0.0, "std": 1.0,
                 "skewness": 0.0, "kurtosis": -2.0}


@pytest.mark.parametrize("y,match", [
    (np.zeros(100), "constant"),               # silence: skewness/kurtosis are 0/0
    (np.full(10, 0.5, dtype=np.float32), "constant"),
    (np.zeros((2, 100)), "mono"),
    (np.zeros(0), "empty"),
    (np.array([0.1, np.nan]), "NaN"),
    (np.arange(5), "floating point"),
])
def test_time_features_bad_input(y, match):
    with pytest.raises(ParameterError, match=match):
        features.time_features(y)


@given(spectral_case(), st.booleans())
@QUICK
def test_rms_and_zcr_equal_librosa(contract_rtol, case, center):
    y = _make_signal(case)
    kw = dict(frame_length=case["n_fft"], hop_length=case["hop_length"], center=center)
    expected = librosa.feature.rms(y=y, dtype=case["dtype"], **kw)
    got = features.rms(y, **kw)
    assert got.dtype == case["dtype"]
    np.testing.assert_allclose(got, expected, rtol=contract_rtol(case["dtype"]))
    # ZCR is a count: exactly equal (thresholding is the same comparison).
    np.testing.assert_array_equal(features.zero_crossing_rate(y, **kw),
                                  librosa.feature.zero_crossing_rate(y, **kw))


def test_zero_crossing_rate_threshold_and_known_answer():
    y = np.array([1.0, -1.0, 1e-12, -1e-12, 1.0, -1.0])
    # |y| <= 1e-10 counts as +0: crossings at pairs (0,1), (1,2), (4,5) -> 3 / 6
    assert features.zero_crossing_rate(y, frame_length=6, center=False)[0, 0] == 0.5


# --------------------------------------------------------------------------- spectral shape

@given(spectral_case())
@QUICK
def test_spectral_shape_features_equal_librosa(contract_rtol, case):
    y = _make_signal(case)
    kw = dict(sr=case["sr"], n_fft=case["n_fft"], hop_length=case["hop_length"])
    rtol = contract_rtol(case["dtype"])
    nyquist = case["sr"] / 2
    for name in ["spectral_centroid", "spectral_bandwidth"]:
        got = getattr(features, name)(y, **kw)
        expected = getattr(librosa.feature, name)(y=y, **kw)
        # frequencies in Hz: atol rtol * Nyquist (a centroid near 0 Hz is still a frequency)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * nyquist, err_msg=name)
    S = np.abs(librosa.stft(y, n_fft=case["n_fft"], hop_length=case["hop_length"]))
    # Flatness = exp(mean(log |X|^2)) / mean(|X|^2) is ruled by the *smallest*
    # bins, whose relative error after a float32 FFT is large (absolute error
    # ~1e-7 of the peak): so compare the recipe on the same S in both dtypes,
    # and from y only in float64.
    np.testing.assert_allclose(features.spectral_flatness(S=S),
                               librosa.feature.spectral_flatness(S=S), rtol=rtol)
    if case["dtype"] == np.float64:
        got = features.spectral_flatness(y, n_fft=case["n_fft"], hop_length=case["hop_length"])
        expected = librosa.feature.spectral_flatness(y=y, n_fft=case["n_fft"],
                                                     hop_length=case["hop_length"])
        np.testing.assert_allclose(got, expected, rtol=rtol)
    # Rolloff is a bin index: given the same S it must be identical ...
    np.testing.assert_array_equal(
        features.spectral_rolloff(S=S, sr=case["sr"]),
        librosa.feature.spectral_rolloff(S=S, sr=case["sr"], n_fft=case["n_fft"]))
    # ... and from y it may differ by one bin only where the cumulative fraction ties 0.85.
    got = features.spectral_rolloff(y, **kw)
    expected = librosa.feature.spectral_rolloff(y=y, **kw)
    differs = got != expected
    if differs.any():
        frac = np.cumsum(S, axis=-2) / np.maximum(S.sum(axis=-2, keepdims=True), 1e-30)
        k = np.round(np.minimum(got, expected) * case["n_fft"] / case["sr"]).astype(int)
        near = np.take_along_axis(frac, k, axis=-2)
        np.testing.assert_allclose(near[differs], 0.85, atol=100 * rtol)


@pytest.mark.parametrize("freq", [440.0, 1000.0, 3000.0, 6789.0])
def test_centroid_of_a_sine_is_its_frequency(freq):
    sr, n_fft = 16000, 1024
    y = np.sin(2 * np.pi * freq * np.arange(sr) / sr)
    c = features.spectral_centroid(y, sr=sr, n_fft=n_fft, center=False)
    np.testing.assert_allclose(c, freq, atol=sr / n_fft)  # within one bin
    bw = features.spectral_bandwidth(y, sr=sr, n_fft=n_fft, center=False)
    assert np.all(bw < 2 * sr / n_fft)                   # a Hann main lobe is 2 bins wide


def test_rolloff_and_flatness_of_white_noise():
    sr = 16000
    y = np.random.default_rng(0).standard_normal(4 * sr)
    r = features.spectral_rolloff(y, sr=sr, n_fft=1024, center=False)
    np.testing.assert_allclose(np.median(r), 0.85 * sr / 2, rtol=0.03)
    flat = features.spectral_flatness(y, n_fft=1024, center=False)
    tone = features.spectral_flatness(np.sin(2 * np.pi * 1000 * np.arange(sr) / sr), n_fft=1024, center=False)
    # Gaussian noise: |X|^2 is exponential, whose geometric/arithmetic mean is exp(-gamma) = 0.56
    np.testing.assert_allclose(np.median(flat), np.exp(-np.euler_gamma), rtol=0.05)
    assert np.median(tone) < 1e-3


def test_rolloff_known_answer_at_an_exact_tie():
    # Flat 4-bin spectrum: cumulative [1, 2, 3, 4]; 50% is reached exactly at bin 1 ("at least").
    S = np.ones((5, 1))
    S[-1] = 0.0
    got = features.spectral_rolloff(S=S, sr=8, roll_percent=0.5)      # bins at 0, 1, 2, 3, 4 Hz
    assert got[0, 0] == 1.0 == librosa.feature.spectral_rolloff(S=S, sr=8, roll_percent=0.5)[0, 0]


def test_silent_frames_give_zero_centroid_and_rolloff():
    y = np.zeros(4096)
    assert np.all(features.spectral_centroid(y, sr=8000) == 0)
    assert np.all(features.spectral_rolloff(y, sr=8000) == 0)


# --------------------------------------------------------------------------- mel scale

@given(f=st.lists(st.floats(0, 30000), min_size=1, max_size=20), htk=st.booleans())
@QUICK
def test_mel_conversions_equal_librosa_and_invert(f, htk):
    f = np.array(f)
    m = features.hz_to_mel(f, htk=htk)
    np.testing.assert_allclose(m, librosa.hz_to_mel(f, htk=htk), rtol=1e-12)
    np.testing.assert_allclose(features.mel_to_hz(m, htk=htk), f, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(features.mel_to_hz(m, htk=htk), librosa.mel_to_hz(m, htk=htk), rtol=1e-12)
    assert np.ndim(features.hz_to_mel(float(f[0]), htk=htk)) == 0


@given(sr=st.sampled_from([8000, 16000, 22050]), n_fft=st.sampled_from([256, 512, 1023, 2048]),
       n_mels=st.integers(1, 80), fmin=st.floats(0, 400), fmax_frac=st.floats(0.3, 1.0),
       htk=st.booleans(), norm=st.sampled_from(["slaney", None, 1, 2, np.inf]),
       dtype=st.sampled_from([np.float32, np.float64]))
@QUICK
def test_mel_filterbank_equals_librosa(contract_rtol, sr, n_fft, n_mels, fmin, fmax_frac, htk, norm, dtype):
    kw = dict(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=max(fmin + 1, fmax_frac * sr / 2),
              htk=htk, norm=norm, dtype=dtype)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        got = features.mel_filterbank(**kw)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        expected = librosa.filters.mel(**kw)
    assert got.dtype == expected.dtype
    # librosa builds in float32 by default; weights near 0 at triangle feet: atol on the scale.
    assert_equal_scaled(got, expected, contract_rtol(dtype))
    assert (len(ours) > 0) == (len(theirs) > 0)  # same empty-filter warning decision


def test_filterbank_triangles_peak_at_mel_frequencies():
    sr, n_fft, n_mels = 16000, 4096, 20
    fb = features.mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, norm=None, dtype=np.float64)
    centres = features.mel_frequencies(n_mels + 2, fmin=0.0, fmax=sr / 2)[1:-1]
    peaks = np.argmax(fb, axis=1) * sr / n_fft
    np.testing.assert_allclose(peaks, centres, atol=sr / n_fft)    # within one bin
    assert np.all(fb.max(axis=1) <= 1.0) and np.all(fb.max(axis=1) > 0.9)
    # Slaney normalisation: every triangle has area 1 (in Hz, up to sampling)
    fbs = features.mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, dtype=np.float64)
    np.testing.assert_allclose(fbs.sum(axis=1) * sr / n_fft, 1.0, rtol=0.02)


def test_mel_filterbank_warnings_and_errors():
    with pytest.warns(UserWarning, match="Empty filters"):
        features.mel_filterbank(sr=16000, n_fft=64, n_mels=128)
    with pytest.raises(ParameterError, match="fmax=9000"):
        features.mel_filterbank(sr=16000, n_fft=512, fmax=9000)
    with pytest.raises(ParameterError, match="fmin=500"):
        features.mel_filterbank(sr=16000, n_fft=512, fmin=500, fmax=400)
    with pytest.raises(ParameterError, match="n_mels=0"):
        features.mel_filterbank(sr=16000, n_fft=512, n_mels=0)
    with pytest.raises(ParameterError, match="n_fft=0"):
        features.mel_filterbank(sr=16000, n_fft=0)
    with pytest.raises(ParameterError, match="norm='l2'"):
        features.mel_filterbank(sr=16000, n_fft=512, norm="l2")
    with pytest.raises(ParameterError, match="sr=0"):
        features.mel_filterbank(sr=0, n_fft=512)


# --------------------------------------------------------------------------- mel spectrogram, MFCC

@given(case=spectral_case(), n_mels=st.integers(13, 64), power=st.sampled_from([1.0, 2.0]),
       htk=st.booleans())
@QUICK
def test_melspectrogram_and_mfcc_equal_librosa(contract_rtol, case, n_mels, power, htk):
    y = _make_signal(case)
    kw = dict(sr=case["sr"], n_fft=case["n_fft"], hop_length=case["hop_length"],
              n_mels=n_mels, htk=htk)
    dtype = case["dtype"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # empty filters: both warn (tested above)
        got = features.melspectrogram(y, power=power, **kw)
        expected = librosa.feature.melspectrogram(y=y, power=power, **kw)
        assert got.dtype == expected.dtype
        assert_equal_scaled(got, expected, contract_rtol(dtype))
        lifter = case["seed"] % 3 * 11
        got = features.mfcc(y, n_mfcc=13, lifter=lifter, **kw)
        expected = librosa.feature.mfcc(y=y, n_mfcc=13, lifter=lifter, **kw)
        assert_equal_scaled(got, expected, contract_rtol(dtype))
        # S= path: a given log-power mel spectrogram skips the front end
        S_db = librosa.power_to_db(librosa.feature.melspectrogram(y=y, **kw))
        assert_equal_scaled(features.mfcc(S=S_db, sr=case["sr"], n_mfcc=13),
                            librosa.feature.mfcc(S=S_db, n_mfcc=13), contract_rtol(dtype))
        P = np.abs(librosa.stft(y, n_fft=case["n_fft"], hop_length=case["hop_length"])) ** 2
        assert_equal_scaled(features.melspectrogram(S=P, **kw),
                            librosa.feature.melspectrogram(S=P, **kw), contract_rtol(dtype))


def test_mfcc_of_a_flat_spectrum_is_only_c0():
    # A constant log-mel spectrum is the DCT's "DC" input: only c0 is non-zero,
    # c0 = sqrt(n_mels) * value (orthonormal DCT-II).
    S_db = np.full((40, 7), -20.0)
    C = features.mfcc(S=S_db, sr=16000, n_mfcc=13)
    np.testing.assert_allclose(C[0], np.sqrt(40) * -20.0)
    np.testing.assert_allclose(C[1:], 0.0, atol=1e-12)


def test_mfcc_is_a_dct_of_the_db_mel_spectrogram():
    # Re-derivation with an explicit DCT-II matrix.
    y = np.random.default_rng(3).standard_normal(8000)
    kw = dict(sr=8000, n_fft=256, hop_length=80, n_mels=26)
    S_db = 10 * np.log10(np.maximum(features.melspectrogram(y, **kw), 1e-10))
    S_db = np.maximum(S_db, S_db.max() - 80)
    n = np.arange(26)
    D = np.sqrt(2 / 26) * np.cos(np.pi / 26 * (n + 0.5)[None, :] * np.arange(13)[:, None])
    D[0] /= np.sqrt(2)
    np.testing.assert_allclose(features.mfcc(y, n_mfcc=13, **kw), D @ S_db, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torchaudio_agrees_under_librosa_settings(dtype):
    """torchaudio gives the same mel spectrogram / MFCC with these settings.

    MelSpectrogram must use norm="slaney", mel_scale="slaney" (its defaults are
    norm=None, mel_scale="htk"), center=True, pad_mode="constant" (its default
    is "reflect") and power=2. MFCC with log_mels=False applies
    AmplitudeToDB("power", top_db=80): 10 log10(max(x, 1e-10)) clipped 80 dB
    below the maximum of each item (all channels of a 2-D/3-D input together,
    like librosa; per batch item for 4-D input), then an orthonormal DCT-II
    matrix: the same recipe as librosa. The remaining difference is
    precision: torchaudio builds its filterbank in float32 even when the
    module runs in float64, so agreement is at float32 level (rtol 1e-4,
    relative to the largest value). log_mels=True (log(x + 1e-6), natural
    log, no clipping) is a different feature altogether.
    """
    torch = pytest.importorskip("torch")
    torchaudio = pytest.importorskip("torchaudio")
    sr = 16000
    y = (0.3 * np.random.default_rng(4).standard_normal((2, sr))).astype(dtype)
    kw = dict(n_fft=512, hop_length=160, n_mels=40)
    settings_ = dict(center=True, pad_mode="constant", norm="slaney", mel_scale="slaney", **kw)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    mel_t = torchaudio.transforms.MelSpectrogram(sample_rate=sr, power=2.0, **settings_).to(tdtype)
    ours = features.melspectrogram(y, sr=sr, **kw)
    theirs = mel_t(torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-4 * ours.max())
    mfcc_t = torchaudio.transforms.MFCC(sample_rate=sr, n_mfcc=13, log_mels=False,
                                        melkwargs=settings_).to(tdtype)
    ours = features.mfcc(y, sr=sr, n_mfcc=13, **kw)
    theirs = mfcc_t(torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-4 * np.abs(ours).max())
    # and log_mels=True really is different
    log_t = torchaudio.transforms.MFCC(sample_rate=sr, n_mfcc=13, log_mels=True,
                                       melkwargs=settings_).to(tdtype)
    assert not np.allclose(log_t(torch.from_numpy(y)).numpy(), ours, rtol=1e-2)


# --------------------------------------------------------------------------- deltas

@given(seed=st.integers(0, 2**32 - 1), n_frames=st.integers(9, 60), width=st.sampled_from([3, 5, 9]),
       order=st.sampled_from([1, 2]), dtype=st.sampled_from([np.float32, np.float64]))
@QUICK
def test_delta_equals_librosa(contract_rtol, seed, n_frames, width, order, dtype):
    x = np.random.default_rng(seed).standard_normal((13, n_frames)).astype(dtype)
    assert_equal_scaled(features.delta(x, width=width, order=order),
                        librosa.feature.delta(x, width=width, order=order), contract_rtol(dtype))


def test_delta_is_the_regression_formula_inside():
    rng = np.random.default_rng(5)
    c = rng.standard_normal(50)
    d = features.delta(c, width=5)
    n = np.arange(1, 3)
    manual = np.array([np.sum(n * (c[t + n] - c[t - n])) / (2 * np.sum(n**2)) for t in range(2, 48)])
    np.testing.assert_allclose(d[2:48], manual, rtol=1e-10)
    # a linear ramp has delta = slope everywhere, edges included (interp mode)
    np.testing.assert_allclose(features.delta(3.0 * np.arange(20.0)), 3.0)


@pytest.mark.parametrize("kwargs,match", [
    (dict(width=4), "width=4"), (dict(width=1), "width=1"), (dict(order=0), "order=0"),
    (dict(width=21), "width=21"),
])
def test_delta_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        features.delta(np.ones((3, 20)), **kwargs)


# --------------------------------------------------------------------------- stacked features, CMVN, sequences

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lead", [(), (2,)])
def test_mfcc_deltas_equal_the_notebook_stack_of_librosa(contract_rtol, dtype, lead):
    # notebook 03, section 5: concatenate MFCC, delta, delta-delta along the coefficient axis
    y = np.random.default_rng(3).standard_normal(lead + (8000,)).astype(dtype)
    kw = dict(sr=16000, n_mfcc=13, n_fft=512, hop_length=160, n_mels=40)
    C = librosa.feature.mfcc(y=y, **kw)
    expected = np.concatenate([C, librosa.feature.delta(C, width=9, order=1),
                               librosa.feature.delta(C, width=9, order=2)], axis=-2)
    got = features.mfcc_deltas(y, **kw)
    assert got.shape == lead + (39, 51) and got.dtype == dtype
    # the delta rows are differences of MFCCs ~ 100 in size: compare on the MFCC scale
    for block in range(3):
        rows = slice(13 * block, 13 * (block + 1))
        rtol = contract_rtol(dtype)
        np.testing.assert_allclose(got[..., rows, :], expected[..., rows, :], rtol=rtol,
                                   atol=rtol * np.abs(C).max())


def test_mfcc_deltas_passes_options_and_refuses_too_few_frames():
    y = np.random.default_rng(4).standard_normal(4000)
    F = features.mfcc_deltas(y, sr=8000, n_mfcc=20, n_fft=256, hop_length=80, n_mels=40, width=5, lifter=22)
    C = features.mfcc(y, sr=8000, n_mfcc=20, n_fft=256, hop_length=80, n_mels=40, lifter=22)
    np.testing.assert_array_equal(F[:20], C)
    np.testing.assert_allclose(F[40:], features.delta(C, width=5, order=2))
    with pytest.raises(ParameterError, match="width=9"):
        features.mfcc_deltas(y[:400], sr=8000, n_fft=256, hop_length=80, n_mels=40)


def test_to_sequence_puts_one_frame_per_row():
    F = np.random.default_rng(0).standard_normal((2, 39, 17))
    X = features.to_sequence(F)
    assert X.shape == (2, 17, 39) and X.flags.c_contiguous
    assert X[1, 5, 7] == F[1, 7, 5]
    np.testing.assert_array_equal(features.to_sequence(F[0]), F[0].T)
    with pytest.raises(ParameterError, match=r"\(\.\.\., n_features, n_frames\)"):
        features.to_sequence(np.zeros(5))


def _cmvn_formula(x, axis):
    # notebook 03, section 7 (defined there on rows with spread)
    return (x - x.mean(axis=axis, keepdims=True)) / x.std(axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cmvn_equals_the_notebook_formula_and_sklearn(contract_rtol, dtype):
    import sklearn.preprocessing  # installed with hmmlearn

    rng = np.random.default_rng(1)
    x = (rng.standard_normal((13, 80)) * rng.uniform(0.1, 30, (13, 1)) + rng.uniform(-50, 50, (13, 1)))
    x = x.astype(dtype)
    got = features.cmvn(x)
    assert got.dtype == dtype
    rtol = contract_rtol(dtype)
    np.testing.assert_allclose(got, _cmvn_formula(x.astype(np.float64), -1), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(got, sklearn.preprocessing.scale(x.astype(np.float64), axis=1),
                               rtol=rtol, atol=rtol)
    # a (time, feature) sequence normalises along axis 0: same numbers, transposed
    np.testing.assert_allclose(features.cmvn(features.to_sequence(x), axis=0), got.T, rtol=1e-6, atol=1e-6)


def test_cmvn_removes_a_channel_offset_and_gain():
    x = np.random.default_rng(2).standard_normal((13, 50))
    channel = 3.0 * x + np.arange(13.0)[:, None]      # per-coefficient offset and gain
    np.testing.assert_allclose(features.cmvn(channel), features.cmvn(x), atol=1e-12)


def test_cmvn_zero_variance_rows_become_zero_not_nan():
    x = np.random.default_rng(3).standard_normal((4, 30))
    x[1] = 0.1            # a constant whose float mean is not exactly 0.1: std ~1e-17, not 0
    x[3] = -80.0          # e.g. an MFCC row of digital silence
    out = features.cmvn(x)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[[1, 3]], 0.0)
    np.testing.assert_allclose(out[[0, 2]], _cmvn_formula(x[[0, 2]], -1), rtol=1e-12)
    np.testing.assert_array_equal(features.cmvn(np.array([[1, 3], [5, 5]])), [[-1.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("x,kwargs,match", [
    (np.ones((13, 1)), {}, "1 frame"),
    (np.ones((13, 20)), {"axis": 2}, "axis=2"),
    (np.array([[0.0, np.nan, 1.0]]), {}, "NaN"),
    (np.ones((2, 3), dtype=complex), {}, "complex"),
])
def test_cmvn_bad_input(x, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        features.cmvn(x, **kwargs)


def test_heq_equals_a_brute_force_rank_count():
    """Re-derived by counting: value v of a row of T becomes Phi^-1((#{< v} + (#{== v} - 1) / 2 + 0.5) / T),
    here with scipy.stats.norm.ppf and explicit loops (ties included: a quantised feature)."""
    rng = np.random.default_rng(4)
    x = np.round(rng.standard_normal((5, 40)) * 3) / 3            # ties
    got = features.heq(x)
    for r in range(5):
        for t in range(40):
            lt, eq = np.sum(x[r] < x[r, t]), np.sum(x[r] == x[r, t])
            assert got[r, t] == pytest.approx(scipy.stats.norm.ppf((lt + (eq - 1) / 2 + 0.5) / 40), rel=1e-12)
    np.testing.assert_allclose(features.heq(x.T, axis=0), got.T, rtol=1e-12)


def test_heq_undoes_any_order_keeping_channel_and_gives_every_row_the_same_values():
    """Known answers: a strictly increasing distortion of each coefficient (here exp, a cube and an offset,
    which CMVN does not undo) leaves HEQ's output unchanged; every row of distinct values holds exactly the
    T normal quantiles."""
    x = np.random.default_rng(5).standard_normal((3, 50))
    bent = np.stack([np.exp(x[0]), x[1] ** 3 + 2, 5 * x[2] - 7])
    np.testing.assert_allclose(features.heq(bent), features.heq(x), atol=1e-12)
    assert not np.allclose(features.cmvn(bent), features.cmvn(x), atol=0.1)
    quantiles = scipy.stats.norm.ppf((np.arange(50) + 0.5) / 50)
    for row in features.heq(x):
        np.testing.assert_allclose(np.sort(row), quantiles, rtol=1e-12)


@pytest.mark.parametrize("x,kwargs,match", [
    (np.ones((13, 1)), {}, "1 frame"),
    (np.ones((13, 20)), {"axis": 2}, "axis=2"),
    (np.array([[0.0, np.nan, 1.0]]), {}, "NaN"),
])
def test_heq_bad_input(x, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        features.heq(x, **kwargs)


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("fn", ["melspectrogram", "mfcc", "spectral_centroid", "spectral_rolloff"])
@pytest.mark.parametrize("kwargs,match", [
    (dict(n_fft=0), "n_fft=0"),
    (dict(hop_length=0), "hop_length=0"),
    (dict(n_fft=256, win_length=512), "win_length=512"),
    (dict(sr=-1), "sr=-1"),
])
def test_spectral_features_bad_parameters(fn, kwargs, match):
    kwargs = {"sr": 16000, **kwargs}
    with pytest.raises(ParameterError, match=match):
        getattr(features, fn)(np.zeros(4000), **kwargs)


@pytest.mark.parametrize("fn", ["melspectrogram", "mfcc", "rms", "zero_crossing_rate", "spectral_flatness"])
@pytest.mark.parametrize("y,match", [
    (np.zeros(0), "empty"), (np.array([0.0, np.nan] * 100), "NaN"), (np.array(0.5), "0-d"),
])
def test_features_bad_signals(fn, y, match):
    kwargs = {"sr": 16000} if fn in ("melspectrogram", "mfcc") else {}
    with pytest.raises(ParameterError, match=match):
        getattr(features, fn)(y, **kwargs)


@pytest.mark.parametrize("fn", ["spectral_centroid", "spectral_bandwidth", "spectral_rolloff",
                                "spectral_flatness", "melspectrogram"])
def test_a_given_n_fft_that_does_not_fit_S_is_refused_not_replaced(fn):
    # issue #23 item 5 / ex02's check: 4 rows cannot come from n_fft=8 (1 + 8 // 2 = 5 rows)
    kw = {} if fn == "spectral_flatness" else {"sr": 8000}
    if fn == "melspectrogram":
        kw["n_mels"] = 2
    with pytest.raises(ParameterError, match=r"n_fft=8 gives 1 \+ n_fft // 2 = 5 frequency rows, but S has 4"):
        getattr(features, fn)(S=np.ones((4, 2)), n_fft=8, **kw)
    getattr(features, fn)(S=np.ones((4, 2)), n_fft=6, **kw)     # consistent: fine
    getattr(features, fn)(S=np.ones((4, 2)), **kw)              # None: taken from S (librosa)


def test_an_odd_n_fft_that_fits_S_sets_the_frequencies():
    S = np.zeros((5, 1))
    S[4] = 1.0                                     # all energy in the top row
    assert features.spectral_centroid(S=S, sr=9000, n_fft=9)[0, 0] == pytest.approx(4 * 9000 / 9)
    assert features.spectral_centroid(S=S, sr=9000)[0, 0] == pytest.approx(4 * 9000 / 8)  # n_fft=8
    assert features.spectral_centroid(S=S, sr=9000)[0, 0] == pytest.approx(
        librosa.feature.spectral_centroid(S=S, sr=9000)[0, 0])


def test_other_bad_parameters():
    y = np.random.default_rng(0).standard_normal(4000)
    with pytest.raises(ParameterError, match="fmax=9000"):
        features.melspectrogram(y, sr=16000, fmax=9000)
    with pytest.raises(ParameterError, match="n_mfcc=50"):
        features.mfcc(y, sr=16000, n_mfcc=50, n_mels=40)
    with pytest.raises(ParameterError, match="lifter=-1"):
        features.mfcc(y, sr=16000, lifter=-1)
    with pytest.raises(ParameterError, match="roll_percent=1.5"):
        features.spectral_rolloff(y, sr=16000, roll_percent=1.5)
    with pytest.raises(ParameterError, match="non-negative"):
        features.spectral_centroid(S=-np.ones((5, 3)), sr=16000)
    with pytest.raises(ParameterError, match="frame_length=5000"):
        features.rms(y, frame_length=5000, center=False)
    with pytest.raises(ParameterError, match="pass a signal y or a spectrogram S"):
        features.melspectrogram(sr=16000)
    with pytest.warns(UserWarning, match="n_fft=8192"):
        features.melspectrogram(y, sr=16000, n_fft=8192, n_mels=40)
