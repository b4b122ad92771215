#!/usr/bin/env python
"""Two independent judges of the shipped Tacotron 2 on its 20 held-out sentences; writes a small JSON.

    python benchmarks/tts_judges.py                     # ~10 min on one thread
    python benchmarks/tts_judges.py --out /tmp/x.json --n 4 --samples 1

The held-out sentences are chapter 12's: the slt test split (15) and the first 5 of its valid
split, never trained on (``data/models/tacotron2.record.json`` lists them). Each judge transcribes
three versions of each sentence: the corpus's original (flite's slt voice, the data Tacotron 2 was
trained on; called ``real`` as in ``evaluate_synthesis``), Griffin-Lim from that original's mel (what
the vocoder alone loses), and the Tacotron 2 synthesis
(free running, Griffin-Lim, 60 iterations, seed 0 — as ``tacotron2.evaluate_synthesis``):

- ``ctc_bigru``: chapter 05's recogniser, trained on the course's synthetic voices;
- ``pocketsphinx``: CMU PocketSphinx with its own en-US acoustic model (trained on real recorded
  speech), trigram language model and dictionary, **open vocabulary** (no grammar, no knowledge of
  the corpus's sentences): :class:`course_lib.asr.sphinx_lm.SphinxTranscriber`.

The same judges also hear chapter 11's vocoders on the same sentences (``"vocoder"`` in the JSON):
the original, chapter 11's Griffin-Lim and the shipped ``wavenet_vocoder``, both from the original's
mel (issue #18: WaveNet's CER at most 1.5 x the original's, and below Griffin-Lim's), sampled at
temperature 1 (``"vocoder"``) and at the temperature ``ctc_bigru`` prefers on the 10 valid sentences
that are not held out (``"vocoder_temperature"``; ``"vocoder_at_chosen_temperature"`` when it is not 1).

CER and WER at corpus level (``course_lib.metrics``, = jiwer), overall and per sentence, with the
transcripts. Results: ``benchmarks/tts_judges.json`` (read by notebook 12 and its tests).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from course_lib import data, metrics, pretrained
from course_lib.asr.sphinx_lm import SphinxTranscriber
from course_lib.tts import tacotron2 as tc

KEYS = ("real", "gl_real", "synth")


def held_out():
    """Chapter 12's 20 held-out sentences (test split + valid[:5])."""
    return data.tts_sentences(split="test", check=False) + data.tts_sentences(split="valid", check=False)[:5]


def judge(model, clips, recognizer) -> dict:
    """``evaluate_synthesis`` with one recogniser, plus WER; per sentence and overall."""
    res = tc.evaluate_synthesis(model, clips, recognizer=recognizer, progress=False)
    refs = [r["text"] for r in res["per_clip"]]
    overall = {}
    for k in KEYS:                              # CER as evaluate_synthesis measured it; WER added here
        overall[f"cer_{k}"] = res["overall"][f"cer_{k}"]
        overall[f"wer_{k}"] = metrics.wer(refs, [r[f"asr_{k}"] for r in res["per_clip"]])
    per = [{"file": r["file"], "text": r["text"],
            **{f"asr_{k}": r[f"asr_{k}"] for k in KEYS}, **{f"cer_{k}": r[f"cer_{k}"] for k in KEYS}}
           for r in res["per_clip"]]
    return {"overall": overall, "per_clip": per}


TEMPERATURES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


def tuning_sentences():
    """The slt valid sentences that are not held out (valid[5:], 10): where the sampling temperature
    is chosen. The vocoder's training watched its validation loss on them; the judges never hear them."""
    return data.tts_sentences(split="valid", check=False)[5:]


def choose_temperature(voc, recognizer, temperatures=TEMPERATURES, *, samples: int = 1) -> dict:
    """Sampling temperature of the WaveNet vocoder chosen on :func:`tuning_sentences` by ``recognizer``'s
    CER (the lowest, averaged over ``samples`` sampled waveforms per sentence, seeds 0, 1, ...; ties go
    to the higher temperature): ``{"chosen": t, "cer": {t: CER}, "samples": samples}``."""
    from course_lib.tts import wavenet

    clips = tuning_sentences()
    cer = {}
    for t in temperatures:
        cer[t] = wavenet.vocoder_report(voc, clips, recognizer=recognizer, seeds=range(samples), temperature=t,
                                        progress=False)["cer_wavenet"]
        print(f"vocoder temperature {t}: CER {cer[t]:.3f} on {len(clips)} tuning sentences", flush=True)
    chosen = min(temperatures, key=lambda t: (cer[t], -t))
    return {"chosen": chosen, "cer": {str(t): c for t, c in cer.items()},
            "sentences": [c.path.name for c in clips], "judge": "ctc_bigru", "samples": samples}


VOCODED = ("original", "griffin_lim", "wavenet")      # the versions vocoder_judges reports, in order


def vocoder_judges(voc, clips, judges, *, temperature: float = 1.0, samples: int = 1) -> dict:
    """Chapter 11's question on the same sentences: the original, Griffin-Lim (chapter 11's, 1024-point
    frames) and the shipped WaveNet vocoder, both from the original's mel; WaveNet samples ``samples``
    waveforms per sentence (``wavenet.vocoder_report(seeds=range(samples))``, at ``temperature``: one
    generation per seed, Griffin-Lim once) and every judge hears the same ones. ``cer_wavenet`` /
    ``wer_wavenet``: the mean over the samples (each a corpus-level figure, listed in
    ``cer_wavenet_per_sample``); the transcripts are those of seed 0."""
    from course_lib.tts import wavenet

    names = list(judges)
    t0 = time.perf_counter()
    rep = wavenet.vocoder_report(voc, clips, recognizer=judges[names[0]], seeds=range(samples),
                                 temperature=temperature, progress=False)
    cfg = voc.config.mel_config
    versions = {"original": [np.asarray(c.audio, dtype=np.float32) for c in clips],
                "griffin_lim": rep["waves"]["griffin_lim"]}
    refs = [c.text for c in clips]
    out = {"samples_per_second": rep["samples_per_second"], "generation_seconds": rep["generation_seconds"],
           "temperature": temperature, "samples": samples}
    for n, name in enumerate(names):
        if n == 0:                                             # vocoder_report's recogniser: reuse what it heard
            hyps = {k: list(rep["transcripts"][k]) for k in versions}
            per_sample = rep["transcripts"]["wavenet_samples"]
        else:
            hyps = {k: [judges[name].transcribe(y, sr=cfg.sr) for y in ys] for k, ys in versions.items()}
            per_sample = [[judges[name].transcribe(y, sr=cfg.sr) for y in ys]
                          for ys in rep["waves"]["wavenet_samples"]]
        hyps["wavenet"] = per_sample[0]                        # the transcripts kept: seed 0's
        per = [(float(metrics.cer(refs, h)), float(metrics.wer(refs, h))) for h in per_sample]
        o = {}
        for k in versions:
            o[f"cer_{k}"] = float(metrics.cer(refs, hyps[k]))
            o[f"wer_{k}"] = float(metrics.wer(refs, hyps[k]))
        o["cer_wavenet"] = float(np.mean([c for c, _ in per]))        # every sample judged; their mean
        o["wer_wavenet"] = float(np.mean([w for _, w in per]))
        if samples > 1:
            o["cer_wavenet_per_sample"] = [c for c, _ in per]
            o["wer_wavenet_per_sample"] = [w for _, w in per]
        out[name] = {"overall": o, "per_clip": [{"file": c.path.name, "text": c.text,
                                                 **{f"asr_{k}": hyps[k][i] for k in VOCODED}}
                                                for i, c in enumerate(clips)]}
        print(f"vocoder, {name:13s} " + "  ".join(f"{k}: CER {o[f'cer_{k}']:.3f} WER {o[f'wer_{k}']:.3f}"
                                                   for k in VOCODED), flush=True)
    print(f"vocoder judges: {time.perf_counter() - t0:.0f} s")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).with_name("tts_judges.json")))
    ap.add_argument("--n", type=int, default=20, help="how many of the 20 held-out sentences")
    ap.add_argument("--samples", type=int, default=3,
                    help="WaveNet waveforms sampled per sentence (seeds 0, 1, ...); its CER is their mean")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = pretrained.load("tacotron2", device="cpu")
    clips = held_out()[: args.n]
    judges = {"ctc_bigru": pretrained.load("ctc_bigru", device="cpu"), "pocketsphinx": SphinxTranscriber()}
    out = {"sentences": [c.path.name for c in clips], "judges": {}}
    for name, rec in judges.items():
        t0 = time.perf_counter()
        out["judges"][name] = judge(model, clips, rec)
        o = out["judges"][name]["overall"]
        print(f"{name:13s} " + "  ".join(f"{k}: CER {o[f'cer_{k}']:.3f} WER {o[f'wer_{k}']:.3f}" for k in KEYS)
              + f"  ({time.perf_counter() - t0:.0f} s)")
    if "wavenet_vocoder" in pretrained.available():
        voc = pretrained.load("wavenet_vocoder", device="cpu")
        out["vocoder"] = vocoder_judges(voc, clips, judges, samples=args.samples)
        choice = choose_temperature(voc, judges["ctc_bigru"], samples=args.samples)
        out["vocoder_temperature"] = choice
        if choice["chosen"] != 1.0:
            out["vocoder_at_chosen_temperature"] = vocoder_judges(voc, clips, judges, temperature=choice["chosen"],
                                                                  samples=args.samples)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
