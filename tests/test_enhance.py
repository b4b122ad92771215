"""course_lib.enhance: gains against their formulas, noise trackers against the true noise,
the seed document's spectral subtraction (musical noise, wrong length), the mask network's
causality and contract, and the enhancers' quality on test voices with test noise takes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from course_lib import augment, data, enhance, metrics
from course_lib.errors import ParameterError

SR = 16000


@pytest.fixture(scope="module")
def clean():
    return data.sentences(split="test")[0].audio


def _mix(clean, kind="white", snr_db=0.0, seed=0, split="test"):
    return augment.add_noise(clean, sr=SR, rng=np.random.default_rng(seed), snr_db=snr_db,
                             noise=data.noise(kind, split=split).audio)


def _small_mask():
    torch.manual_seed(0)
    return enhance.MaskNet(enhance.MaskNetConfig(channels=16, dilations=(1, 2))).eval()


ENHANCERS = {
    "ss power quietest": lambda y, sr: enhance.spectral_subtraction(y, sr=sr),
    "ss magnitude track": lambda y, sr: enhance.spectral_subtraction(y, sr=sr, exponent=1, noise="track"),
    "ss noise clip": lambda y, sr: enhance.spectral_subtraction(
        y, sr=sr, noise=np.random.default_rng(1).standard_normal(sr).astype(np.float32) * 0.01),
    "wiener track": lambda y, sr: enhance.wiener(y, sr=sr),
    "wiener quietest": lambda y, sr: enhance.wiener(y, sr=sr, noise="quietest"),
    "mask": lambda y, sr: _small_mask().enhance(y, sr=sr),
}


# --------------------------------------------------------------------------- contract

@pytest.mark.parametrize("name", list(ENHANCERS))
@pytest.mark.parametrize("n, sr", [(16000, 16000), (12345, 16000), (9999, 22050), (4001, 8000)])
def test_enhancers_keep_length_and_return_float32(name, n, sr):
    y = np.random.default_rng(0).standard_normal(n).astype(np.float32) * 0.1
    out = ENHANCERS[name](y, sr)
    assert out.shape == y.shape and out.dtype == np.float32 and np.all(np.isfinite(out))


@pytest.mark.parametrize("name", list(ENHANCERS))
@pytest.mark.parametrize("y, sr, match", [
    (np.zeros(8000, np.float32), SR, "silent"),
    (np.array([0.1, np.nan] * 4000, np.float32), SR, "NaN"),
    (np.ones((2, 8000), np.float32), SR, r"mono with shape \(n,\)"),
    (np.ones(8000, np.int16), SR, "floating point"),
    (np.ones(8000, np.float32), 0, "sr"),
    ([0.1] * 8000, SR, "numpy array"),
])
def test_enhancers_reject_bad_input(name, y, sr, match):
    with pytest.raises(ParameterError, match=match):
        ENHANCERS[name](y, sr)


def test_signal_is_positional_and_sr_keyword_only():
    y = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    for f in (enhance.spectral_subtraction, enhance.wiener):
        with pytest.raises(TypeError):
            f(y, SR)


# --------------------------------------------------------------------------- spectral subtraction

@pytest.mark.parametrize("exponent", [1, 2])
@pytest.mark.parametrize("alpha, beta", [(1.0, 0.0), (2.0, 0.02), (4.0, 0.1), (0.0, 0.5)])
def test_subtraction_gain_formula(exponent, alpha, beta):
    """G = (max(|Y|^p − α λ^{p/2}, β λ^{p/2}) / |Y|^p)^{1/p}, bin by bin in plain Python."""
    rng = np.random.default_rng(exponent)
    P = rng.exponential(size=(5, 7))
    lam = rng.exponential(size=(5, 1))
    G = enhance.subtraction_gain(P, lam, alpha=alpha, beta=beta, exponent=exponent)
    for k in range(5):
        for t in range(7):
            y_p, n_p = P[k, t] ** (exponent / 2), lam[k, 0] ** (exponent / 2)
            expected = min((max(y_p - alpha * n_p, beta * n_p) / y_p) ** (1 / exponent), 1.0)
            assert G[k, t] == pytest.approx(expected, rel=1e-12)


def test_subtraction_gain_known_values():
    # |Y|² = 4, λ = 1: power subtraction with α = 1 leaves 3 -> G = sqrt(3/4); magnitude: 2 − 1 = 1 -> G = 1/2
    P, lam = np.array([[4.0]]), np.array([[1.0]])
    assert enhance.subtraction_gain(P, lam, alpha=1, beta=0, exponent=2)[0, 0] == pytest.approx(np.sqrt(0.75))
    assert enhance.subtraction_gain(P, lam, alpha=1, beta=0, exponent=1)[0, 0] == pytest.approx(0.5)
    # over-subtraction below the floor: max(4 − 8, 0.5·1) = 0.5 -> G = sqrt(0.5 / 4)
    assert enhance.subtraction_gain(P, lam, alpha=8, beta=0.5, exponent=2)[0, 0] == pytest.approx(np.sqrt(0.125))


@pytest.mark.parametrize("kw, match", [
    (dict(exponent=3), "exponent=3"), (dict(alpha=-1), "alpha=-1"), (dict(beta=np.nan), "beta=nan"),
])
def test_subtraction_gain_bad_parameters(kw, match):
    with pytest.raises(ParameterError, match=match):
        enhance.subtraction_gain(np.ones((3, 3)), np.ones((3, 1)), **kw)


def test_noise_psd_is_mean_periodogram_of_librosa_stft():
    import librosa

    n = np.random.default_rng(0).standard_normal(8000)
    expected = np.mean(np.abs(librosa.stft(n, n_fft=512, hop_length=128, pad_mode="constant")) ** 2, axis=1)
    np.testing.assert_allclose(enhance.noise_psd(n, sr=SR)[:, 0], expected, rtol=1e-10)


def test_quietest_frames_psd_picks_the_quiet_frames():
    P = np.ones((3, 10))
    P[:, [2, 7]] = 0.1          # two quiet frames
    P[0, 2] = 0.3
    np.testing.assert_allclose(enhance.quietest_frames_psd(P, fraction=0.2)[:, 0], [0.2, 0.1, 0.1])
    with pytest.raises(ParameterError, match="fraction=0"):
        enhance.quietest_frames_psd(P, fraction=0)


def test_seed_spectral_subtraction_changes_length_and_makes_musical_noise():
    """On noise alone: the seed's version (mean magnitude, no floor) leaves isolated peaks
    (musical noise, kurtosis ratio > 2) and returns the wrong length; over-subtraction without a
    floor makes it far worse; a floor removes it at a similar noise reduction."""
    rng = np.random.default_rng(0)
    noise_ref = rng.standard_normal(SR).astype(np.float32) * 0.05       # the "noise-only clip"
    noise = rng.standard_normal(3 * SR + 100).astype(np.float32) * 0.05  # the passage to clean
    seed_out = enhance.spectral_subtraction_seed(noise, noise_ref, SR)
    assert len(seed_out) != len(noise)                                   # the seed's length bug
    seed_kr = enhance.kurtosis_ratio(noise, np.pad(seed_out, (0, len(noise) - len(seed_out))), sr=SR)
    assert seed_kr > 2.0

    def run(beta):
        out = enhance.spectral_subtraction(noise, sr=SR, noise=noise_ref, exponent=1, alpha=2.0, beta=beta)
        assert len(out) == len(noise)
        return enhance.kurtosis_ratio(noise, out, sr=SR), 20 * np.log10(np.std(out) / np.std(noise))

    kr0, _ = run(0.0)
    kr_floor, reduction_db = run(0.3)
    assert kr0 > 10 * seed_kr           # over-subtraction alone: fewer, lonelier peaks
    assert kr_floor < 1.5               # the floor hides them ...
    assert reduction_db < -8            # ... while the noise still drops by more than 8 dB


def test_kurtosis_ratio_is_one_for_unprocessed_and_large_for_isolated_peaks():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SR)
    assert enhance.kurtosis_ratio(x, x, sr=SR) == pytest.approx(1.0)
    assert enhance.kurtosis_ratio(x, 3 * x, sr=SR) == pytest.approx(1.0)      # a gain is not musical noise
    # musical noise made by hand: keep 5 % of the time-frequency bins at random (short tones)
    from course_lib.spectral import istft, stft

    X = stft(x, n_fft=512, hop_length=128)
    tones = istft(X * (rng.random(X.shape) < 0.05), hop_length=128, length=SR)
    assert enhance.kurtosis_ratio(x, tones, sr=SR) > 3


# --------------------------------------------------------------------------- Wiener

def test_decision_directed_against_a_scalar_loop():
    rng = np.random.default_rng(0)
    P = rng.exponential(size=(4, 30)) * np.linspace(0.5, 20, 30)
    lam = rng.exponential(size=(4, 1)) + 0.5
    alpha, xi_min = 0.9, 10 ** (-20 / 10)
    out = enhance.decision_directed(P, lam, alpha=alpha, xi_min_db=-20)
    for k in range(4):
        prev = max(P[k, 0] / lam[k, 0] - 1, 0) * lam[k, 0]
        for t in range(30):
            gamma = P[k, t] / lam[k, 0]
            xi = max(alpha * prev / lam[k, 0] + (1 - alpha) * max(gamma - 1, 0), xi_min)
            g = xi / (1 + xi)
            assert out.xi[k, t] == pytest.approx(xi, rel=1e-12)
            assert out.gain[k, t] == pytest.approx(g, rel=1e-12)
            assert out.gamma[k, t] == pytest.approx(gamma, rel=1e-12)
            prev = g * g * P[k, t]


def test_decision_directed_alpha_zero_is_the_ml_estimate():
    P = np.random.default_rng(0).exponential(size=(6, 9)) * 5
    out = enhance.decision_directed(P, np.ones((6, 1)), alpha=0.0, xi_min_db=-30)
    np.testing.assert_allclose(out.xi, np.maximum(P - 1, 1e-3), rtol=1e-12)
    with pytest.raises(ParameterError, match="alpha=1"):
        enhance.decision_directed(P, np.ones((6, 1)), alpha=1)


def test_running_min_is_causal_brute_force():
    s = np.random.default_rng(0).random((3, 40))
    m = enhance._running_min(s, 7)
    for t in range(40):
        np.testing.assert_array_equal(m[:, t], s[:, max(0, t - 6):t + 1].min(axis=1))


def test_minimum_statistics_tracks_stationary_noise_within_1_db():
    rng = np.random.default_rng(0)
    n = rng.standard_normal(6 * SR) * 0.05
    P = np.abs(enhance._stft(n, 512, 128)) ** 2
    lam = enhance.minimum_statistics(P, sr=SR, hop_length=128)
    true = np.mean(P, axis=1)
    err_db = 10 * np.log10(lam[1:-1, 200:].mean(axis=1) / true[1:-1])   # after one window of warm-up
    assert abs(np.mean(err_db)) < 1.0


@pytest.mark.parametrize("kind", ["white", "fan", "hum"])
def test_minimum_statistics_finds_the_noise_under_speech(clean, kind):
    """Speech at 0 dB over a test noise take: the tracked level is within 4 dB of the noise's true PSD."""
    noisy = _mix(clean, kind, 0.0)
    noise = noisy.astype(np.float64) - clean
    P = np.abs(enhance._stft(noisy, 512, 128)) ** 2
    lam = enhance.minimum_statistics(P, sr=SR, hop_length=128)
    true = np.mean(np.abs(enhance._stft(noise, 512, 128)) ** 2, axis=1)
    err_db = 10 * np.log10(lam[1:-1].mean() / true[1:-1].mean())
    assert abs(err_db) < 4.0, err_db


def test_minimum_statistics_is_causal():
    P = np.random.default_rng(0).exponential(size=(5, 300))
    P2 = P.copy()
    P2[:, 200:] *= 10
    a = enhance.minimum_statistics(P, sr=SR, hop_length=128)
    b = enhance.minimum_statistics(P2, sr=SR, hop_length=128)
    np.testing.assert_array_equal(a[:, :200], b[:, :200])


@pytest.mark.parametrize("kind, min_gain_db", [("white", 5.0), ("fan", 2.0)])
def test_wiener_and_subtraction_improve_every_test_voice(kind, min_gain_db):
    """One sentence of each test voice at 0 dB in a test noise take, no noise-only clip: every voice
    gains SI-SDR, and the mean gain and the mean PESQ gain are positive (measured: white +8.1 / +8.0 dB,
    fan +4.3 / +4.8 dB for Wiener / subtraction; the thresholds leave room for other BLAS/FFT builds)."""
    by_voice = {}
    for c in data.sentences(split="test"):
        by_voice.setdefault(c.speaker, c)
    for name, f in (("wiener", enhance.wiener), ("spectral subtraction", enhance.spectral_subtraction)):
        gains, pesq_gains = [], []
        for i, v in enumerate(sorted(by_voice)):
            c = by_voice[v].audio
            noisy = _mix(c, kind, 0.0, seed=i)
            out = f(noisy, sr=SR)
            gains.append(metrics.si_sdr(c, out) - metrics.si_sdr(c, noisy))
            pesq_gains.append(metrics.pesq(c, out, sr=SR) - metrics.pesq(c, noisy, sr=SR))
        assert min(gains) > 1.0, (name, gains)
        assert np.mean(gains) > min_gain_db, (name, gains)
        assert np.mean(pesq_gains) > 0.0, (name, pesq_gains)


def test_noise_argument_errors(clean):
    with pytest.raises(ParameterError, match="noise='loud'"):
        enhance.wiener(clean, sr=SR, noise="loud")
    with pytest.raises(ParameterError, match="noise is silent"):
        enhance.spectral_subtraction(clean, sr=SR, noise=np.zeros(4000, np.float32))


# --------------------------------------------------------------------------- mask network

def test_masknet_is_causal():
    """The seed-style bidirectional mistake would let frame t see the future; here nothing before the change moves."""
    net = enhance.MaskNet(enhance.MaskNetConfig()).eval()
    y = torch.randn(1, SR) * 0.1
    y2 = y.clone()
    y2[0, 8000:] += torch.randn(8000)
    with torch.no_grad():
        a, b = net(y), net(y2)
    hop, n_fft = net.config.hop_length, net.config.n_fft
    last_clean = (8000 - n_fft // 2) // hop                     # the last frame whose window ends before 8000
    assert torch.equal(a[..., :last_clean], b[..., :last_clean])
    assert not torch.equal(a[..., last_clean + 2:], b[..., last_clean + 2:])


@pytest.mark.parametrize("lookahead", [(1,), (1, 2, 4)])
def test_masknet_lookahead_sees_exactly_its_future_frames(lookahead):
    """A centred block of dilation d lets frame t see frame t + d: with ``lookahead`` the mask of frame
    t changes when the features of frame t + sum(lookahead) change, and never for any later frame
    (brute force over the features, the STFT left out: mask_from_spectrum on a random spectrum)."""
    torch.manual_seed(0)
    net = enhance.MaskNet(enhance.MaskNetConfig(channels=16, dilations=(1, 2), lookahead=lookahead)).eval()
    L = net.config.lookahead_frames
    assert L == sum(lookahead) and net.config.receptive_field == 1 + 2 * 3 + L
    Y = torch.randn(1, net.config.n_freq, 40, dtype=torch.complex64)
    t = 20
    for future in range(1, 8):
        Y2 = Y.clone()
        Y2[..., t + future] *= 3.0
        with torch.no_grad():
            changed = not torch.equal(net.mask_from_spectrum(Y)[..., t], net.mask_from_spectrum(Y2)[..., t])
        assert changed == (future <= L), (future, L)


def test_with_lookahead_starts_as_the_causal_model():
    """The warm start of tools/train_models.py ($ENHANCE_LOOKAHEAD): the appended blocks start as the
    identity, so the masks are those of the causal model exactly, while the new blocks do look ahead
    once their output convolutions are non-zero."""
    torch.manual_seed(0)
    causal = enhance.MaskNet(enhance.MaskNetConfig(channels=16, dilations=(1, 2))).eval()
    ahead = causal.with_lookahead((1, 2)).eval()
    assert ahead.config.lookahead == (1, 2) and ahead.config.dilations == causal.config.dilations
    assert ahead.n_parameters() > causal.n_parameters()
    y = torch.randn(2, 8000) * 0.1
    with torch.no_grad():
        assert torch.equal(causal(y), ahead(y))
        for block in ahead.blocks[2:]:
            block.mix.weight.normal_()
        assert not torch.equal(causal(y), ahead(y))
    with pytest.raises(ParameterError, match="already looks ahead"):
        ahead.with_lookahead((1,))
    with pytest.raises(ParameterError, match="adds nothing"):
        causal.with_lookahead(())


def test_masknet_shapes_and_parameter_count():
    cfg = enhance.MaskNetConfig()
    net = enhance.MaskNet(cfg)
    m = net(torch.randn(3, 12345) * 0.1)
    assert m.shape == (3, cfg.n_freq, 1 + 12345 // cfg.hop_length)       # (batch, n_freq, n_frames)
    assert float(m.detach().min()) >= 0 and float(m.detach().max()) <= 1
    assert net.infer(torch.randn(3, 12345)).shape == (3, 12345)
    assert 100_000 < net.n_parameters() < 600_000                         # "a few hundred thousand"
    assert cfg.receptive_field == 1 + 2 * sum(cfg.dilations)


def test_mask_max_bounds_the_gain_and_keeps_small_gains():
    """``mask_max · σ(z − ln mask_max)``: in [0, mask_max] and above 1 somewhere for large logits; at 1
    exactly the sigmoid; for small gains ≈ e^z whatever the bound (relative error ≤ the gain itself,
    since m·σ(z − ln m) = e^z / (1 + e^z / m)), which makes with_mask_max a warm start (re-derived here
    from the logits of the output layer)."""
    torch.manual_seed(0)
    net = enhance.MaskNet(enhance.MaskNetConfig(channels=16, dilations=(1, 2))).eval()
    wide = net.with_mask_max(2.0).eval()
    assert wide.config.mask_max == 2.0 and net.config.mask_max == 1.0
    with torch.no_grad():
        net.out.bias.add_(torch.linspace(-8, 8, net.config.n_freq))     # logits from tiny to large
        wide.out.bias.copy_(net.out.bias)
        Y = torch.randn(1, net.config.n_freq, 30, dtype=torch.complex64)
        h = net.inp(net.features(Y))
        for block in net.blocks:
            h = block(h)
        z = net.out(h)
        m1, m2 = net.mask_from_spectrum(Y), wide.mask_from_spectrum(Y)
    torch.testing.assert_close(m1, torch.sigmoid(z))
    torch.testing.assert_close(m2, torch.exp(z) / (1 + torch.exp(z) / 2))
    assert float(m2.min()) >= 0 and float(m2.max()) <= 2 and float(m2.max()) > 1.5
    small = m1 < 0.05
    assert small.sum() > 100
    assert torch.all((m2[small] - m1[small]).abs() <= m1[small] ** 2 * 1.01)
    with pytest.raises(ParameterError, match="must exceed"):
        wide.with_mask_max(1.5)


def test_shift_averaging_is_the_mean_of_delayed_single_passes():
    """``enhance(..., shifts=k)`` re-derived: pass j runs :meth:`infer` on the input delayed by
    j·hop/k samples (zeros in front) and drops those samples from its output; the result is the mean.
    One shift is exactly the single pass; the config's ``shifts`` is the default; the passes differ
    (otherwise averaging would be a no-op), and the length stays the input's."""
    torch.manual_seed(0)
    net = enhance.MaskNet(enhance.MaskNetConfig(channels=16, dilations=(1, 2))).eval()
    with torch.no_grad():
        net.out.bias.normal_()                     # a mask that is not ~0.5 everywhere
    y = np.random.default_rng(0).normal(size=5003).astype(np.float32) * 0.1
    hop = net.config.hop_length
    with torch.no_grad():
        single = net.infer(torch.from_numpy(y)[None])[0].numpy()
        passes = [net.infer(torch.from_numpy(np.concatenate([np.zeros(s, np.float32), y]))[None])[0, s:].numpy()
                  for s in (0, hop // 4, hop // 2, 3 * hop // 4)]
    np.testing.assert_array_equal(net.enhance(y, sr=SR), single)          # default config.shifts == 1
    np.testing.assert_allclose(net.enhance(y, sr=SR, shifts=1), single, atol=0)
    four = net.enhance(y, sr=SR, shifts=4)
    assert four.shape == y.shape and four.dtype == np.float32
    np.testing.assert_allclose(four, np.mean(passes, axis=0), rtol=1e-5, atol=1e-7)
    assert np.abs(passes[1] - passes[0]).max() > 1e-3 * np.abs(passes[0]).max()
    assert np.abs(four - single).max() > 1e-3 * np.abs(single).max()
    net.config = dataclasses.replace(net.config, shifts=4)
    np.testing.assert_array_equal(net.enhance(y, sr=SR), four)              # the config's shifts by default
    for bad in (0, hop + 1, 1.5, True):
        with pytest.raises(ParameterError, match="shifts"):
            net.enhance(y, sr=SR, shifts=bad)


@pytest.mark.parametrize("kw, match", [
    (dict(shifts=0), "shifts=0"), (dict(shifts=257), "shifts=257"), (dict(shifts=2.0), "shifts"),
    (dict(mask_max=0.5), "mask_max"), (dict(mask_max=float("nan")), "mask_max"),
    (dict(channels=0), "channels=0"), (dict(dilations=()), "dilations"), (dict(dilations=(1, 0)), "dilations"),
    (dict(hop_length=1024), "hop_length=1024"), (dict(sr=-1), "sr"), (dict(lookahead=(0,)), "lookahead"),
])
def test_masknet_config_validation(kw, match):
    with pytest.raises(ParameterError, match=match):
        enhance.MaskNetConfig(**kw)


def test_train_mask_continues_from_the_given_model():
    """A second stage (or tools/train_models.py's ENHANCE_INIT=shipped warm start) must start from the
    given weights and keep their normalisation: with a zero learning rate nothing may move, while a
    fresh model is initialised anew and gets its normalisation from the training audio."""
    given = _small_mask().train()
    with torch.no_grad():
        given.feat_mean.fill_(3.0)                     # a normalisation no training audio gives
    before = {k: v.clone() for k, v in given.state_dict().items()}
    cont = enhance.train_mask(model=given, time_budget=30, epochs=1, n_clean=4, lr=0.0, progress=False).model
    assert not cont.training
    for k, v in cont.state_dict().items():
        assert torch.equal(v, before[k]), k
    fresh = enhance.train_mask(config=given.config, time_budget=30, epochs=1, n_clean=4, lr=0.0, progress=False).model
    assert not torch.allclose(fresh.feat_mean, before["feat_mean"])


def test_neg_si_sdr_loss_equals_metric():
    rng = np.random.default_rng(0)
    c, e = rng.standard_normal((2, 3, 4000))
    loss = enhance.neg_si_sdr(torch.from_numpy(e), torch.from_numpy(c), eps=0.0)
    assert float(loss) == pytest.approx(-np.mean([metrics.si_sdr(c[i], e[i]) for i in range(3)]), rel=1e-9)


def test_compressed_spectral_loss_equals_a_librosa_rederivation():
    """The spectral term of loss="si_sdr+spectral", re-derived from librosa's STFT (same centred,
    zero-padded Hann frames): -10 log10(sum |C|^0.6 / sum (|E|^0.3 - |C|^0.3)^2) per item, averaged.
    float64 on both sides: agreement to 1e-6 relative (the eps clamp is far below these magnitudes)."""
    import librosa

    rng = np.random.default_rng(1)
    c, e = rng.standard_normal((2, 3, 4000))
    e = c + 0.3 * e
    got = float(enhance.neg_compressed_spectral_snr(torch.from_numpy(e), torch.from_numpy(c)))
    want = []
    for i in range(3):
        C, E = (np.abs(librosa.stft(x[i], n_fft=512, hop_length=128, window="hann", center=True,
                                    pad_mode="constant")) ** 0.3 for x in (c, e))
        want.append(-10 * np.log10((C ** 2).sum() / ((E - C) ** 2).sum()))
    assert got == pytest.approx(np.mean(want), rel=1e-6)
    # scaling estimate and clean together changes nothing; a perfect estimate scores far below a noisy one
    assert float(enhance.neg_compressed_spectral_snr(torch.from_numpy(5 * e), torch.from_numpy(5 * c))) == \
        pytest.approx(got, rel=1e-6)
    assert float(enhance.neg_compressed_spectral_snr(torch.from_numpy(c), torch.from_numpy(c))) < got - 40


def test_train_mask_rejects_an_unknown_loss():
    with pytest.raises(ParameterError, match="loss='l1'"):
        enhance.train_mask(config=_small_mask().config, loss="l1", time_budget=1, epochs=1, n_clean=1, progress=False)


def test_mixture_dataset_exact_snr_and_repeatable():
    clean = [data.sentences(split="train")[i].audio for i in range(3)]
    ds = enhance.MixtureDataset(clean, [data.noise("pink").audio], snr_range=(5.0, 5.0), gain_db=(0, 0))
    torch.manual_seed(0)
    noisy, c = ds[1]
    assert metrics.snr(c.numpy(), noisy.numpy()) == pytest.approx(5.0, abs=1e-3)
    torch.manual_seed(0)
    noisy2, _ = ds[1]
    assert torch.equal(noisy, noisy2)
    assert len(noisy) == int(1.5 * SR)


def test_kurtosis_ratio_rederived_with_librosa_and_scipy():
    """Pearson kurtosis (4th moment / variance², 3 for a Gaussian, 9 for white noise's exponential
    power bins) of |STFT|² without DC, Nyquist and the padded edge frames, after over before."""
    import librosa
    from scipy.stats import kurtosis

    rng = np.random.default_rng(3)
    before = rng.standard_normal(SR)
    after = enhance.spectral_subtraction(before.astype(np.float32), sr=SR, noise=before[:8000].astype(np.float32),
                                         alpha=2.0, beta=0.01)

    def k(x):
        p = np.abs(librosa.stft(np.asarray(x, np.float64), n_fft=512, hop_length=128, pad_mode="constant"))[1:-1, 2:-2] ** 2
        return kurtosis(p.ravel(), fisher=False)

    assert k(before) == pytest.approx(9.0, rel=0.15)          # the exponential distribution has kurtosis 9
    assert enhance.kurtosis_ratio(before, after, sr=SR) == pytest.approx(k(after) / k(before), rel=1e-9)


# --------------------------------------------------------------------------- the shipped checkpoint

@pytest.fixture(scope="module")
def shipped_mask():
    from course_lib import pretrained

    if "enhance_mask" not in pretrained.available():
        pytest.skip("enhance_mask is not shipped in data/models")
    return pretrained.load("enhance_mask", device="cpu")


def test_shipped_mask_contract(shipped_mask):
    assert isinstance(shipped_mask, enhance.MaskNet) and not shipped_mask.training
    # the shipped mask looks 7 frames (112 ms) ahead: a fixed latency, no longer strictly causal
    assert shipped_mask.config.lookahead == (1, 2, 4) and shipped_mask.config.lookahead_frames == 7
    assert 100_000 < shipped_mask.n_parameters() < 600_000
    y = _mix(data.sentences(split="test")[0].audio, "fan", 5.0)
    from course_lib import audio

    y22 = audio.resample(y, orig_sr=SR, target_sr=22050)
    out = shipped_mask.enhance(y22, sr=22050)                   # any rate in, same rate and length out
    assert out.shape == y22.shape and out.dtype == np.float32
    with pytest.raises(ParameterError, match="silent"):
        shipped_mask.enhance(np.zeros(8000, np.float32), sr=SR)


def test_shipped_mask_quality_on_test_voices(shipped_mask):
    """One sentence per test voice x white and babble test takes x 0 and 5 dB (16 mixtures, a
    subset of the chapter's table in data/models/enhance_mask.record.json): the mask beats noisy
    and Wiener on SI-SDR and ESTOI, and every voice gains. Thresholds sit below the measured values."""
    by_voice = {}
    for c in data.sentences(split="test"):
        by_voice.setdefault(c.speaker, c)
    rows = enhance.quality_table({"wiener": enhance.wiener, "mask": shipped_mask.enhance},
                                 [by_voice[v] for v in sorted(by_voice)], kinds=("white", "babble"),
                                 snrs=(0, 5), progress=False)
    o = {k[0]: v for k, v in enhance.summarize(rows).items()}
    # measured: noisy 1.05 / 0.471 / 2.51 dB, Wiener 1.12 / 0.482 / 6.29 dB, mask 1.32 / 0.604 / 8.04 dB with
    # the checkpoint's four shifted passes (config.shifts = 4); the same weights in one pass 1.31 / 0.588 /
    # 7.87 dB - red on the two lines marked "shifts"
    # (the checkpoint before the spectral-loss run: 1.24 / 0.570 / 8.0 - red on the PESQ and ESTOI lines;
    # the causal checkpoint before the look-ahead blocks: 1.21 / 0.557 / 7.7; before its warm start 1.18 / 0.540 / 7.4)
    assert shipped_mask.config.shifts == 4
    assert o["mask"]["si_sdr"] > o["noisy"]["si_sdr"] + 5.45, o                             # shifts
    assert o["mask"]["si_sdr"] > o["wiener"]["si_sdr"] + 1.0, o
    assert o["mask"]["estoi"] > max(o["noisy"]["estoi"], o["wiener"]["estoi"]) + 0.115, o   # shifts
    assert o["mask"]["pesq"] > o["noisy"]["pesq"] + 0.23, o
    per_voice = enhance.summarize(rows, by=("voice", "method"))
    for v in by_voice:     # every voice gains (measured +4.3 to +6.1 dB)
        assert per_voice[v, "mask"]["si_sdr"] > per_voice[v, "noisy"]["si_sdr"] + 3.5, v
