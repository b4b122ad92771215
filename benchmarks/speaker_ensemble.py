#!/usr/bin/env python
"""An ensemble of x-vector networks (chapter 13, issue #20): each network alone, then their scores averaged.

    python benchmarks/speaker_ensemble.py RUN [RUN ...]           # ~5 min on one thread for 11 runs
    python benchmarks/speaker_ensemble.py RUN ... --out /tmp/ensemble.json --subsets 30

Each RUN is the ``--out`` folder of one ``SPEAKER_CMN=0 python tools/train_models.py speaker_xvector``
run (any of its options: the speed factors, voice conversion, extra speech, espeak-ng speakers), holding
``speaker_xvector.safetensors``. The speaker chapter ships no x-vector checkpoint: these folders are
yours, made by the commands of notebook 13's tables (``speaker_xvector.record.json`` in each names its
command).

For every network, the recipe's three back ends on the same segments as the recipe (1-s MFCC segments
with the mean kept; the 40 first segments of each valid voice; every test segment: 69 006 test trials):
cosine, cosine after a 40-dimensional LDA, and a PLDA on whitened, length-normalised embeddings. The
LDA and the PLDA are fitted on the **corpus's** clean training voices' segments for every run (a run that
trained on extra espeak-ng speakers fitted its own back ends on them too, so its single-network figures
here differ a little from its record's). Then the ensemble: each network's scores standardised by its
valid trials and averaged (:func:`course_lib.speaker.average_scores`, equal weights: nothing is fitted
on the test voices, and nothing but a mean and a spread on the valid ones), for every back end, and the
test EER of random sub-ensembles of k networks (mean, min and max over ``--subsets`` draws) to show how
the figure falls with k. The GMM-UBM baseline (32 components, MAP means, as in the recipe) is scored on
the same trials, and last the PLDA ensemble's average and the GMM-UBM averaged in turn, equal weights (a
hybrid of the network side and the baseline, not the network alone). EER in %, pooled and per test voice.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch

from course_lib import pretrained, speaker

BACK_ENDS = ("cosine", "lda", "plda")


def segments():
    """The recipe's segments (SPEAKER_CMN=0): training voices (held-out takes aside), valid (40 each), test."""
    def feats(split, **kw):
        segs = speaker.voice_segments(split, progress=True, **kw)
        return {v: [speaker.features(s, sr=16000, cmn=False) for s in ss] for v, ss in segs.items()}

    out = {}
    for name, d in (("train", feats("train", held_out=False)),
                    ("valid", {v: f[:40] for v, f in feats("valid").items()}), ("test", feats("test"))):
        out[name] = (np.stack([f for v in sorted(d) for f in d[v]]), np.array([v for v in sorted(d) for _ in d[v]]))
    return out


def network_scores(model, segs, vtrials, ttrials):
    """{back end: (valid scores, test scores)} of one network."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    def emb(F):
        with torch.no_grad():
            return np.concatenate([model.infer(torch.tensor(F[k:k + 512])).numpy() for k in range(0, len(F), 512)])

    (Ftr, ltr), (Fva, _), (Fte, _) = segs["train"], segs["valid"], segs["test"]
    Etr, Eva, Ete = emb(Ftr), emb(Fva), emb(Fte)
    (vi, vj), (ti, tj) = vtrials, ttrials
    out = {"cosine": (speaker.cosine_scores(Eva[vi], Eva[vj]), speaker.cosine_scores(Ete[ti], Ete[tj]))}
    lda = LinearDiscriminantAnalysis(n_components=min(40, len(set(ltr)) - 1, Etr.shape[1])).fit(Etr, ltr)
    Lva, Lte = lda.transform(Eva), lda.transform(Ete)
    out["lda"] = (speaker.cosine_scores(Lva[vi], Lva[vj]), speaker.cosine_scores(Lte[ti], Lte[tj]))
    mu, whiten = speaker.whitener(Etr)

    def ln(X):
        return speaker.length_norm(X, mean=mu, whiten=whiten)

    plda = speaker.PLDA().fit(ln(Etr), ltr)
    Pva, Pte = ln(Eva), ln(Ete)
    out["plda"] = (plda.score(Pva[vi], Pva[vj]), plda.score(Pte[ti], Pte[tj]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="speaker_xvector --out folders")
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    ap.add_argument("--subsets", type=int, default=30, help="random sub-ensembles drawn per size k")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    for r in args.runs:
        if not (r / "speaker_xvector.safetensors").is_file():
            ap.error(f"{r} holds no speaker_xvector.safetensors: pass the --out folder of a "
                     f"`python tools/train_models.py speaker_xvector --out FOLDER` run")
    t0 = time.time()
    segs = segments()
    val, tel = segs["valid"][1], segs["test"][1]
    vi, vj, vsame = speaker.trials(val)
    ti, tj, tsame = speaker.trials(tel)

    def figures(va, te):
        return {"valid_eer": 100 * speaker.eer(va, vsame).eer, "test_eer": 100 * speaker.eer(te, tsame).eer,
                "test_eer_per_voice": {v: 100 * e for v, e in speaker.eer_per_voice(te, tsame, tel, ti, tj).items()}}

    def show(label, f):
        print(f"{label:44s} valid {f['valid_eer']:5.2f}  test {f['test_eer']:5.2f}  ("
              + " / ".join(f"{v.split('_')[-1]} {e:.1f}" for v, e in f["test_eer_per_voice"].items()) + ")", flush=True)

    commands, scores = {}, {}
    for r in args.runs:
        record = r / "speaker_xvector.record.json"
        commands[str(r)] = json.loads(record.read_text())["command"] if record.is_file() else None
        model = pretrained.load("speaker_xvector", models_dir=r).eval()
        scores[str(r)] = network_scores(model, segs, (vi, vj), (ti, tj))
    names = list(scores)
    result = {"runs": {}, "ensemble": {}, "sub_ensembles": {}, "n_test_trials": int(len(tsame))}
    for name in names:
        result["runs"][name] = {"command": commands[name]} | {b: figures(*scores[name][b]) for b in BACK_ENDS}
        for b in BACK_ENDS:
            show(f"{name} {b}", result["runs"][name][b])
    rng = np.random.default_rng(args.seed)
    averaged = {}                                   # back end -> the ensemble's (valid, test) scores
    for b in BACK_ENDS:
        dev = np.stack([scores[n][b][0] for n in names], 1)
        te = np.stack([scores[n][b][1] for n in names], 1)
        averaged[b] = speaker.average_scores(dev, dev), speaker.average_scores(dev, te)
        ens = figures(*averaged[b])
        result["ensemble"][b] = ens
        show(f"ensemble of {len(names)}, {b}", ens)
        curve = {}
        for k in range(1, len(names) + 1):
            combos = list(itertools.combinations(range(len(names)), k))
            pick = rng.choice(len(combos), min(args.subsets, len(combos)), replace=False)
            e = [100 * speaker.eer(speaker.average_scores(dev[:, list(combos[p])], te[:, list(combos[p])]), tsame).eer
                 for p in pick]
            curve[k] = {"mean": float(np.mean(e)), "min": float(np.min(e)), "max": float(np.max(e)), "n": len(e)}
        result["sub_ensembles"][b] = curve
        print(f"{b}: test EER of k networks (mean over random sub-ensembles): "
              + ", ".join(f"{k}: {c['mean']:.1f}" for k, c in curve.items()), flush=True)
    frames = np.concatenate(list(segs["train"][0].transpose(0, 2, 1)))
    ubm = speaker.GMMUBM(32, seed=args.seed).fit(
        frames[np.random.default_rng(args.seed).choice(len(frames), 30000, replace=False)], max_iter=50)
    gva = ubm.trial_scores(list(segs["valid"][0].transpose(0, 2, 1)), vi, vj)
    gte = ubm.trial_scores(list(segs["test"][0].transpose(0, 2, 1)), ti, tj, progress=True)
    result["gmm_ubm"] = figures(gva, gte)
    show("GMM-UBM baseline", result["gmm_ubm"])
    # the PLDA ensemble as one system beside the GMM-UBM, equal weights again (a hybrid, not the network)
    pair_dev, pair_te = np.stack([averaged["plda"][0], gva], 1), np.stack([averaged["plda"][1], gte], 1)
    result["plda_ensemble_and_gmm_ubm"] = figures(speaker.average_scores(pair_dev, pair_dev),
                                                  speaker.average_scores(pair_dev, pair_te))
    show(f"ensemble of {len(names)} (PLDA) + GMM-UBM", result["plda_ensemble_and_gmm_ubm"])
    result["seconds"] = round(time.time() - t0, 1)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
        print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
