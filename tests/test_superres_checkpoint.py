"""The shipped bandwidth extenders (chapter 10), measured on test voices they never heard.

``tools/train_models.py superres_x2`` / ``superres_x4`` measured every test sentence and
wrote the figures into the training record; here a subset (3 sentences per test voice,
about 10 s each way) is measured again, so a broken model, a changed baseline or a stale
record cannot pass. Chapter 10's targets: the model's LSD at least 20 % below the best
interpolation baseline's, and an SNR no more than 1 dB below band-limited interpolation.
"""

from __future__ import annotations

import pytest

from course_lib import data, pretrained, superres


@pytest.fixture(scope="module")
def subset():
    test = data.sentences(split="test")
    return [c for v in data.speakers(split="test") for c in [c for c in test if c.speaker == v][:3]]


@pytest.mark.parametrize("factor", [2, 4])
def test_shipped_extender_beats_interpolation_on_unseen_voices(factor, subset):
    model = pretrained.load(f"superres_x{factor}", device="cpu")
    assert model.config.factor == factor
    assert sum(p.numel() for p in model.parameters()) <= 1_000_000
    # the record: every test sentence, measured when the checkpoint was made
    rec = model.record["metrics"]["test"]
    best = min(superres.METHODS, key=lambda m: rec[m]["lsd"])
    assert rec["model"]["lsd"] <= 0.8 * rec[best]["lsd"], (factor, rec["model"]["lsd"], best, rec[best]["lsd"])
    assert rec["model"]["snr"] >= rec["sinc"]["snr"] - 1.0
    assert set(rec["model"]["per_speaker"]) == set(data.speakers(split="test"))
    # measured again now, on a subset: the same ranking, the record's level
    r = superres.evaluate(subset, factor=factor, model=model, progress=False)
    best_now = min(r[m]["lsd"] for m in superres.METHODS)
    assert r["model"]["lsd"] <= 0.85 * best_now
    assert r["model"]["snr"] >= r["sinc"]["snr"] - 1.0
    assert r["model"]["lsd"] == pytest.approx(rec["model"]["lsd"], rel=0.15)
