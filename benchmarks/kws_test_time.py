#!/usr/bin/env python
"""Test-time averaging for the keyword spotter (chapter 07, issue #14): which warps and shifts, chosen how.

    python benchmarks/kws_test_time.py                 # ~10 min on one thread
    python benchmarks/kws_test_time.py --models-dir DIR --out /tmp/kws_test_time.json

``classify.KwsConfig(warps=..., shifts=...)`` makes :meth:`KeywordSpotter.proba` average the softmax over
every pair of a frequency warp (the mel filterbank's band edges times the factor: a vocal-tract-length
warp) and a shift (the window rotated by that many samples). This script measures twelve such settings
on the **validation** windows - three draws of the recipe's selector, four augmented copies of each valid
voice's words and of the real valid speaker nicolas' digits (1 456 windows a draw), as
``KWS_VALID_COPIES=4`` builds them - and prints their mean accuracy, corpus part, nicolas and all, then
the same settings on the test voices (clean, 10 dB and 0 dB with the noises' test takes, the recipe's
seeded windows) and on the real test speakers as recorded. The setting is chosen on the first table;
the others are printed to show what the choice did, not to choose.

Each (warp, shift) pass is computed once per window and shared by the settings that use it, so the
twelve settings cost little more than the largest one.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time

import numpy as np
import torch

from course_lib import classify, data, pretrained

WARPS = {"one": (1.0,), "+-6 %": (0.94, 1.0, 1.06), "+-9 %": (0.91, 1.0, 1.09),
         "5 to +-9 %": (0.91, 0.955, 1.0, 1.045, 1.09)}
SHIFTS = {"none": (0,), "+-50 ms": (-800, 0, 800), "+-100 ms": (-1600, 0, 1600)}


def all_passes(model, waves) -> dict:
    """{(warp, shift): softmax (n, labels)} for every warp and shift any setting uses: one pass each, by
    :meth:`KeywordSpotter.proba` with a config of that one warp and shift."""
    shipped = model.config
    out = {}
    try:
        for w, s in itertools.product(sorted({w for ws in WARPS.values() for w in ws}),
                                      sorted({s for ss in SHIFTS.values() for s in ss})):
            model.config = dataclasses.replace(shipped, warps=(w,), shifts=(s,))
            out[w, s] = np.concatenate([model.proba(torch.from_numpy(np.ascontiguousarray(
                waves[i:i + 256], dtype=np.float32))).numpy() for i in range(0, len(waves), 256)])
    finally:
        model.config = shipped
    return out


def predictions(P, warps, shifts) -> np.ndarray:
    return np.mean([P[w, s] for w in warps for s in shifts], axis=0).argmax(axis=-1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models-dir", default=None, help="a recipe run's --out folder (default: the shipped kws_cnn)")
    ap.add_argument("--out", default=None, help="write every figure to this JSON file")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    model = pretrained.load("kws_cnn", models_dir=args.models_dir, device="cpu").eval()
    settings = list(itertools.product(WARPS, SHIFTS))
    lab2i = {lab: i for i, lab in enumerate(model.config.labels)}
    valid = {k: [] for k in settings}
    for draw in range(3):
        rng = np.random.default_rng(draw)
        Wc, Tc, _ = classify.kws_windows("valid", rng=rng, copies=4, pitch_stretch=False, progress=False)
        Wv, Tv, _ = classify.kws_windows("valid", rng=rng, copies=4, pitch_stretch=False, progress=False,
                                         extra_clips=data.real_digits(split="valid"), corpus=False,
                                         n_silence=0, n_unknown=0)
        Pc, Pv = all_passes(model, Wc), all_passes(model, Wv)
        for k in settings:
            a, b = predictions(Pc, WARPS[k[0]], SHIFTS[k[1]]) == Tc, predictions(Pv, WARPS[k[0]], SHIFTS[k[1]]) == Tv
            valid[k].append([a.mean(), b.mean(), np.concatenate([a, b]).mean()])
        print(f"validation draw {draw}: {len(Tc)} corpus + {len(Tv)} nicolas windows", flush=True)
    print("\nvalidation, mean of three draws (corpus voices / nicolas / all), each draw's 'all':")
    for k in settings:
        m = np.mean(valid[k], axis=0)
        print(f"  warps {k[0]:11s} shifts {k[1]:9s} {m[0]:.4f} / {m[1]:.4f} / {m[2]:.4f}   "
              f"{' '.join(f'{x[2]:.4f}' for x in valid[k])}")
    best = max(settings, key=lambda k: np.mean(valid[k], axis=0)[2])
    print(f"chosen on validation: warps {WARPS[best[0]]}, shifts {SHIFTS[best[1]]}")
    test = {}
    clips = data.spoken_words(split="test")
    for name, snr in (("clean", None), ("10 dB", 10.0), ("0 dB", 0.0)):
        w, lab, voices = classify.eval_windows(clips, rng=np.random.default_rng(1), snr_db=snr)
        T, voices, P = np.array([lab2i[x] for x in lab]), np.array(voices), all_passes(model, w)
        for k in settings:
            hit = predictions(P, WARPS[k[0]], SHIFTS[k[1]]) == T
            test.setdefault(k, {})[name] = [hit.mean()] + [hit[voices == v].mean() for v in sorted(set(voices))]
    real = data.real_digits(split="test")
    spk = np.array([c.speaker for c in real])
    T = np.array([lab2i[c.label] for c in real])
    per_clip = [all_passes(model, model._prepare(c.audio, c.sr).numpy()) for c in real]   # each centred as predict does
    P = {key: np.concatenate([p[key] for p in per_clip]) for key in per_clip[0]}
    for k in settings:
        hit = predictions(P, WARPS[k[0]], SHIFTS[k[1]]) == T
        test[k]["real"] = [hit.mean()] + [hit[spk == s].mean() for s in sorted(set(spk))]
    print(f"\ntest voices ({', '.join(sorted(set(voices)))}), all / per voice; real test speakers "
          f"({', '.join(sorted(set(spk)))}) as recorded:")
    for k in settings:
        row = "  ".join(f"{n} {v[0]:.4f} ({' '.join(f'{x:.3f}' for x in v[1:])})" for n, v in test[k].items())
        print(f"  {'*' if k == best else ' '} {k[0]:11s} {k[1]:9s} {row}")
    print(f"{time.perf_counter() - t0:.0f} s")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"valid": {f"{a} | {b}": np.mean(v, axis=0).tolist() for (a, b), v in valid.items()},
                       "test": {f"{a} | {b}": {n: np.asarray(x).tolist() for n, x in v.items()}
                                for (a, b), v in test.items()},
                       "chosen": {"warps": WARPS[best[0]], "shifts": SHIFTS[best[1]]}}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
