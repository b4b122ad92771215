#!/usr/bin/env python
"""The shipped sentence recognisers on real human speech: FSDD's two test speakers saying the digits.

    python benchmarks/real_digits_asr.py                       # the shipped data/real (takes 0-9): 200 clips
    python benchmarks/real_digits_asr.py --real /path/to/FSDD --takes 50 --models ctc_bigru

The course ships takes 0-9 of FSDD in ``data/real`` (``--real`` or ``$COURSE_REAL_DIGITS``: a full
copy). The speakers lucas and theo (8 kHz, a real microphone, a real room) are the split no model was trained or
tuned on. Each recogniser transcribes every clip with open vocabulary (it may write any letters; a
digit word is only what it *should* write); CER at corpus level per speaker and overall
(``course_lib.metrics.cer``, = jiwer). ``asr_transformer`` is scored with its attention decoder
(greedy) and with its CTC head alone; ``ctc_bigru`` greedily.
"""

from __future__ import annotations

import argparse

import torch

from course_lib import datasets, metrics, pretrained

DECODINGS = {"ctc_bigru": {"greedy": {}},
             "asr_transformer": {"attention greedy": {}, "CTC head": {"decoder": "ctc"}}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", default=None, help="FSDD folder (default $COURSE_REAL_DIGITS, else data/real)")
    ap.add_argument("--takes", type=int, default=10, help="takes per digit and speaker (FSDD has 50)")
    ap.add_argument("--models", nargs="+", default=list(DECODINGS))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    clips = datasets.real_digits(split="test", root=args.real, takes=args.takes)
    print(f"{len(clips)} clips, speakers {sorted({c.speaker for c in clips})}")
    for name in args.models:
        model = pretrained.load(name, device="cpu")
        for label, kw in DECODINGS[name].items():
            by = {}
            for c in clips:
                refs, hyps = by.setdefault(c.speaker, ([], []))
                refs.append(c.label)
                hyps.append(model.transcribe(c.audio, sr=c.sr, **kw))
            overall = metrics.cer([r for rs, _ in by.values() for r in rs], [h for _, hs in by.values() for h in hs])
            per = "  ".join(f"{s} {metrics.cer(r, h):.3f}" for s, (r, h) in sorted(by.items()))
            print(f"{name:16s} {label:17s} CER {overall:.3f}   {per}")


if __name__ == "__main__":
    main()
