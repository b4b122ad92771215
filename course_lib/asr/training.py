"""Training and evaluating :class:`~course_lib.asr.models.CTCRecognizer` on the corpus.

Notebook: 05_ctc_asr.ipynb

- :class:`SpeechDataset` — ``(waveform, token ids)`` items from corpus clips,
  optionally through random augmentation: speed/vocal-tract perturbation
  (resampling, which scales tempo, pitch and formants together), the
  recording chain of :func:`course_lib.augment.recording_chain` (room,
  microphone band, telephone, noise from the *train* takes, level);
- :func:`ctc_step` — one step for :func:`course_lib.train.fit`: features,
  SpecAugment while training, ``torch.nn.functional.ctc_loss`` on
  ``(time, batch, class)`` log-probabilities with lengths after subsampling;
- :func:`train_recognizer` — the recipe ``tools/train_models.py ctc_bigru``
  runs (and the notebook runs for 10 minutes);
- :func:`evaluate` — CER / WER per voice for greedy, beam and beam + LM decoding.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
import torch

from ..errors import ParameterError
from ..train import warm_start  # noqa: F401  (re-exported: the recogniser trainers' warm start)

__all__ = ["clip_text", "SpeechDataset", "ctc_step", "training_clips", "train_recognizer", "evaluate", "score",
           "lexicon", "warm_start",
           "NOISE_KINDS"]

#: Noise kinds mixed into training audio (their *train* takes; tests use the *test* takes).
NOISE_KINDS = ("babble", "fan", "white", "hum", "pink", "rain")


def clip_text(clip) -> str:
    """The transcript of a corpus clip: ``clip.text``, or the word label of a spoken word."""
    text = clip.text if clip.text is not None else clip.label
    if not text:
        raise ParameterError(f"{clip!r} has no transcript (text or label)")
    return str(text)


def speed_perturb(y: np.ndarray, *, sr: int, factor: float) -> np.ndarray:
    """Play ``y`` ``factor`` times faster: resample as if it were recorded at ``sr * factor``.

    Tempo, pitch and formants all scale by ``factor`` (a shorter or longer vocal
    tract, talking faster or slower) — Kaldi's "speed perturbation"."""
    from .. import audio

    if not 0.5 <= factor <= 2.0:
        raise ParameterError(f"factor={factor!r} must be in [0.5, 2]")
    if factor == 1.0:
        return y
    return audio.resample(y, orig_sr=int(round(sr * factor)), target_sr=sr).astype(np.float32)


class SpeechDataset(torch.utils.data.Dataset):
    """``(waveform (n,) float32, token ids (U,) int64)`` per clip, at the clip's rate (16 kHz corpus).

    Parameters
    ----------
    clips : list of Clip
    tokenizer : CharTokenizer
    augment : bool
        Random speed factor in ``speed_range`` (probability ``p_speed``) and a
        random recording chain with noise from :data:`NOISE_KINDS` (train takes).
    seed : int
        Seeds the augmentation's generator (each DataLoader worker reseeds it).
    """

    def __init__(self, clips, tokenizer, *, augment: bool = False, seed: int = 0,
                 speed_range: tuple[float, float] = (0.85, 1.15), p_speed: float = 0.8,
                 p_chain: float = 0.8):
        self.clips = list(clips)
        if not self.clips:
            raise ParameterError("clips is empty: give at least one corpus clip")
        self.tokenizer = tokenizer
        self.ids = [torch.tensor(tokenizer.encode(clip_text(c)), dtype=torch.int64) for c in self.clips]
        self.augment = augment
        self.rng = np.random.default_rng(seed)
        self.speed_range, self.p_speed, self.p_chain = speed_range, p_speed, p_chain
        self._noise = None

    def noises(self):
        if self._noise is None:
            from .. import data

            self._noise = [data.noise(k, split="train", check=False).audio for k in NOISE_KINDS]
        return self._noise

    def __len__(self):
        return len(self.clips)

    def lengths(self) -> list[int]:
        return [len(c.audio) for c in self.clips]

    def __getitem__(self, i):
        from .. import augment

        c = self.clips[i]
        y = np.asarray(c.audio, dtype=np.float32)
        if self.augment:
            rng = self.rng
            if rng.random() < self.p_speed:
                y = speed_perturb(y, sr=c.sr, factor=float(rng.uniform(*self.speed_range)))
            if rng.random() < self.p_chain:
                noise = self.noises()[int(rng.integers(len(NOISE_KINDS)))]
                y = augment.recording_chain(y, sr=c.sr, rng=rng, noise=noise, p_reverb=0.4, p_band=0.4,
                                            p_telephone=0.15, p_noise=0.5, p_level=0.5)
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)), self.ids[i]


def ctc_step(model, batch, *, generator: torch.Generator | None = None, spec_augment: bool = True):
    """Loss of one padded batch ``(Padded waveforms, Padded token ids)`` (mean over utterances of
    the loss divided by the target length, as ``CTCLoss(reduction="mean")``)."""
    from .. import augment

    wav, tgt = batch
    feats, flen = model.waveform_features(wav.x, wav.lengths)            # (B, frames, n_mels)
    if model.training and spec_augment:
        feats = augment.spec_augment(feats, flen, generator=generator if generator is not None
                                     else torch.Generator().manual_seed(0))
    out = model(feats, flen)                                              # (T', B, C), (B,)
    return torch.nn.functional.ctc_loss(out.log_probs, tgt.x.clamp(min=0), out.lengths, tgt.lengths,
                                        zero_infinity=True)


def training_clips(split: str = "train", *, kinds=("sentences", "words", "digits")) -> list:
    """The corpus clips of ``split`` with a transcript: sentences, spoken words, digit strings."""
    from .. import data

    loaders = {"sentences": data.sentences, "words": data.spoken_words, "digits": data.digit_strings}
    unknown = set(kinds) - set(loaders)
    if unknown:
        raise ParameterError(f"kinds has {sorted(unknown)}; choose from {sorted(loaders)}")
    return [c for k in kinds for c in loaders[k](split=split, check=False)]


def train_recognizer(config=None, *, time_budget: float | None = 600.0, epochs: int = 1000,
                     clips=None, valid_clips=None, batch_size: int = 16, lr: float = 2e-3, seed: int = 0,
                     augment: bool = True, checkpoint_dir=None, resume: bool = False, progress: bool = True,
                     desc: str = "CTC", warmup_steps: int | None = None, init_from=None):
    """Train a :class:`CTCRecognizer` with :func:`course_lib.train.fit`; return ``(model, history)``.

    Batches hold utterances of similar length (:class:`course_lib.batching.BucketBatchSampler`);
    validation is the CTC loss on ``valid_clips`` (default: the valid split's sentences and digit
    strings), and the best epoch's weights are kept. The optimiser is AdamW at ``lr``; with
    ``warmup_steps`` it is chapter 06's :class:`~course_lib.asr.transformer_training.WarmupAdamW`
    (linear warm-up to ``lr``, then inverse square-root decay). ``init_from`` (a trained recogniser
    with the same config) continues from its weights with a fresh optimiser (a warm start).
    """
    from .. import train
    from ..batching import BucketBatchSampler, collate_padded
    from .models import CTCConfig, CTCRecognizer

    cfg = config if config is not None else CTCConfig()
    torch.manual_seed(seed)
    model = warm_start(CTCRecognizer(cfg), init_from)
    optimizer = None
    if warmup_steps is not None:
        from .transformer_training import WarmupAdamW

        optimizer = lambda p: WarmupAdamW(p, lr=lr, warmup_steps=warmup_steps, weight_decay=0.01)  # noqa: E731
    clips = training_clips("train") if clips is None else list(clips)
    if valid_clips is None:
        valid_clips = training_clips("valid", kinds=("sentences", "digits"))
    train_set = SpeechDataset(clips, model.tokenizer, augment=augment, seed=seed)
    valid_set = SpeechDataset(valid_clips, model.tokenizer, augment=False)
    sampler = BucketBatchSampler(train_set.lengths(), batch_size=batch_size, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    history = train.fit(model, train_set, step_fn=lambda m, b: ctc_step(m, b, generator=gen),
                        optimizer=optimizer, valid_data=valid_set, collate_fn=collate_padded, batch_sampler=sampler,
                        batch_size=batch_size, lr=lr, epochs=epochs, time_budget=time_budget, seed=seed,
                        checkpoint_dir=checkpoint_dir, resume=resume, progress=progress, desc=desc)
    return model.cpu().eval(), history


def evaluate(model, clips, *, beam_width: int = 1, lm=None, lm_weight: float = 0.5, progress: bool = True,
             desc: str = "decoding") -> dict:
    """CER and WER of ``model.transcribe`` on ``clips``, overall and per voice, with the real-time factor.

    Returns ``{"cer", "wer", "per_voice": {voice: {"cer", "wer", "n"}}, "rtf", "hypotheses"}``;
    CER/WER are corpus-level (edit distance summed over clips / reference length summed),
    as :func:`course_lib.metrics.cer` computes them.
    """
    from tqdm.auto import tqdm

    hyps = []
    t0, audio_s = time.perf_counter(), 0.0
    for c in tqdm(clips, desc=desc, unit="clip", mininterval=1.0, disable=not progress):
        hyps.append(model.transcribe(c.audio, sr=c.sr, beam_width=beam_width, lm=lm, lm_weight=lm_weight))
        audio_s += len(c.audio) / c.sr
    elapsed = time.perf_counter() - t0
    return score(clips, hyps) | {"rtf": elapsed / max(audio_s, 1e-9), "hypotheses": hyps}


def score(clips, hyps) -> dict:
    """Corpus-level CER and WER of the transcripts ``hyps`` against ``clip_text`` of ``clips``, overall
    and per voice: ``{"cer", "wer", "n_clips", "per_voice": {voice: {"cer", "wer", "n"}}}``."""
    from .. import metrics

    by_voice = defaultdict(lambda: ([], []))
    for c, h in zip(clips, hyps, strict=True):
        refs, hs = by_voice[c.speaker]
        refs.append(clip_text(c))
        hs.append(h)
    all_refs = [r for v in by_voice.values() for r in v[0]]
    all_hyps = [h for v in by_voice.values() for h in v[1]]
    per_voice = {v: {"cer": float(metrics.cer(r, h)), "wer": float(metrics.wer(r, h)), "n": len(r)}
                 for v, (r, h) in sorted(by_voice.items())}
    return {"cer": float(metrics.cer(all_refs, all_hyps)), "wer": float(metrics.wer(all_refs, all_hyps)),
            "per_voice": per_voice, "n_clips": len(clips)}


def lm_texts(split: str = "train") -> list[str]:
    """Transcripts the word LM is estimated from: the split's sentences and digit strings."""
    return [clip_text(c) for c in training_clips(split, kinds=("sentences", "digits"))]


def lexicon(tokenizer, split: str = "train") -> set[str]:
    """The words of the split's transcripts (sentences, digit strings, spoken words), normalised by
    ``tokenizer``: the lexicon constraint of the beam search."""
    return {w for c in training_clips(split) for w in tokenizer.normalize(clip_text(c)).split()}


def noisy_clips(clips, *, kinds=("babble", "fan"), snr_db: float = 10.0, seed: int = 0) -> list:
    """Copies of ``clips`` mixed with each noise kind's *test* take at ``snr_db`` (one copy per kind;
    the noise segment is drawn from ``seed``); ``speaker`` stays the voice, ``label`` names the noise."""
    import dataclasses

    from .. import augment, data

    rng = np.random.default_rng(seed)
    out = []
    for kind in kinds:
        noise = data.noise(kind, split="test", check=False).audio
        for c in clips:
            y = augment.add_noise(c.audio, sr=c.sr, rng=rng, snr_db=snr_db, noise=noise)
            out.append(dataclasses.replace(c, audio=y, label=kind))
    return out


def report(model, *, beam_width: int = 8, lm_weight: float = 0.5, progress: bool = True) -> dict:
    """The checkpoint's test metrics (voices never heard in training), per voice:
    greedy / beam / beam + LM on the test sentences, greedy and beam + LM on connected digits,
    greedy on the sentences with babble and fan noise (test takes) at 10 dB SNR, parameter count."""
    from .lm import WordNgramLM

    lm = WordNgramLM.from_texts(lm_texts("train"))
    sents = training_clips("test", kinds=("sentences",))
    digits = training_clips("test", kinds=("digits",))

    def strip(r):
        return {k: v for k, v in r.items() if k != "hypotheses"}

    out = {"n_parameters": int(sum(p.numel() for p in model.parameters()))}
    out["sentences_greedy"] = strip(evaluate(model, sents, progress=progress, desc="greedy"))
    out["sentences_beam"] = strip(evaluate(model, sents, beam_width=beam_width, progress=progress, desc="beam"))
    out["sentences_beam_lm"] = strip(evaluate(model, sents, beam_width=beam_width, lm=lm, lm_weight=lm_weight,
                                              progress=progress, desc="beam+LM"))
    out["digits_greedy"] = strip(evaluate(model, digits, progress=progress, desc="digits"))
    out["digits_beam_lm"] = strip(evaluate(model, digits, beam_width=beam_width, lm=lm, lm_weight=lm_weight,
                                           progress=progress, desc="digits+LM"))
    for kind in ("babble", "fan"):
        out[f"sentences_{kind}_10db_greedy"] = strip(evaluate(model, noisy_clips(sents, kinds=(kind,)),
                                                              progress=progress, desc=kind))
    out["decoding"] = {"beam_width": beam_width, "lm_weight": lm_weight, "lm": "Kneser-Ney word bigram "
                       "of the training split's sentence and digit-string transcripts"}
    return out
