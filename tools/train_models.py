#!/usr/bin/env python
"""Train the course's shipped checkpoints into ``data/models/``.

    python tools/train_models.py NAME            # train NAME, write data/models/NAME.*, update the manifest
    python tools/train_models.py --list          # the names this script can train
    python tools/train_models.py NAME --out DIR  # write elsewhere (e.g. to compare two runs)

Each recipe trains with a fixed seed through ``course_lib.train.fit`` on the
corpus in ``data/`` and measures the model on the test split (voices never
heard in training) through its raw-audio interface (``.predict(y, sr=...)``),
per voice. The training record (``NAME.record.json``) keeps the command, seed,
corpus manifest sha256, git commit, wall time, hardware and those metrics.

Retraining changes the checkpoint's bytes and adds to git history: retrain only
when the model or its recipe changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402


def _git_commit() -> dict:
    """HEAD and the files of course_lib/ and tools/ that differ from it. ``main`` takes it when the run
    starts (the code that trains); if it differs when the record is written, the record keeps both."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "course_lib", "tools"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.splitlines()
        return {"commit": commit, "uncommitted": sorted(line[3:] for line in dirty)}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "uncommitted": []}


def _hardware() -> dict:
    import torch

    from course_lib import config

    dev = config.device()
    return {
        "device": dev,
        "gpu": torch.cuda.get_device_name(0) if dev == "cuda" else None,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def per_voice_accuracy(model, clips) -> dict:
    """Accuracy of ``model.predict`` on raw audio, overall and per speaker (voice)."""
    from tqdm.auto import tqdm

    hits = defaultdict(list)
    for c in tqdm(clips, desc="test", unit="clip", mininterval=1.0):
        hits[c.speaker].append(model.predict(c.audio, sr=c.sr) == c.label)
    per_voice = {v: float(np.mean(h)) for v, h in sorted(hits.items())}
    overall = float(np.mean([x for h in hits.values() for x in h]))
    return {"accuracy": overall, "per_voice_accuracy": per_voice, "n_test_clips": len(clips)}


# --------------------------------------------------------------------------- recipes

def words_mfcc_logreg(*, seed: int) -> tuple:
    """Logistic regression on MFCC statistics of the 20 corpus words (the chapter 07 baseline)."""
    import torch
    from tqdm.auto import tqdm

    from course_lib import data, pretrained, train

    # A 1k-parameter model: one thread is fastest, and on a busy machine several threads
    # spin-wait for each other (measured: 9 ms per step with 1 thread, 146 ms with 2 under load).
    torch.set_num_threads(1)
    cfg = pretrained.MfccStatsConfig(labels=data.WORDS)
    model = pretrained.MfccLogReg(cfg)

    def featurise(split):
        clips = data.spoken_words(split=split)
        X = np.stack([pretrained.mfcc_stats(c.audio, sr=c.sr, config=cfg)
                      for c in tqdm(clips, desc=f"features {split}", unit="clip", mininterval=1.0)])
        y = np.array([cfg.labels.index(c.label) for c in clips])
        return clips, torch.from_numpy(X), torch.from_numpy(y)

    _, Xtr, ytr = featurise("train")
    _, Xva, yva = featurise("valid")
    model.set_normalisation(Xtr)
    torch.manual_seed(seed)
    torch.nn.init.zeros_(model.linear.weight)          # a convex problem: start from zero
    torch.nn.init.zeros_(model.linear.bias)
    history = train.fit(model, (Xtr, ytr), valid_data=(Xva, yva), loss_fn=torch.nn.functional.cross_entropy,
                        # lr and weight decay chosen on the valid split among (0.01, 0.01), (0.003, 0.05), (0.01, 0.1)
                        optimizer=lambda p: torch.optim.AdamW(p, lr=0.003, weight_decay=0.05),
                        metrics={"accuracy": train.accuracy}, monitor="valid_loss", patience=20,
                        epochs=150, batch_size=64, seed=seed, desc="words_mfcc_logreg")
    model.cpu().eval()
    test = per_voice_accuracy(model, data.spoken_words(split="test"))
    best = history.epochs[history.best_epoch]
    metrics = {"test": test, "valid_accuracy": best["valid_accuracy"], "train_accuracy": best["train_accuracy"],
               "epochs_run": len(history.epochs), "best_epoch": history.best_epoch, "stopped": history.stopped,
               "n_train_clips": len(ytr), "n_parameters": sum(p.numel() for p in model.parameters())}
    return model, metrics


def _shipped_start(name: str) -> tuple:
    """A warm start ($..._INIT=shipped): the committed checkpoint ``name`` and what its record says of
    how it was made (commit, command, and its own warm start), for the new record's "warm_start_from";
    each recipe adds the fields of its own training."""
    from course_lib import pretrained

    model = pretrained.load(name, device="cpu")
    prev = model.record
    return model, {"git_commit": prev.get("git_commit"), "command": prev.get("command"),
                   "warm_start_from": prev["metrics"].get("warm_start_from")}


def enhance_mask(*, seed: int, time_budget: float = 2400.0, finetune_budget: float = 900.0) -> tuple:
    """Chapter 09's causal ratio-mask estimator (course_lib.enhance.MaskNet), trained longer than a notebook can.

    Training: corpus training voices' sentences + every noise kind's *train* take (SNR -7.5..12.5 dB),
    ``time_budget`` seconds at lr 2e-3, then ``finetune_budget`` seconds at lr 5e-4 (seed + 1);
    test: 5 sentences of each test voice x the *test* takes of white, babble, fan, hum x SNR -5, 0, 5, 10 dB,
    PESQ (wb), ESTOI and SI-SDR per voice, per noise and per SNR for noisy / spectral subtraction / Wiener / mask.
    $ENHANCE_TIME_BUDGET / $ENHANCE_FINETUNE_BUDGET override the two budgets and $ENHANCE_LR /
    $ENHANCE_FINETUNE_LR the two learning rates; $ENHANCE_LOSS=si_sdr+spectral adds a compressed-magnitude
    spectral term to the loss (enhance.neg_compressed_spectral_snr). $ENHANCE_INIT=shipped continues from the committed
    data/models/enhance_mask weights (their normalisation kept, a fresh optimiser); the record keeps
    the earlier run's stages under "warm_start_from". With it, $ENHANCE_LOOKAHEAD=1,2,4 appends centred
    blocks of those dilations to a causal checkpoint (MaskNet.with_lookahead: the same masks until trained),
    so that each frame's gain also sees sum(dilations) future frames. $ENHANCE_MASK_MAX (default 1) bounds
    the gain: above 1 the mask may amplify a bin (MaskNet.with_mask_max when warm-starting from a smaller bound).
    $ENHANCE_SHIFTS (default 1) sets the config's ``shifts``: MaskNet.enhance, and so the test table, averages
    that many passes at offsets of hop_length / shifts (test-time shift averaging; training is unchanged).
    A budget of 0 skips its stage: ENHANCE_INIT=shipped with both budgets 0 re-measures the committed
    weights (e.g. with another $ENHANCE_SHIFTS) without training them.
    """
    import dataclasses

    import torch

    from course_lib import data, enhance

    torch.set_num_threads(1)                # a small conv net: one thread, other work keeps the second core
    time_budget = float(os.environ.get("ENHANCE_TIME_BUDGET", time_budget))
    finetune_budget = float(os.environ.get("ENHANCE_FINETUNE_BUDGET", finetune_budget))
    lr1 = float(os.environ.get("ENHANCE_LR", "2e-3"))
    lr2 = float(os.environ.get("ENHANCE_FINETUNE_LR", "5e-4"))
    loss = os.environ.get("ENHANCE_LOSS", "si_sdr")
    mask_max = float(os.environ.get("ENHANCE_MASK_MAX", "1"))
    shifts = int(os.environ.get("ENHANCE_SHIFTS", "1"))
    stages = {}
    model, warm_start = None, None
    if os.environ.get("ENHANCE_INIT") == "shipped":
        model, warm_start = _shipped_start("enhance_mask")
        prev = model.record
        warm_start.update(how=prev.get("how"),
                          stages={k: v for k, v in prev["metrics"].items() if k.startswith("stage")})
        lookahead = tuple(int(d) for d in os.environ.get("ENHANCE_LOOKAHEAD", "").split(",") if d)
        if lookahead:                           # centred blocks appended, starting as the identity
            model = model.with_lookahead(lookahead)
            warm_start.update(lookahead_added=list(lookahead),
                              test_overall=prev["metrics"]["test"]["overall"])
        if mask_max != model.config.mask_max:   # the same weights, a larger bound on the gain
            warm_start.update(mask_max_from=model.config.mask_max, test_overall=prev["metrics"]["test"]["overall"])
            model = model.with_mask_max(mask_max)
    for name, budget, lr, s in (("stage1", time_budget, lr1, seed), ("stage2", finetune_budget, lr2, seed + 1)):
        if budget <= 0:
            if model is None:
                raise SystemExit("enhance_mask: a budget of 0 needs ENHANCE_INIT=shipped (nothing to measure)")
            continue
        model, history = enhance.train_mask(model=model, config=enhance.MaskNetConfig(mask_max=mask_max),
                                            time_budget=budget, epochs=10_000, lr=lr, seed=s,
                                            loss=loss)
        best = history.epochs[history.best_epoch]
        key = "neg_si_sdr" if loss == "si_sdr" else "loss"
        stages[name] = {f"valid_{key}": best["valid_loss"], f"train_{key}": best["train_loss"], "loss": loss,
                        "epochs_run": len(history.epochs), "best_epoch": history.best_epoch,
                        "stopped": history.stopped, "train_seconds": history.wall_time, "lr": lr, "seed": s}
    model.config = dataclasses.replace(model.config, shifts=shifts)      # checked by MaskNetConfig
    by_voice = {}
    for c in data.sentences(split="test"):
        by_voice.setdefault(c.speaker, []).append(c)
    clips = [c for v in sorted(by_voice) for c in by_voice[v][:5]]
    rows = enhance.quality_table({"spectral subtraction": enhance.spectral_subtraction, "wiener": enhance.wiener,
                                  "mask": model.enhance}, clips, seed=seed)
    test = {"overall": {k[0]: v for k, v in enhance.summarize(rows).items()}, "n_test_clips": len(clips),
            "noise_kinds": ["white", "babble", "fan", "hum"], "snr_db": [-5, 0, 5, 10]}
    for by, key in (("voice", "per_voice"), ("noise", "per_noise"), ("snr_db", "per_snr_db")):
        test[key] = {}
        for (group, method), v in enhance.summarize(rows, by=(by, "method")).items():
            test[key].setdefault(str(group), {})[method] = v
    metrics = {**stages, "n_parameters": model.n_parameters(), "shifts": shifts, "test": test,
               "warm_start_from": warm_start}
    if not stages:
        metrics["not_trained"] = "both budgets 0: the committed weights measured again (see warm_start_from)"
    return model, metrics


def _superres(factor: int, *, seed: int, time_budget: float = 1500.0) -> tuple:
    """Chapter 10's bandwidth extender at one factor: trained on full-band training voices, energy chosen on valid."""
    import torch

    from course_lib import data, superres

    torch.set_num_threads(1)
    model, history, table = superres.train_extender(factor=factor, time_budget=time_budget, seed=seed)
    result = superres.evaluate(data.sentences(split="test"), factor=factor, model=model)
    last = history.epochs[-1]
    metrics = {"test": result, "valid_energy_table": table, "epochs_run": len(history.epochs),
               "train_l1_log_magnitude": last["train_loss"], "train_seconds": history.wall_time,
               "n_parameters": sum(p.numel() for p in model.parameters())}
    return model, metrics


def superres_x2(*, seed: int) -> tuple:
    """Bandwidth extension 8 -> 16 kHz (chapter 10)."""
    return _superres(2, seed=seed)


def superres_x4(*, seed: int) -> tuple:
    """Bandwidth extension 4 -> 16 kHz (chapter 10)."""
    return _superres(4, seed=seed, time_budget=2400.0)   # x4 has more band to learn: 40 min


def ctc_bigru(*, seed: int) -> tuple:
    """Chapter 05's CTC recogniser (course_lib.asr.models.CTCRecognizer): log-mel, conv subsampling, BiGRU.

    Training: every training voice's sentences, spoken words and digit strings, with speed perturbation
    (0.85-1.15), a random recording chain (room, band, telephone, noise train takes, level) and SpecAugment;
    best epoch by valid CTC loss. Test (voices never heard): CER/WER per voice, greedy / beam / beam + LM,
    connected digits, babble and fan noise (test takes) at 10 dB SNR. Budget: $CTC_TIME_BUDGET seconds (4800).

    Two stride-2 convolutions (40 ms output steps, as chapter 06's Transformer): a step costs about
    0.25 s on one thread where one stride-2 convolution (20 ms, the first shipped run: 8 epochs in
    72 min, CER 0.57) cost 0.6 s, so the same budget sees several times more epochs (the shipped run:
    CTC_TIME_BUDGET=6000, 201 epochs, greedy CER 0.044). AdamW with
    chapter 06's warm-up schedule (peak $CTC_LR, default 1.5e-3, $CTC_WARMUP steps, default 400;
    $CTC_WARMUP=0: a constant learning rate, as the notebook's AdamW).
    $CTC_INIT=shipped continues from the committed data/models/ctc_bigru weights (same config; a warm
    start with a fresh optimiser); the record keeps the earlier run under "warm_start_from".
    """
    import torch

    from course_lib.asr import training
    from course_lib.asr.models import CTCConfig

    torch.set_num_threads(1)                # a busy shared CPU: one thread (see words_mfcc_logreg)
    budget = float(os.environ.get("CTC_TIME_BUDGET", "4800"))
    lr, warmup = float(os.environ.get("CTC_LR", "1.5e-3")), int(os.environ.get("CTC_WARMUP", "400"))
    cfg = CTCConfig(channels=128, n_conv=2, hidden=160, n_layers=3, dropout=0.15)
    ckpt = os.environ.get("CTC_CHECKPOINT_DIR")
    init, warm_start = None, None
    if os.environ.get("CTC_INIT") == "shipped":
        init, warm_start = _shipped_start("ctc_bigru")
        warm_start.update({k: init.record["metrics"].get(k) for k in ("train_seconds", "epochs_run", "history")},
                          lr=lr, warmup_steps=warmup)
    model, history = training.train_recognizer(cfg, time_budget=budget, batch_size=16, lr=lr, seed=seed,
                                               warmup_steps=warmup or None, init_from=init, checkpoint_dir=ckpt,
                                               resume=ckpt is not None, desc="ctc_bigru")
    test = training.report(model)
    best = history.epochs[history.best_epoch]
    metrics = {"test": test, "valid_ctc_loss": best["valid_loss"], "train_ctc_loss": best["train_loss"],
               "epochs_run": len(history.epochs), "best_epoch": history.best_epoch, "stopped": history.stopped,
               "train_seconds": history.wall_time, "time_budget_s": budget, "n_parameters": test["n_parameters"],
               "history": [{k: v for k, v in e.items() if isinstance(v, (int, float))} for e in history.epochs],
               "warm_start_from": warm_start}
    return model, metrics


def asr_transformer(*, seed: int) -> tuple:
    """Chapter 06's attention recogniser (course_lib.asr.transformer.TransformerRecognizer): log-mel, conv
    subsampling (40 ms steps), 4-layer Transformer encoder with a CTC head, 2-layer autoregressive decoder;
    hybrid loss 0.3 CTC + 0.7 attention (label smoothing 0.1), warm-up AdamW.

    Training data, augmentation, validation and the test set are chapter 05's (ctc_bigru), so the two
    checkpoints compare directly. Test (voices never heard): CER/WER per voice, greedy / beam 8 / beam 8
    rescored with CTC, connected digits, babble and fan noise at 10 dB. Budget: $TRANSFORMER_TIME_BUDGET
    seconds of training (1800) on one thread. $TRANSFORMER_INIT=shipped continues from the committed
    data/models/asr_transformer weights (a warm start with a fresh optimiser, peak learning rate
    $TRANSFORMER_LR, default 1e-3, warm-up $TRANSFORMER_WARMUP steps, default 400); the record keeps the
    earlier run's history under "warm_start_from".
    """
    import torch

    from course_lib.asr import transformer_training
    from course_lib.asr.transformer import TransformerConfig

    torch.set_num_threads(1)                # a busy shared CPU: one thread (see words_mfcc_logreg)
    budget = float(os.environ.get("TRANSFORMER_TIME_BUDGET", "1800"))
    cfg = TransformerConfig(d_model=128, n_heads=4, d_ff=256, n_encoder_layers=4, n_decoder_layers=2,
                            dropout=0.1, ctc_weight=0.3, label_smoothing=0.1)
    ckpt = os.environ.get("TRANSFORMER_CHECKPOINT_DIR")
    lr, warmup = float(os.environ.get("TRANSFORMER_LR", "1e-3")), int(os.environ.get("TRANSFORMER_WARMUP", "400"))
    init, warm_start = None, None
    if os.environ.get("TRANSFORMER_INIT") == "shipped":
        init, warm_start = _shipped_start("asr_transformer")
        warm_start.update({k: init.record["metrics"].get(k) for k in ("train_seconds", "epochs_run", "history")},
                          lr=lr, warmup_steps=warmup)
    model, history = transformer_training.train_transformer(
        cfg, time_budget=budget, batch_size=16, lr=lr, warmup_steps=warmup, seed=seed, checkpoint_dir=ckpt,
        resume=ckpt is not None, desc="asr_transformer", init_from=init)
    test = transformer_training.report(model)
    best = history.epochs[history.best_epoch]
    metrics = {"test": test, "valid_hybrid_loss": best["valid_loss"], "train_hybrid_loss": best["train_loss"],
               "epochs_run": len(history.epochs), "best_epoch": history.best_epoch, "stopped": history.stopped,
               "train_seconds": history.wall_time, "time_budget_s": budget, "n_parameters": test["n_parameters"],
               "history": [{k: v for k, v in e.items() if isinstance(v, (int, float))} for e in history.epochs],
               "warm_start_from": warm_start}
    return model, metrics


def kws_cnn(*, seed: int) -> tuple:
    """Chapter 07's keyword spotter (course_lib.classify.KeywordSpotter, CNN): 20 words + silence + unknown.

    Training windows (1 s, the word at a random offset): every training voice, $KWS_COPIES copies (1), each
    through a random recording chain (room, microphone band, telephone) and, with p = 0.8, one of the eight
    noises' *train* takes at -5..25 dB SNR, a level of -30..0 dBFS, half of them pitch-shifted (+-2
    semitones) or time-stretched (0.85-1.15); SpecAugment on the log-mels. Test: the test voices in 1 s
    windows, clean and with the noises' *test* takes at 10 and 0 dB; the real FSDD test speakers (lucas,
    theo; measured only, from $COURSE_REAL_DIGITS) as recorded (8 kHz) and at 16 kHz in 1 s windows at
    random offsets. Also recorded: the real-speech figure of the same recipe with the three real training
    speakers added ($KWS_REAL_BUDGET s; measurement only, that model is not shipped) and, when
    $KWS_ABLATION_BUDGET > 0, the ablation (no augmentation / + noise / + SpecAugment / + pitch & stretch).
    Budget: $KWS_TIME_BUDGET seconds (660) on one thread, at most $KWS_EPOCHS epochs (200); AdamW at $KWS_LR
    (3e-3), constant, or with $KWS_SCHEDULE=one-cycle on the one-cycle schedule over $KWS_EPOCHS epochs (set the
    budget so that the schedule ends before it does). Every checkpoint before December 2026 ran at a constant
    rate: the docstrings spoke of a one-cycle schedule that train_kws did not have. $KWS_CHANNELS: the CNN's
    widths (12,24,32). $KWS_REAL_COPIES > 0 (0) puts the three real FSDD training speakers into the shipped
    model's training set ($KWS_REAL_COPIES augmented copies of each take, through the same chain, noise and
    pitch / stretch) and the real valid speaker (nicolas) into its validation windows, the sim-to-real gap's
    remedy of issue #25; its real-speech figures are then those of the shipped model, and the synthetic-only
    figures beside them are read from $KWS_SYNTHETIC_ONLY_RECORD (a record of the same recipe without real
    speakers; not measured again here). $KWS_INIT=shipped continues from the committed kws_cnn weights
    (same $KWS_CHANNELS; a fresh optimiser and schedule). $KWS_VALID_COPIES (1): augmented copies of each
    valid clip (corpus and real) in the validation windows that choose the epoch - a larger, less noisy
    selector (at 1: 252 corpus + 100 real windows, whose choice disagreed with every test set).
    $KWS_VOICE_CHANGE (0): the probability that a training word (corpus or real) is first spoken by another
    voice (classify.kws_windows(voice_change=): augment.change_voice, formants and pitch moved apart);
    $KWS_VOICE_CHANGE_REAL (as $KWS_VOICE_CHANGE): the same for the real training speakers' words.
    $KWS_ESPEAK_VOICES (0): that many new training speakers, espeak-ng variants each saying the 20 words once
    (tools/espeak_voices.speak_words; needs espeak-ng; $KWS_ESPEAK_SAMPLER "mix" (blends of two training
    voices' variants) or "random"), $KWS_ESPEAK_COPIES (2) windows of each word through the same chain, noise
    and pitch / stretch as the corpus's; their variant files in the record's "espeak_voices".
    $KWS_WARPS (1) and $KWS_SHIFTS (0), comma-separated: the config's test-time ``warps`` (mel filterbank
    edges scaled) and ``shifts`` (the window rotated, in samples), whose softmax predict and every figure
    below average (classify.KwsConfig); training and its choice of epoch stay one pass. The record's
    "valid_accuracy_averaged" is that average on the same validation windows. $KWS_TIME_BUDGET=0 with
    $KWS_INIT=shipped trains nothing: the committed weights measured again (e.g. with other warps and
    shifts), their training figures kept under "warm_start_from".
    """
    import dataclasses

    import torch

    from course_lib import classify, data

    torch.set_num_threads(1)                # a busy shared CPU: one thread (see words_mfcc_logreg)
    budget = float(os.environ.get("KWS_TIME_BUDGET", "660"))
    ablation_budget = float(os.environ.get("KWS_ABLATION_BUDGET", "0"))
    real_budget = float(os.environ.get("KWS_REAL_BUDGET", "240"))
    copies = int(os.environ.get("KWS_COPIES", "1"))
    epochs = int(os.environ.get("KWS_EPOCHS", "200"))
    schedule, lr = os.environ.get("KWS_SCHEDULE", "constant"), float(os.environ.get("KWS_LR", "3e-3"))
    rng = np.random.default_rng(seed)
    cfg = classify.KwsConfig(arch="cnn", channels=tuple(int(c) for c in os.environ.get("KWS_CHANNELS", "12,24,32").split(",")))
    real_copies = int(os.environ.get("KWS_REAL_COPIES", "0"))
    valid_copies = int(os.environ.get("KWS_VALID_COPIES", "1"))
    valid = classify.kws_windows("valid", rng=rng, copies=valid_copies, pitch_stretch=False)[:2]
    voice_change = float(os.environ.get("KWS_VOICE_CHANGE", "0"))
    voice_change_real = float(os.environ.get("KWS_VOICE_CHANGE_REAL", str(voice_change)))
    W, T, _ = classify.kws_windows("train", rng=rng, copies=copies, pitch_stretch=True, voice_change=voice_change)
    if real_copies > 0:                     # the real training speakers in the shipped model (issue #25)
        Wr, Tr, _ = classify.kws_windows("train", rng=rng, copies=real_copies, pitch_stretch=True, voice_change=voice_change_real,
                                         extra_clips=data.real_digits(split="train"), corpus=False,
                                         n_silence=0, n_unknown=0)
        Wv, Tv, _ = classify.kws_windows("valid", rng=rng, copies=valid_copies, pitch_stretch=False,
                                         extra_clips=data.real_digits(split="valid"), corpus=False,
                                         n_silence=0, n_unknown=0)
        W, T = np.concatenate([W, Wr]), np.concatenate([T, Tr])
        valid = (np.concatenate([valid[0], Wv]), np.concatenate([valid[1], Tv]))
        print(f"real speakers: {len(Tr)} training windows, {len(Tv)} valid windows", flush=True)
    n_espeak = int(os.environ.get("KWS_ESPEAK_VOICES", "0"))
    espeak_info = {}
    if n_espeak:                            # new espeak-ng speakers saying the keywords (training only)
        from espeak_voices import speak_words
        speech, espeak_info = speak_words(n_espeak, list(data.WORDS), seed=seed,
                                          sampler=os.environ.get("KWS_ESPEAK_SAMPLER", "mix"))
        clips = [data.Clip(audio=y, sr=16000, path=Path(f"{v}/{w}"), label=w, speaker=v, split="train",
                           kind="word", engine="espeak-ng")
                 for v, ws in speech.items() for w, y in ws.items()]
        We, Te, _ = classify.kws_windows("train", rng=rng, copies=int(os.environ.get("KWS_ESPEAK_COPIES", "2")),
                                         pitch_stretch=True, extra_clips=clips, corpus=False,
                                         n_silence=0, n_unknown=0)
        W, T = np.concatenate([W, We]), np.concatenate([T, Te])
        print(f"espeak-ng voices: {len(espeak_info)} speakers, {len(Te)} training windows", flush=True)
    tests = {f"{name}": classify.eval_windows(data.spoken_words(split="test"), rng=np.random.default_rng(1),
                                               snr_db=snr)
             for name, snr in (("clean", None), ("10 dB", 10.0), ("0 dB", 0.0))}

    def scores(model):
        out = {}
        for name, (w, lab, voices) in tests.items():
            r = classify.evaluate_windows(model, w, lab, voices)
            r.pop("predictions")
            out[name] = r
        return out

    ablation = {}
    if ablation_budget > 0:
        sets = {"no augmentation": classify.kws_windows("train", rng=rng, copies=1, noise=None, chain=False),
                "+ noise": classify.kws_windows("train", rng=rng, copies=1), "+ pitch & stretch": (W, T, None)}
        for name, (spec, data_name) in {"no augmentation": (False, "no augmentation"),
                                        "+ noise": (False, "+ noise"), "+ SpecAugment": (True, "+ noise"),
                                        "+ pitch & stretch": (True, "+ pitch & stretch")}.items():
            Wa, Ta, _ = sets[data_name]
            m, h = classify.train_kws(cfg, Wa, Ta, valid=valid, epochs=100, time_budget=ablation_budget,
                                      spec_augment=spec, seed=seed)
            ablation[name] = {k: v["accuracy"] for k, v in scores(m).items()} | {"epochs": len(h.epochs)}
            print(name, ablation[name], flush=True)

    init, warm_start = None, None
    if os.environ.get("KWS_INIT") == "shipped":
        init, warm_start = _shipped_start("kws_cnn")
        print("warm start from the shipped kws_cnn", flush=True)

    def valid_accuracy(m):                  # the validation windows, with m.config's warps and shifts
        labels = [classify.KWS_LABELS[t] for t in valid[1]]
        return classify.evaluate_windows(m, valid[0], labels, ["valid"] * len(labels))["accuracy"]

    if budget > 0:
        model, history = classify.train_kws(cfg, W, T, valid=valid, epochs=epochs, time_budget=budget,
                                            spec_augment=True, seed=seed, schedule=schedule, lr=lr, init_from=init)
        best = history.epochs[history.best_epoch]
        trained = {"valid_accuracy": best["valid_accuracy"], "train_accuracy": best["train_accuracy"],
                   "epochs_run": len(history.epochs), "best_epoch": history.best_epoch, "stopped": history.stopped}
    elif init is None:
        raise SystemExit("kws_cnn: KWS_TIME_BUDGET=0 needs KWS_INIT=shipped (no weights to measure)")
    else:                                   # the committed weights, not trained: measured again
        model, prev = init.eval(), init.record["metrics"]
        warm_start["trained"] = {k: prev.get(k) for k in (
            "valid_accuracy", "valid_accuracy_averaged", "train_accuracy", "epochs_run", "best_epoch", "stopped",
            "time_budget_s", "n_train_windows", "schedule", "lr", "real_copies", "voice_change", "ablation")}
        model.config = dataclasses.replace(model.config, warps=(1.0,), shifts=(0,))   # one pass, as trained
        trained = {"valid_accuracy": valid_accuracy(model), "not_trained": "KWS_TIME_BUDGET=0: the committed "
                   "weights measured again; their training figures under warm_start_from.trained"}
    warps = tuple(float(w) for w in os.environ.get("KWS_WARPS", "1").split(","))
    shifts = tuple(int(s) for s in os.environ.get("KWS_SHIFTS", "0").split(","))
    model.config = dataclasses.replace(model.config, warps=warps, shifts=shifts)     # checked by KwsConfig
    trained["valid_accuracy_averaged"] = valid_accuracy(model)
    print("valid", trained, flush=True)
    test = scores(model)
    print("test", {k: v["accuracy"] for k, v in test.items()}, flush=True)

    def real_figures(m):
        out = {}
        try:
            clips = data.real_digits(split="test")
        except Exception as e:                     # no local FSDD: say so in the record
            return {"error": str(e)}
        w, lab, voices = classify.eval_windows(clips, rng=np.random.default_rng(2))
        r = classify.evaluate_windows(m, w, lab, voices)
        r.pop("predictions")
        out["16 kHz, 1 s windows, random offset"] = r
        r = classify.per_voice_accuracy(lambda y, sr: m.predict(y, sr=sr),
                                        [(c.audio, c.sr, c.label, c.speaker) for c in clips])
        out["as recorded (8 kHz)"] = r
        return out

    if real_copies > 0:
        real_with_real = real_figures(model) | {"corpus test voices": test["clean"]["accuracy"],
                                                "shipped": True, "real_copies": real_copies}
        print("real, with the real training speakers (shipped)", json.dumps(real_with_real)[:600], flush=True)
        src = os.environ.get("KWS_SYNTHETIC_ONLY_RECORD")
        if src:
            old_rec = json.loads(Path(src).read_text())
            real_synthetic_only = dict(old_rec["metrics"]["real_test_speakers_synthetic_only"])
            real_synthetic_only["source"] = (f"not measured in this run: the record of {old_rec['git_commit']['commit'][:7]} "
                                             f"({old_rec['command']}), the same recipe without real speakers")
            real_synthetic_only["corpus test voices"] = old_rec["metrics"]["test"]["accuracy"]
        else:
            real_synthetic_only = {"not run": "KWS_REAL_COPIES > 0 and no $KWS_SYNTHETIC_ONLY_RECORD"}
    else:
        real_synthetic_only = real_figures(model)
        print("real, synthetic only", json.dumps(real_synthetic_only)[:600], flush=True)
        real_with_real = {"not run": "KWS_REAL_BUDGET=0"}
    if real_budget > 0 and real_copies == 0:
        try:
            real_train = data.real_digits(split="train")
            Wr, Tr, _ = classify.kws_windows("train", rng=rng, copies=1, pitch_stretch=False,
                                             extra_clips=real_train, corpus=False, n_silence=0, n_unknown=0)
            Wr, Tr = np.concatenate([W, Wr]), np.concatenate([T, Tr])
            m_real, _ = classify.train_kws(cfg, Wr, Tr, valid=valid, epochs=200, time_budget=real_budget,
                                           spec_augment=True, seed=seed)
            real_with_real = real_figures(m_real) | {"corpus test voices": scores(m_real)["clean"]["accuracy"],
                                                     "time_budget_s": real_budget}
        except Exception as e:
            real_with_real = {"error": str(e)}
    metrics = {"test": test["clean"] | {"n_test_clips": test["clean"]["n"]},
               "test_noisy": {k: v for k, v in test.items() if k != "clean"},
               "real_test_speakers_synthetic_only": real_synthetic_only,
               "real_test_speakers_with_real_training_speakers": real_with_real,
               "ablation": ablation, "latency_ms_per_1s_clip": classify.latency_ms(model),
               **trained, "warps": list(warps), "shifts": list(shifts),
               "time_budget_s": budget, "n_train_windows": len(T), "n_parameters": classify.n_parameters(model),
               "n_valid_windows": len(valid[1]), "valid_copies": valid_copies, "schedule": schedule, "lr": lr, "real_copies": real_copies, "voice_change": voice_change, "voice_change_real": voice_change_real,
               "espeak_voices": espeak_info, "warm_start_from": warm_start}
    return model, metrics


def genre_cnn(*, seed: int, time_budget: float = 1200.0) -> tuple:
    """Chapter 08's genre CNN (AudioCNN on log-mel patches, clip vote) on corpus v2's six harder genres."""
    import torch

    from course_lib import classify, data
    from course_lib.music import genre

    torch.set_num_threads(1)
    train_clips, valid_clips, test_clips = (data.genres(split=s) for s in ("train", "valid", "test"))
    model, history = genre.train_genre_cnn(train_clips, valid_clips=valid_clips, epochs=80, time_budget=time_budget,
                                           seed=seed)
    model.cpu().eval()
    labels = model.config.labels
    pred = [model.predict(c.audio, sr=c.sr) for c in test_clips]
    true = [c.label for c in test_clips]
    per_genre = {g: float(np.mean([p == t for p, t in zip(pred, true) if t == g])) for g in labels}
    best = history.epochs[history.best_epoch] if history.best_epoch is not None else history.epochs[-1]
    test = {"accuracy": float(np.mean([p == t for p, t in zip(pred, true)])), "per_voice_accuracy": per_genre,
            "n_test_clips": len(test_clips),
            "confusion": classify.confusion_matrix(true, pred, labels=labels).tolist()}
    metrics = {"test": test, "valid_patch_accuracy": best.get("valid_accuracy"), "epochs_run": len(history.epochs),
               "best_epoch": history.best_epoch, "n_train_clips": len(train_clips),
               "n_parameters": classify.n_parameters(model)}
    return model, metrics


def speaker_xvector(*, seed: int) -> tuple:
    """Chapter 13's x-vector (course_lib.speaker.XVector): 70 training voices' 1-s segments (words, sentences,
    digit strings; the held-out takes of speaker.is_held_out kept aside), AM-softmax, weights chosen by EER
    on the valid voices. Test: verification between all 1-s segments of the test voices (EER, minDCF, per
    voice) beside the GMM-UBM baseline (32 components, MAP means), and identification of the held-out takes.
    Budget: $SPEAKER_TIME_BUDGET seconds (1800).
    Against over-fitting (about 30 s per voice), two options, both off by default: $SPEAKER_PERTURB (e.g.
    "0.9,1.1") adds speed-perturbed copies of every training voice as new speakers (Kaldi's practice: a
    voice resampled by 10 % is another vocal tract; the held-out identification test keeps the original
    voices only), and $SPEAKER_AUG copies of every training segment through a random recording chain and
    one of the noises' *train* takes at 5-25 dB SNR, under the same speaker. $SPEAKER_CHANNELS (64): the
    frame-level width; $SPEAKER_LR (2e-3). $SPEAKER_CMN=0 gives the network and the baseline MFCCs without
    the per-segment mean removed (speaker.features(cmn=False)): the mean cepstrum is the segment's average
    spectral envelope, the strongest cue to a vocal tract, and these voices have no channel for CMN to
    cancel. Also recorded: the test EER after a linear discriminant analysis of the embeddings (Kaldi's
    back end before PLDA; scikit-learn's, fitted on the training voices' segments, 40 dimensions).
    $SPEAKER_SCHEDULE=cosine decays the learning rate over the budget (speaker.train_xvector's schedule;
    default constant, as every run before December 2026).
    Also recorded ("as_norm"): every test score (cosine, LDA, GMM-UBM) after adaptive symmetric score
    normalisation (speaker.as_norm) against a cohort of the clean training voices' segments (for the
    GMM-UBM three per voice, each enrolled), its top_n chosen on the valid voices' trials.
    Also recorded: a PLDA back end ("test_plda_backend": speaker.PLDA on whitened, length-normalised
    embeddings, fitted on the clean training voices' segments) and the x-vector's cosine and PLDA scores each
    fused with the GMM-UBM's ("fusion_with_gmm_ubm": speaker.fuse_scores, weights fitted on the valid trials).
    $SPEAKER_CONVERT (0): that many new speakers from every training voice by voice conversion
    (augment.change_voice: formants x 0.85-1.2 and the pitch median x 0.75-1.33 of the voice's own, drawn
    log-uniformly per new speaker and fixed for all its seconds; listed in the record's "voice_conversions";
    Praat's overlap-add seeded from the run's seed, so a rerun converts the same way).
    $SPEAKER_EXTRA (e.g. "styled,tts,ml_digit", speaker.EXTRA_KINDS): more training speech by the same voices
    from the other corpus parts (the prosody styles, the TTS subset, the multilingual digits filed under
    their variant's voice by speaker.corpus_voice), at most $SPEAKER_EXTRA_CAP (80) 1-s segments per voice:
    the same speaker in other prosody and other languages. Every system (network, LDA, PLDA, GMM-UBM) trains on it.
    $SPEAKER_ESPEAK_VOICES (0): that many new speakers, random espeak-ng variants reading 36 s of training
    sentences each (tools/espeak_voices.py; needs espeak-ng; their variant files in the record's
    "espeak_voices"); the network, LDA, PLDA and the AS-norm cohort train on them, the GMM-UBM baseline
    stays on the corpus voices. $SPEAKER_ESPEAK_SAMPLER=mix draws each new variant between two of the
    training voices' hand-made ones (espeak_voices.mixed_variant) instead of from uniform ranges ("random").
    """
    import librosa
    import torch

    from course_lib import augment, data, speaker

    torch.set_num_threads(1)
    budget = float(os.environ.get("SPEAKER_TIME_BUDGET", "1800"))
    factors = [float(f) for f in os.environ.get("SPEAKER_PERTURB", "").split(",") if f.strip()]
    n_aug = int(os.environ.get("SPEAKER_AUG", "0"))
    channels, lr = int(os.environ.get("SPEAKER_CHANNELS", "64")), float(os.environ.get("SPEAKER_LR", "2e-3"))
    cmn = os.environ.get("SPEAKER_CMN", "1") != "0"
    schedule = os.environ.get("SPEAKER_SCHEDULE", "constant")
    rng = np.random.default_rng(seed)
    noises = {k: data.noise(k, split="train").audio for k in data.NOISE_KINDS}

    def degrade(y):
        y = augment.recording_chain(y, sr=16000, rng=rng, p_noise=0.0, p_level=0.0)
        kind = data.NOISE_KINDS[int(rng.integers(len(data.NOISE_KINDS)))]
        return augment.add_noise(y, sr=16000, rng=rng, snr_db=float(rng.uniform(5, 25)), noise=noises[kind])

    def feats(split, **kw):
        return feats_of(speaker.voice_segments(split, progress=True, **kw))

    def feats_of(segs_by_voice):
        return {v: [speaker.features(s, sr=16000, cmn=cmn) for s in segs] for v, segs in segs_by_voice.items()}

    extra_kinds = [k for k in os.environ.get("SPEAKER_EXTRA", "").split(",") if k.strip()]
    extra_cap = int(os.environ.get("SPEAKER_EXTRA_CAP", "80"))

    def training_segments(seconds=1.0):
        """the training voices' segments, plus $SPEAKER_EXTRA's (at most $SPEAKER_EXTRA_CAP per voice)."""
        segs = speaker.voice_segments("train", seconds=seconds, held_out=False, progress=True)
        if extra_kinds:
            more = speaker.voice_segments("train", seconds=seconds, held_out=False, kinds=extra_kinds)
            unknown = set(more) - set(segs)
            if unknown:
                raise ValueError(f"$SPEAKER_EXTRA speech by voices outside the speaker corpus: {sorted(unknown)}")
            segs = {v: ss + more.get(v, [])[:extra_cap] for v, ss in segs.items()}
        return segs

    train_segs = training_segments()
    tr, held, va, te = feats_of(train_segs), feats("train", held_out=True), feats("valid"), feats("test")
    va = {v: f[:40] for v, f in va.items()}
    clean = {v: list(f) for v, f in tr.items()}         # the baseline's UBM sees the clean voices only
    for f in factors:                       # f seconds of speech played in 1 s: speed (pitch, tempo) x f
        segs = training_segments(seconds=f)
        for v, ss in segs.items():
            tr[f"{v}@{f:g}"] = [speaker.features(librosa.resample(s, orig_sr=len(s), target_sr=16000)[:16000],
                                                 sr=16000, cmn=cmn) for s in ss]
    n_espeak = int(os.environ.get("SPEAKER_ESPEAK_VOICES", "0"))
    espeak_sampler = os.environ.get("SPEAKER_ESPEAK_SAMPLER", "random")
    espeak_info = {}
    if n_espeak:                            # new random espeak-ng speakers reading training sentences
        from espeak_voices import random_voices
        texts = sorted({c.text for c in data.sentences(split="train", check=False)})
        speech, espeak_info = random_voices(n_espeak, texts, seed=seed, sampler=espeak_sampler)
        for v, ys in speech.items():
            stream = np.concatenate(ys)
            tr[v] = [speaker.features(stream[k:k + 16000], sr=16000, cmn=cmn)
                     for k in range(0, len(stream) - 16000 + 1, 16000)]
    backend = clean | {v: tr[v] for v in espeak_info}         # LDA / PLDA / AS-norm cohort: no noisy copies
    n_convert = int(os.environ.get("SPEAKER_CONVERT", "0"))
    conv_rng = np.random.default_rng(seed + 1)
    conversions = {}
    for v, ss in (train_segs.items() if n_convert else ()):   # $SPEAKER_CONVERT new voices per voice
        med = [m for m in (augment.median_pitch(s, sr=16000) for s in ss) if m]
        med = float(np.median(med)) if med else None
        for k in range(n_convert):
            r, p = augment.log_uniform(conv_rng, 0.85, 1.2), augment.log_uniform(conv_rng, 0.75, 1.33)
            target = float(np.clip(med * p, 80, 500)) if med else None
            conversions[f"{v}#c{k}"] = {"formant_ratio": round(float(r), 4), "pitch_median": target}
            tr[f"{v}#c{k}"] = [speaker.features(augment.change_voice(s, sr=16000, formant_ratio=r, pitch_median=target,
                                                                     seed=int(conv_rng.integers(2 ** 31))),
                                                sr=16000, cmn=cmn) for s in ss]
    for v, ss in train_segs.items():                   # $SPEAKER_AUG noisy copies, the same speaker
        tr[v] = tr[v] + [speaker.features(degrade(s), sr=16000, cmn=cmn) for s in ss for _ in range(n_aug)]
    print(f"x-vector training: {len(tr)} speakers, {sum(len(x) for x in tr.values())} segments", flush=True)
    model, log = speaker.train_xvector(tr, valid_feats=va, time_budget=budget, seed=seed, channels=channels,
                                       lr=lr, schedule=schedule)
    segs = [(v, f) for v in sorted(te) for f in te[v]]
    labs = np.array([v for v, _ in segs])
    i, j, same = speaker.trials(labs)
    E = model.infer(torch.tensor(np.stack([f for _, f in segs]))).numpy()
    sc = speaker.cosine_scores(E[i], E[j])
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    Etr = model.infer(torch.tensor(np.stack([f for v in sorted(backend) for f in backend[v]]))).numpy()
    lda = LinearDiscriminantAnalysis(n_components=min(40, len(backend) - 1)).fit(
        Etr, [v for v in sorted(backend) for _ in backend[v]])
    El = lda.transform(E)
    lda_sc = speaker.cosine_scores(El[i], El[j])
    rng = np.random.default_rng(seed)
    frames = np.concatenate([f.T for fs in clean.values() for f in fs])
    ubm = speaker.GMMUBM(32, seed=seed).fit(frames[rng.choice(len(frames), 30000, replace=False)], max_iter=50)
    gsc = ubm.trial_scores([f.T for _, f in segs], i, j)

    def verification(s):
        return {"eer": speaker.eer(s, same).eer, "min_dcf_0.01": speaker.min_dcf(s, same),
                "eer_per_voice": speaker.eer_per_voice(s, same, labs, i, j)}

    # AS-norm (speaker.as_norm): a cohort of the clean training voices' segments (never a test or valid
    # voice); top_n chosen on the valid voices' trials, then applied once to the test trials
    va_segs = [(v, f) for v in sorted(va) for f in va[v]]
    va_labs = np.array([v for v, _ in va_segs])
    vi, vj, vsame = speaker.trials(va_labs)
    Eva = model.infer(torch.tensor(np.stack([f for _, f in va_segs]))).numpy()
    gmm_cohort = [f.T for v in sorted(clean) for f in clean[v][:3]]         # 3 segments per training voice

    def normalised(name, raw_va, coh_va, raw_te, coh_te):
        """valid EER for each top_n, the best applied to the test trials."""
        n_coh = coh_va[0].shape[1]
        options = [n for n in (10, 25, 50, 100, 200, 400) if n < n_coh] + [None]
        valid = {str(n): speaker.eer(speaker.as_norm(raw_va, vi, vj, *coh_va, top_n=n), vsame).eer for n in options}
        best = min(options, key=lambda n: valid[str(n)])
        out = verification(speaker.as_norm(raw_te, i, j, *coh_te, top_n=best))
        print(f"AS-norm {name}: valid EER {valid}; top_n {best}: test EER {out['eer']:.3f}", flush=True)
        return out | {"top_n": best, "valid_eer_by_top_n": valid,
                      "valid_eer_raw": speaker.eer(raw_va, vsame).eer, "cohort_size": n_coh}

    as_norm = {}
    cos_va = speaker.cosine_scores(Eva[vi], Eva[vj])
    as_norm["x-vector cosine"] = normalised("x-vector cosine", cos_va, (speaker.cosine_matrix(Eva, Etr),), sc,
                                            (speaker.cosine_matrix(E, Etr),))
    Elva, Elcoh = lda.transform(Eva), lda.transform(Etr)
    as_norm["x-vector LDA"] = normalised("x-vector LDA", speaker.cosine_scores(Elva[vi], Elva[vj]),
                                         (speaker.cosine_matrix(Elva, Elcoh),), lda_sc,
                                         (speaker.cosine_matrix(El, Elcoh),))
    va_gmm = [f.T for _, f in va_segs]
    gva = ubm.trial_scores(va_gmm, vi, vj)
    as_norm["gmm-ubm"] = normalised("gmm-ubm", gva, ubm.cohort_scores(va_gmm, gmm_cohort),
                                    gsc, ubm.cohort_scores([f.T for _, f in segs], gmm_cohort, progress=True))

    # PLDA back end (speaker.PLDA): whitened and length-normalised embeddings, fitted on the clean training
    # voices' segments; and each back end fused with the GMM-UBM (speaker.fuse_scores, fitted on the valid trials)
    mu_tr, whiten = speaker.whitener(Etr)

    def ln(X):
        return speaker.length_norm(X, mean=mu_tr, whiten=whiten)

    plda = speaker.PLDA().fit(ln(Etr), [v for v in sorted(backend) for _ in backend[v]])
    Pva, Pte = ln(Eva), ln(E)
    plda_va, plda_sc = plda.score(Pva[vi], Pva[vj]), plda.score(Pte[i], Pte[j])
    fusion = {}
    for name, (s_va, s_te) in {"cosine": (cos_va, sc), "plda": (plda_va, plda_sc)}.items():
        fused, coef = speaker.fuse_scores(np.stack([s_va, gva], 1), vsame, np.stack([s_te, gsc], 1))
        fusion[f"{name} + gmm-ubm"] = verification(fused) | {"weights_and_offset": coef.tolist(),
                                                               "valid_eer_unfused": speaker.eer(s_va, vsame).eer}
        print(f"fusion {name} + GMM-UBM: weights {np.round(coef, 3)}, test EER {fusion[f'{name} + gmm-ubm']['eer']:.3f}",
              flush=True)

    hv = [(v, f) for v in sorted(held) for f in held[v]]
    with torch.no_grad():
        pred = model(torch.tensor(np.stack([f for _, f in hv]))).argmax(1).numpy()
    ident = float(np.mean(np.array(model.config.labels)[pred] == np.array([v for v, _ in hv])))
    metrics = {"test": verification(sc) | {"n_target": int(same.sum()), "n_nontarget": int((~same).sum())},
               "test_lda_backend": verification(lda_sc) | {"lda_dimensions": int(lda.n_components)},
               "test_plda_backend": verification(plda_sc) | {"valid_eer": speaker.eer(plda_va, vsame).eer,
                                                             "em_log_likelihoods": plda.log_likelihoods_},
               "fusion_with_gmm_ubm": fusion,
               "gmm_ubm_baseline": verification(gsc),
               "as_norm": as_norm,
               "identification_held_out_takes": ident, "n_held_out_segments": len(hv),
               "valid_eer": min(r["valid_eer"] for r in log), "chunks": log,
               "n_parameters": sum(p.numel() for p in model.parameters()), "n_training_speakers": len(tr),
               "speed_perturbation": factors, "voice_conversions": conversions, "espeak_voices": espeak_info,
               "espeak_sampler": espeak_sampler if n_espeak else None,
               "extra_speech": {"kinds": extra_kinds, "cap_per_voice": extra_cap,
                                "segments_per_voice": {v: len(ss) for v, ss in train_segs.items()}},
               "augmented_copies": n_aug, "cmn": cmn, "schedule": schedule}
    return model, metrics


def tacotron2(*, seed: int) -> tuple:
    """Chapter 12's Tacotron 2 (course_lib.tts.tacotron2, r = 3, 1.8 M parameters) on the single-voice subset.

    Training: the 270 ``train`` sentences of flite slt (data.tts_sentences), mels normalised by their
    mean / std, guided attention (g = 0.2, weight $TACOTRON_GUIDED, 10), Adam 2e-3, batch 16,
    $TACOTRON_TIME_BUDGET seconds (2100), the epoch with the best teacher-forced loss on valid[5:].
    Held out, never trained on nor used to choose: the 15 ``test`` sentences + valid[:5] (20).
    Measured on those 20: diagonality (teacher forced / free running), duration error, MCD, and
    chapter 05's recogniser (ctc_bigru) on the real recordings, on Griffin-Lim of the real mels and on
    Griffin-Lim of the synthesis (CER). $TACOTRON_INIT=shipped continues from the committed
    data/models/tacotron2 weights (its mel normalisation kept; a fresh optimiser at $TACOTRON_LR, default
    2e-3); the record keeps the earlier run under "warm_start_from".
    """
    import torch

    from course_lib import data, pretrained
    from course_lib.tts import tacotron2 as tc

    torch.set_num_threads(1)
    budget = float(os.environ.get("TACOTRON_TIME_BUDGET", "2100"))
    guided = float(os.environ.get("TACOTRON_GUIDED", "10"))
    lr = float(os.environ.get("TACOTRON_LR", "2e-3"))
    train_clips = data.tts_sentences(split="train")
    valid = data.tts_sentences(split="valid")
    held_out = data.tts_sentences(split="test") + valid[:5]
    warm_start = None
    if os.environ.get("TACOTRON_INIT") == "shipped":
        model, warm_start = _shipped_start("tacotron2")
        prev = model.record["metrics"]
        warm_start.update({k: prev.get(k) for k in ("train_seconds", "epochs_run", "best_epoch", "best_valid")},
                          lr=lr, test_overall=prev["test"]["overall"])
        model.train()
    else:
        mean, std = tc.mel_stats(train_clips)
        model = tc.Tacotron2(tc.Tacotron2Config(reduction=3, mel_mean=mean, mel_std=std))
    result = tc.train_tacotron(model, tc.prepare(train_clips, model), valid_items=tc.prepare(valid[5:], model),
                               time_budget=budget, batch_size=16, lr=lr, guided_weight=guided, seed=seed,
                               keep_best=True, desc="tacotron2")
    test = tc.evaluate_synthesis(model, held_out, recognizer=pretrained.load("ctc_bigru", device="cpu"),
                                 seed=seed)
    best = min(result.history, key=lambda h: h["valid_loss"])
    metrics = {"test": test, "held_out_files": [c.path.name for c in held_out],
               "valid_monitor_files": [c.path.name for c in valid[5:]], "guided_weight": guided,
               "epochs_run": len(result.history), "best_epoch": best["epoch"], "best_valid": best,
               "history": result.history, "train_seconds": result.history[-1]["time"],
               "n_parameters": model.n_parameters(), "warm_start_from": warm_start}
    return model, metrics


def langid_cnn(*, seed: int) -> tuple:
    """Chapter 15's spoken language identifier (course_lib.asr.multilingual.LanguageIdentifier: log-mel CNN,
    time-pooled embedding, six languages) on the ten digits of data.multilingual_digits.

    Training windows (1.6 s, the clip at a random offset): the 8 training voice variants x 6 languages x 10
    digits, $LANGID_COPIES copies (2), each sped up or slowed down (0.9-1.1), through a random recording chain
    (room, band, telephone) and, with p = 0.6, one of the eight noises' *train* takes at 0-30 dB SNR, a level
    of -30..0 dBFS; SpecAugment on the log-mels; best epoch by valid accuracy (2 other variants). Test: the 2
    test variants of every language (never heard in training) through .predict on raw audio: clean, babble
    (test take) at 10 dB SNR, 30 dB quieter; the real FSDD test speakers (English; measured only, from
    $COURSE_REAL_DIGITS) as the fraction answered "en". Budget: $LANGID_TIME_BUDGET seconds (840), one thread, batches of 16.
    """
    import torch

    from course_lib import data
    from course_lib.asr import multilingual as ml
    from course_lib.classify import n_parameters

    torch.set_num_threads(1)                # a busy shared CPU: one thread (see words_mfcc_logreg)
    budget = float(os.environ.get("LANGID_TIME_BUDGET", "840"))
    copies = int(os.environ.get("LANGID_COPIES", "2"))
    rng = np.random.default_rng(seed)
    cfg = ml.LangIdConfig(channels=tuple(int(c) for c in os.environ.get("LANGID_CHANNELS", "16,32,64").split(",")))
    W = ml.language_windows(data.multilingual_digits(split="train"), rng=rng, copies=copies)
    V = ml.language_windows(data.multilingual_digits(split="valid"), rng=rng, chain=False, noise=None)
    batch = int(os.environ.get("LANGID_BATCH", "16"))      # small batches: more updates per CPU second
    model, history = ml.train_language_id(cfg, W, valid_windows=V, epochs=300, time_budget=budget, seed=seed,
                                          batch_size=batch, lr=float(os.environ.get("LANGID_LR", "2e-3")))
    model = model.cpu().eval()
    test_clips = data.multilingual_digits(split="test")

    def measured(**kw):
        r = ml.evaluate_language_id(model, test_clips, **kw)
        return {"accuracy": r["accuracy"], "per_voice_accuracy": r["per_voice"],
                "per_language_accuracy": r["per_language"], "confusion": r["confusion"], "labels": r["labels"],
                "n_test_clips": r["n"]}

    test = measured()
    print("test", test["accuracy"], test["per_language_accuracy"], flush=True)
    try:
        real = data.real_digits(split="test")
        hits = defaultdict(list)
        for c in real:
            hits[c.speaker].append(model.predict(c.audio, sr=c.sr) == "en")
        real_en = {"fraction_answered_en": float(np.mean([h for v in hits.values() for h in v])),
                   "per_speaker": {v: float(np.mean(h)) for v, h in sorted(hits.items())}, "n": len(real),
                   "note": "real human English digits (FSDD test speakers), 8 kHz as recorded; measured only"}
    except Exception as e:                     # no local FSDD: say so in the record
        real_en = {"error": str(e)}
    best = history.epochs[history.best_epoch]
    metrics = {"test": test, "test_babble_10db": measured(snr_db=10.0, noise_kind="babble", seed=1),
               "test_30db_quieter": measured(gain_db=-30.0), "real_fsdd_test_english": real_en,
               "valid_accuracy": best.get("valid_accuracy"), "epochs_run": len(history.epochs),
               "best_epoch": history.best_epoch, "train_seconds": history.wall_time,
               "n_train_windows": int(len(W[0])), "n_parameters": n_parameters(model)}
    return model, metrics


def wavenet_vocoder(*, seed: int) -> tuple:
    """Chapter 11's mel-conditioned WaveNet vocoder (course_lib.tts.wavenet.WaveNet): 10 layers (dilations
    1..512, receptive field 1024 samples = 64 ms), 32 residual / 32 gate / 64 skip channels, 256 mu-law classes.

    Training: the slt TTS voice's training sentences (data.tts_sentences("train")), random 0.25 s segments at
    frame boundaries, teacher forcing, AdamW $WAVENET_LR (2e-3), $WAVENET_TIME_BUDGET seconds (1680) on one
    thread, $WAVENET_COPIES (12) segments per sentence and epoch (validated after each epoch).
    $WAVENET_INIT=shipped continues from the committed data/models/wavenet_vocoder weights (their mel
    normalisation kept, a fresh optimiser); the record keeps the earlier run under "warm_start_from". Test: every
    test sentence resynthesised from its own log-mel (fast generation, one batch), ctc_bigru's CER on the
    original / Griffin-Lim (32 iterations) / WaveNet, per sentence; samples per second of fast generation; fast
    vs naive generation time at this receptive field, measured in the same run.
    """
    import torch

    from course_lib import data
    from course_lib.tts import wavenet

    torch.set_num_threads(1)                # a busy shared CPU: one thread (see words_mfcc_logreg)
    budget = float(os.environ.get("WAVENET_TIME_BUDGET", "1680"))
    cfg = wavenet.WaveNetConfig(n_layers=10, dilation_cycle=10, residual_channels=32, gate_channels=32,
                                skip_channels=64, n_mels=80, cond_channels=64, hop_length=256,
                                mel=wavenet.MEL)
    lr = float(os.environ.get("WAVENET_LR", "2e-3"))
    copies = int(os.environ.get("WAVENET_COPIES", "12"))
    train_waves = [c.audio for c in data.tts_sentences(split="train")]
    valid_waves = [c.audio for c in data.tts_sentences(split="valid")]
    init, warm_start = None, None
    if os.environ.get("WAVENET_INIT") == "shipped":
        init, warm_start = _shipped_start("wavenet_vocoder")
        prev = init.record["metrics"]
        warm_start.update({k: prev.get(k) for k in ("train_seconds", "epochs_run", "train_loss", "valid_loss")},
                          test={k: prev["test"].get(k) for k in ("cer_original", "cer_griffin_lim", "cer_wavenet")})
    model, history = wavenet.train_vocoder(cfg, train_waves, valid_waves=valid_waves, time_budget=budget,
                                           seed=seed, batch_size=4, segment_samples=4000, copies=copies, lr=lr,
                                           init_from=init)
    model.eval()
    report = wavenet.vocoder_report(model, data.tts_sentences(split="test"), seed=seed)
    speed = wavenet.generation_speed(model, n_samples=300, seed=seed)
    rows = [r._asdict() for r in report["rows"]]
    test = {"per_sentence": rows, "n_sentences": len(rows), "voice": "flite_slt (training voice; unseen sentences)",
            **{k: report[k] for k in ("cer_original", "cer_griffin_lim", "cer_wavenet", "generation_seconds",
                                      "samples_per_second", "samples_per_second_per_item", "batch")},
            "fast_vs_naive": speed}
    last = history.epochs[-1]
    metrics = {"test": test, "train_loss": last["train_loss"], "valid_loss": last.get("valid_loss"),
               "epochs_run": len(history.epochs), "train_seconds": history.wall_time,
               "n_parameters": model.n_parameters(), "receptive_field": model.receptive_field,
               "history": history.to_dict(), "lr": lr, "copies": copies,
               "warm_start_from": warm_start}
    return model, metrics


RECIPES = {
    "words_mfcc_logreg": words_mfcc_logreg,
    "superres_x2": superres_x2,
    "superres_x4": superres_x4,
    "enhance_mask": enhance_mask,
    "ctc_bigru": ctc_bigru,
    "asr_transformer": asr_transformer,
    "kws_cnn": kws_cnn,
    "speaker_xvector": speaker_xvector,
    "genre_cnn": genre_cnn,
    "tacotron2": tacotron2,
    "langid_cnn": langid_cnn,
    "wavenet_vocoder": wavenet_vocoder,
}


def store_half(names, *, models_dir=None) -> int:
    """Re-store shipped checkpoints trained before weights were saved in half precision
    (``pretrained.half_precision``): the same model, its float32 weights rounded to float16,
    the record kept and told where the weights came from (the float32 file's sha256)."""
    from course_lib import pretrained

    for name in names:
        model = pretrained.load(name, device="cpu", models_dir=models_dir)     # checks every file's sha256
        weights = Path(models_dir or pretrained.MODELS_DIR) / f"{name}.safetensors"
        before = weights.stat().st_size
        if model.record.get("weights_dtype") == "float16":
            print(f"{name}: already stored in half precision")
            continue
        record = dict(model.record)
        record["stored_half"] = {"command": f"python tools/train_models.py --store-half {name}",
                                 "float32_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
                                 "float32_bytes": before,
                                 "note": "metrics were measured with the float32 weights; the checkpoint "
                                         "tests measure the float16-stored ones"}
        pretrained.save(model, name, record=record, models_dir=models_dir)
        print(f"{name}: {before} -> {weights.stat().st_size} bytes")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help=f"one of {sorted(RECIPES)}")
    parser.add_argument("--out", type=Path, default=None, help="models folder (default data/models)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--list", action="store_true", help="list the recipes and exit")
    parser.add_argument("--store-half", nargs="+", metavar="NAME", default=None,
                        help="re-store these shipped float32 checkpoints in half precision (no training)")
    args = parser.parse_args(argv)
    if args.store_half:
        return store_half(args.store_half, models_dir=args.out)
    if args.list or args.name is None:
        print("\n".join(sorted(RECIPES)))
        return 0 if args.list else 2
    if args.name not in RECIPES:
        parser.error(f"unknown model {args.name!r}; choose one of {sorted(RECIPES)}")

    from course_lib import config, pretrained, train

    # the recipe's settings that come from the environment belong to the command that made the model
    prefix = {"asr_transformer": "TRANSFORMER_", "tacotron2": "TACOTRON_"}.get(args.name, args.name.split("_")[0].upper() + "_")
    env = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                   if k.startswith(prefix) and not k.endswith("_CHECKPOINT_DIR"))
    command = (env + " " if env else "") + "python tools/train_models.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    config.seed_everything(args.seed)
    # the code that trains is the code on disk now: a commit made while a long run trains must not be
    # credited with it (a record once named the commit made during its run)
    git_at_start = _git_commit()
    t0 = time.perf_counter()
    model, metrics = RECIPES[args.name](seed=args.seed)
    wall = time.perf_counter() - t0
    git_at_end = _git_commit()
    if git_at_end != git_at_start:
        git_at_start = {**git_at_start, "when_written": git_at_end}
    record = {
        "name": args.name,
        "command": command.strip(),
        "seed": args.seed,
        "corpus_manifest_sha256": hashlib.sha256((REPO / "data" / "manifest.csv").read_bytes()).hexdigest(),
        "git_commit": git_at_start,
        "wall_time_s": round(wall, 1),
        "hardware": _hardware(),
        "metrics": metrics,
    }
    if not train.is_rank0():
        return 0                                   # under torchrun, rank 0 alone writes and reports
    record["hardware"]["processes"] = int(os.environ.get("WORLD_SIZE", "1"))
    files = pretrained.save(model, args.name, record=record, models_dir=args.out)
    test = metrics["test"]
    if "accuracy" in test:
        print(f"{args.name}: test accuracy {test['accuracy']:.3f} on {test['n_test_clips']} clips "
              f"(unseen voices), {wall:.0f} s")
        for voice, acc in test["per_voice_accuracy"].items():
            print(f"  {voice:32s} {acc:.3f}")
    else:                                          # other tasks: their test metrics as recorded
        print(f"{args.name}: {wall:.0f} s; test metrics (unseen voices):")
        print(json.dumps(test, indent=1, default=str)[:4000])
    for f in files:
        print(f"wrote {f.relative_to(REPO) if f.is_relative_to(REPO) else f} ({f.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
