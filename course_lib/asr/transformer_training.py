"""Training and measuring :class:`~course_lib.asr.transformer.TransformerRecognizer` on the corpus.

Notebook: 06_transformer_asr.ipynb

Everything but the loss is chapter 05's (:mod:`course_lib.asr.training`): the
same clips, :class:`~course_lib.asr.training.SpeechDataset` with speed
perturbation and the recording chain, SpecAugment, length-bucketed batches,
:func:`course_lib.train.fit`, and :func:`~course_lib.asr.training.evaluate` for
per-voice CER / WER.

- :class:`WarmupAdamW` — AdamW with the Transformer's learning-rate schedule
  (linear warm-up, then ``1 / sqrt(step)`` decay): without the warm-up, the
  first large updates through un-normalised attention scores often diverge;
- :func:`hybrid_step` — one batch's ``λ · CTC + (1 - λ) · attention`` loss;
- :func:`train_transformer` — the recipe ``tools/train_models.py asr_transformer``
  runs (and the notebook runs for a few minutes);
- :func:`report` — the checkpoint's test metrics per voice (greedy, beam, beam
  rescored with CTC; digits; noise), comparable with chapter 05's ``report``.
"""

from __future__ import annotations

import torch

from ..errors import ParameterError

__all__ = ["WarmupAdamW", "hybrid_step", "train_transformer", "report"]


class WarmupAdamW(torch.optim.AdamW):
    """AdamW whose learning rate is ``lr · min(n / warmup_steps, sqrt(warmup_steps / n))`` at step ``n``.

    The step count lives in the parameter groups, so it is saved and restored with the
    optimizer's ``state_dict`` (a resumed run continues the schedule).
    """

    def __init__(self, params, *, lr: float = 1e-3, warmup_steps: int = 400, **kwargs):
        if not isinstance(warmup_steps, int) or warmup_steps < 1:
            raise ParameterError(f"warmup_steps={warmup_steps!r} must be a positive integer")
        super().__init__(params, lr=lr, **kwargs)
        for g in self.param_groups:
            g.setdefault("peak_lr", lr)
            g.setdefault("warmup_steps", warmup_steps)
            g.setdefault("n_steps", 0)
            g["lr"] = g["peak_lr"] / g["warmup_steps"]

    @staticmethod
    def schedule(n: int, *, lr: float, warmup_steps: int) -> float:
        """The learning rate of step ``n`` (1-based)."""
        return lr * min(n / warmup_steps, (warmup_steps / n) ** 0.5)

    def step(self, closure=None):
        for g in self.param_groups:
            g["n_steps"] += 1
            g["lr"] = self.schedule(g["n_steps"], lr=g["peak_lr"], warmup_steps=g["warmup_steps"])
        return super().step(closure)


def hybrid_step(model, batch, *, generator: torch.Generator | None = None, spec_augment: bool = True,
                ctc_weight: float | None = None):
    """Loss of one padded batch ``(Padded waveforms, Padded token ids)``: :func:`~course_lib.asr.transformer.hybrid_loss`
    with ``ctc_weight`` (default ``model.config.ctc_weight``), SpecAugment while training."""
    from .. import augment
    from .transformer import decoder_io, hybrid_loss

    wav, tgt = batch
    feats, flen = model.waveform_features(wav.x, wav.lengths)                 # (B, frames, n_mels)
    if model.training and spec_augment:
        feats = augment.spec_augment(feats, flen, generator=generator if generator is not None
                                     else torch.Generator().manual_seed(0))
    dec_in, _, dec_len = decoder_io(tgt.x, tgt.lengths)                       # <s> y1 .. yU
    out = model(feats, flen, dec_in, dec_len)
    w = model.config.ctc_weight if ctc_weight is None else ctc_weight
    return hybrid_loss(out, tgt.x, tgt.lengths, ctc_weight=w,
                       label_smoothing=model.config.label_smoothing if model.training else 0.0).total


def train_transformer(config=None, *, time_budget: float | None = 600.0, epochs: int = 1000, clips=None,
                      valid_clips=None, batch_size: int = 16, lr: float = 1e-3, warmup_steps: int = 400,
                      seed: int = 0, augment: bool = True, checkpoint_dir=None, resume: bool = False,
                      progress: bool = True, desc: str = "Transformer", init_from=None):
    """Train a :class:`~course_lib.asr.transformer.TransformerRecognizer`; return ``(model, history)``.

    As chapter 05's :func:`~course_lib.asr.training.train_recognizer` (same clips, augmentation,
    buckets, validation on the valid voices' sentences and digit strings, best epoch kept), with
    the hybrid loss and :class:`WarmupAdamW`. ``config.ctc_weight = 0`` trains attention alone.
    ``init_from`` (a trained recogniser with the same config) continues from its weights with a
    fresh optimiser: a warm start, not an exact resume (that is ``checkpoint_dir`` + ``resume``).
    """
    from .. import train
    from ..batching import BucketBatchSampler, collate_padded
    from .training import SpeechDataset, training_clips, warm_start
    from .transformer import TransformerConfig, TransformerRecognizer

    cfg = config if config is not None else TransformerConfig()
    torch.manual_seed(seed)
    model = warm_start(TransformerRecognizer(cfg), init_from)
    clips = training_clips("train") if clips is None else list(clips)
    if valid_clips is None:
        valid_clips = training_clips("valid", kinds=("sentences", "digits"))
    train_set = SpeechDataset(clips, model.tokenizer, augment=augment, seed=seed)
    valid_set = SpeechDataset(valid_clips, model.tokenizer, augment=False)
    sampler = BucketBatchSampler(train_set.lengths(), batch_size=batch_size, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    history = train.fit(model, train_set, step_fn=lambda m, b: hybrid_step(m, b, generator=gen),
                        optimizer=lambda p: WarmupAdamW(p, lr=lr, warmup_steps=warmup_steps, weight_decay=0.01),
                        valid_data=valid_set, collate_fn=collate_padded, batch_sampler=sampler,
                        batch_size=batch_size, epochs=epochs, time_budget=time_budget, seed=seed,
                        checkpoint_dir=checkpoint_dir, resume=resume, progress=progress, desc=desc)
    return model.cpu().eval(), history


class _Decoding:
    """``transcribe`` with fixed decoding settings (what :func:`~course_lib.asr.training.evaluate` calls)."""

    def __init__(self, model, **kwargs):
        self.model, self.kwargs = model, kwargs

    def transcribe(self, y, *, sr, beam_width=1, lm=None, lm_weight=0.0):
        return self.model.transcribe(y, sr=sr, lm=lm, **self.kwargs)


def report(model, *, beam_width: int = 8, clips=None, progress: bool = True) -> dict:
    """Test metrics (voices never heard in training), per voice, comparable with chapter 05's ``report``:
    sentences greedy / beam (attention alone) / beam rescored with CTC (``config.ctc_weight``,
    ``sentences_beam_ctc``) / beam with joint CTC/attention prefix scores (``sentences_beam_ctc_joint``) / the CTC
    head alone (greedy),
    connected digits greedy, sentences with babble and fan noise (test takes) at 10 dB greedy,
    parameter count. ``clips`` replaces the test sentences (e.g. a few for a quick look)."""
    from .training import evaluate, noisy_clips, training_clips

    sents = training_clips("test", kinds=("sentences",)) if clips is None else list(clips)
    w = model.config.ctc_weight

    def run(m, cs, desc):
        r = evaluate(m, cs, progress=progress, desc=desc)
        r.pop("hypotheses")
        return r

    out = {"n_parameters": int(sum(p.numel() for p in model.parameters()))}
    out["sentences_greedy"] = run(_Decoding(model, beam_width=1), sents, "greedy")
    out["sentences_beam"] = run(_Decoding(model, beam_width=beam_width, ctc_weight=0.0), sents, "beam")
    out["sentences_beam_ctc"] = run(_Decoding(model, beam_width=beam_width, ctc_weight=w, ctc_mode="rescore"),
                                    sents, "beam+CTC")
    out["sentences_beam_ctc_joint"] = run(_Decoding(model, beam_width=beam_width, ctc_weight=w, ctc_mode="joint"),
                                          sents, "beam, joint CTC")
    out["sentences_ctc_head_greedy"] = run(_Decoding(model, decoder="ctc"), sents, "CTC head")
    if clips is None:
        digits = training_clips("test", kinds=("digits",))
        out["digits_greedy"] = run(_Decoding(model, beam_width=1), digits, "digits")
        for kind in ("babble", "fan"):
            out[f"sentences_{kind}_10db_greedy"] = run(_Decoding(model, beam_width=1),
                                                       noisy_clips(sents, kinds=(kind,)), kind)
    out["decoding"] = {"beam_width": beam_width, "ctc_weight": w, "length_alpha": 1.0}
    return out
