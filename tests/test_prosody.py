"""Tests for course_lib.prosody: YIN against a brute-force difference function, known
tones, librosa.pyin and Praat (praat-parselmouth); energy against librosa; metrics against
sklearn / hand counts; the style classifier per test voice."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import data, prosody
from course_lib.errors import ParameterError

SR = 16000
STYLES = ["neutral", "happy", "sad", "angry"]


def _harmonic(f0, sr=SR, seconds=0.6, n_harm=8, seed=0):
    """A voiced-like tone with a known F0 track (Hz per sample) and decaying harmonics."""
    rng = np.random.default_rng(seed)
    f0 = np.broadcast_to(np.asarray(f0, dtype=np.float64), (int(seconds * sr),))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    amps = 1.0 / np.arange(1, n_harm + 1)
    y = sum(a * np.sin(k * phase + rng.uniform(0, 2 * np.pi)) for k, a in enumerate(amps, start=1))
    return 0.3 * y / np.max(np.abs(y)), f0


def test_cmnd_equals_brute_force():
    rng = np.random.default_rng(0)
    fr = rng.standard_normal((3, 64))
    max_lag = 20
    w = 64 - max_lag
    got = prosody.cmnd(fr, max_lag=max_lag)
    for i in range(3):
        d = np.array([np.sum((fr[i, :w] - fr[i, tau:tau + w]) ** 2) for tau in range(max_lag + 1)])
        ref = np.ones(max_lag + 1)
        for tau in range(1, max_lag + 1):
            ref[tau] = d[tau] / (np.sum(d[1:tau + 1]) / tau)
        np.testing.assert_allclose(got[i], ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("f0", [70.0, 110.0, 196.0, 261.6, 440.0])
def test_yin_known_tone(f0):
    y, _ = _harmonic(f0)
    p = prosody.yin(y, sr=SR)
    inner = p.f0[5:-5]
    assert np.all(p.voiced[5:-5])
    # parabolic interpolation: within 3 cents of the truth on a steady tone
    assert np.max(np.abs(1200 * np.log2(inner / f0))) < 3.0


def test_yin_glide_and_silence():
    track = np.linspace(120, 240, int(0.8 * SR))
    y, f = _harmonic(track, seconds=0.8)
    y = np.concatenate([np.zeros(SR // 4), y, np.zeros(SR // 4)])
    p = prosody.yin(y, sr=SR)
    truth = np.full(len(p.f0), np.nan)
    idx = np.arange(len(p.f0)) * 160 - SR // 4
    ok = (idx >= 400) & (idx < len(f) - 400)
    truth[ok] = f[idx[ok]]
    r = prosody.compare_pitch(truth, np.where(ok, p.f0, np.nan))
    assert r.gpe == 0.0 and r.fine_cents < 5.0
    assert not p.voiced[:20].any() and not p.voiced[-20:].any()     # silence is unvoiced


def test_compare_pitch_against_loop():
    rng = np.random.default_rng(1)
    ref = rng.uniform(80, 300, 200)
    est = ref * np.exp(rng.normal(0, 0.15, 200))
    ref[rng.random(200) < 0.3] = np.nan
    est[rng.random(200) < 0.3] = 0.0
    r = prosody.compare_pitch(ref, est)
    both = [(a, b) for a, b in zip(ref, est) if np.isfinite(a) and b > 0]
    gross = [abs(b / a - 1) > 0.2 for a, b in both]
    fine = [abs(1200 * np.log2(b / a)) for (a, b), g in zip(both, gross) if not g]
    vde = np.mean([(np.isfinite(a)) != (b > 0) for a, b in zip(ref, est)])
    assert r.n_both == len(both)
    assert r.gpe == pytest.approx(np.mean(gross))
    assert r.fine_cents == pytest.approx(np.mean(fine))
    assert r.vde == pytest.approx(vde)


@pytest.fixture(scope="module")
def corpus_tracks():
    """Two test-voice clips (one male-sounding, one female-sounding voice; angry and sad)."""
    clips = data.styled_speech(split="test")
    pick = [c for c in clips if (c.speaker, c.style) in {("espeak_en-029_m8", "angry"),
                                                         ("espeak_en-us-nyc_f5", "sad")}][::6][:2]
    return [(c, prosody.yin(c.audio, sr=c.sr), prosody.pyin_pitch(c.audio, sr=c.sr),
             prosody.praat_pitch(c.audio, sr=c.sr)) for c in pick]


def test_yin_against_praat_and_pyin(corpus_tracks):
    """Tolerances from measurements on the test voices (8 clips, 2 voices, 4 styles):
    GPE against Praat 0-0.7 %, fine error 3-13 cents (Praat's parabolic/sinc interpolation
    and its path smoothing differ from ours), VDE 0.13-0.39: the voicing rules differ
    (Praat: normalised autocorrelation > 0.45 plus octave/voicing path costs; YIN: d' < 0.15;
    pyin calls far more frames voiced than either, false alarm ~0.6 against Praat)."""
    assert len(corpus_tracks) == 2
    for clip, ours, pyin, praat in corpus_tracks:
        vs_praat = prosody.compare_pitch(praat.f0, ours.f0)
        vs_pyin = prosody.compare_pitch(pyin.f0, ours.f0)
        assert vs_praat.n_both > 30, clip.path
        assert vs_praat.gpe <= 0.02 and vs_praat.fine_cents <= 20.0, (clip.path, vs_praat)
        assert vs_pyin.gpe <= 0.02 and vs_pyin.fine_cents <= 10.0, (clip.path, vs_pyin)
        assert vs_praat.vde <= 0.45, (clip.path, vs_praat)
        assert vs_praat.voicing_false_alarm <= 0.35 and vs_praat.voicing_recall >= 0.4, (clip.path, vs_praat)


def test_energy_db_against_librosa():
    import librosa

    y = np.random.default_rng(2).standard_normal(8000) * 0.1
    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=160, center=True, pad_mode="constant")[0]
    got = prosody.energy_db(y, sr=SR)
    n = min(len(got), len(rms))
    # librosa pads with n_fft // 2 and frames the same way: the same frames
    np.testing.assert_allclose(got[:n], 20 * np.log10(rms[:n]), atol=1e-6)


def test_jitter_shimmer_against_loop():
    rng = np.random.default_rng(3)
    f0 = rng.uniform(100, 120, 50)
    f0[[10, 11, 30]] = np.nan
    T = 1 / f0
    pairs = [(T[i], T[i + 1]) for i in range(49) if np.isfinite(T[i]) and np.isfinite(T[i + 1])]
    runs_T = [t for i, t in enumerate(T) if np.isfinite(t) and ((i > 0 and np.isfinite(T[i - 1]))
                                                                 or (i < 49 and np.isfinite(T[i + 1])))]
    ref = np.mean([abs(a - b) for a, b in pairs]) / np.mean(runs_T)
    assert prosody.jitter(f0) == pytest.approx(ref)
    assert prosody.jitter([100.0] * 5) == 0.0
    assert np.isnan(prosody.jitter([100.0, np.nan, 100.0]))
    a = rng.uniform(0.5, 1.0, 50)
    v = np.isfinite(f0)
    assert prosody.shimmer(a, v) == pytest.approx(
        np.mean([abs(a[i] - a[i + 1]) for i in range(49) if v[i] and v[i + 1]])
        / np.mean([a[i] for i in range(50) if v[i] and ((i > 0 and v[i - 1]) or (i < 49 and v[i + 1]))]))


def test_uar_against_sklearn():
    from sklearn.metrics import recall_score

    rng = np.random.default_rng(4)
    yt = rng.choice(STYLES, 100)
    yp = np.where(rng.random(100) < 0.6, yt, rng.choice(STYLES, 100))
    assert prosody.uar(yt, yp, labels=STYLES) == pytest.approx(recall_score(yt, yp, average="macro"))


def test_normalize_by_speaker():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 3)) + np.repeat([[0, 0, 0], [5, -3, 10], [1, 1, 1]], 10, axis=0)
    spk = np.repeat(["a", "b", "c"], 10)
    Z = prosody.normalize_by_speaker(X, spk)
    for s in "abc":
        np.testing.assert_allclose(Z[spk == s].mean(0), 0, atol=1e-12)
        np.testing.assert_allclose(Z[spk == s].std(0), 1, atol=1e-9)


def test_features_and_logmel_shapes():
    y, _ = _harmonic(150.0, seconds=1.0)
    f = prosody.utterance_features(y, sr=SR)
    assert f.shape == (len(prosody.FEATURE_NAMES),) and np.all(np.isfinite(f))
    assert f[0] == pytest.approx(12 * np.log2(1.5), abs=0.05)           # 150 Hz = 7.02 st re 100 Hz
    assert prosody.logmel(y, sr=SR, n_frames=300).shape == (40, 300)


@pytest.mark.parametrize("kwargs, match", [({"fmin": 300.0, "fmax": 200.0}, "fmin"),
                                           ({"fmax": 9000.0}, "Nyquist"),
                                           ({"threshold": 1.5}, "threshold"),
                                           ({"frame_length": 256}, "frame_length")])
def test_yin_bad_input(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        prosody.yin(np.zeros(1600), sr=SR, **kwargs)


def test_compare_pitch_bad_shapes():
    with pytest.raises(ParameterError, match="same frame grid"):
        prosody.compare_pitch(np.ones(3), np.ones(4))


def test_style_classifier_per_test_voice():
    """Statistics + logistic regression, speaker-normalised, trained on the 8 training voices:
    UAR >= 0.9 on each test voice (measured 1.00 on both; without speaker normalisation 0.92/0.96)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def load(split):
        cl = data.styled_speech(split=split)
        X = np.stack([prosody.utterance_features(c.audio, sr=c.sr) for c in cl])
        spk = np.array([c.speaker for c in cl])
        return prosody.normalize_by_speaker(X, spk), np.array([c.style for c in cl]), spk

    Xtr, ytr, _ = load("train")
    Xte, yte, ste = load("test")
    m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(Xtr, ytr)
    pred = m.predict(Xte)
    for v in np.unique(ste):
        assert prosody.uar(yte[ste == v], pred[ste == v], labels=STYLES) >= 0.9, v
