"""An attention-based recogniser: conv subsampling, Transformer encoder, autoregressive decoder, joint CTC.

Notebook: 06_transformer_asr.ipynb

The seed document's Transformer recogniser, done right:

- its ``PositionalEncoding`` indexed the table with ``x.size(0)`` on a
  batch-first ``(batch, time, feature)`` tensor, so every frame of an utterance
  got the *same* vector (the one of its batch index) and the model could not
  tell frame 3 from frame 30. :class:`PositionalEncoding` indexes by time
  (``x.size(1)``); a test checks frame ``t`` against the formula for ``t`` at
  several batch sizes;
- attention is written out (:func:`scaled_dot_product_attention`, equal to
  ``torch.nn.functional.scaled_dot_product_attention``), with one mask
  convention everywhere: ``True`` where a query *may* look (the convention of
  :mod:`course_lib.batching`); padded frames are never looked at
  (:func:`padding_mask`) and the decoder never looks ahead (:func:`causal_mask`),
  so an utterance's output does not depend on what it is batched with;
- a CTC head on the encoder (hybrid CTC/attention training, Watanabe et al.
  2017): the CTC loss forces monotonic alignments early in training, which an
  attention decoder alone finds slowly on small data; at inference the CTC
  head rescores the beam's hypotheses;
- ``forward`` (teacher forcing: the decoder reads the true previous
  characters) is apart from :meth:`TransformerRecognizer.infer` (free running:
  greedy or beam search with length normalisation and an end token).

Shapes (``(batch, time, feature)`` inside, time first only for the CTC loss)::

    waveform (batch, samples) -> log-mel (batch, frames, n_mels)
      -> conv subsampling (batch, T' = frames / 2**n_conv, d_model) + positions
      -> encoder (batch, T', d_model) --> CTC head (T', batch, vocab) log-probs
                                     \\-> decoder(tokens (batch, U)) -> (batch, U, vocab) logits

Token ids are those of :class:`course_lib.asr.text.CharTokenizer`; id 0 is the
CTC blank, and the decoder uses the same id 0 as its start- and end-of-sentence
token (:data:`SOS_EOS`; a transcript never contains it, so the two uses never meet).

>>> import torch
>>> model = TransformerRecognizer(TransformerConfig(d_model=32, n_heads=2, d_ff=64,
...                                                 n_encoder_layers=1, n_decoder_layers=1)).eval()
>>> feats, lengths = torch.randn(2, 101, 40), torch.tensor([101, 60])
>>> tokens, token_lengths = torch.tensor([[0, 5, 6], [0, 7, 0]]), torch.tensor([3, 2])
>>> out = model(feats, lengths, tokens, token_lengths)
>>> tuple(out.ctc_log_probs.shape), out.lengths.tolist(), tuple(out.logits.shape)
((26, 2, 29), [26, 15], (2, 3, 29))
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ParameterError
from .models import LogMel
from .text import CharTokenizer

__all__ = ["SOS_EOS", "TransformerConfig", "TransformerRecognizer", "TransformerOutput", "HybridLoss",
           "Hypothesis", "AttentionResult", "sinusoidal_encoding", "PositionalEncoding",
           "scaled_dot_product_attention", "padding_mask", "causal_mask", "MultiHeadAttention",
           "decoder_io", "hybrid_loss"]

#: The decoder's start- and end-of-sentence id (the CTC blank's id: never part of a transcript).
SOS_EOS = 0


# --------------------------------------------------------------------------- positions

def sinusoidal_encoding(n_positions: int, d_model: int) -> torch.Tensor:
    """The sinusoidal position table of Vaswani et al. (2017).

    Notebook: 06_transformer_asr.ipynb

    ``PE[t, 2i] = sin(t / 10000^(2i / d_model))``, ``PE[t, 2i + 1] = cos(t / 10000^(2i / d_model))``.

    Parameters
    ----------
    n_positions : int
    d_model : int
        Even.

    Returns
    -------
    torch.Tensor [shape=(n_positions, d_model), dtype=float32]
    """
    if not isinstance(n_positions, int) or n_positions < 1:
        raise ParameterError(f"n_positions={n_positions!r} must be a positive integer")
    if not isinstance(d_model, int) or d_model < 2 or d_model % 2:
        raise ParameterError(f"d_model={d_model!r} must be a positive even integer (sin and cos pairs)")
    t = torch.arange(n_positions, dtype=torch.float64)[:, None]               # (T, 1)
    inv_freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)   # (D/2,)
    pe = torch.zeros(n_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(t * inv_freq)
    pe[:, 1::2] = torch.cos(t * inv_freq)
    return pe.float()


class PositionalEncoding(nn.Module):
    """Add the sinusoidal position of every *frame* to a batch-first ``(batch, time, d_model)`` input.

    The seed document indexed the table with ``x.size(0)`` — the *batch* size on a
    batch-first tensor — so all frames of utterance ``b`` got position ``b``. Here the
    table is indexed by time, ``x.size(1)``, and broadcast over the batch.

    Parameters
    ----------
    d_model : int
    max_positions : int
        Longest sequence accepted (a clear error beyond it).
    dropout : float
    """

    def __init__(self, d_model: int, *, max_positions: int = 2000, dropout: float = 0.0):
        super().__init__()
        self.register_buffer("pe", sinusoidal_encoding(max_positions, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x : (batch, time, d_model) -> (batch, time, d_model)."""
        if x.dim() != 3 or x.shape[-1] != self.pe.shape[1]:
            raise ParameterError(f"x must be (batch, time, d_model={self.pe.shape[1]}), got {tuple(x.shape)}")
        T = x.shape[1]
        if T > self.pe.shape[0]:
            raise ParameterError(f"sequence of {T} steps is longer than max_positions={self.pe.shape[0]}; "
                                 "build the model with a larger max_positions or cut the input")
        return self.dropout(x + self.pe[:T][None].to(x.dtype))                # (1, T, D) over the batch


# --------------------------------------------------------------------------- attention and masks

class AttentionResult(NamedTuple):
    """output : (..., n_queries, d_v); weights : (..., n_queries, n_keys), rows summing to 1."""

    output: torch.Tensor
    weights: torch.Tensor


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
                                 mask: torch.Tensor | None = None) -> AttentionResult:
    """``softmax(q kᵀ / sqrt(d_k)) v``, written out, with an optional boolean mask.

    Notebook: 06_transformer_asr.ipynb

    Parameters
    ----------
    q : torch.Tensor [shape=(..., n_queries, d_k)]
    k : torch.Tensor [shape=(..., n_keys, d_k)]
    v : torch.Tensor [shape=(..., n_keys, d_v)]
    mask : torch.Tensor [shape broadcastable to (..., n_queries, n_keys), dtype=bool], optional
        ``True`` where the query may attend to the key (as
        ``torch.nn.functional.scaled_dot_product_attention``'s boolean ``attn_mask``).
        Every query needs at least one allowed key.

    Returns
    -------
    AttentionResult
        ``output`` equal to ``F.scaled_dot_product_attention(q, k, v, attn_mask=mask)``
        and the attention ``weights``.
    """
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ParameterError(f"q (..., n_queries, d_k), k (..., n_keys, d_k), v (..., n_keys, d_v) do not fit: "
                             f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])                 # (..., Tq, Tk)
    if mask is not None:
        if mask.dtype != torch.bool:
            raise ParameterError(f"mask must be boolean (True = may attend), got dtype={mask.dtype}")
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    return AttentionResult(weights @ v, weights)                              # (..., Tq, d_v)


def padding_mask(lengths, *, max_len: int | None = None) -> torch.Tensor:
    """Key-padding mask ``(batch, 1, 1, max_len)``: ``True`` on real keys, for every head and query.

    Notebook: 06_transformer_asr.ipynb

    >>> padding_mask([3, 1]).int()[:, 0, 0].tolist()
    [[1, 1, 1], [1, 0, 0]]
    """
    from ..batching import lengths_to_mask

    lengths = torch.as_tensor(lengths)
    if lengths.numel() and int(lengths.min()) < 1:
        raise ParameterError(f"every sequence needs at least one frame to attend to, got lengths {lengths.tolist()}")
    return lengths_to_mask(lengths, max_len=max_len)[:, None, None, :]        # (B, 1, 1, T): heads, queries


def causal_mask(n: int, *, device=None) -> torch.Tensor:
    """``(n, n)`` lower-triangular mask: query ``i`` may look at keys ``0..i`` only.

    Notebook: 06_transformer_asr.ipynb

    >>> causal_mask(3).int().tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    if not isinstance(n, int) or n < 1:
        raise ParameterError(f"n={n!r} must be a positive integer")
    return torch.ones(n, n, dtype=torch.bool, device=device).tril()


class MultiHeadAttention(nn.Module):
    """``n_heads`` attentions of width ``d_model / n_heads`` side by side, then one projection.

    ``forward(query, key, value, mask=None, need_weights=False)`` with query
    ``(batch, n_queries, d_model)``, key/value ``(batch, n_keys, d_model)``, ``mask``
    broadcastable to ``(batch, n_heads, n_queries, n_keys)``; returns
    ``(output (batch, n_queries, d_model), weights (batch, n_heads, n_queries, n_keys) or None)``.
    Without ``need_weights`` it calls ``F.scaled_dot_product_attention`` (fused, faster);
    with it, the written-out :func:`scaled_dot_product_attention` (equal within float rounding).
    """

    def __init__(self, d_model: int, n_heads: int, *, dropout: float = 0.0):
        super().__init__()
        if d_model % n_heads:
            raise ParameterError(f"d_model={d_model} must be divisible by n_heads={n_heads}")
        self.n_heads, self.d_head = n_heads, d_model // n_heads
        self.q_proj, self.k_proj, self.v_proj = (nn.Linear(d_model, d_model) for _ in range(3))
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.n_heads, self.d_head).transpose(1, 2)        # (B, T, D) -> (B, H, T, D/H)

    def forward(self, query, key, value, mask=None, need_weights: bool = False):
        q, k, v = self._split(self.q_proj(query)), self._split(self.k_proj(key)), self._split(self.v_proj(value))
        if need_weights:
            out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
            if self.training and self.dropout:
                out = F.dropout(weights, self.dropout) @ v
        else:
            weights = None
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                 dropout_p=self.dropout if self.training else 0.0)
        B, H, T, Dh = out.shape
        out = out.transpose(1, 2).reshape(B, T, H * Dh)                        # (B, H, T, D/H) -> (B, T, D)
        return self.out_proj(out), weights


class _FeedForward(nn.Sequential):
    def __init__(self, d_model, d_ff, dropout):
        super().__init__(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model))


class _EncoderLayer(nn.Module):
    """Pre-LayerNorm self-attention + feed-forward, each with a residual connection."""

    def __init__(self, d_model, n_heads, d_ff, dropout):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.ff = _FeedForward(d_model, d_ff, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):
        h = self.norm1(x)
        x = x + self.drop(self.attn(h, h, h, mask)[0])
        return x + self.drop(self.ff(self.norm2(x)))


class _DecoderLayer(nn.Module):
    """Pre-LayerNorm causal self-attention, cross-attention to the encoder, feed-forward."""

    def __init__(self, d_model, n_heads, d_ff, dropout):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.ff = _FeedForward(d_model, d_ff, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, y, memory, self_mask, memory_mask, need_weights=False):
        h = self.norm1(y)
        y = y + self.drop(self.self_attn(h, h, h, self_mask)[0])
        ctx, weights = self.cross_attn(self.norm2(y), memory, memory, memory_mask, need_weights=need_weights)
        y = y + self.drop(ctx)
        return y + self.drop(self.ff(self.norm3(y))), weights


# --------------------------------------------------------------------------- the model

@dataclass
class TransformerConfig:
    """Hyper-parameters of :class:`TransformerRecognizer` (validated when the model is built).

    sample_rate, n_fft, hop_length, n_mels, fmin, fmax : the log-mel front end (chapter 05's
        :class:`~course_lib.asr.models.LogMel`: 25 ms windows every 10 ms).
    n_conv : int
        Stride-2 convolutions before the encoder: ``2 ** n_conv`` frames per encoder step
        (2 -> 40 ms, about a third of a character; attention costs ``T'²``).
    d_model, n_heads, d_ff : int
        Width, heads (``d_model`` divisible by them), feed-forward width.
    n_encoder_layers, n_decoder_layers : int
    dropout : float
    ctc_weight : float
        λ in ``λ · CTC + (1 - λ) · attention`` (training loss; 0 = attention alone,
        1 = CTC alone) and the default weight of CTC rescoring at inference.
    label_smoothing : float
        Of the decoder's cross-entropy.
    max_positions : int
        Longest encoder / decoder sequence (positional table size): 2000 steps = 80 s at 40 ms.
    vocab_size : int
        ``len(alphabet) + 1`` (id 0 = CTC blank = decoder start/end).
    alphabet : str
        The tokenizer's alphabet, stored so a checkpoint decodes itself.
    """

    sample_rate: int = 16000
    n_fft: int = 400
    hop_length: int = 160
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float = 8000.0
    n_conv: int = 2
    d_model: int = 128
    n_heads: int = 4
    d_ff: int = 256
    n_encoder_layers: int = 4
    n_decoder_layers: int = 2
    dropout: float = 0.1
    ctc_weight: float = 0.3
    label_smoothing: float = 0.1
    max_positions: int = 2000
    vocab_size: int = 29
    alphabet: str = " '" + "abcdefghijklmnopqrstuvwxyz"

    def validate(self) -> None:
        for name in ("sample_rate", "n_fft", "hop_length", "n_mels", "d_model", "n_heads", "d_ff",
                     "n_encoder_layers", "n_decoder_layers", "max_positions", "vocab_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ParameterError(f"TransformerConfig.{name}={v!r} must be a positive integer")
        if not isinstance(self.n_conv, int) or not 0 <= self.n_conv <= 4:
            raise ParameterError(f"TransformerConfig.n_conv={self.n_conv!r} must be an integer in 0..4")
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise ParameterError(f"TransformerConfig.d_model={self.d_model} must be n_heads={self.n_heads} "
                                 "times an even head width (e.g. d_model=128, n_heads=4)")
        if not 0.0 <= self.dropout < 1.0:
            raise ParameterError(f"TransformerConfig.dropout={self.dropout!r} must be in [0, 1)")
        if not 0.0 <= self.ctc_weight <= 1.0:
            raise ParameterError(f"TransformerConfig.ctc_weight={self.ctc_weight!r} must be in [0, 1]")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ParameterError(f"TransformerConfig.label_smoothing={self.label_smoothing!r} must be in [0, 1)")
        if not 0.0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ParameterError(f"TransformerConfig needs 0 <= fmin < fmax <= sample_rate / 2, got fmin={self.fmin}, "
                                 f"fmax={self.fmax}, sample_rate={self.sample_rate}")
        if self.vocab_size != len(self.alphabet) + 1:
            raise ParameterError(f"TransformerConfig.vocab_size={self.vocab_size} must be len(alphabet) + 1 = "
                                 f"{len(self.alphabet) + 1} (id 0 is the blank / start / end)")


class TransformerOutput(NamedTuple):
    """ctc_log_probs : (T', batch, vocab) log-softmax, time first for ``F.ctc_loss``;
    lengths : (batch,) valid encoder steps; logits : (batch, U, vocab) the decoder's next-token scores."""

    ctc_log_probs: torch.Tensor
    lengths: torch.Tensor
    logits: torch.Tensor


class HybridLoss(NamedTuple):
    """total = ctc_weight · ctc + (1 - ctc_weight) · attention (each a mean over utterances)."""

    total: torch.Tensor
    ctc: torch.Tensor
    attention: torch.Tensor


class Hypothesis(NamedTuple):
    """tokens : list of int (no start / end token); score : the search's ranking score (length
    normalised, CTC-rescored if asked); log_prob : the decoder's log-probability including the end token;
    ctc_log_prob : the CTC head's log-likelihood of ``tokens`` (None when not computed)."""

    tokens: list
    score: float
    log_prob: float
    ctc_log_prob: float | None = None


def decoder_io(targets: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Teacher-forcing pairs: decoder input ``<s> y1 .. yU`` and output ``y1 .. yU </s>``.

    Notebook: 06_transformer_asr.ipynb

    Parameters
    ----------
    targets : torch.Tensor [shape=(batch, U_max), int]
        Token ids, anything (e.g. -100) after each length.
    lengths : torch.Tensor [shape=(batch,)]

    Returns
    -------
    (inputs (batch, U_max + 1), outputs (batch, U_max + 1), lengths + 1)
        ``inputs`` padded with :data:`SOS_EOS`, ``outputs`` padded with -100 (ignored by the loss).

    >>> i, o, n = decoder_io(torch.tensor([[5, 6], [7, -100]]), torch.tensor([2, 1]))
    >>> i.tolist(), o.tolist(), n.tolist()
    ([[0, 5, 6], [0, 7, 0]], [[5, 6, 0], [7, 0, -100]], [3, 2])
    """
    targets, lengths = torch.as_tensor(targets), torch.as_tensor(lengths)
    B, U = targets.shape
    valid = torch.arange(U, device=targets.device)[None] < lengths[:, None]   # (B, U)
    body = torch.where(valid, targets, torch.full_like(targets, SOS_EOS))
    inputs = torch.cat([torch.full((B, 1), SOS_EOS, dtype=targets.dtype, device=targets.device), body], dim=1)
    outputs = torch.cat([torch.where(valid, targets, torch.full_like(targets, -100)),
                         torch.full((B, 1), -100, dtype=targets.dtype, device=targets.device)], dim=1)
    outputs[torch.arange(B), lengths] = SOS_EOS                               # the end token after y_U
    return inputs, outputs, lengths + 1


def hybrid_loss(out: TransformerOutput, targets: torch.Tensor, target_lengths: torch.Tensor, *,
                ctc_weight: float, label_smoothing: float = 0.0) -> HybridLoss:
    """λ · CTC + (1 - λ) · cross-entropy of the decoder (teacher forcing).

    Notebook: 06_transformer_asr.ipynb

    Parameters
    ----------
    out : TransformerOutput
        Of ``model(features, lengths, *decoder_io(targets, target_lengths)[::2])``.
    targets : torch.Tensor [shape=(batch, U_max)], target_lengths : (batch,)
        The transcripts (no start / end token).
    ctc_weight : float
        λ in [0, 1].
    label_smoothing : float

    Returns
    -------
    HybridLoss
        ``ctc``: ``F.ctc_loss(..., reduction="mean")`` (per utterance, divided by its length);
        ``attention``: token-level cross-entropy over ``y1 .. yU </s>``.
    """
    if not 0.0 <= ctc_weight <= 1.0:
        raise ParameterError(f"ctc_weight={ctc_weight!r} must be in [0, 1]")
    targets, target_lengths = torch.as_tensor(targets), torch.as_tensor(target_lengths)
    ctc = F.ctc_loss(out.ctc_log_probs, targets.clamp(min=0), out.lengths, target_lengths,
                     blank=0, zero_infinity=True)
    _, dec_out, _ = decoder_io(targets, target_lengths)
    att = F.cross_entropy(out.logits.transpose(1, 2), dec_out, ignore_index=-100,   # (B, V, U) as CE wants
                          label_smoothing=label_smoothing)
    return HybridLoss(ctc_weight * ctc + (1 - ctc_weight) * att, ctc, att)


class TransformerRecognizer(nn.Module):
    """Conv subsampling + Transformer encoder + autoregressive decoder, with a CTC head on the encoder.

    - ``forward(features, lengths, tokens, token_lengths)``: teacher forcing, returns
      :class:`TransformerOutput` (train with :func:`hybrid_loss`);
    - :meth:`infer`: greedy (``beam_width=1``) or beam search, length normalised, optionally
      rescored with the CTC head;
    - :meth:`transcribe`: raw audio at any sample rate -> text.
    """

    Config = TransformerConfig      #: how :func:`course_lib.pretrained.load` rebuilds it from ``NAME.json``

    def __init__(self, config: TransformerConfig | None = None):
        super().__init__()
        self.config = cfg = config if config is not None else TransformerConfig()
        cfg.validate()
        self.tokenizer = CharTokenizer(cfg.alphabet)
        self.frontend = LogMel(cfg)
        convs, c_in = [], cfg.n_mels
        for _ in range(cfg.n_conv):
            convs.append(nn.Conv1d(c_in, cfg.d_model, kernel_size=3, stride=2, padding=1))
            c_in = cfg.d_model
        self.convs = nn.ModuleList(convs)
        self.in_proj = nn.Linear(c_in, cfg.d_model)
        self.pos = PositionalEncoding(cfg.d_model, max_positions=cfg.max_positions, dropout=cfg.dropout)
        self.encoder = nn.ModuleList(_EncoderLayer(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout)
                                     for _ in range(cfg.n_encoder_layers))
        self.encoder_norm = nn.LayerNorm(cfg.d_model)
        self.ctc_head = nn.Linear(cfg.d_model, cfg.vocab_size)
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.decoder = nn.ModuleList(_DecoderLayer(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout)
                                     for _ in range(cfg.n_decoder_layers))
        self.decoder_norm = nn.LayerNorm(cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.vocab_size)

    # ---------------------------------------------------------------- pieces
    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Encoder steps after subsampling: each conv (k=3, s=2, p=1) maps L to ``(L - 1) // 2 + 1``."""
        out = torch.as_tensor(lengths)
        for _ in range(self.config.n_conv):
            out = torch.div(out - 1, 2, rounding_mode="floor") + 1
        return out

    def waveform_features(self, wav: torch.Tensor, n_samples: torch.Tensor):
        """(batch, samples) at ``config.sample_rate`` -> ((batch, frames, n_mels), lengths)."""
        return self.frontend(wav, n_samples)

    def encode(self, features: torch.Tensor, lengths) -> tuple[torch.Tensor, torch.Tensor]:
        """features (batch, frames, n_mels), lengths (batch,) -> memory (batch, T', d_model), lengths (batch,)."""
        if features.dim() != 3 or features.shape[-1] != self.config.n_mels:
            raise ParameterError(f"features must be (batch, frames, n_mels={self.config.n_mels}), "
                                 f"got {tuple(features.shape)}")
        cur = torch.as_tensor(lengths, device=features.device).clamp(max=features.shape[1])
        x = features.transpose(1, 2)                                          # (B, n_mels, T) for Conv1d
        for conv in self.convs:
            # zero the padding first: an utterance's last kernel sees the same zeros alone or in a batch
            x = x * (torch.arange(x.shape[-1], device=x.device)[None] < cur[:, None])[:, None]
            x = F.gelu(conv(x))
            cur = (torch.div(cur - 1, 2, rounding_mode="floor") + 1).clamp(max=x.shape[-1])
        x = self.pos(self.in_proj(x.transpose(1, 2)))                        # (B, C, T') -> (B, T', D)
        mask = padding_mask(cur, max_len=x.shape[1])                          # (B, 1, 1, T')
        for layer in self.encoder:
            x = layer(x, mask)
        return self.encoder_norm(x), cur

    def ctc_log_probs(self, memory: torch.Tensor) -> torch.Tensor:
        """memory (batch, T', d_model) -> (T', batch, vocab) log-probabilities for ``F.ctc_loss``."""
        return self.ctc_head(memory).log_softmax(-1).transpose(0, 1)          # (B, T', V) -> (T', B, V)

    def decode(self, tokens: torch.Tensor, memory: torch.Tensor, memory_lengths, token_lengths=None, *,
               need_weights: bool = False):
        """Next-token logits for every prefix of ``tokens``.

        Parameters
        ----------
        tokens : torch.Tensor [shape=(batch, U), int]
            Decoder input, starting with :data:`SOS_EOS`.
        memory : torch.Tensor [shape=(batch, T', d_model)], memory_lengths : (batch,)
        token_lengths : (batch,), optional
            Valid tokens (default: all ``U``).
        need_weights : bool
            Also return the last layer's cross-attention ``(batch, n_heads, U, T')``.

        Returns
        -------
        logits (batch, U, vocab), and the weights (or None)
        """
        B, U = tokens.shape
        if token_lengths is None:
            token_lengths = torch.full((B,), U, device=tokens.device)
        self_mask = causal_mask(U, device=tokens.device)[None, None] & padding_mask(token_lengths, max_len=U)
        memory_mask = padding_mask(memory_lengths, max_len=memory.shape[1])   # (B, 1, 1, T')
        y = self.pos(self.embed(tokens) * math.sqrt(self.config.d_model))     # (B, U, D)
        weights = None
        for i, layer in enumerate(self.decoder):
            y, w = layer(y, memory, self_mask, memory_mask, need_weights=need_weights and i == len(self.decoder) - 1)
            weights = w if w is not None else weights
        return self.out(self.decoder_norm(y)), weights

    def forward(self, features: torch.Tensor, lengths, tokens: torch.Tensor, token_lengths=None) -> TransformerOutput:
        """Teacher forcing. features (batch, frames, n_mels); lengths (batch,); tokens (batch, U) the
        decoder input ``<s> y1 .. y(U-1)`` (see :func:`decoder_io`); token_lengths (batch,)."""
        memory, mem_lengths = self.encode(features, lengths)
        logits, _ = self.decode(tokens, memory, mem_lengths, token_lengths)
        return TransformerOutput(self.ctc_log_probs(memory), mem_lengths, logits)

    # ---------------------------------------------------------------- inference
    def _ctc_scores(self, ctc_lp: torch.Tensor, T: int, hyps: list) -> list:
        """log P_ctc(tokens | x) of each hypothesis (ctc_lp (T', vocab) of one utterance)."""
        if not hyps:
            return []
        n = len(hyps)
        U = max(1, max(len(h) for h in hyps))
        tgt = torch.zeros(n, U, dtype=torch.long)
        for i, h in enumerate(hyps):
            tgt[i, :len(h)] = torch.tensor(h, dtype=torch.long)
        lp = ctc_lp[:T, None].expand(T, n, ctc_lp.shape[-1]).double().cpu()
        nll = F.ctc_loss(lp, tgt, torch.full((n,), T), torch.tensor([len(h) for h in hyps]),
                         blank=0, reduction="none", zero_infinity=False)
        return (-nll).tolist()

    @torch.no_grad()
    def infer(self, features: torch.Tensor, lengths, *, beam_width: int = 1, max_len: int | None = None,
              length_alpha: float = 1.0, ctc_weight: float = 0.0, ctc_mode: str = "joint") -> list:
        """Free-running decoding of a batch; one :class:`Hypothesis` per utterance.

        Parameters
        ----------
        features : torch.Tensor [shape=(batch, frames, n_mels)], lengths : (batch,)
        beam_width : int
            1: greedy (the most likely next character until the end token). More: beam
            search keeping ``beam_width`` prefixes; a prefix that emits the end token is
            finished; search stops when no live prefix can beat the best finished one
            under the decoder alone, or at ``max_len``.
        max_len : int, optional
            Most characters per utterance (default: the number of encoder steps + 5).
        length_alpha : float
            Beam hypotheses are ranked by ``score / (len + 1) ** length_alpha`` (the end
            token counted): 0 favours short outputs (every character costs log-probability),
            1 ranks by the mean per-character score.
        ctc_weight : float
            Beam only: ``score = (1 - w) · log P_att + w · log P_ctc`` for finished
            hypotheses, the CTC head's log-likelihood of the whole string.
        ctc_mode : {"joint", "rescore"}
            With ``ctc_weight > 0``: ``"joint"`` (Watanabe et al. 2017) also ranks the live
            prefixes during the search by ``(1 - w) · log P_att + w · log psi_ctc``, the CTC
            prefix probability (:class:`~course_lib.asr.ctc.CTCPrefixScorer`), so a prefix the
            audio cannot support (a loop, a skipped word) leaves the beam early; the
            ``1.5 · beam_width`` best next tokens under the decoder are scored so.
            ``"rescore"``: the decoder alone chooses the beam; CTC only re-ranks finished
            hypotheses.

        Returns
        -------
        list of Hypothesis [length=batch]
        """
        if not isinstance(beam_width, int) or beam_width < 1:
            raise ParameterError(f"beam_width={beam_width!r} must be a positive integer (1 = greedy)")
        if not 0.0 <= ctc_weight <= 1.0:
            raise ParameterError(f"ctc_weight={ctc_weight!r} must be in [0, 1]")
        if ctc_mode not in ("joint", "rescore"):
            raise ParameterError(f"ctc_mode={ctc_mode!r} must be 'joint' or 'rescore'")
        if length_alpha < 0:
            raise ParameterError(f"length_alpha={length_alpha!r} must be >= 0")
        memory, mem_lengths = self.encode(features, lengths)
        ctc_lp = self.ctc_log_probs(memory).transpose(0, 1)                  # (B, T', V)
        limit = [int(n) + 5 if max_len is None else int(max_len) for n in mem_lengths]
        limit = [min(m, self.config.max_positions - 1) for m in limit]
        if beam_width == 1:
            hyps = self._greedy(memory, mem_lengths, limit)
            if ctc_weight > 0:
                hyps = [h._replace(ctc_log_prob=self._ctc_scores(ctc_lp[b], int(mem_lengths[b]), [h.tokens])[0])
                        for b, h in enumerate(hyps)]
            return hyps
        return [self._beam(memory[b:b + 1, : int(mem_lengths[b])], mem_lengths[b:b + 1], ctc_lp[b],
                           beam_width=beam_width, max_len=limit[b], alpha=length_alpha, ctc_weight=ctc_weight,
                           joint=ctc_mode == "joint" and ctc_weight > 0)
                for b in range(memory.shape[0])]

    def _step(self, last: torch.Tensor, position: int, cache: list, memory, memory_mask) -> torch.Tensor:
        """One decoder step for the newest token only: ``last`` (n,) at ``position``; ``cache[l]``
        holds layer ``l``'s inputs at the earlier positions (n, position, d_model) and is extended in place.

        Equal to the last row of :meth:`decode` on the whole prefix: with pre-LayerNorm and a causal
        mask, earlier positions never change when a token is appended, so only the new row is computed
        (O(U) per step instead of O(U²)). Returns log-probabilities (n, vocab)."""
        y = self.embed(last)[:, None] * math.sqrt(self.config.d_model) + self.pos.pe[position]   # (n, 1, D)
        for i, layer in enumerate(self.decoder):
            cache[i] = torch.cat([cache[i], y], dim=1) if cache[i] is not None else y            # (n, u+1, D)
            h = layer.norm1(cache[i])
            y = y + layer.self_attn(h[:, -1:], h, h)[0]          # the newest query sees every earlier key
            y = y + layer.cross_attn(layer.norm2(y), memory, memory, memory_mask)[0]
            y = y + layer.ff(layer.norm3(y))
        return self.out(self.decoder_norm(y))[:, 0].log_softmax(-1)

    def _greedy(self, memory, mem_lengths, limit) -> list:
        B, dev = memory.shape[0], memory.device
        memory_mask = padding_mask(mem_lengths, max_len=memory.shape[1])
        cache = [None] * len(self.decoder)
        last = torch.full((B,), SOS_EOS, dtype=torch.long, device=dev)
        done = torch.zeros(B, dtype=torch.bool, device=dev)
        tokens, ends = [[] for _ in range(B)], [None] * B
        logp = torch.zeros(B, dtype=torch.float64)
        for step in range(max(limit) + 1):
            lp = self._step(last, step, cache, memory, memory_mask)            # (B, V)
            for b in range(B):                                               # out of room: end here
                if step >= limit[b]:
                    lp[b, 1:] = float("-inf")
            nxt = lp.argmax(-1)
            logp += torch.where(done, torch.zeros_like(logp), lp.gather(1, nxt[:, None])[:, 0].double().cpu())
            for b in range(B):
                if not done[b]:
                    if int(nxt[b]) == SOS_EOS:
                        ends[b] = step
                    else:
                        tokens[b].append(int(nxt[b]))
            done |= nxt == SOS_EOS
            last = nxt
            if bool(done.all()):
                break
        return [Hypothesis(tokens[b], float(logp[b]), float(logp[b])) for b in range(B)]

    def _beam(self, memory, mem_lengths, ctc_lp, *, beam_width, max_len, alpha, ctc_weight,
              joint=False) -> Hypothesis:
        dev = memory.device
        live = [([], 0.0)]                                                    # (tokens, log P_att)
        finished = []                                                         # (tokens, log P_att incl. </s>)
        if joint:                                                             # each live prefix's CTC state
            from .ctc import CTCPrefixScorer

            scorer = CTCPrefixScorer(ctc_lp[: int(mem_lengths[0])].double().cpu().numpy())
            ctc_state = [scorer.initial_state()]
            n_pre = min(max(int(1.5 * beam_width), beam_width), ctc_lp.shape[-1] - 1)

        def norm(n_tokens, s):
            return s / (n_tokens + 1) ** alpha

        cache = [None] * len(self.decoder)
        memory_mask = padding_mask(mem_lengths, max_len=memory.shape[1])
        for step in range(max_len + 1):
            n = len(live)
            last = torch.tensor([t[-1] if t else SOS_EOS for t, _ in live], dtype=torch.long, device=dev)
            lp = self._step(last, step, cache, memory.expand(n, -1, -1), memory_mask).double().cpu()   # (n, V)
            cands = []                                  # (tokens, log P_att, parent, rank key, CTC state)
            for i, (t, s) in enumerate(live):
                finished.append((t, s + float(lp[i, SOS_EOS])))
                if step < max_len and not joint:
                    top = torch.topk(lp[i, 1:], min(beam_width, lp.shape[1] - 1))
                    cands += [(t + [int(c) + 1], s + float(v), i, s + float(v), None)
                              for v, c in zip(top.values, top.indices)]
                elif step < max_len:
                    top = torch.topk(lp[i, 1:], n_pre)                        # pre-beam by the decoder
                    ids = [int(c) + 1 for c in top.indices]
                    psi, states = scorer.extend(ctc_state[i], t[-1] if t else None, ids)
                    cands += [(t + [c], s + float(v), i, (1 - ctc_weight) * (s + float(v)) + ctc_weight * p, st)
                              for v, c, p, st in zip(top.values, ids, psi, states)]
            if not cands:
                break
            cands.sort(key=lambda c: -c[3])
            parents = torch.tensor([c[2] for c in cands[:beam_width]], device=dev)
            cache = [c[parents] for c in cache]                                # each survivor's history
            live = [(t, s) for t, s, _, _, _ in cands[:beam_width]]
            if joint:
                ctc_state = [st for _, _, _, _, st in cands[:beam_width]]
            # log-probabilities only fall: a live prefix's best possible normalised score is its
            # score now over the longest length it may still reach (alpha > 0) or its score now
            best_done = max(norm(len(t), s) for t, s in finished)
            bound = max(s / (max_len + 1) ** alpha if alpha > 0 else s for _, s in live)
            if ctc_weight == 0 and len(finished) >= beam_width and bound < best_done:
                break
        if ctc_weight > 0:
            ctc = self._ctc_scores(ctc_lp, int(mem_lengths[0]), [t for t, _ in finished])
            scored = [Hypothesis(t, norm(len(t), (1 - ctc_weight) * s + ctc_weight * c), s, c)
                      for (t, s), c in zip(finished, ctc)]
        else:
            scored = [Hypothesis(t, norm(len(t), s), s) for t, s in finished]
        return max(scored, key=lambda h: h.score)

    def _features(self, y, sr):
        from .. import audio, validation

        y = np.asarray(y, dtype=np.float32)
        validation.valid_audio(y, mono=True, name="y")
        if sr != self.config.sample_rate:
            y = audio.resample(y, orig_sr=sr, target_sr=self.config.sample_rate)
        device = next(self.parameters()).device
        wav = torch.from_numpy(np.ascontiguousarray(y))[None].to(device)
        return self.frontend(wav, torch.tensor([wav.shape[1]], device=device))

    @torch.no_grad()
    def transcribe(self, y, *, sr: int, beam_width: int = 1, ctc_weight: float | None = None,
                   length_alpha: float = 1.0, decoder: str = "attention", lm=None, lm_weight: float = 0.0,
                   ctc_mode: str = "joint") -> str:
        """Text of one utterance ``y`` (mono, any sample rate; resampled inside).

        ``decoder="attention"`` (default): ``beam_width=1`` is greedy; more is beam search
        with the CTC head (``ctc_weight``, default ``config.ctc_weight``; 0 = attention
        alone), joint CTC/attention scoring of every prefix (``ctc_mode="joint"``) or CTC
        rescoring of the finished hypotheses (``"rescore"``); see :meth:`infer`. ``decoder="ctc"``: the CTC head alone, greedy or prefix beam search (chapter 05's
        decoders). ``lm`` is not supported (None only; the argument exists so chapter 05's
        :func:`~course_lib.asr.training.evaluate` can call it).
        """
        if lm is not None:
            raise ParameterError("lm is not supported by TransformerRecognizer.transcribe; pass lm=None")
        if decoder not in ("attention", "ctc"):
            raise ParameterError(f"decoder={decoder!r} must be 'attention' or 'ctc'")
        feats, lengths = self._features(y, sr)
        if decoder == "ctc":
            from . import ctc as _ctc

            memory, mem_lengths = self.encode(feats, lengths)
            lp = self.ctc_log_probs(memory)[: int(mem_lengths[0]), 0].double().cpu().numpy()   # (T', vocab)
            ids = _ctc.greedy_decode(lp) if beam_width <= 1 else _ctc.prefix_beam_search(lp, beam_width=beam_width)
            return self.tokenizer.decode(ids).strip()
        w = self.config.ctc_weight if ctc_weight is None else ctc_weight
        hyp = self.infer(feats, lengths, beam_width=beam_width, length_alpha=length_alpha,
                         ctc_weight=w if beam_width > 1 else 0.0, ctc_mode=ctc_mode)[0]
        return self.tokenizer.decode(hyp.tokens).strip()

    @torch.no_grad()
    def attention_map(self, y, *, sr: int, text: str | None = None) -> tuple[np.ndarray, str]:
        """Cross-attention of the last decoder layer (mean over heads) for ``text`` (default:
        the greedy transcript): ``(weights (len(text) + 1, T'), text)`` — one row per output
        character and the end token, one column per 40 ms encoder step."""
        feats, lengths = self._features(y, sr)
        memory, mem_lengths = self.encode(feats, lengths)
        if text is None:
            toks = self._greedy(memory, mem_lengths, [int(mem_lengths[0]) + 5])[0].tokens
        else:
            toks = self.tokenizer.encode(text)
        tokens = torch.tensor([[SOS_EOS] + toks], device=memory.device)
        _, w = self.decode(tokens, memory, mem_lengths, need_weights=True)
        return w[0].mean(0).cpu().numpy(), self.tokenizer.decode(toks)

    def config_dict(self) -> dict:
        return asdict(self.config)
