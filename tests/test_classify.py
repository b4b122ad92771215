"""Tests of course_lib.classify: shapes that follow the input (not the seed's fixed sizes),
the CRNN's recurrence over time, the log-mel front end against librosa, and the
evaluation helpers against scikit-learn.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import classify
from course_lib.errors import ParameterError

torch.set_num_threads(1)


def _accepts_any_length(model, n_mels=128):
    """True when ``model`` maps (1, n_mels, T) to the same logits shape for several T."""
    model.eval()
    shapes = set()
    try:
        with torch.no_grad():
            for t in (128, 200, 57):
                shapes.add(tuple(model(torch.zeros(1, 1, n_mels, t)).shape))
    except RuntimeError:
        return False
    return len(shapes) == 1


def test_cnn_takes_any_clip_length_the_seed_cnn_does_not():
    # the seed's nn.Linear(128*16*16, n) fits a 128 x 128 input only: this check catches it
    assert _accepts_any_length(classify.AudioCNN(classify.AudioCNNConfig(n_classes=4)))
    seed = classify.SeedCNN(n_classes=4)
    assert seed(torch.zeros(1, 1, 128, 128)).shape == (1, 4)
    assert not _accepts_any_length(seed)


@pytest.mark.parametrize("shape", [(2, 40, 101), (3, 64, 313), (1, 1, 40, 7), (2, 13, 1)])
def test_cnn_output_shape_and_head_size(shape):
    cfg = classify.AudioCNNConfig(n_classes=6, channels=(8, 16, 24))
    m = classify.AudioCNN(cfg).eval()
    out = m(torch.randn(*shape))
    assert out.shape == (shape[0], 6)
    assert m.head.in_features == 24                      # independent of the input size
    assert any(isinstance(x, torch.nn.BatchNorm2d) for x in m.modules())


def test_cnn_trace_halves_each_axis_per_block():
    m = classify.AudioCNN(classify.AudioCNNConfig(n_classes=3, channels=(4, 8, 16)))
    trace = dict(m.trace(torch.zeros(1, 40, 101)))
    assert trace["block0.MaxPool2d"] == (1, 4, 20, 51)   # ceil(101 / 2) = 51
    assert trace["block1.MaxPool2d"] == (1, 8, 10, 26)
    assert trace["block2.MaxPool2d"] == (1, 16, 5, 13)
    assert trace["Linear"] == (1, 3)


def test_forward_returns_logits_not_log_probabilities():
    torch.manual_seed(0)
    for m in (classify.AudioCNN(classify.AudioCNNConfig(n_classes=5)),
              classify.CRNN(classify.CRNNConfig(n_classes=5))):
        with torch.no_grad():
            out = m.eval()(torch.randn(4, 40, 50))
        # log_softmax output would have logsumexp == 0 in every row
        assert not torch.allclose(torch.logsumexp(out, dim=1), torch.zeros(4), atol=1e-3)


def _rnn_input_shapes(model, x):
    seen = []
    h = model.rnn.register_forward_hook(lambda mod, inp, out: seen.append(tuple(inp[0].shape)))
    with torch.no_grad():
        model.eval()(x)
    h.remove()
    return seen[0]


def test_crnn_rnn_runs_over_time_not_frequency():
    cfg = classify.CRNNConfig(n_classes=3, channels=(8, 16), freq_out=4, hidden=8)
    m = classify.CRNN(cfg)
    # time 100 and 200 with 40 bands, and time 100 with 64 bands: the sequence length the
    # GRU sees follows time (ceil(T / 4)), never the number of bands
    assert _rnn_input_shapes(m, torch.zeros(2, 40, 100)) == (2, 25, 16 * 4)
    assert _rnn_input_shapes(m, torch.zeros(2, 40, 200)) == (2, 50, 16 * 4)
    assert _rnn_input_shapes(m, torch.zeros(2, 64, 100)) == (2, 25, 16 * 4)
    # the seed's view(batch, height, channels * width) makes the sequence the frequency axis
    conv = m.blocks(torch.zeros(2, 1, 64, 100))          # (2, 16, 16, 25)
    seed = classify.seed_crnn_sequence(conv).shape
    assert seed[1] == conv.shape[2] != conv.shape[3]


def test_crnn_sequence_step_t_depends_on_time_t_only_locally():
    torch.manual_seed(0)
    m = classify.CRNN(classify.CRNNConfig(n_classes=3, channels=(4, 8))).eval()
    x = torch.randn(1, 40, 120)
    x2 = x.clone()
    x2[:, :, 100:] += 5.0                                # change the last 20 frames only
    with torch.no_grad():
        a, b = m.sequence(x), m.sequence(x2)
    diff = (a - b).abs().amax(dim=(0, 2))                # per sequence step
    assert diff[:20].max() == 0                          # early steps untouched (receptive field < 20 frames)
    assert diff[-3:].min() > 0


def test_n_parameters_counts_every_weight():
    m = classify.CRNN(classify.CRNNConfig(n_classes=7, channels=(4,), freq_out=2, hidden=5, bidirectional=False))
    conv = 4 * 1 * 9 + 2 * 4                             # conv (no bias) + batch norm
    gru = 3 * (5 * 8 + 5 * 5 + 2 * 5)                    # 3 gates: W_ih (8 inputs), W_hh, two biases
    head = 5 * 7 + 7
    assert classify.n_parameters(m) == conv + gru + head


@pytest.mark.parametrize("cls,kwargs,match", [
    (classify.AudioCNNConfig, {"n_classes": 1}, "n_classes"),
    (classify.AudioCNNConfig, {"channels": ()}, "channels"),
    (classify.AudioCNNConfig, {"kernel_size": 4}, "kernel_size"),
    (classify.AudioCNNConfig, {"dropout": 1.0}, "dropout"),
    (classify.CRNNConfig, {"freq_out": 0}, "freq_out"),
    (classify.KwsConfig, {"arch": "mlp"}, "arch"),
    (classify.KwsConfig, {"fmax": 9000.0}, "fmax"),
])
def test_config_validation(cls, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        cls(**kwargs)


def test_model_rejects_wrong_input_rank():
    m = classify.AudioCNN(classify.AudioCNNConfig())
    with pytest.raises(ParameterError, match="batch, n_mels, time"):
        m(torch.zeros(40, 101))


def test_kws_front_end_equals_librosa():
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(1)
    y = (rng.standard_normal(12345) * 0.1).astype(np.float32)
    m = classify.KeywordSpotter(classify.KwsConfig())
    c = m.config
    got = m.melspectrogram(torch.from_numpy(y)[None])[0].numpy()
    ref = librosa.feature.melspectrogram(y=y, sr=c.sr, n_fft=c.n_fft, hop_length=c.hop_length, n_mels=c.n_mels,
                                         fmin=c.fmin, fmax=c.fmax)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6 * ref.max())   # float32
    F = m.features(torch.from_numpy(y)[None])[0]
    assert torch.allclose(F.mean(dim=1), torch.zeros(c.n_mels), atol=1e-4)   # per-band mean removed
    # level invariance: a quieter copy gives the same features
    F2 = m.features(torch.from_numpy(y * 0.01)[None])[0]
    assert torch.allclose(F, F2, atol=1e-3)


def test_kws_predict_any_sample_rate_and_errors():
    m = classify.KeywordSpotter(classify.KwsConfig(channels=(4, 8))).eval()
    y = np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1
    assert m.predict(y, sr=8000) in m.config.labels
    p = m.predict_proba(y, sr=44100)
    assert abs(sum(p.values()) - 1) < 1e-5
    with pytest.raises(ParameterError, match="50 ms"):
        m.predict(y[:100], sr=8000)


def test_kws_test_time_averaging_equals_its_definition():
    """``proba`` with warps and shifts is the mean of the softmax over every (warp, shift) pair, each pass
    re-derived here by hand: the window rotated with np.roll, and a network whose ``mel_fb`` is the
    filterbank of ``features.mel_filterbank`` with both band edges times the warp. The defaults are one
    plain pass, ``softmax(m(m.features(y)))``; ``predict``, ``predict_proba`` and ``evaluate_windows`` agree."""
    import dataclasses

    from course_lib.features import mel_filterbank

    torch.manual_seed(0)
    m = classify.KeywordSpotter(classify.KwsConfig(channels=(4, 8))).eval()
    rng = np.random.default_rng(5)
    y = (0.1 * rng.standard_normal((3, 16000))).astype(np.float32)
    y[:, 6000:9000] *= 8                                      # a loud "word" in the middle
    one = m.proba(torch.from_numpy(y))
    with torch.no_grad():
        plain = torch.softmax(m(m.features(torch.from_numpy(y))), dim=-1)
    torch.testing.assert_close(one, plain)
    warps, shifts = (0.9, 1.0, 1.1), (-1600, 0, 800)
    m.config = dataclasses.replace(m.config, warps=warps, shifts=shifts)
    c, passes = m.config, []
    for w in warps:
        ref = classify.KeywordSpotter(dataclasses.replace(c, warps=(1.0,), shifts=(0,))).eval()
        ref.load_state_dict(m.state_dict())
        ref.mel_fb = torch.as_tensor(mel_filterbank(sr=c.sr, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.fmin * w,
                                                    fmax=c.fmax * w), dtype=torch.float32)
        for s in shifts:
            with torch.no_grad():
                passes.append(torch.softmax(ref(ref.features(torch.from_numpy(np.roll(y, s, axis=-1)))), dim=-1))
    avg = m.proba(torch.from_numpy(y))
    torch.testing.assert_close(avg, torch.stack(passes).mean(dim=0), rtol=1e-4, atol=1e-6)
    assert not torch.allclose(avg, one, atol=1e-4)            # the passes differ: averaging changes the answer
    p = m.predict_proba(y[0], sr=16000)
    np.testing.assert_allclose(list(p.values()), avg[0].numpy(), rtol=1e-5, atol=1e-7)
    labels = [c.labels[int(i)] for i in avg.argmax(dim=-1)]
    assert [m.predict(w, sr=16000) for w in y] == labels
    assert classify.evaluate_windows(m, y, labels, ["v"] * 3)["accuracy"] == 1.0


def test_kws_config_refuses_bad_warps_and_shifts():
    for bad, match in (({"warps": ()}, "at least one"), ({"warps": (1.0, 2.5)}, r"\[0.5, 2\]"),
                       ({"fmax": 6000.0, "warps": (1.0, 1.5)}, "fmax"), ({"warps": ("x",)}, "factors"),
                       ({"shifts": (16000,)}, "16000-sample window"), ({"shifts": ()}, "at least one")):
        with pytest.raises(ParameterError, match=match):
            classify.KwsConfig(**bad)
    c = classify.KwsConfig(warps=[0.94, 1, 1.06], shifts=["-1600", 0])   # JSON lists and strings come back typed
    assert c.warps == (0.94, 1.0, 1.06) and c.shifts == (-1600, 0)

def test_place_in_window():
    rng = np.random.default_rng(0)
    y = np.zeros(8000, np.float32)
    y[3000:5000] = 0.5
    w = classify.place_in_window(y, sr=16000, rng=rng, start=3000 / 16000, end=5000 / 16000, offset=100)
    assert w.shape == (16000,)
    np.testing.assert_allclose(w[100:2100], 0.5, atol=3e-3)   # floor: std 0.5 * 10^(-65/20) = 3e-4
    assert np.abs(w[2200:]).max() < 3e-3                  # the floor only
    long = np.ones(20000, np.float32)
    assert classify.place_in_window(long, sr=16000, rng=rng).shape == (16000,)


def test_evaluation_helpers_equal_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    labels = ["a", "b", "c", "d"]
    t = rng.choice(labels[:3], 200)                       # "d" never true: recall undefined -> 0
    p = np.where(rng.random(200) < 0.7, t, rng.choice(labels, 200))
    C = classify.confusion_matrix(t, p, labels=labels)
    np.testing.assert_array_equal(C, metrics.confusion_matrix(t, p, labels=labels))
    pr = classify.precision_recall(t, p, labels=labels)
    P, R, _, S = metrics.precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    for i, lab in enumerate(labels):
        assert pr[lab] == pytest.approx((P[i], R[i], S[i]))
    assert classify.accuracy(t, p) == pytest.approx(metrics.accuracy_score(t, p))
    top = classify.most_confused(C, labels, k=2)
    off = C.copy()
    np.fill_diagonal(off, 0)
    assert top[0][2] == off.max()


def test_per_voice_accuracy():
    items = [(None, 8000, "a", "v1"), (None, 8000, "b", "v1"), (None, 8000, "a", "v2")]
    r = classify.per_voice_accuracy(lambda y, sr: "a", items)
    assert r["per_voice_accuracy"] == {"v1": 0.5, "v2": 1.0}
    assert r["accuracy"] == pytest.approx(2 / 3)


# --------------------------------------------------------------------------- the shipped checkpoint

# The shipped kws_cnn (record: 0.967 clean, per voice m8 1.00 / alicia 0.967 / f5 1.00 / awb 0.90; a 96 k
# parameter CNN trained on the corpus's training voices AND the three real FSDD training speakers: the
# synthetic-only checkpoint of c66f616, then 70 epochs of the one-cycle schedule at 2e-3 with the real
# speakers (910e218), then 40 (0e0f1a5) and 32 more at 1e-3, each time on fresh augmented windows:
# KWS_INIT=shipped KWS_VALID_COPIES=4 KWS_CHANNELS=32,64,128 KWS_COPIES=10 KWS_EPOCHS=32 KWS_LR=1e-3
# KWS_REAL_COPIES=12 KWS_SCHEDULE=one-cycle KWS_TIME_BUDGET=2700 python tools/train_models.py kws_cnn), its
# predictions averaged over three frequency warps and three shifts of the window since December 2026
# (KWS_WARPS=0.94,1,1.06 KWS_SHIFTS=-1600,0,1600 KWS_TIME_BUDGET=0: the same weights; chosen on the validation
# windows, 0.873 -> 0.884). One pass read 0.958 (awb 0.85). Still one clip BELOW the chapter's clean target of
# 0.97. These floors, one clip below the measurements (1/240 overall, 1/60 per voice), guard the checkpoint
# as shipped (a broken or swapped one fails, and so does the same one in a single pass: 0.958, awb 0.85);
# raise them to 0.97 when a retrained one meets it.
KWS_FLOOR = 0.962
KWS_VOICE_FLOOR = 0.883


def test_shipped_kws_checkpoint_quality_on_test_voices():
    """Load ``kws_cnn`` and measure it on the test voices (never heard in training), 1 s windows."""
    from course_lib import data, pretrained

    kws = pretrained.load("kws_cnn", device="cpu")
    assert isinstance(kws, classify.KeywordSpotter) and kws.config.labels == classify.KWS_LABELS
    clips = data.spoken_words(split="test")
    w, lab, voices = classify.eval_windows(clips, rng=np.random.default_rng(1))
    r = classify.evaluate_windows(kws, w, lab, voices)
    recorded = kws.record["metrics"]["test"]
    # the same windows (seeded) as the training record: the same answers up to float summation order
    assert r["accuracy"] == pytest.approx(recorded["accuracy"], abs=0.01)
    assert r["accuracy"] >= KWS_FLOOR, f"kws_cnn scores {r['accuracy']:.3f} on the test voices"
    assert min(r["per_voice_accuracy"].values()) >= KWS_VOICE_FLOOR, r["per_voice_accuracy"]
    # the raw-audio interface agrees with the batched evaluation, at another sample rate too
    from course_lib.audio import resample

    for i in range(0, len(w), 40):
        assert kws.predict(w[i], sr=16000) == r["predictions"][i]
    y8 = resample(w[0], orig_sr=16000, target_sr=8000)
    assert kws.predict(y8, sr=8000) in classify.KWS_LABELS


def test_shipped_kws_checkpoint_in_noise():
    """Chapter 07's noise figures, measured on the test voices with the noises' *test* takes (never used
    in training), the record's windows (seeded), floors one clip below the measurements, with the config's
    warps and shifts: 0.900 at 10 dB (m8 .933 / alicia .917 / f5 .917 / awb .833; target 0.90 met, by no
    margin) and 0.792 at 0 dB (.817 / .817 / .817 / .717; target 0.75 met); in one pass 0.904 / 0.775. The
    checkpoints before it (0e0f1a5: 0.883 / 0.7375; 910e218: 0.896 / 0.721) are red here."""
    from course_lib import data, pretrained

    kws = pretrained.load("kws_cnn", device="cpu")
    clips = data.spoken_words(split="test")
    acc = {}
    for name, snr in (("10 dB", 10.0), ("0 dB", 0.0)):
        w, lab, voices = classify.eval_windows(clips, rng=np.random.default_rng(1), snr_db=snr)
        acc[name] = classify.evaluate_windows(kws, w, lab, voices)["accuracy"]
        assert acc[name] == pytest.approx(kws.record["metrics"]["test_noisy"][name]["accuracy"], abs=0.01), name
    assert acc["0 dB"] >= 0.787, acc
    assert acc["10 dB"] >= 0.895, acc


# measured on the shipped real recordings (data/real, FSDD takes 0-9, 8 kHz as recorded, centred in the 1 s
# window by predict): 0.915 overall, lucas 0.95, theo 0.88 — issue #25's target, 0.90, met (the same in one
# pass and with the config's warps and shifts). The model trained
# on the three real training speakers (george, jackson, yweweler), never on these two. (The synthetic-only
# checkpoint of c66f616: 0.685, lucas 0.82, theo 0.55; the checkpoints before this one, 0e0f1a5: 0.905, theo
# 0.86, and 910e218: 0.885, theo 0.84 — red here.)
KWS_REAL_FLOOR = 0.91
KWS_REAL_SPEAKER_FLOOR = 0.87


def test_shipped_kws_checkpoint_on_real_human_speakers():
    """``kws_cnn`` on the two real test speakers the course ships (never trained on), per speaker."""
    from course_lib import data, pretrained

    kws = pretrained.load("kws_cnn", device="cpu")
    clips = data.real_digits(split="test")
    assert {c.speaker for c in clips} == {"lucas", "theo"} and len(clips) == 200
    hits = {}
    for c in clips:
        hits.setdefault(c.speaker, []).append(kws.predict(c.audio, sr=c.sr) == c.label)
    per = {s: float(np.mean(h)) for s, h in hits.items()}
    overall = float(np.mean([x for h in hits.values() for x in h]))
    assert overall >= KWS_REAL_FLOOR and min(per.values()) >= KWS_REAL_SPEAKER_FLOOR, (overall, per)
    recorded = kws.record["metrics"]["real_test_speakers_with_real_training_speakers"]["as recorded (8 kHz)"]
    assert overall == pytest.approx(recorded["accuracy"], abs=0.01)


def test_predict_centres_a_short_clip_in_the_training_window():
    """Training shows every word inside a 1 s window over a -65 dB floor; ``predict`` puts a shorter clip in
    the middle of one (re-derived with place_in_window), and leaves a 1 s or longer clip as it is."""
    torch.manual_seed(0)
    kws = classify.KeywordSpotter(classify.KwsConfig(arch="cnn", channels=(4, 8))).eval()
    rng = np.random.default_rng(3)
    short = (0.1 * rng.standard_normal(6000)).astype(np.float32)
    centred = classify.place_in_window(short, sr=16000, rng=np.random.default_rng(0), offset=(16000 - 6000) // 2)
    assert len(classify.centre_in_window(short, sr=16000)) == 16000
    np.testing.assert_array_equal(classify.centre_in_window(short, sr=16000), centred)
    assert kws.predict_proba(short, sr=16000) == kws.predict_proba(centred, sr=16000)
    long = (0.1 * rng.standard_normal(24000)).astype(np.float32)
    np.testing.assert_array_equal(classify.centre_in_window(long, sr=16000), long)
    x = kws._prepare(long, 16000)
    assert x.shape == (1, 24000)



def test_train_kws_learning_rate_schedules():
    """schedule="one-cycle" puts train_kws on train.OneCycleAdamW over all its epochs: the last epoch
    ends at the schedule's floor (lr / 25 / 1e4) and an early one is near the peak; "constant" stays
    at lr; anything else is refused by name."""
    rng = np.random.default_rng(0)
    cfg = classify.KwsConfig(channels=(4, 8, 8), hidden=8)
    waves = (0.1 * rng.standard_normal((40, 16000))).astype(np.float32)
    targets = rng.integers(0, len(cfg.labels), 40)
    _, h = classify.train_kws(cfg, waves, targets, epochs=5, batch_size=8, lr=3e-3, schedule="one-cycle",
                              progress=False)
    lrs = [e["lr"] for e in h.epochs]
    assert lrs[-1] == pytest.approx(3e-3 / 25 / 1e4) and lrs[0] > 3e-3 * 0.5, lrs
    _, h = classify.train_kws(cfg, waves, targets, epochs=2, batch_size=8, lr=3e-3, progress=False)
    assert [e["lr"] for e in h.epochs] == [3e-3, 3e-3]
    with pytest.raises(ParameterError, match="schedule='cosine'"):
        classify.train_kws(cfg, waves, targets, epochs=1, schedule="cosine", progress=False)


def test_train_kws_warm_start_continues_from_init_from():
    """init_from starts training at the given model's weights (a rate of 1e-12 leaves them there, up to
    AdamW's first step of about lr: far below float32 resolution of these weights); without it training
    starts from a fresh initialisation; a model of another config is refused by name."""
    rng = np.random.default_rng(0)
    cfg = classify.KwsConfig(channels=(4, 8, 8), hidden=8)
    waves = (0.1 * rng.standard_normal((24, 16000))).astype(np.float32)
    targets = rng.integers(0, len(cfg.labels), 24)
    first, _ = classify.train_kws(cfg, waves, targets, epochs=2, batch_size=8, lr=3e-3, progress=False, seed=1)
    again, _ = classify.train_kws(cfg, waves, targets, epochs=1, batch_size=8, lr=1e-12, progress=False,
                                  seed=2, init_from=first)
    fresh, _ = classify.train_kws(cfg, waves, targets, epochs=1, batch_size=8, lr=1e-12, progress=False, seed=2)
    a, b, c = (dict(m.state_dict()) for m in (first, again, fresh))
    conv = [k for k in a if k.endswith("weight") and a[k].ndim == 4][0]
    torch.testing.assert_close(b[conv], a[conv], rtol=0, atol=1e-6)
    assert not torch.allclose(c[conv], a[conv], atol=1e-3)
    with pytest.raises(ParameterError, match="init_from has config"):
        classify.train_kws(classify.KwsConfig(channels=(4, 8, 16), hidden=8), waves, targets, epochs=1,
                           progress=False, init_from=first)


def test_kws_windows_voice_change_speaks_words_with_other_voices(monkeypatch):
    """voice_change=p: each word (not silence or unknown) goes through augment.change_voice with probability p,
    formants and pitch in the documented ranges; at 0 it is never called, so default windows are unchanged."""
    from course_lib import augment, data

    calls = []
    real = augment.change_voice

    def spy(y, **kw):
        calls.append(kw)
        return real(y, **kw)

    monkeypatch.setattr(augment, "change_voice", spy)
    clips = data.spoken_words(split="valid")[:6]
    kw = dict(corpus=False, extra_clips=clips, n_silence=2, n_unknown=0, noise=None, chain=False, progress=False)
    w0, t0, _ = classify.kws_windows("valid", rng=np.random.default_rng(0), **kw)
    assert not calls
    w1, t1, _ = classify.kws_windows("valid", rng=np.random.default_rng(0), voice_change=1.0, **kw)
    assert len(calls) == len(clips) and np.array_equal(t0, t1) and not np.allclose(w0[:6], w1[:6])
    assert all(0.85 <= c["formant_ratio"] <= 1.2 and 80 <= c["pitch_median"] <= 320 for c in calls)
    w2, _, _ = classify.kws_windows("valid", rng=np.random.default_rng(0), voice_change=1.0, **kw)
    np.testing.assert_array_equal(w1, w2)                 # one rng, the same windows (Praat seeded from it)
