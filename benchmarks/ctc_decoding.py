#!/usr/bin/env python
"""The shipped ``ctc_bigru`` under each of its decoders, the language-model weights chosen on the valid voices.

    python benchmarks/ctc_decoding.py [--json benchmarks/ctc_decoding.json] [--beam 8]

Each clip's log-probabilities are computed once (``CTCRecognizer.log_probs``) and searched by every
decoder (``CTCRecognizer.decode``): greedy; prefix beam search alone; beam search with shallow fusion of
the word bigram LM of the training transcripts (``training.lm_texts``: Kneser-Ney, sentences and digit
strings of the training split); the same restricted to the training transcripts' words (a lexicon).
The LM weight and the word bonus (added per word: shallow fusion alone penalises every word, so the
search drops short ones) are chosen on the **valid** voices' 100 sentences and 48 digit strings (lowest
WER over a grid), then used once on the test voices: 100 sentences, 48 digit strings, the sentences with
babble and fan noise (test takes) at 10 dB, and the real FSDD test speakers of ``data/real`` (200
isolated digits). CER and WER are corpus-level, per voice, as ``course_lib.metrics`` (= jiwer) computes
them. One CPU thread. ``--json`` writes the table notebook 05 prints.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from course_lib import data, pretrained
from course_lib.asr.lm import WordNgramLM
from course_lib.asr.training import clip_text, lexicon, lm_texts, noisy_clips, score

WEIGHTS = (0.2, 0.4, 0.7, 1.0, 1.5)
BONUSES = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--beam", type=int, default=8)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = pretrained.load("ctc_bigru", device="cpu")
    lm = WordNgramLM.from_texts(lm_texts("train"))
    words = lexicon(model.tokenizer)
    sets = {"valid sentences": data.sentences(split="valid"), "valid digit strings": data.digit_strings(split="valid"),
            "test sentences": data.sentences(split="test"), "test digit strings": data.digit_strings(split="test")}
    sets["test sentences, babble 10 dB"] = noisy_clips(sets["test sentences"], kinds=("babble",))
    sets["test sentences, fan 10 dB"] = noisy_clips(sets["test sentences"], kinds=("fan",))
    sets["real FSDD test speakers (digits)"] = data.real_digits(split="test")
    lps, rtf = {}, {}
    for name, clips in sets.items():
        t0 = time.perf_counter()
        lps[name] = [model.log_probs(c.audio, sr=c.sr) for c in tqdm(clips, desc=name, mininterval=2)]
        rtf[name] = (time.perf_counter() - t0) / sum(len(c.audio) / c.sr for c in clips)

    def run(name, **kw):
        t0 = time.perf_counter()
        hyps = [model.decode(lp, **kw) for lp in lps[name]]
        r = score(sets[name], hyps)
        r["decode_seconds_per_audio_second"] = (time.perf_counter() - t0) / sum(len(c.audio) / c.sr for c in sets[name])
        return r, hyps

    grid = {}
    for w, b in tqdm(list(itertools.product(WEIGHTS, BONUSES)), desc="valid grid"):
        rs = [run(n, beam_width=args.beam, lm=lm, lm_weight=w, word_bonus=b)[0]
              for n in ("valid sentences", "valid digit strings")]
        n_words = [sum(len(clip_text(c).split()) for c in sets[n]) for n in ("valid sentences", "valid digit strings")]
        wer = sum(r["wer"] * k for r, k in zip(rs, n_words)) / sum(n_words)
        grid[f"lm_weight={w} word_bonus={b}"] = {"wer": wer, "sentences_wer": rs[0]["wer"], "digits_wer": rs[1]["wer"],
                                                 "lm_weight": w, "word_bonus": b}
    best = min(grid.values(), key=lambda g: g["wer"])
    w, b = best["lm_weight"], best["word_bonus"]
    print(f"chosen on the valid voices: lm_weight {w}, word_bonus {b} (valid WER {best['wer']:.3f})", flush=True)
    decoders = {"greedy": {}, f"beam {args.beam}": {"beam_width": args.beam},
                f"beam {args.beam} + LM": {"beam_width": args.beam, "lm": lm, "lm_weight": w, "word_bonus": b},
                f"beam {args.beam} + LM + lexicon": {"beam_width": args.beam, "lm": lm, "lm_weight": w,
                                                     "word_bonus": b, "lexicon": words}}
    out = {"command": "python benchmarks/ctc_decoding.py" + (f" --beam {args.beam}" if args.beam != 8 else ""),
           "checkpoint_git_commit": (model.record.get("git_commit") or {}).get("commit"),
           "checkpoint_weights_sha256": hashlib.sha256(
               (Path(__file__).resolve().parents[1] / "data" / "models" / "ctc_bigru.safetensors").read_bytes()).hexdigest(),
           "lm": "Kneser-Ney word bigram of the training split's sentence and digit-string transcripts",
           "lexicon_size": len(words), "valid_grid": grid, "chosen": {"lm_weight": w, "word_bonus": b},
           "acoustic_rtf": rtf, "n_parameters": int(sum(p.numel() for p in model.parameters())), "results": {}}
    for name in sets:
        if name.startswith("valid"):
            continue
        decs = decoders if not name.startswith("test sentences,") else {"greedy": {}}
        for dec, kw in decs.items():
            r, hyps = run(name, **kw)
            if name.startswith("real"):
                r["examples"] = [[clip_text(c), h] for c, h in list(zip(sets[name], hyps))[::20]]
            out["results"].setdefault(name, {})[dec] = r
            print(f"{name:34s} {dec:26s} CER {r['cer']:.3f} WER {r['wer']:.3f}  "
                  + "  ".join(f"{v} {x['cer']:.3f}/{x['wer']:.3f}" for v, x in r["per_voice"].items()), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
        print("wrote", args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
