#!/usr/bin/env python
"""The shipped ``asr_transformer`` under each of its decoders, on the valid and test voices and on real speech.

    python benchmarks/transformer_decoding.py [--json benchmarks/transformer_decoding.json] [--beam 8]

Decoders (``TransformerRecognizer.transcribe``): attention greedy; beam search with the decoder
alone; beam search with the CTC head rescoring the finished hypotheses (``ctc_mode="rescore"``, what
the checkpoint's training record measured); beam search with joint CTC/attention prefix scores
(``ctc_mode="joint"``, the default since it was measured here); the CTC head alone, greedy. Each on
the 100 valid and the 100 test sentences (voices never heard in training; CER and WER per voice),
the test voices' 48 digit strings, and the real FSDD test speakers in ``data/real`` (200 isolated
digits, open vocabulary). CTC weight: the checkpoint's ``config.ctc_weight``; length normalisation
alpha = 1. One CPU thread. ``--json`` writes the table that notebook 06 prints.
"""

from __future__ import annotations

import argparse
import json

import torch

from course_lib import data, pretrained
from course_lib.asr.training import evaluate
from course_lib.asr.transformer_training import _Decoding


def decoders(beam: int) -> dict:
    return {"attention greedy": {}, f"beam {beam}": {"beam_width": beam, "ctc_weight": 0.0},
            f"beam {beam} + CTC rescoring": {"beam_width": beam, "ctc_mode": "rescore"},
            f"beam {beam} + joint CTC": {"beam_width": beam, "ctc_mode": "joint"},
            "CTC head, greedy": {"decoder": "ctc"}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beam", type=int, default=8)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = pretrained.load("asr_transformer", device="cpu")
    sets = {"valid sentences": data.sentences(split="valid"), "test sentences": data.sentences(split="test"),
            "test digit strings": data.digit_strings(split="test"),
            "real FSDD test speakers (digits)": data.real_digits(split="test")}
    out = {"command": "python benchmarks/transformer_decoding.py" + (f" --beam {args.beam}" if args.beam != 8 else ""),
           "checkpoint_git_commit": (model.record.get("git_commit") or {}).get("commit"),
           "ctc_weight": model.config.ctc_weight, "results": {}}
    for set_name, clips in sets.items():
        for dec, kw in decoders(args.beam).items():
            r = evaluate(_Decoding(model, **kw), clips, progress=False)    # corpus-level CER / WER per voice, RTF
            r.pop("hypotheses")
            out["results"].setdefault(set_name, {})[dec] = r
            print(f"{set_name:34s} {dec:26s} CER {r['cer']:.3f} WER {r['wer']:.3f}  "
                  + "  ".join(f"{v} {x['cer']:.3f}" for v, x in r["per_voice"].items()) + f"  RTF {r['rtf']:.3f}",
                  flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
        print("wrote", args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
