"""Super-resolution (chapter 10): the decimator does not alias, each interpolator is what its
name says (brute force / scipy / soxr), the model keeps the low band, the level and the length."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import audio, superres
from course_lib.errors import ParameterError

SR = 16000


def _tone(f, n=SR, sr=SR, phase=0.3):
    return np.sin(2 * np.pi * f * np.arange(n) / sr + phase)


def _db(x, ref):
    return 10 * np.log10(np.mean(x ** 2) / np.mean(ref ** 2))


def _band_limited_noise(n, *, max_hz, sr=SR, seed=0):
    """White noise low-passed far below ``max_hz`` by zeroing FFT bins (a band-limited test signal)."""
    X = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    X[np.fft.rfftfreq(n, 1 / sr) > max_hz] = 0
    return np.fft.irfft(X, n)


# --------------------------------------------------------------------------- decimation

@pytest.mark.parametrize("factor", [2, 4])
@pytest.mark.parametrize("above", [1.02, 1.5, 1.9])
def test_low_resolution_removes_what_would_alias(factor, above):
    # a tone above the new Nyquist frequency folds back into the band if it is not filtered out
    nyquist = SR / 2 / factor
    y = _tone(above * nyquist)
    low = superres.low_resolution(y, factor=factor)
    edge = 2 * len(superres._lowpass(factor)) // factor      # the filter's start-up at both ends
    assert _db(low[edge:-edge], y) < -85                      # measured -96 dB and below (90 dB design)


def test_scipy_default_resample_poly_would_alias():
    # why course_lib designs its own filter: scipy's default cut-off sits at the Nyquist frequency
    from scipy.signal import resample_poly

    y = _tone(1.02 * SR / 4)
    low = resample_poly(y, 1, 2)
    assert _db(low[100:-100], y) > -20


@pytest.mark.parametrize("factor", [2, 4])
def test_low_resolution_passes_the_band_and_has_no_delay(factor):
    nyquist = SR / 2 / factor
    y = _tone(0.85 * nyquist) + 0.5 * _tone(0.2 * nyquist, phase=1.0)
    low = superres.low_resolution(y, factor=factor)
    assert len(low) == -(-len(y) // factor)
    edge = 2 * len(superres._lowpass(factor)) // factor
    # low-rate sample k is the high-rate sample k * factor (pass band flat to 0.01 dB, zero delay)
    np.testing.assert_allclose(low[edge:-edge], y[::factor][edge:-edge], atol=2e-3)


# --------------------------------------------------------------------------- interpolation

@pytest.mark.parametrize("method", superres.METHODS)
@pytest.mark.parametrize("factor,n", [(2, 101), (3, 64), (4, 999)])
def test_upsample_length_dtype_and_knots(method, factor, n):
    y = _band_limited_noise(n, max_hz=0.3 * SR / 2 / factor).astype(np.float32)
    out = superres.upsample(y, factor=factor, method=method)
    assert out.shape == (n * factor,) and out.dtype == np.float32
    if method != "sinc":                                     # the other three pass through every input sample
        np.testing.assert_allclose(out[::factor], y, atol=1e-6)


def test_zoh_and_linear_equal_brute_force():
    y = np.random.default_rng(1).standard_normal(13)
    f = 3
    zoh = [y[j // f] for j in range(13 * f)]
    lin = []
    for j in range(13 * f):
        i, frac = divmod(j, f)
        lin.append(y[i] if i + 1 >= 13 else y[i] + (y[i + 1] - y[i]) * frac / f)
    np.testing.assert_allclose(superres.upsample(y, factor=f, method="zoh"), zoh, rtol=0, atol=0)
    np.testing.assert_allclose(superres.upsample(y, factor=f, method="linear"), lin, rtol=1e-12, atol=1e-12)


def test_cubic_equals_scipy_spline():
    from scipy.interpolate import CubicSpline

    y = np.random.default_rng(2).standard_normal(40)
    t = np.arange(80) / 2
    np.testing.assert_allclose(superres.upsample(y, factor=2, method="cubic"), CubicSpline(np.arange(40), y)(t),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("factor", [2, 4])
def test_sinc_reconstructs_a_band_limited_signal_and_the_others_do_not(factor):
    y = _band_limited_noise(SR, max_hz=0.8 * SR / 2 / factor, seed=3)
    low = y[::factor]                                # band-limited: plain sampling loses nothing
    edge = 2 * len(superres._lowpass(factor))
    err = {m: _db((superres.upsample(low, factor=factor, method=m) - y)[edge:-edge], y)
           for m in superres.METHODS}
    assert err["sinc"] < -60                          # the ideal reconstruction, to the filter's accuracy
    assert err["sinc"] < err["cubic"] < err["linear"] < err["zoh"]   # the textbook ordering
    assert err["zoh"] > -20


def test_sinc_agrees_with_soxr_in_the_pass_band():
    # an independent band-limited interpolator (soxr, as used by audio.resample)
    y = _band_limited_noise(SR, max_hz=3000, seed=4)
    low = y[::2]
    ours = superres.upsample(low, factor=2, method="sinc")
    ref = audio.resample(low.astype(np.float64), orig_sr=SR // 2, target_sr=SR)
    assert len(ref) == len(ours)
    assert _db((ours - ref)[500:-500], y) < -50       # both reconstruct y; measured about -75 dB


def test_zoh_fills_the_empty_band_with_images_and_sinc_does_not():
    y = _band_limited_noise(SR, max_hz=3000, seed=5)
    low = superres.low_resolution(y, factor=2)
    edge = 2 * len(superres._lowpass(2))
    n = SR - 2 * edge
    f = np.fft.rfftfreq(n, 1 / SR)
    for method, check in [("zoh", lambda db: db > -25), ("sinc", lambda db: db < -80)]:
        # the middle, Hann-windowed: the ends' start-up and the cut edges would leak into every band
        X = np.abs(np.fft.rfft(superres.upsample(low, factor=2, method=method)[edge:-edge] * np.hanning(n))) ** 2
        db = 10 * np.log10(X[f > 4200].sum() / X.sum())
        assert check(db), (method, db)


@pytest.mark.parametrize("call, match", [
    (lambda: superres.upsample(np.zeros((2, 10)), factor=2), "mono"),
    (lambda: superres.upsample(np.array([0.0, np.nan, 1.0]), factor=2), "NaN"),
    (lambda: superres.upsample(np.zeros(10, np.int16), factor=2), "floating point"),
    (lambda: superres.upsample(np.zeros(10), factor=1), "at least 2"),
    (lambda: superres.upsample(np.zeros(10), factor=2.0), "positive integer"),
    (lambda: superres.upsample(np.zeros(10), factor=2, method="lanczos"), "not one of"),
    (lambda: superres.upsample(np.zeros(3), factor=2, method="cubic"), "at least 4"),
    (lambda: superres.low_resolution(np.zeros(1), factor=2), "at least 2"),
    (lambda: superres.low_resolution([0.0, 1.0], factor=2), "numpy array"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_high_band_db_known_answer():
    y = _tone(1000) + 0.1 * _tone(6000)              # powers 1 and 0.01 (equal-length whole periods)
    assert superres.high_band_db(y, sr=SR, above_hz=4000) == pytest.approx(10 * np.log10(0.01 / 1.01), abs=1e-6)
    assert superres.high_band_db(_tone(1000), sr=SR, above_hz=4000) < -200
    with pytest.raises(ParameterError, match="silent"):
        superres.high_band_db(np.zeros(100), sr=SR, above_hz=4000)


# --------------------------------------------------------------------------- the model

@pytest.mark.parametrize("kwargs, match", [
    (dict(factor=1), "at least 2"), (dict(n_fft=500, factor=4), "multiple"), (dict(keep=0.1), "keep"),
    (dict(hidden=0), "hidden"), (dict(sr=-1), "sample rate"), (dict(high_band_energy=0.0), "high_band_energy"),
])
def test_config_is_validated(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        superres.BandwidthExtenderConfig(**kwargs)


def _model(factor=2, seed=0, **kw):
    torch.manual_seed(seed)
    cfg = superres.BandwidthExtenderConfig(factor=factor, hidden=16, context=2, n_layers=2, **kw)
    m = superres.BandwidthExtender(cfg).eval()
    with torch.no_grad():                             # a random model that predicts a loud high band
        m.net[-1].bias.fill_(1.0)
    return m


def test_forward_shapes_and_receptive_field():
    m = _model(factor=4)
    cfg = m.config
    assert cfg.n_in + cfg.n_out == cfg.n_fft // 2 + 1 and cfg.n_in == round(0.9 * cfg.n_fft / 8)
    x = torch.randn(3, cfg.n_in, 40)
    out = m(x)
    assert out.shape == (3, cfg.n_out, 40)
    # changing frame 20 changes outputs only within the receptive field: context + (n_layers - 1) frames
    x2 = x.clone()
    x2[:, :, 20] += 1.0
    changed = (m(x2) - out).abs().amax(dim=(0, 1)) > 0
    reach = cfg.context + (cfg.n_layers - 1)
    assert changed.nonzero().flatten().tolist() == list(range(20 - reach, 20 + reach + 1))
    with pytest.raises(ParameterError, match="shape"):
        m(torch.randn(3, cfg.n_in + 1, 40))


def test_extend_keeps_length_low_band_and_follows_the_level():
    from scipy.signal import firwin, filtfilt

    m = _model(factor=2)
    low = superres.low_resolution(_band_limited_noise(SR, max_hz=3500, seed=6), factor=2).astype(np.float32)
    out = m.extend(low, sr=SR // 2)
    sinc = superres.upsample(low, factor=2, method="sinc")
    assert out.shape == (len(low) * 2,) and out.dtype == np.float32
    # it adds a high band ...
    f = np.fft.rfftfreq(len(out), 1 / SR)
    X = np.abs(np.fft.rfft(out)) ** 2
    assert 10 * np.log10(X[f > 4500].sum() / X.sum()) > -30
    # ... and leaves the trusted low band as the band-limited interpolation had it
    h = firwin(401, 3000, fs=SR)
    diff = filtfilt(h, 1, out.astype(np.float64)) - filtfilt(h, 1, sinc.astype(np.float64))
    assert _db(diff[1000:-1000], sinc) < -40
    # the level goes in and comes out: extend(g y) = g extend(y)
    np.testing.assert_allclose(m.extend(0.25 * low, sr=SR // 2), 0.25 * out, rtol=1e-3, atol=1e-6)


def test_extend_takes_any_rate_and_rejects_silence():
    m = _model(factor=2)
    y = superres.low_resolution(_band_limited_noise(SR, max_hz=3500, seed=8), factor=2).astype(np.float32)
    # at another rate the input is first brought to the model's 8 kHz (the same path as resampling by hand)
    y11 = audio.resample(y, orig_sr=8000, target_sr=11025)
    out = m.extend(y11, sr=11025)
    np.testing.assert_allclose(out, m.extend(audio.resample(y11, orig_sr=11025, target_sr=8000), sr=8000))
    assert len(out) == 2 * len(audio.resample(y11, orig_sr=11025, target_sr=8000))
    with pytest.raises(ParameterError, match="silent"):
        m.extend(np.zeros(4000, np.float32), sr=8000)


def test_training_pairs_are_made_as_at_test_time():
    cfg = superres.BandwidthExtenderConfig(factor=2)
    y = _band_limited_noise(8000, max_hz=7000, seed=7)
    x, target = superres.training_pairs(y, config=cfg)
    up = superres.upsample(superres.low_resolution(y, factor=2), factor=2, method="sinc")
    x_test, X, offset = superres.extension_features(up, config=cfg)
    np.testing.assert_allclose(x, x_test, rtol=1e-5, atol=1e-5)
    assert target.shape == (cfg.n_out, x.shape[1])
    # the target is the original's log magnitude above n_in, with the input's offset
    from course_lib.spectral import stft

    T = np.log(np.abs(stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length)[cfg.n_in:]) + cfg.floor) - offset
    np.testing.assert_allclose(target, T, rtol=1e-5, atol=1e-4)


def test_evaluate_scores_each_method_per_speaker():
    from course_lib.data import Clip

    clips = [Clip(audio=_band_limited_noise(8000, max_hz=7000, seed=s).astype(np.float32), sr=SR, path=None, label="x",
                  speaker=f"s{s % 2}") for s in range(4)]
    r = superres.evaluate(clips, factor=2, methods=("zoh", "sinc"), progress=False)
    assert set(r) == {"zoh", "sinc"} and set(r["sinc"]["per_speaker"]) == {"s0", "s1"}
    # white noise to 7 kHz: the empty upper band costs sinc more LSD than zoh's images, and zoh more SNR
    assert r["sinc"]["lsd"] > r["zoh"]["lsd"] and r["sinc"]["snr"] > r["zoh"]["snr"]


# --------------------------------------------------------------------------- the energy budget

def test_energy_ceiling_meets_the_budget_and_equals_bisection():
    rng = np.random.default_rng(11)
    for _ in range(100):
        P = rng.exponential(size=rng.integers(1, 60)) ** 3
        keep = float(rng.uniform(0.02, 1.0))
        g = superres.energy_ceiling_gains(P, keep=keep)
        assert np.all((g > 0) & (g <= 1))
        assert (g * P).sum() == pytest.approx(keep * P.sum(), rel=1e-9)
        # the same ceiling found by bisection on c (sum of min(P, c) is increasing in c)
        lo, hi = 0.0, P.max()
        for _ in range(200):
            c = (lo + hi) / 2
            lo, hi = (c, hi) if np.minimum(P, c).sum() < keep * P.sum() else (lo, c)
        np.testing.assert_allclose(g * P, np.minimum(P, hi), rtol=1e-9, atol=1e-12 * P.max())


def test_energy_ceiling_costs_less_log_error_than_a_uniform_gain():
    # same energy kept, smaller total |log gain|: the reason for capping rather than scaling
    P = np.random.default_rng(12).exponential(size=500) ** 4
    for keep in (0.7, 0.35, 0.12):
        g = superres.energy_ceiling_gains(P, keep=keep)
        assert np.abs(np.log10(g)).sum() < np.abs(np.log10(keep)) * len(P)
    assert np.all(superres.energy_ceiling_gains(P, keep=1.0) == 1)
    with pytest.raises(ParameterError, match="keep"):
        superres.energy_ceiling_gains(P, keep=0)


def test_the_transition_band_keeps_its_true_phase():
    # between n_in (3.6 kHz at x2) and the cut-off (4 kHz) the input still holds the true signal,
    # attenuated by the anti-aliasing filter: the model corrects its magnitude, not its phase
    from course_lib.spectral import stft

    m = _model(factor=2)
    cfg = m.config
    t = np.arange(SR) / SR
    y = 0.3 * np.sin(2 * np.pi * 3800 * t + 0.7) + 0.3 * np.sin(2 * np.pi * 500 * t)
    low = superres.low_resolution(y, factor=2).astype(np.float32)
    out = m.extend(low, sr=SR // 2).astype(np.float64)
    sinc = superres.upsample(low, factor=2, method="sinc").astype(np.float64)
    k = round(3800 * cfg.n_fft / SR)
    assert cfg.n_in <= k < cfg.n_fft // 4
    a = stft(out, n_fft=cfg.n_fft, hop_length=cfg.hop_length)[k, 10:-10]
    b = stft(sinc, n_fft=cfg.n_fft, hop_length=cfg.hop_length)[k, 10:-10]
    assert np.max(np.abs(np.angle(a * np.conj(b)))) < 0.05
