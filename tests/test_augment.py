"""Tests of course_lib.augment: each link of the recording chain does what it says, measured.

SNR is measured with metrics.snr (the definition, re-derived), attenuation on pure
tones through the whole function, and the room's RT60 with Schroeder's method,
itself checked on an analytic exponential decay.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import augment, metrics
from course_lib.errors import ParameterError

SR = 16000


def tone(f, *, sr=SR, seconds=1.0, amp=0.1):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)


def gain_db(x, y, *, sr=SR):
    """Level change of a tone, ignoring the filters' first and last 100 ms."""
    k = int(0.1 * sr)
    return 20 * np.log10(np.std(y[k:-k]) / np.std(x[k:-k]))


@pytest.fixture
def speechlike():
    """A harmonic-rich test signal with pauses (like speech, not stationary)."""
    rng = np.random.default_rng(1)
    y = sum(tone(150 * k, amp=0.05 / k) for k in range(1, 20)) * np.repeat(rng.random(10) > 0.3, SR // 10)
    return y.astype(np.float32)


# --------------------------------------------------------------------------- noise and level

@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 37.5])
@pytest.mark.parametrize("noise_len", [None, 1000, 40000])
def test_add_noise_achieves_the_requested_snr(speechlike, snr, noise_len):
    rng = np.random.default_rng(0)
    noise = None if noise_len is None else rng.standard_normal(noise_len).astype(np.float32) * 0.3
    out = augment.add_noise(speechlike, sr=SR, rng=rng, snr_db=snr, noise=noise)
    assert out.shape == speechlike.shape and out.dtype == np.float32
    # metrics.snr(ref, est) = 10 log10(|ref|^2 / |ref - est|^2): exactly the added noise's SNR
    assert metrics.snr(speechlike.astype(np.float64), out.astype(np.float64)) == pytest.approx(snr, abs=1e-3)


def test_add_noise_uses_the_given_noise(speechlike):
    hum = tone(50, seconds=0.2)             # 10 periods, shorter than y: looped seamlessly
    out = augment.add_noise(speechlike, sr=SR, rng=np.random.default_rng(0), snr_db=0.0, noise=hum)
    added = out - speechlike
    spec = np.abs(np.fft.rfft(added))
    assert np.argmax(spec) * SR / len(added) == pytest.approx(50, abs=1)


def test_add_noise_draws_snr_in_range(speechlike):
    rng = np.random.default_rng(3)
    snrs = [metrics.snr(speechlike.astype(np.float64), augment.add_noise(speechlike, sr=SR, rng=rng)
                        .astype(np.float64)) for _ in range(20)]
    assert 0 <= min(snrs) and max(snrs) <= 30 and np.ptp(snrs) > 10


@pytest.mark.parametrize("g", [-20.0, -6.0, 0.0, 3.0])
def test_change_level(speechlike, g):
    out = augment.change_level(speechlike, sr=SR, rng=np.random.default_rng(0), gain_db=g)
    assert gain_db(speechlike, out) == pytest.approx(g, abs=1e-4)


def test_change_level_clips():
    out = augment.change_level(tone(440, amp=0.5), sr=SR, rng=np.random.default_rng(0), gain_db=12.0)
    assert np.abs(out).max() == pytest.approx(1.0)
    loud = augment.change_level(tone(440, amp=0.5), sr=SR, rng=np.random.default_rng(0), gain_db=12.0, clip=False)
    assert np.abs(loud).max() == pytest.approx(0.5 * 10 ** (12 / 20), rel=1e-3)


# --------------------------------------------------------------------------- band-limiting

@pytest.mark.parametrize("f, lo_db, hi_db", [
    (1000, -1.5, 1.0), (2500, -1.5, 1.0),              # the passband (300-3400 Hz) passes
    (100, -200, -20), (5000, -200, -60), (7000, -200, -60),   # below 300 Hz and above 4 kHz do not
])
def test_telephone_band(f, lo_db, hi_db):
    x = tone(f)
    out = augment.telephone(x, sr=SR, rng=np.random.default_rng(0), mu_law=False)
    assert out.shape == x.shape
    assert lo_db <= gain_db(x, out) <= hi_db


def test_telephone_at_8k_and_mu_law_noise(speechlike):
    x = tone(1000, sr=8000)
    out = augment.telephone(x, sr=8000, rng=np.random.default_rng(0))
    assert abs(gain_db(x, out, sr=8000)) < 1.5
    # mu-law quantisation: about 38 dB SNR (G.711), clearly not lossless
    clean = augment.telephone(speechlike, sr=SR, rng=np.random.default_rng(0), mu_law=False)
    coded = augment.telephone(speechlike, sr=SR, rng=np.random.default_rng(0), mu_law=True)
    assert 25 < metrics.snr(clean.astype(np.float64), coded.astype(np.float64)) < 45


def test_band_limit_attenuation():
    rng = np.random.default_rng(0)
    for f, lo_db, hi_db in [(1000, -5, 5), (6000, -200, -20), (30, -200, -20)]:
        x = tone(f)
        out = augment.band_limit(x, sr=SR, rng=np.random.default_rng(5), low_hz=150, high_hz=4000)
        assert lo_db <= gain_db(x, out) <= hi_db, f
    # drawn corners stay below Nyquist at 8 kHz as well
    out = augment.band_limit(tone(500, sr=8000), sr=8000, rng=rng)
    assert out.shape == (8000,) and np.isfinite(out).all()


# --------------------------------------------------------------------------- rooms

def test_rt60_measures_an_exponential_decay():
    """Known answer: h(t) = exp(-3 ln10 t / T) has energy falling 60 dB in T seconds."""
    for T in (0.3, 0.9):
        t = np.arange(int(2 * T * SR)) / SR
        h = np.exp(-3 * np.log(10) * t / T)
        assert augment.rt60(h, sr=SR) == pytest.approx(T, rel=0.01)


@pytest.mark.parametrize("target", [0.2, 0.4, 0.8])
def test_room_impulse_response_has_the_requested_rt60_and_drr(target):
    rts, drrs = [], []
    for seed in range(5):
        h = augment.room_impulse_response(sr=SR, rng=np.random.default_rng(seed), rt60=target, drr_db=0.0)
        rts.append(augment.rt60(h, sr=SR))
        drrs.append(10 * np.log10(h[0] ** 2 / np.sum(h[1:] ** 2)))
    assert np.mean(rts) == pytest.approx(target, rel=0.08), rts      # noise in the tail: a few per cent
    assert np.allclose(drrs, 0.0, atol=0.1)


def test_reverberate_smears_in_time(speechlike):
    dry = speechlike
    wet = augment.reverberate(dry, sr=SR, rng=np.random.default_rng(0), rt60=0.8, drr_db=-3)
    assert wet.shape == dry.shape and wet.dtype == np.float32
    assert np.std(wet) == pytest.approx(np.std(dry), rel=1e-3)          # same RMS
    gaps = np.repeat(np.random.default_rng(1).random(10) > 0.3, SR // 10) == 0
    assert np.std(dry[gaps]) == 0 and np.std(wet[gaps]) > 0.05 * np.std(wet)   # the room fills the pauses


def test_recording_chain_is_seeded(speechlike):
    a = augment.recording_chain(speechlike, sr=SR, rng=np.random.default_rng(7))
    b = augment.recording_chain(speechlike, sr=SR, rng=np.random.default_rng(7))
    c = augment.recording_chain(speechlike, sr=SR, rng=np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c) and a.shape == speechlike.shape
    same = augment.recording_chain(speechlike, sr=SR, rng=np.random.default_rng(7), p_reverb=0, p_band=0,
                                   p_telephone=0, p_noise=0, p_level=0)
    assert np.array_equal(same, speechlike)


@pytest.mark.parametrize("call, match", [
    (lambda y: augment.add_noise(y, sr=SR, rng=np.random.default_rng(0), snr_db=np.nan), "snr_db"),
    (lambda y: augment.add_noise(np.zeros(100, np.float32), sr=SR, rng=np.random.default_rng(0), snr_db=0), "silent"),
    (lambda y: augment.add_noise(y, sr=SR, rng=0, snr_db=0), "rng=0"),
    (lambda y: augment.change_level(y, sr=0, rng=np.random.default_rng(0)), "sr=0"),
    (lambda y: augment.telephone(y, sr=4000, rng=np.random.default_rng(0)), "8000"),
    (lambda y: augment.band_limit(y, sr=SR, rng=np.random.default_rng(0), low_hz=5000, high_hz=4000), "low_hz"),
    (lambda y: augment.reverberate(y.astype(np.int16), sr=SR, rng=np.random.default_rng(0)), "floating"),
    (lambda y: augment.room_impulse_response(sr=SR, rng=np.random.default_rng(0), rt60=-1), "rt60"),
    (lambda y: augment.rt60(np.zeros(100), sr=SR), "zeros"),
    (lambda y: augment.recording_chain(y, sr=SR, rng=np.random.default_rng(0), p_noise=2), "p_noise"),
])
def test_bad_arguments(speechlike, call, match):
    with pytest.raises(ParameterError, match=match):
        call(speechlike)


# --------------------------------------------------------------------------- chapter 07: shift, tempo, pitch, mixup

def test_time_shift_equals_a_shifted_copy(speechlike):
    rng = np.random.default_rng(0)
    k = 1234
    out = augment.time_shift(speechlike, sr=SR, rng=rng, shift_s=k / SR)
    ref = np.concatenate([np.zeros(k), speechlike[:-k]])
    np.testing.assert_array_equal(out, ref.astype(np.float32))
    back = augment.time_shift(speechlike, sr=SR, rng=rng, shift_s=-k / SR)
    np.testing.assert_array_equal(back[:-k], speechlike[k:])
    assert not back[-k:].any()
    drawn = augment.time_shift(speechlike, sr=SR, rng=np.random.default_rng(1), max_shift_s=0.1)
    assert drawn.shape == speechlike.shape


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_time_stretch_equals_librosa(speechlike, rate):
    librosa = pytest.importorskip("librosa")
    y = speechlike.astype(np.float64)
    out = augment.time_stretch(y, sr=SR, rng=np.random.default_rng(0), rate=rate, n_fft=512)
    ref = librosa.effects.time_stretch(y, rate=rate, n_fft=512)
    assert out.shape == ref.shape == (round(len(y) / rate),)
    # float64 through the same STFT / phase vocoder / ISTFT; the result is cast to float32
    np.testing.assert_allclose(out, ref, atol=1e-5 * np.abs(ref).max())


def test_phase_vocoder_equals_librosa(speechlike):
    librosa = pytest.importorskip("librosa")
    D = librosa.stft(speechlike.astype(np.float64), n_fft=512, hop_length=128)
    np.testing.assert_allclose(augment.phase_vocoder(D, rate=0.7, hop_length=128),
                               librosa.phase_vocoder(D, rate=0.7, hop_length=128, n_fft=512), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("n_steps", [-2.0, 1.5])
def test_pitch_shift_equals_librosa_and_moves_a_tone(n_steps):
    librosa = pytest.importorskip("librosa")
    y = tone(440.0).astype(np.float64)
    out = augment.pitch_shift(y, sr=SR, rng=np.random.default_rng(0), n_steps=n_steps, n_fft=512)
    ref = librosa.effects.pitch_shift(y, sr=SR, n_steps=n_steps, n_fft=512)
    assert out.shape == y.shape
    np.testing.assert_allclose(out, ref, atol=1e-5)       # amplitude 0.1, float32 output
    spec = np.abs(np.fft.rfft(out[2000:-2000] * np.hanning(len(out) - 4000)))
    f = np.argmax(spec) * SR / (len(out) - 4000)
    assert f == pytest.approx(440.0 * 2 ** (n_steps / 12), rel=0.01)


def test_mixup_is_a_convex_combination_with_beta_weights():
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, 5)
    t = torch.arange(8)
    lams = []
    for _ in range(400):
        mixed, ta, tb, lam = augment.mixup(x, t, alpha=0.4, generator=g)
        assert torch.equal(ta, t) and sorted(tb.tolist()) == list(range(8))
        torch.testing.assert_close(mixed, lam * x + (1 - lam) * x[tb])
        lams.append(lam)
    lams = np.array(lams)
    assert 0 <= lams.min() and lams.max() <= 1
    # Beta(0.4, 0.4): mean 1/2, variance ab / ((a+b)^2 (a+b+1)) = 0.16 / (0.64 * 1.8) = 0.139
    assert lams.mean() == pytest.approx(0.5, abs=0.05)
    assert lams.var() == pytest.approx(0.139, abs=0.03)
    with pytest.raises(ParameterError, match="alpha"):
        augment.mixup(x, t, alpha=0, generator=g)


def test_spec_augment_masks_whole_bands_and_spans():
    import torch

    g = torch.Generator().manual_seed(3)
    x = torch.ones(4, 100, 40)
    out = augment.spec_augment(x, torch.full((4,), 100), generator=g, n_freq_masks=1, max_freq=8,
                               n_time_masks=1, max_time_fraction=0.1)
    for b in range(4):
        zero_bands = (out[b] == 0).all(dim=0)             # a frequency mask zeroes a whole band
        zero_frames = (out[b] == 0).all(dim=1)
        assert zero_bands.sum() <= 8 and zero_frames.sum() <= 10
        idx = torch.nonzero(zero_bands).flatten()
        if len(idx):
            assert idx.max() - idx.min() + 1 == len(idx)  # contiguous
        # everything not in a masked band or frame is untouched
        keep = ~zero_bands[None, :] & ~zero_frames[:, None]
        assert (out[b][keep] == 1).all()


# --------------------------------------------------------------------------- change_voice (Praat's Change gender)

def _vowel(f0, formants=(700.0, 1200.0, 2600.0), bandwidths=(80.0, 90.0, 120.0), sr=16000):
    """A source-filter vowel: an impulse train at f0 through one two-pole resonator per formant."""
    import scipy.signal

    x = np.zeros(sr)
    x[np.round(np.arange(0, sr, sr / f0)).astype(int) % sr] = 1.0
    for f, b in zip(formants, bandwidths):
        r = np.exp(-np.pi * b / sr)
        x = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / sr), r * r], x)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def _lpc_formants(y, sr=16000, order=16):
    """Formant frequencies from the roots of an LPC polynomial (librosa.lpc), narrow ones only."""
    import librosa

    y = y[2000:-2000].astype(np.float64)
    a = librosa.lpc(y * np.hanning(len(y)), order=order)
    roots = [r for r in np.roots(a) if np.imag(r) > 0]
    found = sorted((np.angle(r) * sr / (2 * np.pi), -np.log(np.abs(r)) * sr / np.pi) for r in roots)
    return np.array([f for f, bw in found if bw < 500 and f > 200])


@pytest.mark.parametrize("ratio, median", [(1.1, 150.0), (0.9, 100.0), (1.15, None)])
def test_change_voice_moves_formants_and_pitch_apart(ratio, median):
    """The formants (LPC roots, an estimate independent of Praat) move by formant_ratio and the pitch median
    (librosa.pyin) becomes pitch_median, or stays with None. Tolerances: F2 and F3 within 3 % of the ratio
    (the LPC estimate of F1 is pulled by a harmonic near it, so F1 is not asserted); pitch within 2 %."""
    import librosa

    y = _vowel(120.0)
    before = _lpc_formants(y)
    assert len(before) == 3 and np.allclose(before, (700, 1200, 2600), rtol=0.03)     # the estimate works
    z = augment.change_voice(y, sr=16000, formant_ratio=ratio, pitch_median=median)
    assert z.dtype == np.float32 and z.shape == y.shape
    after = _lpc_formants(z)
    assert len(after) == 3
    np.testing.assert_allclose(after[1:] / before[1:], ratio, rtol=0.03)
    f0 = np.nanmedian(librosa.pyin(z, fmin=60, fmax=500, sr=16000)[0])
    assert f0 == pytest.approx(median or 120.0, rel=0.02)
    assert augment.median_pitch(z, sr=16000) == pytest.approx(median or 120.0, rel=0.02)


def test_change_voice_with_a_seed_is_reproducible():
    """Praat's overlap-add is random: unseeded, two calls differ; with one seed they are equal to the
    last sample, another seed differs, and a seeded call leaves later unseeded calls random again."""
    y = _vowel(120.0)
    kw = dict(sr=16000, formant_ratio=1.1, pitch_median=150.0)
    a, b = augment.change_voice(y, seed=7, **kw), augment.change_voice(y, seed=7, **kw)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, augment.change_voice(y, seed=8, **kw))
    assert not np.array_equal(augment.change_voice(y, **kw), augment.change_voice(y, **kw))
    with pytest.raises(ParameterError, match="seed"):
        augment.change_voice(y, seed=-1, **kw)


def test_log_uniform_is_uniform_in_the_logarithm():
    """Against the definition: log of the draws uniform on [log low, log high] (Kolmogorov-Smirnov,
    20 000 draws), so the median is the geometric mean sqrt(low * high), not the arithmetic one."""
    from scipy import stats

    rng = np.random.default_rng(0)
    x = np.array([augment.log_uniform(rng, 0.5, 2.0) for _ in range(20000)])
    assert x.min() >= 0.5 and x.max() <= 2.0
    assert stats.kstest(np.log(x), stats.uniform(np.log(0.5), np.log(4.0)).cdf).pvalue > 0.01
    assert np.median(x) == pytest.approx(1.0, abs=0.02)
    with pytest.raises(ParameterError, match="low"):
        augment.log_uniform(rng, 0.0, 2.0)


def test_median_pitch_of_silence_is_none_and_bad_arguments_are_named():
    assert augment.median_pitch(np.zeros(16000, dtype=np.float32), sr=16000) is None
    y = _vowel(120.0)
    with pytest.raises(ParameterError, match="formant_ratio"):
        augment.change_voice(y, sr=16000, formant_ratio=3.0)
    with pytest.raises(ParameterError, match="pitch_median"):
        augment.change_voice(y, sr=16000, pitch_median=20.0)
