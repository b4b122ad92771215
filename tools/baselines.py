#!/usr/bin/env python
"""The corpus baselines of issue #9: how well do models trained on the shipped voices generalise?

Usage::

    python tools/baselines.py hmm                       # GMM-HMM digits: before/after, LOEO, augmentation
    python tools/baselines.py hmm --real ~/fsdd         # ... and real human speakers (FSDD, not shipped)
    python tools/baselines.py ctc --steps 600           # BiGRU-CTC sentence CER, before/after
    python tools/baselines.py sphinx [--real ~/fsdd]   # PocketSphinx per voice and engine: a naturalness screen
    python tools/baselines.py all --json results.json

**HMM** (chapter 04's recogniser, written out here so this script does not depend on
it): one left-to-right GMM-HMM per digit (hmmlearn, 5 states x 2 diagonal Gaussians),
MFCC + delta + delta-delta (13 + 13 + 13, 25 ms / 10 ms, 40 mel bands 50-4000 Hz, so
8 kHz telephone-band audio gives the same features), per-utterance CMVN, after an
energy endpointer (frames within 35 dB of the loudest, plus 50 ms). "before" trains on
the 16 training voices of the first corpus, "after" on all 70 training voices of
corpus v2; both are scored on every valid and test voice, per voice.

**Leave-one-engine-out**: train on the training voices of two engines, test on every
voice of the third (``data.leave_one_engine_out``).

**Augmentation**: the "after" training set plus one augmented copy of every clip
(``course_lib.augment``: reverberation, microphone band-limit, telephone line, level,
noise at 5-30 dB SNR from the shipped noises' train takes, and the random chain), scored
on the leave-one-engine-out tests and on the real speakers.

**Real speakers** (``--real`` or ``$COURSE_REAL_DIGITS``): the Free Spoken Digit
Dataset's two test speakers (``datasets.real_digits``), trained on synthetic voices only,
and on synthetic voices plus the three real training speakers.

**CTC**: a 2-layer BiGRU (about 0.5 M parameters) on 40 log-mel bands with CTC over
characters, trained for the same number of steps (default 600 batches of 16; a short
run, far from convergence) on the sentences of the "before" and "after" training voices
(with SpecAugment-style masking), greedy decoding, CER per test voice (jiwer's
definition, via ``course_lib.metrics.cer``).

**PocketSphinx screen** (``sphinx``): CMU PocketSphinx (``course_lib.sphinx``: the
generic US-English acoustic model trained on real speech, through SpeechRecognition's
``recognize_sphinx`` with a one-word grammar over the ten digits) on every digit clip of
every voice, per voice and per engine. Nothing of the corpus went into that model, so a
voice it cannot understand is one that does not sound like people; voices under
``--screen-below`` (default 50 %) are listed. With ``--real``, the real FSDD speakers
are screened the same way (the ceiling: what people score).

Every figure is measured when the script runs; nothing is copied from elsewhere.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))

from course_lib import augment, data, datasets, features  # noqa: E402

SR = 16000
N_FFT, HOP, N_MELS, FMIN, FMAX = 400, 160, 40, 50.0, 4000.0


def _real_root(args):
    """Where the real FSDD digits come from: --real, else $COURSE_REAL_DIGITS, else the shipped data/real; None if none."""
    shipped = datasets.SHIPPED_REAL_DIGITS
    return args.real or os.environ.get(datasets.REAL_DIGITS_ENV) or (shipped if shipped.is_dir() else None)


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------- HMM front end

def endpoint(y: np.ndarray, sr: int, *, top_db: float = 35.0, margin: float = 0.05) -> np.ndarray:
    """Keep the span from the first to the last 10 ms frame within ``top_db`` of the loudest."""
    hop = sr // 100
    n = len(y) // hop
    if n < 3:
        return y
    level = np.sqrt(np.mean(y[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)) + 1e-12
    on = np.flatnonzero(level > level.max() * 10 ** (-top_db / 20))
    m = int(margin * sr)
    return y[max(0, on[0] * hop - m): min(len(y), (on[-1] + 1) * hop + m)]


def feats(y: np.ndarray, sr: int) -> np.ndarray:
    """(n_frames, 39) MFCC + deltas, CMVN per utterance, at 16 kHz after endpointing."""
    if sr != SR:
        import soxr
        y = soxr.resample(y, sr, SR, quality="HQ").astype(np.float32)
    y = endpoint(y, SR)
    if len(y) < 12 * HOP:
        y = np.pad(y, (0, 12 * HOP - len(y)))
    F = features.mfcc_deltas(y.astype(np.float64), sr=SR, n_mfcc=13, n_fft=N_FFT, hop_length=HOP,
                             n_mels=N_MELS, fmin=FMIN, fmax=FMAX)
    return features.to_sequence(features.cmvn(F))


class LeftToRightGMMHMM:
    """A left-to-right HMM with diagonal-Gaussian-mixture states, trained by Viterbi
    re-estimation (segmental k-means) and scored by its best path, vectorised over
    all sequences at once.

    hmmlearn's ``GMMHMM`` (Baum-Welch) is the reference and ``--hmmlearn`` uses it; this
    version gives the same kind of model in a fraction of the time, which lets the
    script afford ~20 trainings on a shared 2-core machine.
    """

    def __init__(self, n_states: int = 5, n_mix: int = 2, n_iter: int = 8, var_floor: float = 1e-2, seed: int = 0):
        self.S, self.M, self.n_iter, self.var_floor = n_states, n_mix, n_iter, var_floor
        self.rng = np.random.default_rng(seed)

    def _pad(self, seqs):
        T = np.array([len(x) for x in seqs])
        X = np.zeros((len(seqs), T.max(), seqs[0].shape[1]))
        for i, x in enumerate(seqs):
            X[i, :len(x)] = x
        return X, T

    def _log_b(self, X):                                   # X (N, T, D) -> (N, T, S)
        N, T, D = X.shape
        x = X.reshape(-1, D)
        iv = 1.0 / self.var                                # (S, M, D)
        quad = (x ** 2) @ iv.reshape(-1, D).T - 2 * x @ (self.mu * iv).reshape(-1, D).T \
            + np.sum(self.mu ** 2 * iv, axis=-1).reshape(-1)                    # (NT, S*M)
        logn = -0.5 * (quad + np.sum(np.log(2 * np.pi * self.var), axis=-1).reshape(-1))
        lw = logn.reshape(-1, self.S, self.M) + np.log(self.w)[None]
        mx = lw.max(axis=-1, keepdims=True)
        return (mx[..., 0] + np.log(np.exp(lw - mx).sum(axis=-1))).reshape(N, T, self.S)

    def _viterbi(self, log_b, T):
        """Best left-to-right path ending in the last state: (log prob (N,), states (N, T))."""
        N, Tm, S = log_b.shape
        stay, move = np.log(self.a), np.log1p(-self.a)
        delta = np.full((N, S), -np.inf)
        delta[:, 0] = log_b[:, 0, 0]
        came = np.zeros((N, Tm, S), dtype=bool)            # True: moved in from state s-1
        for t in range(1, Tm):
            a = delta + stay
            b = np.full((N, S), -np.inf)
            b[:, 1:] = delta[:, :-1] + move[:-1]
            new = np.maximum(a, b) + log_b[:, t]
            live = (t < T)[:, None]
            came[:, t] = b > a
            delta = np.where(live, new, delta)
        path = np.zeros((N, Tm), dtype=int)
        s = np.full(N, S - 1)
        for t in range(Tm - 1, -1, -1):
            live = t < T
            path[live, t] = s[live]
            s = np.where(live & came[np.arange(N), t, s], s - 1, s)
        return delta[:, -1], path

    def _fit_states(self, X, T, path):
        D = X.shape[2]
        mask = np.arange(X.shape[1])[None] < T[:, None]
        for s in range(self.S):
            x = X[mask & (path == s)]
            if len(x) < 2 * self.M:
                continue
            mu, var, w = self.mu[s], self.var[s], self.w[s]
            for _ in range(4):                             # a few EM steps of the state's mixture
                ll = -0.5 * (((x[:, None] - mu[None]) ** 2 / var[None]).sum(-1) + np.log(2 * np.pi * var).sum(-1)) + np.log(w)
                r = np.exp(ll - ll.max(axis=1, keepdims=True))
                r /= r.sum(axis=1, keepdims=True)
                nk = r.sum(axis=0) + 1e-6
                w = nk / nk.sum()
                mu = (r.T @ x) / nk[:, None]
                var = np.maximum((r.T @ x ** 2) / nk[:, None] - mu ** 2, self.var_floor)
            self.mu[s], self.var[s], self.w[s] = mu, var, np.maximum(w, 1e-3) / np.maximum(w, 1e-3).sum()
            n_seq = np.sum(np.any(mask & (path == s), axis=1))
            self.a[s] = np.clip(1 - n_seq / len(x), 0.05, 0.95) if s < self.S - 1 else 1.0 - 1e-12
        return self

    def fit(self, seqs):
        X, T = self._pad(seqs)
        D = X.shape[2]
        path = np.minimum((np.arange(X.shape[1])[None] * self.S) // T[:, None], self.S - 1)   # uniform segments
        allx = np.concatenate(seqs)
        self.mu = np.repeat(allx.mean(0)[None, None], self.S, 0).repeat(self.M, 1)
        self.mu = self.mu + 0.2 * allx.std(0) * self.rng.standard_normal(self.mu.shape)
        self.var = np.ones((self.S, self.M, D)) * allx.var(0)
        self.w = np.full((self.S, self.M), 1.0 / self.M)
        self.a = np.full(self.S, 0.5)
        for s in range(self.S):                            # start each state's mixture at its own frames
            mask = (np.arange(X.shape[1])[None] < T[:, None]) & (path == s)
            self.mu[s] = X[mask].mean(0) + 0.2 * X[mask].std(0) * self.rng.standard_normal((self.M, D))
        for _ in range(self.n_iter):
            self._fit_states(X, T, path)
            _, path = self._viterbi(self._log_b(X), T)
        self._fit_states(X, T, path)
        return self

    def score(self, seqs) -> np.ndarray:
        X, T = self._pad(seqs)
        return self._viterbi(self._log_b(X), T)[0]


USE_HMMLEARN = False


def train_hmms(X: list[np.ndarray], labels: list[str], *, seed: int = 0) -> dict:
    """One 5-state x 2-mixture left-to-right model per digit."""
    models = {}
    for d in data.DIGITS:
        seqs = [x for x, lab in zip(X, labels) if lab == d]
        if not USE_HMMLEARN:
            models[d] = LeftToRightGMMHMM(seed=seed).fit(seqs)
            continue
        from hmmlearn import hmm

        n = 5
        m = hmm.GMMHMM(n_components=n, n_mix=2, covariance_type="diag", n_iter=15, random_state=seed,
                       init_params="mcw", params="tmcw")
        m.startprob_ = np.eye(n)[0]
        m.transmat_ = np.diag([0.5] * n) + np.diag([0.5] * (n - 1), 1) + np.diag([0] * (n - 1) + [0.5])
        m.fit(np.concatenate(seqs), lengths=[len(s) for s in seqs])
        models[d] = m
    return models


def predict(models: dict, X: list[np.ndarray]) -> list[str]:
    names = list(models)
    if not USE_HMMLEARN:
        S = np.stack([models[d].score(X) for d in names], axis=1)          # (n, digits)
    else:
        S = np.array([[models[d].score(x) for d in names] for x in X])
    return [names[i] for i in np.argmax(S, axis=1)]


def per_voice(clips, preds) -> dict:
    res = {}
    for c, p in zip(clips, preds):
        ok, n = res.get(c.speaker, (0, 0))
        res[c.speaker] = (ok + (p == c.label), n + 1)
    return {k: ok / n for k, (ok, n) in sorted(res.items())}


def accuracy(clips, preds) -> float:
    return float(np.mean([p == c.label for c, p in zip(clips, preds)]))


class FeatureCache:
    def __init__(self):
        self._d = {}

    def __call__(self, clips, tag=""):
        out = []
        for c in clips:
            key = (str(c.path), tag)
            if key not in self._d:
                self._d[key] = feats(c.audio, c.sr)
            out.append(self._d[key])
        return out


AUGMENTATIONS = ("reverb", "band_limit", "telephone", "level", "noise", "chain")


def augmented(clips, kind: str, *, seed: int, noises: list[np.ndarray]) -> list[np.ndarray]:
    """Features of one augmented copy of every clip."""
    out = []
    for i, c in enumerate(clips):
        rng = np.random.default_rng([seed, i, AUGMENTATIONS.index(kind)])
        y = c.audio
        noise = noises[int(rng.integers(len(noises)))]
        if kind == "reverb":
            y = augment.reverberate(y, sr=c.sr, rng=rng)
        elif kind == "band_limit":
            y = augment.band_limit(y, sr=c.sr, rng=rng)
        elif kind == "telephone":
            y = augment.telephone(y, sr=c.sr, rng=rng)
        elif kind == "level":
            y = augment.change_level(y, sr=c.sr, rng=rng, gain_db=float(rng.uniform(-20, 3)))
        elif kind == "noise":
            y = augment.add_noise(y, sr=c.sr, rng=rng, snr_db=float(rng.uniform(5, 30)), noise=noise)
        else:
            y = augment.recording_chain(y, sr=c.sr, rng=rng, noise=noise)
        out.append(feats(y, c.sr))
    return out


def fmt_row(name, values, width=9):
    return f"| {name:<34} | " + " | ".join(f"{v:>{width}}" for v in values) + " |"


def pct(x):
    return "-" if x is None else f"{100 * x:.1f}"


def run_hmm(args) -> dict:
    import corpus_text as ct

    t0 = time.perf_counter()
    fc = FeatureCache()
    v1_train = {s.id for s in ct.SPEAKERS if s.split == "train"}
    train_all = data.spoken_words(split="train", words=data.DIGITS)
    train_v1 = [c for c in train_all if c.speaker in v1_train]
    held = data.spoken_words(split="test", words=data.DIGITS) + data.spoken_words(split="valid", words=data.DIGITS)
    results = {"config": {"states": 5, "mixtures": 2, "features": "MFCC13+d+dd, CMVN, 40 mel 50-4000 Hz",
                          "train_voices_before": len(v1_train),
                          "train_voices_after": len({c.speaker for c in train_all})}}
    real_root = _real_root(args)
    real = {}
    if real_root:
        real["test"] = datasets.real_digits(split="test", takes=args.real_takes, root=real_root)
        real["train"] = datasets.real_digits(split="train", takes=args.real_takes, root=real_root)
        log(f"real digits: {len(real['train'])} train / {len(real['test'])} test clips from {real_root}")
    X_held = fc(held)
    X_real = fc(real["test"]) if real else None

    def evaluate(models, name):
        out = {"voices": per_voice(held, predict(models, X_held))}
        if real:
            pr = predict(models, X_real)
            out["real_test"] = accuracy(real["test"], pr)
            out["real_voices"] = per_voice(real["test"], pr)
        log(f"  {name}: " + ", ".join(f"{k}={100 * v:.0f}" for k, v in out["voices"].items())
            + (f"; real test {100 * out['real_test']:.1f} %" if real else "") + f"  [{time.perf_counter() - t0:.0f} s]")
        return out

    log(f"HMM before: {len(train_v1)} clips, after: {len(train_all)} clips")
    results["before"] = evaluate(train_hmms(fc(train_v1), [c.label for c in train_v1]), "before")
    X_after = fc(train_all)
    y_after = [c.label for c in train_all]
    results["after"] = evaluate(train_hmms(X_after, y_after), "after")
    if real:
        X_rt = fc(real["train"])
        results["after+real"] = evaluate(train_hmms(X_after + X_rt, y_after + [c.label for c in real["train"]]),
                                         "after + real train speakers")

    # leave-one-engine-out, without and with each augmentation
    noises = [data.noise(k, split="train").audio for k in ("pink", "babble", "fan", "hum", "rain")]
    loeo = {e: data.leave_one_engine_out(e, words=data.DIGITS) for e in data.ENGINES}
    results["loeo"] = {}
    for aug in ("none",) + (AUGMENTATIONS if not args.quick else ("chain",)):
        row = {}
        aug_train = None if aug == "none" else augmented(train_all, aug, seed=args.seed, noises=noises)
        for e, split in loeo.items():
            keep = [i for i, c in enumerate(train_all) if c.engine != e]
            X = [X_after[i] for i in keep]
            y = [y_after[i] for i in keep]
            if aug_train is not None:
                X += [aug_train[i] for i in keep]
                y += y
            models = train_hmms(X, y)
            pr = predict(models, fc(split.test))
            row[e] = {"accuracy": accuracy(split.test, pr), "voices": per_voice(split.test, pr)}
        if aug == "none":
            ev = results["after"]
        else:                                              # all engines + this augmentation
            ev = evaluate(train_hmms(X_after + aug_train, y_after + y_after), f"after + {aug}")
        row["held_out_min"] = min(ev["voices"].values())
        row["held_out_voices"] = ev["voices"]
        if real:
            row["real_test"] = ev["real_test"]
        results["loeo"][aug] = row
        log(f"  LOEO {aug}: " + ", ".join(f"{e} {100 * row[e]['accuracy']:.1f}" for e in data.ENGINES)
            + f"  [{time.perf_counter() - t0:.0f} s]")
    results["seconds"] = time.perf_counter() - t0
    print_hmm(results, real=bool(real))
    return results


def print_hmm(r: dict, *, real: bool) -> None:
    log("\nGMM-HMM digit accuracy (%) per held-out voice: before (16 training voices) vs after (70)")
    cols = ["before", "after"] + (["after+real"] if real else [])
    log(fmt_row("voice", cols))
    log("|" + "---|" * (len(cols) + 1))
    for v in r["before"]["voices"]:
        log(fmt_row(v, [pct(r[c]["voices"][v]) for c in cols]))
    if real:
        for v in r["before"]["real_voices"]:
            log(fmt_row(f"real: {v} (FSDD)", [pct(r[c]["real_voices"][v]) for c in cols]))
    log("\nLeave-one-engine-out accuracy (%) (train without engine E, test on all of E's voices)")
    augs = list(r["loeo"])
    log(fmt_row("augmentation", list(data.ENGINES) + ["min voice*"] + (["real test*"] if real else []), 10))
    log("|" + "---|" * (len(data.ENGINES) + 2 + real))
    for a in augs:
        row = r["loeo"][a]
        vals = [pct(row[e]["accuracy"]) for e in data.ENGINES] + [pct(row.get("held_out_min"))]
        if real:
            vals.append(pct(row.get("real_test")))
        log(fmt_row(a, vals, 10))
    log("* trained on all 70 training voices (+ that augmentation): worst valid/test voice, real test speakers")


# --------------------------------------------------------------------------- CTC

def run_ctc(args) -> dict:
    import torch
    from torch import nn

    from course_lib import metrics
    import corpus_text as ct

    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, args.threads))
    chars = " '" + "abcdefghijklmnopqrstuvwxyz"
    idx = {ch: i + 1 for i, ch in enumerate(chars)}           # 0 is the CTC blank

    def logmel(y):
        M = features.melspectrogram(y.astype(np.float64), sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=40,
                                    fmin=FMIN, fmax=7600.0)
        L = np.log(M + 1e-6)
        return ((L - L.mean(axis=1, keepdims=True)) / (L.std(axis=1, keepdims=True) + 1e-5)).T.astype(np.float32)

    class BiGRU(nn.Module):
        def __init__(self, n_in=40, hidden=128, n_out=len(chars) + 1):
            super().__init__()
            self.conv = nn.Conv1d(n_in, hidden, 5, stride=2, padding=2)         # 20 ms frames
            self.rnn = nn.GRU(hidden, hidden, num_layers=2, bidirectional=True, batch_first=True)
            self.out = nn.Linear(2 * hidden, n_out)

        def forward(self, x):                                    # x: (B, T, 40)
            h = torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)   # (B, T/2, H)
            h, _ = self.rnn(h)                                   # (B, T/2, 2H)
            return self.out(h).log_softmax(-1)                   # (B, T/2, C)

    v1_train = {s.id for s in ct.SPEAKERS if s.split == "train"}
    train_all = data.sentences(split="train")
    test = data.sentences(split="test")
    feats_cache = {}

    def F(c):
        if c.path not in feats_cache:
            feats_cache[c.path] = logmel(endpoint(c.audio, c.sr))
        return feats_cache[c.path]

    def batch(items, rng, train):
        xs = [torch.from_numpy(F(c)) for c in items]
        if train:                                                # SpecAugment: 1 freq + 2 time masks
            xs = [x.clone() for x in xs]
            for x in xs:
                f0 = int(rng.integers(0, 32)); x[:, f0:f0 + int(rng.integers(0, 8))] = 0
                for _ in range(2):
                    t0 = int(rng.integers(0, max(1, len(x) - 20))); x[t0:t0 + int(rng.integers(0, 15))] = 0
        lens = torch.tensor([len(x) for x in xs])
        X = nn.utils.rnn.pad_sequence(xs, batch_first=True)
        ys = [torch.tensor([idx[ch] for ch in c.text]) for c in items]
        return X, lens, torch.cat(ys), torch.tensor([len(y) for y in ys])

    def decode(lp):
        best = lp.argmax(-1).tolist()
        out, prev = [], 0
        for b in best:
            if b != prev and b != 0:
                out.append(chars[b - 1])
            prev = b
        return "".join(out)

    res = {"steps": args.steps, "batch": 16, "threads": args.threads}
    for name, clips in (("before", [c for c in train_all if c.speaker in v1_train]), ("after", train_all)):
        model = BiGRU()
        n_par = sum(p.numel() for p in model.parameters())
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        ctc = nn.CTCLoss(zero_infinity=True)
        rng = np.random.default_rng(args.seed)
        t0, steps = time.perf_counter(), 0
        while steps < args.steps and time.perf_counter() - t0 < 60 * args.minutes:
            items = [clips[i] for i in rng.choice(len(clips), 16, replace=False)]
            X, lens, Y, ylens = batch(items, rng, True)
            lp = model(X)                                         # (B, T', C)
            out_lens = (lens + 1) // 2
            loss = ctc(lp.transpose(0, 1), Y, out_lens, ylens)    # CTCLoss wants (T', B, C)
            opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(model.parameters(), 5.0); opt.step()
            steps += 1
        model.eval()
        hyp = {}
        with torch.no_grad():
            for c in test:
                hyp[c.path] = decode(model(torch.from_numpy(F(c))[None])[0])
        voices = {}
        for spk in sorted({c.speaker for c in test}):
            cs = [c for c in test if c.speaker == spk]
            voices[spk] = metrics.cer([c.text for c in cs], [hyp[c.path] for c in cs])
        res[name] = {"train_sentences": len(clips), "steps": steps, "params": n_par, "voices": voices,
                     "last_loss": float(loss)}
        log(f"CTC {name}: {len(clips)} sentences, {n_par} parameters, {steps} steps in "
            f"{(time.perf_counter() - t0) / 60:.1f} min; CER "
            + ", ".join(f"{k}={100 * v:.1f}" for k, v in voices.items()))
    log(f"\nBiGRU-CTC CER (%) per test voice, {args.steps} steps of 16 sentences each: before vs after")
    log(fmt_row("voice", ["before", "after"]))
    log("|---|---|---|")
    for v in res["before"]["voices"]:
        log(fmt_row(v, [pct(res["before"]["voices"][v]), pct(res["after"]["voices"][v])]))
    return res


def run_sphinx(args) -> dict:
    """PocketSphinx digit accuracy per voice (all splits) and per engine: the naturalness screen."""
    from course_lib import sphinx

    if not sphinx.available():
        log("PocketSphinx is not installed (pip install pocketsphinx SpeechRecognition): screen skipped")
        return {}
    rec = sphinx.SphinxRecognizer(data.DIGITS)
    t0 = time.perf_counter()
    clips = data.spoken_words(words=data.DIGITS)
    voices, engines, splits, engine_of = {}, {}, {}, {}
    for c in clips:
        ok = rec.predict(c.audio, sr=c.sr) == c.label
        voices.setdefault(c.speaker, []).append(ok)
        engines.setdefault(c.engine, []).append(ok)
        splits[c.speaker] = c.split
        engine_of[c.speaker] = c.engine
    res = {"voices": {v: float(np.mean(x)) for v, x in sorted(voices.items())},
           "engines": {e: float(np.mean(x)) for e, x in sorted(engines.items())},
           "clips": len(clips), "threshold": args.screen_below}
    res["engine_voice_median"] = {e: float(np.median([res["voices"][v] for v in voices if engine_of[v] == e]))
                                  for e in engines}
    real_root = _real_root(args)
    if real_root:
        real = datasets.real_digits(takes=args.real_takes, root=real_root)
        per = {}
        for c in real:
            per.setdefault(c.speaker, []).append(rec.predict(c.audio, sr=c.sr) == c.label)
        res["real"] = {k: float(np.mean(v)) for k, v in sorted(per.items())}
    log(f"\nPocketSphinx (digit grammar) accuracy (%) per voice, {len(clips)} digit clips "
        f"[{time.perf_counter() - t0:.0f} s]; sorted, worst first")
    log(fmt_row("voice (split)", ["accuracy"]))
    log("|---|---|")
    for v, a in sorted(res["voices"].items(), key=lambda kv: kv[1]):
        log(fmt_row(f"{v} ({splits[v]})", [pct(a)]))
    log("\nper engine: " + ", ".join(f"{e} {pct(a)} (median voice {pct(res['engine_voice_median'][e])})"
                                   for e, a in res["engines"].items()))
    low = [v for v, a in res["voices"].items() if a < args.screen_below]
    log(f"voices below {100 * args.screen_below:.0f} %: {len(low)} of {len(voices)}: " + ", ".join(low))
    if "real" in res:
        log("real FSDD speakers (not shipped): " + ", ".join(f"{k} {pct(v)}" for k, v in res["real"].items()))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["hmm", "ctc", "sphinx", "all"])
    ap.add_argument("--real", help="folder of FSDD recordings (default: $COURSE_REAL_DIGITS, else skipped)")
    ap.add_argument("--real-takes", type=int, default=10, help="takes per digit and real speaker (default 10 of 50)")
    ap.add_argument("--steps", type=int, default=600, help="CTC training steps (batches of 16) per model")
    ap.add_argument("--minutes", type=float, default=30.0, help="CTC wall-clock limit per model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="only the 'chain' augmentation")
    ap.add_argument("--screen-below", type=float, default=0.5,
                    help="sphinx: list the voices PocketSphinx understands less often than this (default 0.5)")
    ap.add_argument("--hmmlearn", action="store_true",
                    help="train with hmmlearn's GMMHMM (Baum-Welch; about 20x slower) instead of Viterbi training")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    global USE_HMMLEARN
    USE_HMMLEARN = args.hmmlearn
    out = {}
    if args.what in ("hmm", "all"):
        out["hmm"] = run_hmm(args)
    if args.what in ("ctc", "all"):
        out["ctc"] = run_ctc(args)
    if args.what in ("sphinx", "all"):
        out["sphinx"] = run_sphinx(args)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
