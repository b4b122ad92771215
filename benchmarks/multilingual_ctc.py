#!/usr/bin/env python
"""Chapter 15's multilingual CTC experiments, measured on the test voices; writes a small JSON.

    nice -n 10 python benchmarks/multilingual_ctc.py                     # all, ~50 min on one busy thread
    python benchmarks/multilingual_ctc.py --scale 0.1 --out /tmp/x.json  # a quick smoke run

Set-ups, all :class:`course_lib.asr.multilingual.MultilingualCTC` (chapter 05's recogniser) trained
with :func:`~course_lib.asr.multilingual.train_ctc` on the training voices of
:func:`course_lib.data.multilingual_digits` (8 voice variants x 6 languages x 10 digits) and
evaluated greedily on the test voices (2 variants never heard in training, per language):

- (a) one model for six languages, no language information;
- (b) one model, the language given as a learned embedding (oracle language, and the language
  guessed by the shipped ``langid_cnn`` checkpoint when it exists);
- (c) six monolingual models, each with its own language's alphabet;
- transfer: pretrain (a) on five languages, fine-tune on the sixth with 10 % of its training clips
  (:func:`~course_lib.asr.multilingual.few_shot_subset`), against the same architecture trained from
  scratch on the same clips; the valid CTC loss per epoch of both is kept (the curves).

Every figure is CER per language and per test voice. Results: ``benchmarks/multilingual_results.json``
(read by notebook 15).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "multilingual_results.json")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every time budget and epoch count")
    ap.add_argument("--transfer", default="nl", help="comma-separated target languages of the transfer experiment")
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="a,b,c,transfer")
    ap.add_argument("--a-epochs", type=int, default=None,
                    help="train (a) for exactly this many epochs (no time budget), e.g. as many as (b) managed")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)                      # a shared CPU
    from course_lib import config, data, pretrained
    from course_lib.asr import multilingual as ml
    from course_lib.classify import n_parameters

    config.seed_everything(args.seed)
    only = set(args.only.split(","))
    S = args.scale
    train = data.multilingual_digits(split="train")
    valid = data.multilingual_digits(split="valid")
    test = data.multilingual_digits(split="test")
    tok = ml.MultilingualTokenizer.from_clips(train)
    arch = {"hidden": 64, "n_layers": 2, "channels": 64, "n_conv": 2}
    out = {"command": "python benchmarks/multilingual_ctc.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "git_commit": _commit(), "seed": args.seed, "scale": S, "architecture": arch,
           "alphabet": tok.alphabet, "vocabularies": {g: "".join(sorted(v)) for g, v in tok.vocabularies.items()},
           "hardware": {"cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads(),
                        "torch": torch.__version__},
           "test_voices": sorted({c.speaker for c in test}), "results": {}}
    if args.out.exists():                         # keep what an earlier (partial) run measured
        prev = json.loads(args.out.read_text())
        out["results"] = prev.get("results", {})
    t_all = time.perf_counter()

    def run(name, clips, *, tokenizer=tok, condition="none", budget, epochs, valid_clips=valid, init=None,
            lr=3e-3):
        t0 = time.perf_counter()
        model, hist = ml.train_ctc(clips, tokenizer=tokenizer, condition=condition, valid_clips=valid_clips,
                                   init=init, config=arch, epochs=max(1, int(epochs * S)), time_budget=budget * S,
                                   lr=lr, seed=args.seed, desc=name)
        info = {"train_seconds": round(time.perf_counter() - t0, 1), "epochs_run": len(hist.epochs),
                "best_epoch": hist.best_epoch, "n_parameters": n_parameters(model), "n_train_clips": len(clips),
                "valid_loss_curve": [round(float(e["valid_loss"]), 4) for e in hist.epochs if "valid_loss" in e],
                "train_loss_curve": [round(float(e["train_loss"]), 4) for e in hist.epochs]}
        return model, info

    def score(model, clips, **kw):
        r = ml.evaluate_ctc(model, clips, **kw)
        return {"cer": round(r.cer, 4), "per_language": {k: round(v, 4) for k, v in r.per_language.items()},
                "per_voice": {k: round(v, 4) for k, v in r.per_voice.items()},
                "examples": [[c.language, c.text, h] for c, h in zip(clips, r.hypotheses)][::12]}

    def save():
        out["wall_seconds"] = round(time.perf_counter() - t_all, 1)
        args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")

    if "a" in only:
        if args.a_epochs:
            m, info = run("(a) no language info", train, budget=1e6, epochs=args.a_epochs / S)
            out["results"]["a_no_language_equal_epochs"] = {**info, "test": score(m, test)}
        else:
            m, info = run("(a) no language info", train, budget=600, epochs=150)
            out["results"]["a_no_language"] = {**info, "test": score(m, test)}
        save()
    if "b" in only:
        m, info = run("(b) language embedding", train, condition="embedding", budget=600, epochs=150)
        res = {**info, "test": score(m, test)}
        if "langid_cnn" in pretrained.available():
            lid = pretrained.load("langid_cnn", device="cpu")
            res["test_language_from_langid_cnn"] = score(m, test, language_given=False, language_id=lid)
        out["results"]["b_language_embedding"] = res
        save()
    if "c" in only:
        mono = {}
        for g in ml.LANGUAGES:
            tr_g = [c for c in train if c.language == g]
            tok_g = ml.MultilingualTokenizer.from_clips(tr_g)
            m, info = run(f"(c) {g} only", tr_g, tokenizer=tok_g, budget=150, epochs=300,
                          valid_clips=[c for c in valid if c.language == g])
            mono[g] = {**info, "alphabet": tok_g.alphabet, "test": score(m, [c for c in test if c.language == g])}
            out["results"]["c_monolingual"] = mono
            save()
    if "transfer" in only:
        tr_res = out["results"].get("transfer", {})
        for g in args.transfer.split(","):
            others = [c for c in train if c.language != g]
            few = ml.few_shot_subset([c for c in train if c.language == g], fraction=args.fraction, seed=args.seed)
            valid_g = [c for c in valid if c.language == g]
            test_g = [c for c in test if c.language == g]
            pre, info_pre = run(f"pretrain without {g}", others, budget=500, epochs=150,
                                valid_clips=[c for c in valid if c.language != g])
            res = {"target": g, "fraction": args.fraction, "few_shot_clips": [[c.speaker, c.text] for c in few],
                   "pretrain": {**info_pre, "zero_shot_test": score(pre, test_g)}}
            ft, info_ft = run(f"fine-tune on {len(few)} {g} clips", few, budget=150, epochs=120,
                              valid_clips=valid_g, init=pre, lr=1e-3)
            res["fine_tuned"] = {**info_ft, "test": score(ft, test_g)}
            sc, info_sc = run(f"scratch on {len(few)} {g} clips", few, budget=150, epochs=120, valid_clips=valid_g)
            res["from_scratch"] = {**info_sc, "test": score(sc, test_g)}
            tr_res[g] = res
            out["results"]["transfer"] = tr_res
            save()
    save()
    print(json.dumps({k: (v.get("test", {}).get("cer") if isinstance(v, dict) and "test" in v else "...")
                      for k, v in out["results"].items()}, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
