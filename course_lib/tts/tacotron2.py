"""Tacotron 2: characters to a log-mel spectrogram with location-sensitive attention.

Notebook: 12_tacotron2.ipynb

Shen et al. (2018), the structure of ``torchaudio.models.Tacotron2`` (same layers, so the
same parameter count for the same sizes), small enough to train on a CPU:

- **encoder** — character embedding, 3 x (conv 5 + batch norm + ReLU + dropout), a
  bidirectional LSTM: one vector per character ``(batch, n_text, encoder_dim)``;
- **location-sensitive attention** (Chorowski et al. 2015) — the energy of character ``n``
  at decoder step ``i`` is ``v . tanh(W q_i + V h_n + U f_{i,n})`` where ``f`` is a
  convolution over the previous weights *and their running sum* (the cumulative
  attention): the model knows where it has been, so it moves forward instead of jumping
  back to whatever character looks like the next sound (the seed document's
  content-only attention: ``attention="content"`` keeps it, for comparison);
- **decoder** — the previous frame(s) through a *prenet* (2 ReLU layers, dropout that
  stays on at inference: the bottleneck that makes the decoder listen to the text), an
  attention LSTM, the attention, a decoder LSTM, then a linear projection to ``r`` mel
  frames per step (the *reduction factor*) and a *stop-token* logit;
- **postnet** — 5 convolutions predicting a residual that sharpens the whole mel.

``forward`` is teacher forcing (the true previous frame is the input: training);
``infer`` runs free (its own previous frame) until the stop token fires or a cap.
Masks keep padded characters out of the attention and padded frames out of the
losses, so padding a batch changes no utterance's output.
:func:`guided_attention` (Tachibana et al. 2017) penalises attention far from the
diagonal, which makes the alignment form early on little data.

Shapes: text ``(batch, n_text)`` int64; mel ``(batch, n_frames, n_mels)`` (time first,
the course's sequence convention; torchaudio puts mels first).

>>> import torch
>>> model = Tacotron2(Tacotron2Config(n_symbols=35, reduction=2)).eval()
>>> text = torch.tensor([[5, 9, 12, 1]]); mel = torch.zeros(1, 10, 80)
>>> out = model(text, torch.tensor([4]), mel, torch.tensor([10]))
>>> out.mel.shape, out.stop_logits.shape, out.alignments.shape   # 10 frames = 5 steps of 2
(torch.Size([1, 10, 80]), torch.Size([1, 5]), torch.Size([1, 5, 4]))
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ParameterError

__all__ = ["Tacotron2Config", "Tacotron2", "TacotronOutput", "InferResult", "TacotronLoss", "guided_attention",
           "guided_attention_loss", "tacotron2_loss", "Diagonality", "diagonality", "collate", "Batch",
           "lengths_to_mask", "TrainResult", "mel_stats", "prepare", "evaluate_teacher_forced",
           "train_tacotron"]


# --------------------------------------------------------------------------- config

@dataclass
class Tacotron2Config:
    """Sizes of :class:`Tacotron2` (defaults: the course's small CPU model; torchaudio's are in brackets).

    n_symbols : int — size of the symbol table (``len(course_lib.tts.text.SYMBOLS)`` = 35)
    n_mels : int — mel bands (80)
    reduction : int — frames per decoder step, r (torchaudio: 1)
    embed_dim : int — character embedding = encoder width; the BiLSTM has embed_dim / 2 per direction (512)
    encoder_n_convs, encoder_kernel : int — encoder convolutions (3, 5)
    attention_rnn_dim, decoder_rnn_dim : int — the two decoder LSTMs (1024, 1024)
    attention_dim : int — attention's hidden size (128)
    location_filters, location_kernel : int — the location convolution (32, 31)
    prenet_dim : int — both prenet layers (256)
    postnet_dim, postnet_n_convs, postnet_kernel : int — postnet (512, 5, 5)
    prenet_dropout : float — 0.5, applied in training *and* inference
    encoder_dropout, postnet_dropout, attention_dropout, decoder_dropout : float — training only
    attention : "location" or "content" — "content" drops the location term (the seed's attention)
    max_decoder_steps : int — the cap of :meth:`Tacotron2.infer` (steps of ``reduction`` frames)
    stop_threshold : float — stop when ``sigmoid(stop logit) > stop_threshold``
    sample_rate : int — of the mel convention (:class:`course_lib.tts.vocoder.MelConfig`)
    mel_mean, mel_std : float — the model's mel unit: ``z = (log_mel - mel_mean) / mel_std`` (set from the
        training set by :func:`train_tacotron`: targets near unit scale train faster than raw logs near -11)
    """

    n_symbols: int = 35
    n_mels: int = 80
    reduction: int = 2
    embed_dim: int = 128
    encoder_n_convs: int = 3
    encoder_kernel: int = 5
    attention_rnn_dim: int = 256
    decoder_rnn_dim: int = 192
    attention_dim: int = 96
    location_filters: int = 16
    location_kernel: int = 31
    prenet_dim: int = 128
    postnet_dim: int = 128
    postnet_n_convs: int = 5
    postnet_kernel: int = 5
    prenet_dropout: float = 0.5
    encoder_dropout: float = 0.5
    postnet_dropout: float = 0.5
    attention_dropout: float = 0.1
    decoder_dropout: float = 0.1
    attention: str = "location"
    max_decoder_steps: int = 150
    stop_threshold: float = 0.5
    sample_rate: int = 16000
    mel_mean: float = 0.0
    mel_std: float = 1.0

    def __post_init__(self):
        for name in ("n_symbols", "n_mels", "reduction", "embed_dim", "encoder_n_convs", "encoder_kernel",
                     "attention_rnn_dim", "decoder_rnn_dim", "attention_dim", "location_filters",
                     "location_kernel", "prenet_dim", "postnet_dim", "postnet_n_convs", "postnet_kernel",
                     "max_decoder_steps", "sample_rate"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ParameterError(f"Tacotron2Config.{name}={v!r} must be a positive integer")
        for name in ("encoder_kernel", "location_kernel", "postnet_kernel"):
            if getattr(self, name) % 2 == 0:
                raise ParameterError(f"Tacotron2Config.{name}={getattr(self, name)} must be odd "
                                     "('same' padding keeps the length)")
        if self.embed_dim % 2:
            raise ParameterError(f"Tacotron2Config.embed_dim={self.embed_dim} must be even "
                                 "(the bidirectional LSTM has embed_dim / 2 units per direction)")
        if self.postnet_n_convs < 2:
            raise ParameterError(f"Tacotron2Config.postnet_n_convs={self.postnet_n_convs} must be >= 2")
        for name in ("prenet_dropout", "encoder_dropout", "postnet_dropout", "attention_dropout",
                     "decoder_dropout"):
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise ParameterError(f"Tacotron2Config.{name}={v} must be in [0, 1)")
        if self.attention not in ("location", "content"):
            raise ParameterError(f"Tacotron2Config.attention={self.attention!r} must be 'location' or 'content'")
        if not (math.isfinite(self.mel_mean) and math.isfinite(self.mel_std) and self.mel_std > 0):
            raise ParameterError(f"Tacotron2Config.mel_mean={self.mel_mean}, mel_std={self.mel_std}: need finite "
                                 "values and mel_std > 0")
        if not 0 < self.stop_threshold < 1:
            raise ParameterError(f"Tacotron2Config.stop_threshold={self.stop_threshold} must be in (0, 1)")


class TacotronOutput(NamedTuple):
    """:meth:`Tacotron2.forward`'s result.

    mel : (batch, n_frames, n_mels) — the decoder's frames
    mel_postnet : (batch, n_frames, n_mels) — ``mel`` + the postnet's residual
    stop_logits : (batch, n_steps) — one per decoder step (``n_steps = n_frames / reduction``)
    alignments : (batch, n_steps, n_text) — attention weights, each row sums to 1 over the real characters
    """

    mel: torch.Tensor
    mel_postnet: torch.Tensor
    stop_logits: torch.Tensor
    alignments: torch.Tensor


class InferResult(NamedTuple):
    """:meth:`Tacotron2.infer`'s result.

    mel : (batch, n_frames, n_mels) — post-net mel in the model's unit (``Tacotron2.to_log_mel`` gives
        natural-log mels); frames past an utterance's length are padding
    lengths : (batch,) — frames until (and including) the step whose stop token fired; ``reduction *
        max_decoder_steps`` where it never fired
    alignments : (batch, n_steps, n_text)
    stopped : (batch,) bool — the stop token fired (False: the cap ended it)
    """

    mel: torch.Tensor
    lengths: torch.Tensor
    alignments: torch.Tensor
    stopped: torch.Tensor


# --------------------------------------------------------------------------- helpers

def _linear(d_in, d_out, *, bias=True, gain="linear"):
    layer = nn.Linear(d_in, d_out, bias=bias)
    nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(gain))
    return layer


def _conv(c_in, c_out, kernel, *, bias=True, gain="linear"):
    layer = nn.Conv1d(c_in, c_out, kernel, padding=(kernel - 1) // 2, bias=bias)
    nn.init.xavier_uniform_(layer.weight, gain=nn.init.calculate_gain(gain))
    return layer


def lengths_to_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """``(batch, max_len)`` bool, True on real positions (``index < length``)."""
    max_len = int(lengths.max()) if max_len is None else max_len
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def _dropout(x, p, *, generator=None):
    """Dropout that is always on (the prenet's), drawing from ``generator`` when given."""
    if p == 0:
        return x
    keep = torch.rand(x.shape, generator=generator, device=x.device if generator is None else generator.device)
    return x * (keep.to(x.device) >= p).to(x.dtype) / (1 - p)


# --------------------------------------------------------------------------- modules

class _Encoder(nn.Module):
    """Embedded characters ``(B, N, E)`` -> encodings ``(B, N, E)``; padded positions stay zero between layers."""

    def __init__(self, cfg: Tacotron2Config):
        super().__init__()
        self.convolutions = nn.ModuleList(
            nn.Sequential(_conv(cfg.embed_dim, cfg.embed_dim, cfg.encoder_kernel, gain="relu"),
                          nn.BatchNorm1d(cfg.embed_dim))
            for _ in range(cfg.encoder_n_convs))
        self.lstm = nn.LSTM(cfg.embed_dim, cfg.embed_dim // 2, batch_first=True, bidirectional=True)
        self.dropout = cfg.encoder_dropout

    def forward(self, x, lengths):
        mask = lengths_to_mask(lengths, x.shape[1])[:, None, :].to(x.dtype)   # (B, 1, N)
        x = x.transpose(1, 2) * mask                                            # (B, E, N) for Conv1d
        for conv in self.convolutions:
            # zero the padding after every layer: the next conv then sees what an unpadded utterance sees
            x = F.dropout(F.relu(conv(x)), self.dropout, self.training) * mask
        x = x.transpose(1, 2)                                                   # (B, N, E)
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)                    # packed: the backward LSTM starts at the real last character
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out                                                              # (B, N, E)


class _Attention(nn.Module):
    """Location-sensitive (or content-only) additive attention over the encodings."""

    def __init__(self, cfg: Tacotron2Config):
        super().__init__()
        self.query_layer = _linear(cfg.attention_rnn_dim, cfg.attention_dim, bias=False, gain="tanh")
        self.memory_layer = _linear(cfg.embed_dim, cfg.attention_dim, bias=False, gain="tanh")
        self.v = _linear(cfg.attention_dim, 1, bias=False)
        self.location = cfg.attention == "location"
        # (previous weights, cumulative weights) -> filters -> attention_dim, as torchaudio's _LocationLayer
        self.location_conv = _conv(2, cfg.location_filters, cfg.location_kernel, bias=False)
        self.location_dense = _linear(cfg.location_filters, cfg.attention_dim, bias=False, gain="tanh")

    def energies(self, query, processed_memory, weights_cat):
        """query (B, Q), processed_memory (B, N, A), weights_cat (B, 2, N) -> energies (B, N)."""
        e = self.query_layer(query)[:, None, :] + processed_memory               # (B, N, A)
        if self.location:
            loc = self.location_conv(weights_cat).transpose(1, 2)                 # (B, N, filters)
            e = e + self.location_dense(loc)
        return self.v(torch.tanh(e)).squeeze(2)                                   # (B, N)

    def forward(self, query, memory, processed_memory, weights_cat, text_mask):
        """-> context (B, E), weights (B, N): softmax over the real characters only."""
        e = self.energies(query, processed_memory, weights_cat).masked_fill(~text_mask, float("-inf"))
        weights = torch.softmax(e, dim=1)
        context = torch.bmm(weights[:, None, :], memory).squeeze(1)              # (B, 1, N) @ (B, N, E)
        return context, weights


class _Postnet(nn.Module):
    """``(B, n_mels, T)`` -> residual ``(B, n_mels, T)``; padded frames zeroed between layers."""

    def __init__(self, cfg: Tacotron2Config):
        super().__init__()
        n = cfg.postnet_n_convs
        chans = [cfg.n_mels] + [cfg.postnet_dim] * (n - 1) + [cfg.n_mels]
        self.convolutions = nn.ModuleList(
            nn.Sequential(_conv(chans[i], chans[i + 1], cfg.postnet_kernel, gain="linear" if i == n - 1 else "tanh"),
                          nn.BatchNorm1d(chans[i + 1]))
            for i in range(n))
        self.dropout = cfg.postnet_dropout

    def forward(self, x, mask):
        x = x * mask
        for i, conv in enumerate(self.convolutions):
            x = conv(x)
            if i < len(self.convolutions) - 1:
                x = torch.tanh(x)
            x = F.dropout(x, self.dropout, self.training) * mask
        return x


class _Decoder(nn.Module):
    def __init__(self, cfg: Tacotron2Config):
        super().__init__()
        self.cfg = cfg
        r, m = cfg.reduction, cfg.n_mels
        self.prenet = nn.ModuleList([_linear(m * r, cfg.prenet_dim, bias=False, gain="relu"),
                                     _linear(cfg.prenet_dim, cfg.prenet_dim, bias=False, gain="relu")])
        self.attention_rnn = nn.LSTMCell(cfg.prenet_dim + cfg.embed_dim, cfg.attention_rnn_dim)
        self.attention = _Attention(cfg)
        self.decoder_rnn = nn.LSTMCell(cfg.attention_rnn_dim + cfg.embed_dim, cfg.decoder_rnn_dim)
        self.projection = _linear(cfg.decoder_rnn_dim + cfg.embed_dim, m * r)
        self.stop_layer = _linear(cfg.decoder_rnn_dim + cfg.embed_dim, 1, gain="sigmoid")

    def run_prenet(self, x, generator=None):
        for layer in self.prenet:
            x = _dropout(F.relu(layer(x)), self.cfg.prenet_dropout, generator=generator)
        return x

    def init_state(self, memory):
        B, N, E = memory.shape
        z = memory.new_zeros
        return {"att_h": z(B, self.cfg.attention_rnn_dim), "att_c": z(B, self.cfg.attention_rnn_dim),
                "dec_h": z(B, self.cfg.decoder_rnn_dim), "dec_c": z(B, self.cfg.decoder_rnn_dim),
                "weights": z(B, N), "cumulative": z(B, N), "context": z(B, E)}

    def step(self, prenet_out, state, memory, processed_memory, text_mask):
        """One decoder step: (B, prenet_dim) -> frames (B, r * n_mels), stop logit (B,), weights (B, N)."""
        cfg = self.cfg
        att_h, att_c = self.attention_rnn(torch.cat([prenet_out, state["context"]], 1), (state["att_h"], state["att_c"]))
        att_h = F.dropout(att_h, cfg.attention_dropout, self.training)
        weights_cat = torch.stack([state["weights"], state["cumulative"]], dim=1)   # (B, 2, N)
        context, weights = self.attention(att_h, memory, processed_memory, weights_cat, text_mask)
        dec_h, dec_c = self.decoder_rnn(torch.cat([att_h, context], 1), (state["dec_h"], state["dec_c"]))
        dec_h = F.dropout(dec_h, cfg.decoder_dropout, self.training)
        out = torch.cat([dec_h, context], 1)                                     # (B, D + E)
        new_state = {"att_h": att_h, "att_c": att_c, "dec_h": dec_h, "dec_c": dec_c, "weights": weights,
                     "cumulative": state["cumulative"] + weights, "context": context}
        return self.projection(out), self.stop_layer(out).squeeze(1), weights, new_state


# --------------------------------------------------------------------------- the model

class Tacotron2(nn.Module):
    """Tacotron 2 (text -> log-mel), see the module docstring.

    Notebook: 12_tacotron2.ipynb

    Parameters
    ----------
    config : Tacotron2Config
    """

    Config = Tacotron2Config

    def __init__(self, config: Tacotron2Config | None = None):
        super().__init__()
        config = Tacotron2Config() if config is None else config
        if not isinstance(config, Tacotron2Config):
            raise ParameterError(f"config must be a Tacotron2Config, got {type(config).__name__}")
        self.config = config
        self.embedding = nn.Embedding(config.n_symbols, config.embed_dim)
        nn.init.xavier_uniform_(self.embedding.weight)
        self.encoder = _Encoder(config)
        self.decoder = _Decoder(config)
        self.postnet = _Postnet(config)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def from_log_mel(self, log_mel):
        """Natural-log mel -> the model's unit ``(log_mel - mel_mean) / mel_std`` (any shape)."""
        return (log_mel - self.config.mel_mean) / self.config.mel_std

    def to_log_mel(self, z):
        """The model's unit -> natural-log mel (any shape)."""
        return z * self.config.mel_std + self.config.mel_mean

    def _check_text(self, text, text_lengths):
        if text.ndim != 2 or text.dtype not in (torch.int64, torch.int32):
            raise ParameterError(f"text must be an integer tensor (batch, n_text), got {tuple(text.shape)} "
                                 f"{text.dtype}")
        if text_lengths.shape != (text.shape[0],):
            raise ParameterError(f"text_lengths must have shape (batch,) = ({text.shape[0]},), "
                                 f"got {tuple(text_lengths.shape)}")
        if int(text_lengths.min()) < 1 or int(text_lengths.max()) > text.shape[1]:
            raise ParameterError(f"text_lengths must be in [1, {text.shape[1]}], got {text_lengths.tolist()}")
        if int(text.min()) < 0 or int(text.max()) >= self.config.n_symbols:
            raise ParameterError(f"text ids must be in [0, {self.config.n_symbols}), got "
                                 f"{int(text.min())}..{int(text.max())}")

    def encode(self, text, text_lengths):
        """text (B, N) int, text_lengths (B,) -> encodings (B, N, embed_dim)."""
        self._check_text(text, text_lengths)
        return self.encoder(self.embedding(text), text_lengths)

    def forward(self, text, text_lengths, mel, mel_lengths) -> TacotronOutput:
        """Teacher forcing: the decoder's input at step i is the *true* frame group i - 1.

        Parameters
        ----------
        text : torch.Tensor [shape=(batch, n_text)], int64 — padded with ``PAD_ID``
        text_lengths : torch.Tensor [shape=(batch,)]
        mel : torch.Tensor [shape=(batch, n_frames, n_mels)] — targets in the model's unit
            (:meth:`from_log_mel`); ``n_frames`` is padded up to a
            multiple of ``reduction`` here if it is not one already
        mel_lengths : torch.Tensor [shape=(batch,)]

        Returns
        -------
        TacotronOutput
            with ``n_frames`` rounded up to a multiple of ``reduction``.
        """
        cfg = self.config
        if mel.ndim != 3 or mel.shape[2] != cfg.n_mels:
            raise ParameterError(f"mel must have shape (batch, n_frames, n_mels={cfg.n_mels}), got {tuple(mel.shape)}")
        B, T, M = mel.shape
        r = cfg.reduction
        if T % r:
            mel = F.pad(mel, (0, 0, 0, r - T % r))                               # (B, T', M), T' = k r
        n_steps = mel.shape[1] // r
        memory = self.encode(text, text_lengths)                                 # (B, N, E)
        text_mask = lengths_to_mask(text_lengths, text.shape[1])
        processed = self.decoder.attention.memory_layer(memory)                  # (B, N, A)
        groups = mel.reshape(B, n_steps, r * M)                                  # (B, S, r M): frames grouped by step
        inputs = torch.cat([groups.new_zeros(B, 1, r * M), groups[:, :-1]], 1)  # go frame, then the true groups
        prenet = self.decoder.run_prenet(inputs)                                 # (B, S, prenet_dim), all at once
        state = self.decoder.init_state(memory)
        frames, stops, aligns = [], [], []
        for i in range(n_steps):
            f, s, w, state = self.decoder.step(prenet[:, i], state, memory, processed, text_mask)
            frames.append(f)
            stops.append(s)
            aligns.append(w)
        mel_out = torch.stack(frames, 1).reshape(B, n_steps * r, M)              # (B, S, r M) -> (B, T', M)
        frame_mask = lengths_to_mask(mel_lengths, n_steps * r)[:, None, :].to(mel_out.dtype)
        residual = self.postnet(mel_out.transpose(1, 2), frame_mask).transpose(1, 2)   # postnet on (B, M, T')
        return TacotronOutput(mel_out, mel_out + residual, torch.stack(stops, 1), torch.stack(aligns, 1))

    @torch.no_grad()
    def infer(self, text, text_lengths=None, *, max_decoder_steps: int | None = None,
              generator: torch.Generator | None = None) -> InferResult:
        """Free running: each step's input is the model's own previous frames.

        Parameters
        ----------
        text : torch.Tensor [shape=(batch, n_text)], int64
        text_lengths : torch.Tensor [shape=(batch,)], optional — default: all ``n_text``
        max_decoder_steps : int, optional — the cap (default ``config.max_decoder_steps``)
        generator : torch.Generator, optional — draws the prenet's dropout (on at inference)

        Returns
        -------
        InferResult
            Decoding stops for an utterance at the first step whose stop probability exceeds
            ``config.stop_threshold`` and for the batch when all have stopped or at the cap.
        """
        cfg = self.config
        cap = cfg.max_decoder_steps if max_decoder_steps is None else int(max_decoder_steps)
        if cap < 1:
            raise ParameterError(f"max_decoder_steps={cap} must be >= 1")
        if text.ndim == 1:
            text = text[None]
        if text_lengths is None:
            text_lengths = torch.full((text.shape[0],), text.shape[1], dtype=torch.long, device=text.device)
        memory = self.encode(text, text_lengths)
        B = memory.shape[0]
        r, M = cfg.reduction, cfg.n_mels
        text_mask = lengths_to_mask(text_lengths, text.shape[1])
        processed = self.decoder.attention.memory_layer(memory)
        state = self.decoder.init_state(memory)
        prev = memory.new_zeros(B, r * M)
        lengths = torch.full((B,), cap * r, dtype=torch.long, device=memory.device)
        stopped = torch.zeros(B, dtype=torch.bool, device=memory.device)
        frames, aligns = [], []
        for i in range(cap):
            f, s, w, state = self.decoder.step(self.decoder.run_prenet(prev, generator), state, memory, processed,
                                               text_mask)
            frames.append(f)
            aligns.append(w)
            fire = (torch.sigmoid(s) > cfg.stop_threshold) & ~stopped
            lengths[fire] = (i + 1) * r
            stopped |= fire
            if bool(stopped.all()):
                break
            prev = f
        mel = torch.stack(frames, 1).reshape(B, len(frames) * r, M)
        frame_mask = lengths_to_mask(lengths, mel.shape[1])[:, None, :].to(mel.dtype)
        mel = mel + self.postnet(mel.transpose(1, 2), frame_mask).transpose(1, 2)
        return InferResult(mel, lengths, torch.stack(aligns, 1), stopped)

    def synthesize(self, text: str, *, n_iter: int = 60, seed: int = 0, return_mel: bool = False):
        """A waveform for ``text`` at ``config.sample_rate``: normalise, :meth:`infer`, Griffin-Lim.

        Returns ``y`` (float32), or ``(y, log_mel (n_mels, n_frames), alignment (n_steps, n_text))``
        with ``return_mel=True``.
        """
        from . import text as _text
        from . import vocoder

        ids = torch.tensor([_text.text_to_ids(text)], device=next(self.parameters()).device)
        g = torch.Generator(device=ids.device).manual_seed(seed)
        res = self.infer(ids, generator=g)
        log_m = self.to_log_mel(res.mel[0, : int(res.lengths[0])]).T.cpu().numpy()   # (n_mels, n_frames)
        y = vocoder.griffin_lim_mel(log_m, n_iter=n_iter, seed=seed)
        return (y, log_m, res.alignments[0].cpu().numpy()) if return_mel else y


# --------------------------------------------------------------------------- guided attention and the loss

def guided_attention(n_text: int, n_frames: int, *, g: float = 0.2) -> np.ndarray:
    """Tachibana et al. (2017)'s penalty ``W[t, n] = 1 - exp(-(n / N - t / T)^2 / (2 g^2))``.

    Notebook: 12_tacotron2.ipynb

    Near the diagonal (character ``n`` of ``N`` read at decoder step ``t`` of ``T``) the
    penalty is 0; far from it, 1. Adding ``mean(A * W)`` to the loss pulls the attention
    ``A`` towards a monotonic, roughly linear alignment from the first updates.

    Parameters
    ----------
    n_text : int > 0 — N, characters
    n_frames : int > 0 — T, decoder steps (frames / reduction)
    g : float > 0 — width (0.2 in the paper)

    Returns
    -------
    np.ndarray [shape=(n_frames, n_text)], float64
    """
    for name, v in (("n_text", n_text), ("n_frames", n_frames)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ParameterError(f"{name}={v!r} must be a positive integer")
    if not g > 0:
        raise ParameterError(f"g={g} must be > 0 (the width of the diagonal band; 0.2 in Tachibana et al.)")
    n = np.arange(n_text)[None, :] / n_text                                     # (1, N)
    t = np.arange(n_frames)[:, None] / n_frames                                  # (T, 1)
    return 1.0 - np.exp(-((n - t) ** 2) / (2 * g * g))


def guided_attention_loss(alignments, text_lengths, step_lengths, *, g: float = 0.2) -> torch.Tensor:
    """Mean of ``A * W`` over each utterance's real (step, character) cells, averaged over the batch.

    alignments (B, S, N); text_lengths (B,); step_lengths (B,) real decoder steps.
    """
    B, S, N = alignments.shape
    W = torch.zeros(B, S, N, dtype=alignments.dtype, device=alignments.device)
    for b in range(B):
        nt, ns = int(text_lengths[b]), int(step_lengths[b])
        W[b, :ns, :nt] = torch.from_numpy(guided_attention(nt, ns, g=g)).to(W)
    mask = lengths_to_mask(step_lengths, S)[:, :, None] & lengths_to_mask(text_lengths, N)[:, None, :]
    return (alignments * W * mask).sum() / mask.sum()


class TacotronLoss(NamedTuple):
    total: torch.Tensor
    mel: torch.Tensor
    postnet: torch.Tensor
    stop: torch.Tensor
    guided: torch.Tensor


class Batch(NamedTuple):
    """A padded batch (:func:`collate`): text (B, N), text_lengths (B,), mel (B, T, n_mels) padded with the
    log floor to a multiple of ``reduction``, mel_lengths (B,), stop (B, S) targets (1 at each utterance's
    last step)."""

    text: torch.Tensor
    text_lengths: torch.Tensor
    mel: torch.Tensor
    mel_lengths: torch.Tensor
    stop: torch.Tensor


def collate(items, *, reduction: int, pad_value: float = math.log(1e-5)) -> Batch:
    """``[(ids (N_i,), log_mel (T_i, n_mels)), ...]`` -> :class:`Batch`."""
    B = len(items)
    N = max(len(t) for t, _ in items)
    T = max(m.shape[0] for _, m in items)
    T += (-T) % reduction
    n_mels = items[0][1].shape[1]
    text = torch.zeros(B, N, dtype=torch.long)
    mel = torch.full((B, T, n_mels), pad_value, dtype=torch.float32)
    stop = torch.zeros(B, T // reduction)
    for b, (t, m) in enumerate(items):
        text[b, : len(t)] = torch.as_tensor(t)
        mel[b, : m.shape[0]] = torch.as_tensor(m)
        stop[b, (m.shape[0] - 1) // reduction:] = 1.0       # the step holding the last frame, and after
    return Batch(text, torch.tensor([len(t) for t, _ in items]), mel,
                 torch.tensor([m.shape[0] for _, m in items]), stop)


def tacotron2_loss(out: TacotronOutput, batch: Batch, *, reduction: int, guided_weight: float = 1.0,
                   g: float = 0.2, stop_pos_weight: float = 5.0) -> TacotronLoss:
    """Masked MSE of mel and post-net mel, stop-token BCE over real steps, guided attention.

    Padded frames and steps after an utterance's end count nowhere (masks), so the loss of an
    utterance does not depend on what it is batched with.
    """
    T = out.mel.shape[1]
    fmask = lengths_to_mask(batch.mel_lengths, T)[:, :, None].to(out.mel.dtype)   # (B, T, 1)
    denom = fmask.sum() * out.mel.shape[2]
    target = batch.mel[:, :T]
    mel_l = (((out.mel - target) ** 2) * fmask).sum() / denom
    post_l = (((out.mel_postnet - target) ** 2) * fmask).sum() / denom
    steps = (batch.mel_lengths + reduction - 1) // reduction
    smask = lengths_to_mask(steps, out.stop_logits.shape[1]).to(out.mel.dtype)
    bce = F.binary_cross_entropy_with_logits(out.stop_logits, batch.stop[:, : out.stop_logits.shape[1]],
                                             pos_weight=out.mel.new_tensor(stop_pos_weight), reduction="none")
    stop_l = (bce * smask).sum() / smask.sum()
    guided = (guided_attention_loss(out.alignments, batch.text_lengths, steps, g=g) if guided_weight > 0
              else out.mel.new_zeros(()))
    total = mel_l + post_l + stop_l + guided_weight * guided
    return TacotronLoss(total, mel_l, post_l, stop_l, guided)


# --------------------------------------------------------------------------- alignment quality

class Diagonality(NamedTuple):
    focus: float       # mean over steps of the largest attention weight (1 = attends to one character)
    monotonic: float   # fraction of steps whose most-attended character does not move backwards
    coverage: float    # fraction of characters that are some step's most-attended character


def diagonality(alignment) -> Diagonality:
    """How sharp and monotonic one alignment ``(n_steps, n_text)`` is (real steps and characters only).

    Notebook: 12_tacotron2.ipynb
    """
    A = alignment.detach().cpu().numpy() if hasattr(alignment, "detach") else np.asarray(alignment)
    if A.ndim != 2 or A.shape[0] < 2:
        raise ParameterError(f"alignment must have shape (n_steps >= 2, n_text), got {A.shape}")
    peak = A.argmax(axis=1)
    return Diagonality(float(A.max(axis=1).mean()), float(np.mean(np.diff(peak) >= 0)),
                       float(len(np.unique(peak)) / A.shape[1]))


# --------------------------------------------------------------------------- training

class TrainResult(NamedTuple):
    """:func:`train_tacotron`'s record.

    history : list of dict — per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and its parts
        (``valid_mel``, ``valid_postnet``, ``valid_stop``, ``valid_guided``), ``valid_focus``,
        ``valid_monotonic`` (teacher-forced :func:`diagonality`), ``time`` (s since the start)
    snapshots : list of (epoch, alignment (n_steps, n_text)) — the probe sentence, teacher forced
    """

    history: list
    snapshots: list


def mel_stats(clips) -> tuple[float, float]:
    """Mean and standard deviation of the log-mel values of ``clips`` (for ``mel_mean`` / ``mel_std``)."""
    from .vocoder import log_mel

    values = np.concatenate([log_mel(c.audio, sr=c.sr).ravel() for c in clips])
    return float(values.mean()), float(values.std())


def prepare(clips, model: Tacotron2) -> list:
    """``[(ids, z_mel (n_frames, n_mels)), ...]`` for :func:`collate`: text ids and mels in the model's unit."""
    from .text import text_to_ids
    from .vocoder import log_mel

    return [(text_to_ids(c.text), model.from_log_mel(log_mel(c.audio, sr=c.sr)).T.astype(np.float32))
            for c in clips]


@torch.no_grad()
def evaluate_teacher_forced(model: Tacotron2, items, *, batch_size: int = 16, guided_weight: float = 1.0,
                            g: float = 0.2) -> dict:
    """Teacher-forced losses and alignment diagonality of ``items`` (from :func:`prepare`), eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    r = model.config.reduction
    pad = model.from_log_mel(math.log(1e-5))
    sums, n, diag = {}, 0, []
    for i in range(0, len(items), batch_size):
        chunk = items[i:i + batch_size]
        b = Batch(*(t.to(device) for t in collate(chunk, reduction=r, pad_value=pad)))
        out = model(b.text, b.text_lengths, b.mel, b.mel_lengths)
        loss = tacotron2_loss(out, b, reduction=r, guided_weight=guided_weight, g=g)
        for k, v in loss._asdict().items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(chunk)
        n += len(chunk)
        steps = (b.mel_lengths + r - 1) // r
        for j in range(len(chunk)):
            A = out.alignments[j, : int(steps[j]), : int(b.text_lengths[j])]
            diag.append(diagonality(A))
    if was_training:
        model.train()
    res = {("loss" if k == "total" else k): v / n for k, v in sums.items()}
    res["focus"] = float(np.mean([d.focus for d in diag]))
    res["monotonic"] = float(np.mean([d.monotonic for d in diag]))
    return res


def train_tacotron(model: Tacotron2, train_items, *, valid_items=None, epochs: int | None = None,
                   time_budget: float | None = None, batch_size: int = 16, lr: float = 2e-3,
                   guided_weight: float = 1.0, g: float = 0.2, seed: int = 0, probe=None,
                   keep_best: bool = False, progress: bool = True, desc: str = "tacotron2") -> TrainResult:
    """Train with :func:`course_lib.train.fit`, one epoch per call, keeping the optimizer between calls.

    Notebook: 12_tacotron2.ipynb

    Parameters
    ----------
    model : Tacotron2
        Trained in place.
    train_items, valid_items : list of (ids, z_mel) from :func:`prepare`
    epochs, time_budget : int, float — stop at whichever comes first (at least one)
    guided_weight : float — weight of :func:`guided_attention_loss` (0: none)
    probe : (ids, z_mel), optional — its teacher-forced alignment is kept after every epoch
    keep_best : bool — end with the weights of the epoch with the lowest ``valid_loss``
    """
    from tqdm.auto import tqdm

    from .. import train

    if epochs is None and time_budget is None:
        raise ParameterError("give epochs or time_budget (or both) to train_tacotron")
    r = model.config.reduction
    pad = model.from_log_mel(math.log(1e-5))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-6)

    def step_fn(m, b):
        b = Batch(*b)
        out = m(b.text, b.text_lengths, b.mel, b.mel_lengths)
        return tacotron2_loss(out, b, reduction=r, guided_weight=guided_weight, g=g).total

    def collate_fn(items):
        return collate(items, reduction=r, pad_value=pad)

    history, snapshots = [], []
    best = (math.inf, None)
    t0 = time.perf_counter()
    bar = tqdm(total=epochs, desc=desc, unit="epoch", disable=not progress)
    epoch = 0
    while epochs is None or epoch < epochs:
        left = None if time_budget is None else time_budget - (time.perf_counter() - t0)
        if left is not None and left <= 0:
            break
        h = train.fit(model, list(train_items), step_fn=step_fn, optimizer=optimizer, epochs=1, time_budget=left,
                      batch_size=batch_size, collate_fn=collate_fn, seed=seed + epoch, clip_grad_norm=1.0,
                      progress=False, desc=desc)
        row = {"epoch": epoch, "train_loss": h.epochs[-1]["train_loss"]}
        if valid_items:
            v = evaluate_teacher_forced(model, valid_items, guided_weight=guided_weight, g=g)
            row.update({f"valid_{k}": val for k, val in v.items()})
            if keep_best and v["loss"] < best[0]:
                best = (v["loss"], {k: t.detach().clone() for k, t in model.state_dict().items()})
                row["best"] = True
        if probe is not None:
            dev = next(model.parameters()).device
            b = Batch(*(t.to(dev) for t in collate([probe], reduction=r, pad_value=pad)))
            model.eval()
            with torch.no_grad():
                A = model(b.text, b.text_lengths, b.mel, b.mel_lengths).alignments[0]
            model.train()
            snapshots.append((epoch, A.cpu().numpy()))
        row["time"] = time.perf_counter() - t0
        history.append(row)
        bar.update(1)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}",
                        **({"valid": f"{row['valid_loss']:.3f}", "focus": f"{row['valid_focus']:.2f}"}
                           if valid_items else {}))
        epoch += 1
    bar.close()
    if best[1] is not None:
        model.load_state_dict(best[1])
    model.eval()
    return TrainResult(history, snapshots)


# --------------------------------------------------------------------------- quality of synthesis

def mel_cepstral_distortion(log_mel_a, log_mel_b, *, n_coeffs: int = 13) -> float:
    """Mel cepstral distortion (dB) between two log-mel spectrograms ``(n_mels, n_frames)``, DTW-aligned.

    Notebook: 12_tacotron2.ipynb

    Cepstra: DCT-II (orthonormal) of the natural-log mel, coefficients 1..n_coeffs-1 (c0, the
    level, dropped); ``MCD = 10 / ln 10 * sqrt(2 * sum_k (c_k - c'_k)^2)`` averaged over the
    :func:`course_lib.hmm.dtw` path between the two cepstral sequences. (The classical MCD uses
    SPTK's mel-cepstrum of an all-pole fit; this DCT-of-log-mel version is close to it in scale but
    not equal, so compare numbers only within this course.)
    """
    import scipy.fft

    from ..hmm import dtw

    ca = scipy.fft.dct(np.asarray(log_mel_a, np.float64), type=2, norm="ortho", axis=0)[1:n_coeffs].T
    cb = scipy.fft.dct(np.asarray(log_mel_b, np.float64), type=2, norm="ortho", axis=0)[1:n_coeffs].T
    path = dtw(ca, cb).path
    diff = ca[path[:, 0]] - cb[path[:, 1]]
    return float(np.mean(10 / np.log(10) * np.sqrt(2 * np.sum(diff**2, axis=1))))


def evaluate_synthesis(model: Tacotron2, clips, *, recognizer=None, n_iter: int = 60, seed: int = 0,
                       progress: bool = True) -> dict:
    """Judge ``model`` on held-out sentences: alignment, length, spectral distance, intelligibility.

    Notebook: 12_tacotron2.ipynb

    Per clip (``Clip.text`` and its real recording ``Clip.audio``):

    - ``tf_focus``, ``tf_monotonic`` — :func:`diagonality` of the teacher-forced alignment;
    - ``fr_focus``, ``fr_monotonic``, ``stopped`` — of the free-running (:meth:`Tacotron2.infer`) one;
    - ``duration_error`` — (synthesised - real) / real length (signed);
    - ``mcd`` — :func:`mel_cepstral_distortion` of the free-running mel against the real one;
    - with ``recognizer`` (``.transcribe(y, sr=...)``): its transcripts and CER of the real recording
      (``cer_real``), of Griffin-Lim from the real mel (``cer_gl_real``, the vocoder's own loss) and of
      the synthesis (``cer_synth``).

    Returns
    -------
    dict
        ``per_clip`` (list of dicts) and ``overall`` (means; CERs at corpus level, as jiwer).
    """
    from tqdm.auto import tqdm

    from .. import metrics
    from .text import normalize, text_to_ids
    from .vocoder import griffin_lim_mel, log_mel

    model.eval()
    device = next(model.parameters()).device
    r = model.config.reduction
    pad = model.from_log_mel(math.log(1e-5))
    rows, hyps, refs = [], {"real": [], "gl_real": [], "synth": []}, []
    for k, c in enumerate(tqdm(clips, desc="held-out", unit="sentence", disable=not progress)):
        real = log_mel(c.audio, sr=c.sr)                                         # (n_mels, T)
        ids = text_to_ids(c.text)
        b = Batch(*(t.to(device) for t in collate([(ids, model.from_log_mel(real).T)], reduction=r,
                                                    pad_value=pad)))
        with torch.no_grad():
            tf = model(b.text, b.text_lengths, b.mel, b.mel_lengths).alignments[0, : -(-real.shape[1] // r)]
        g = torch.Generator(device=device).manual_seed(seed + k)
        res = model.infer(torch.tensor([ids], device=device), generator=g)
        n = int(res.lengths[0])
        synth = model.to_log_mel(res.mel[0, :n]).T.cpu().numpy()                 # (n_mels, n)
        fr = res.alignments[0, : -(-n // r)]
        d_tf, d_fr = diagonality(tf), diagonality(fr)
        row = {"file": c.path.name if hasattr(c, "path") else str(k), "text": c.text,
               "tf_focus": d_tf.focus, "tf_monotonic": d_tf.monotonic,
               "fr_focus": d_fr.focus, "fr_monotonic": d_fr.monotonic, "stopped": bool(res.stopped[0]),
               "duration_real_s": len(c.audio) / c.sr, "duration_synth_s": n * 256 / c.sr,
               "duration_error": (n - real.shape[1]) / real.shape[1],
               "mcd": mel_cepstral_distortion(synth, real)}
        if recognizer is not None:
            ref = normalize(c.text)
            y_synth = griffin_lim_mel(synth, n_iter=n_iter, seed=seed)
            y_gl = griffin_lim_mel(real, n_iter=n_iter, seed=seed)
            for key, y in (("real", c.audio), ("gl_real", y_gl), ("synth", y_synth)):
                hyp = recognizer.transcribe(np.asarray(y, np.float32), sr=c.sr)
                row[f"asr_{key}"] = hyp
                row[f"cer_{key}"] = metrics.cer(ref, hyp)
                hyps[key].append(hyp)
            refs.append(ref)
        rows.append(row)
    overall = {k: float(np.mean([row[k] for row in rows]))
               for k in ("tf_focus", "tf_monotonic", "fr_focus", "fr_monotonic", "mcd", "duration_error")}
    overall["abs_duration_error"] = float(np.mean([abs(row["duration_error"]) for row in rows]))
    overall["stopped"] = float(np.mean([row["stopped"] for row in rows]))
    if recognizer is not None:
        for key in hyps:
            overall[f"cer_{key}"] = metrics.cer(refs, hyps[key])
    overall["n_sentences"] = len(rows)
    return {"overall": overall, "per_clip": rows}
