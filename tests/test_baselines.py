"""Tests of the corpus baselines' own left-to-right GMM-HMM (tools/baselines.py).

Its Viterbi score is checked by brute force over every left-to-right path, and the
model is checked to separate two sequence classes it was trained on.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
baselines = pytest.importorskip("baselines")


def _brute_force(model, x):
    """max over state sequences that start in 0, end in S-1 and step by 0 or +1."""
    log_b = model._log_b(x[None])[0]
    S, T = model.S, len(x)
    best = -np.inf
    for steps in itertools.product((0, 1), repeat=T - 1):
        path = np.concatenate([[0], np.cumsum(steps)])
        if path[-1] != S - 1:
            continue
        lp = log_b[0, 0]
        for t in range(1, T):
            lp += (np.log(model.a[path[t - 1]]) if path[t] == path[t - 1] else np.log1p(-model.a[path[t - 1]]))
            lp += log_b[t, path[t]]
        best = max(best, lp)
    return best


def _sequences(rng, mean_path, n):
    out = []
    for _ in range(n):
        durations = rng.integers(2, 5, size=len(mean_path))
        out.append(np.concatenate([m + 0.3 * rng.standard_normal((d, 2)) for m, d in zip(mean_path, durations)]))
    return out


def test_viterbi_equals_brute_force():
    rng = np.random.default_rng(0)
    model = baselines.LeftToRightGMMHMM(n_states=3, n_mix=2, n_iter=3).fit(
        _sequences(rng, [np.array([0, 0]), np.array([2, 0]), np.array([2, 2])], 20))
    for T in (3, 5, 8):
        x = rng.standard_normal((T, 2)) + 1
        score = model.score([x])[0]
        assert score == pytest.approx(_brute_force(model, x), rel=1e-9)


def test_viterbi_batches_sequences_of_different_lengths():
    rng = np.random.default_rng(1)
    model = baselines.LeftToRightGMMHMM(n_states=3, n_mix=1, n_iter=2).fit(
        _sequences(rng, [np.array([0, 0]), np.array([1, 1]), np.array([2, 2])], 10))
    xs = [rng.standard_normal((T, 2)) for T in (4, 9, 6)]
    together = model.score(xs)
    alone = [model.score([x])[0] for x in xs]
    assert np.allclose(together, alone)


def test_recognises_the_class_it_was_trained_on():
    rng = np.random.default_rng(2)
    up = [np.array([0, 0]), np.array([1, 0]), np.array([2, 0])]
    down = up[::-1]
    X = _sequences(rng, up, 15) + _sequences(rng, down, 15)
    labels = ["one"] * 15 + ["two"] * 15
    models = {lab: baselines.LeftToRightGMMHMM(n_states=3, n_iter=4).fit([x for x, l in zip(X, labels) if l == lab])
              for lab in ("one", "two")}
    test = _sequences(rng, up, 10) + _sequences(rng, down, 10)
    pred = baselines.predict(models, test)
    assert pred == ["one"] * 10 + ["two"] * 10


def test_sphinx_screen_counts_per_voice_and_engine(monkeypatch, tmp_path):
    """The naturalness screen's bookkeeping, with a stand-in recogniser that is right on one engine only."""
    from course_lib import data, sphinx

    clips = [c for c in data.spoken_words(words=["one", "two"]) if c.speaker in
             ("flite_awb", "flite_slt", "espeak_en-029_m8", "festival_kal")]

    def fake_words(words=None, **kw):
        return clips

    calls = iter([c.label if c.engine == "flite" else "zero" for c in clips])   # right on flite only

    class Fake:
        def __init__(self, words):
            pass

        def predict(self, y, *, sr):
            return next(calls)

    monkeypatch.setattr(sphinx, "SphinxRecognizer", Fake)
    monkeypatch.setattr(sphinx, "available", lambda: True)
    monkeypatch.setattr(baselines.data, "spoken_words", fake_words)
    monkeypatch.delenv("COURSE_REAL_DIGITS", raising=False)
    monkeypatch.setattr(baselines.datasets, "SHIPPED_REAL_DIGITS", tmp_path / "no-real")   # corpus voices only
    args = baselines.argparse.Namespace(real=None, real_takes=1, screen_below=0.5)
    res = baselines.run_sphinx(args)
    assert res["voices"] == {"espeak_en-029_m8": 0.0, "festival_kal": 0.0, "flite_awb": 1.0, "flite_slt": 1.0}
    assert res["engines"] == {"espeak-ng": 0.0, "festival": 0.0, "flite": 1.0}
    assert res["engine_voice_median"]["flite"] == 1.0 and res["clips"] == len(clips)
