"""The shipped Tacotron 2 (``tacotron2``): on the 20 held-out sentences (test split + valid[:5], never
trained on) its alignment is diagonal, its stop token fires, its durations are close, and two
recognisers read its Griffin-Lim speech no worse than measured.

The floors/ceilings are just beyond what was measured when it was trained (see
``data/models/tacotron2.record.json``, metrics.test) and, for the recognisers, in
``benchmarks/tts_judges.json``. The issue's CER <= 30 % target is met by both judges since the
December 2026 warm start (25 more minutes, 356 epochs): chapter 05's recogniser reads the synthesis
at CER 0.120 (the real recordings 0.080), PocketSphinx (open vocabulary, trained on real speech) at
0.299 (the real recordings 0.130).
"""

from __future__ import annotations

import pytest

from course_lib import data, pretrained
from course_lib.tts import tacotron2 as tc

NAME = "tacotron2"
pytestmark = pytest.mark.skipif(NAME not in pretrained.available(), reason=f"{NAME} is not shipped")

FR_FOCUS_MIN = 0.78          # measured 0.805 (free running, mean max attention weight per step)
TF_FOCUS_MIN = 0.79          # measured 0.811 (teacher forced)
MONOTONIC_MIN = 0.98         # measured 1.000 free running, 1.000 teacher forced
ABS_DURATION_ERROR_MAX = 0.07  # measured 0.049
CER_SYNTH_MAX = 0.14         # measured 0.120 by ctc_bigru (real recordings: 0.080, Griffin-Lim of the real mels: 0.070)
CER_GAP_MAX = 0.06           # measured 0.040 = synthesis - real
# PocketSphinx (open vocabulary, its own en-US model trained on real speech), a judge that owes nothing
# to our corpus (ctc_bigru trained on the slt voice's other sentences): it hears a larger gap still.
SPHINX_CER_REAL_MAX = 0.16   # measured 0.130 (benchmarks/tts_judges.json)
SPHINX_CER_SYNTH_MAX = 0.32  # measured 0.299
SPHINX_GAP_MAX = 0.19        # measured 0.169 = synthesis - original (0.484 before the warm start)


@pytest.fixture(scope="module")
def model():
    return pretrained.load(NAME, device="cpu")


def _held_out():
    return data.tts_sentences(split="test", check=False) + data.tts_sentences(split="valid", check=False)[:5]


def test_held_out_sentences_were_never_trained_on(model):
    held = [c.path.name for c in _held_out()]
    assert held == model.record["metrics"]["held_out_files"]
    trained = {c.path.name for c in data.tts_sentences(split="train", check=False)}
    assert len(held) == 20 and not trained & set(held)
    assert not set(held) & set(model.record["metrics"]["valid_monitor_files"])


@pytest.mark.slow
def test_alignment_stop_and_duration_on_held_out(model):
    res = tc.evaluate_synthesis(model, _held_out(), recognizer=None, progress=False)
    o, rec = res["overall"], model.record["metrics"]["test"]["overall"]
    for k in ("fr_focus", "tf_focus", "abs_duration_error"):
        assert abs(o[k] - rec[k]) < 0.02, k      # same weights, same seeds: the record, up to float order
    assert o["fr_focus"] >= FR_FOCUS_MIN and o["tf_focus"] >= TF_FOCUS_MIN
    assert o["fr_monotonic"] >= MONOTONIC_MIN and o["tf_monotonic"] >= MONOTONIC_MIN
    assert o["stopped"] == 1.0                   # every sentence ended on its stop token, none at the cap
    assert o["abs_duration_error"] <= ABS_DURATION_ERROR_MAX
    for row in res["per_clip"]:                  # per sentence, not only the mean
        assert row["fr_focus"] >= 0.6 and row["stopped"] and abs(row["duration_error"]) < 0.3, row["file"]


@pytest.mark.slow
def test_intelligibility_by_the_recogniser(model):
    res = tc.evaluate_synthesis(model, _held_out(), recognizer=pretrained.load("ctc_bigru", device="cpu"),
                                progress=False)
    o = res["overall"]
    assert o["cer_synth"] <= CER_SYNTH_MAX
    assert o["cer_synth"] - o["cer_real"] <= CER_GAP_MAX


def test_synthesize_returns_audio(model):
    import numpy as np

    y, log_m, A = model.synthesize("the cat has a key", n_iter=8, return_mel=True)
    assert y.dtype == np.float32 and y.ndim == 1 and np.isfinite(y).all()
    assert log_m.shape[0] == 80 and A.shape[1] == len("the cat has a key") + 1
    assert 0.5 < len(y) / model.config.sample_rate < 3.0


@pytest.mark.slow
def test_intelligibility_by_pocketsphinx_matches_the_published_table(model):
    """The second judge of issue 26 (item 5), on all 20 held-out sentences; notebook 12 prints
    ``benchmarks/tts_judges.json``, so the run here must agree with it (transcripts of the originals
    exactly: PocketSphinx is deterministic; CERs within 0.05: the synthesis depends on float order)."""
    import json

    pytest.importorskip("pocketsphinx")
    from pathlib import Path

    from course_lib.asr.sphinx_lm import SphinxTranscriber

    table = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" / "tts_judges.json").read_text())["judges"]["pocketsphinx"]
    res = tc.evaluate_synthesis(model, _held_out(), recognizer=SphinxTranscriber(), progress=False)
    o = res["overall"]
    assert [r["asr_real"] for r in res["per_clip"]] == [r["asr_real"] for r in table["per_clip"]]
    for k in ("cer_real", "cer_gl_real", "cer_synth"):
        assert abs(o[k] - table["overall"][k]) < 0.05, k
    assert o["cer_real"] <= SPHINX_CER_REAL_MAX
    assert o["cer_synth"] <= SPHINX_CER_SYNTH_MAX
    assert o["cer_synth"] - o["cer_real"] <= SPHINX_GAP_MAX
