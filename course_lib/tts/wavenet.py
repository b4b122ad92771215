"""WaveNet: an autoregressive model of audio samples, and a small mel-conditioned neural vocoder.

Notebook: 11_wavenet.ipynb

WaveNet (van den Oord et al. 2016) models a waveform one sample at a time,
``p(x) = prod_t p(x_t | x_1 .. x_{t-1})``:

1. **mu-law** (:func:`mu_law_encode`): each sample in [-1, 1] is companded and
   quantised to one of 256 classes, so the output is a softmax, not a regression;
2. **causal dilated convolutions** (:class:`CausalConv1d`): output ``t`` sees
   inputs ``t, t - d, ..., t - (k-1) d`` only (the padding is on the left); the
   dilations double layer by layer (1, 2, 4, ... 512), so the receptive field
   (:func:`receptive_field`) grows exponentially with depth;
3. **gated residual layers**: ``z = tanh(W_f * x + V_f c) ⊙ sigmoid(W_g * x + V_g c)``,
   a 1x1 convolution back to the residual stream and one to the skip sum; ``c`` is
   the conditioning: a speaker embedding (global) and/or a mel spectrogram upsampled
   to the sample rate (local, :func:`upsample_conditioning`);
4. **training** is teacher forced: every output position predicts the next sample's
   class, cross-entropy over 256 classes (:func:`teacher_forced_loss`);
5. **generation** is sequential: ``naive`` re-runs the stack on the last
   receptive-field window for every sample, ``fast`` (Paine et al. 2016) keeps a
   queue of past activations per layer and computes one new column per layer per
   sample. Both draw the same uniform numbers, so they give the same samples.

The seed document's WaveNet padded ``dilation`` on *both* sides: every output saw
future samples (and the sequence grew at each layer). Here the padding is on the left
only; ``tests/test_wavenet.py`` checks it by gradient: the derivative of output ``t``
with respect to any input after ``t`` is exactly zero.

Mel convention (shared with chapter 12, so this vocoder can take Tacotron 2's mels):
:class:`MelConfig` — 16 kHz, ``n_fft = win_length = 1024``, ``hop_length = 256``, 80
Slaney mel bands 0-8000 Hz, magnitude (power 1), natural log of ``max(mel, 1e-5)``.

>>> import torch
>>> net = WaveNet(WaveNetConfig(n_layers=4, residual_channels=8, gate_channels=8, skip_channels=8))
>>> net(torch.zeros(2, 100, dtype=torch.long)).shape          # (batch, n_classes, time)
torch.Size([2, 256, 100])
>>> net.receptive_field == receptive_field(kernel_size=2, dilations=(1, 2, 4, 8))
True
"""

from __future__ import annotations

import math
from pathlib import Path
import time
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ParameterError
from ..validation import check_positive_int, check_sr
from . import vocoder as _vocoder
from .vocoder import MEL, MelConfig

__all__ = ["MelConfig", "MEL", "log_mel", "mu_law_encode", "mu_law_decode", "receptive_field", "dilations",
           "CausalConv1d", "upsample_conditioning", "WaveNetConfig", "WaveNet", "teacher_forced_loss",
           "VocoderSegments", "train_vocoder", "griffin_lim", "VocoderRow", "vocoder_report",
           "generation_speed"]


# --------------------------------------------------------------------------- mel spectrogram

# One convention, one class: chapter 12's :class:`course_lib.tts.vocoder.MelConfig`, re-exported here.

def log_mel(y, cfg: MelConfig = MEL) -> np.ndarray:
    """Natural-log magnitude mel spectrogram of ``y`` at ``cfg.sr`` (the chapter 11/12 convention).

    Notebook: 11_wavenet.ipynb

    ``log(max(M, cfg.log_floor))`` where ``M`` is
    ``librosa.feature.melspectrogram(y=y, sr, n_fft, hop_length, win_length, power=1.0,
    n_mels, fmin, fmax)`` (Slaney filterbank, centred frames: frame ``j`` centred on sample
    ``j * hop_length``). The same function as :func:`course_lib.tts.vocoder.log_mel`, with
    the rate taken from ``cfg``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at ``cfg.sr``.
    cfg : MelConfig

    Returns
    -------
    np.ndarray [shape=(cfg.n_mels, 1 + n // cfg.hop_length), dtype=float32]
    """
    if not isinstance(cfg, MelConfig):
        raise ParameterError(f"cfg must be a MelConfig, got {type(cfg).__name__}")
    return _vocoder.log_mel(np.asarray(y), sr=cfg.sr, config=cfg)


# --------------------------------------------------------------------------- mu-law

def _check_mu(mu):
    mu = check_positive_int(mu, name="mu")
    return mu


def mu_law_encode(x, *, mu: int = 255):
    """Compand ``x`` in [-1, 1] with the mu-law and quantise it to the classes ``0 .. mu``.

    Notebook: 11_wavenet.ipynb

    ``f(x) = sign(x) ln(1 + mu |x|) / ln(1 + mu)``, then ``q = floor((f + 1) / 2 * mu + 0.5)``:
    equal to ``torchaudio.functional.mu_law_encoding(x, mu + 1)``. Quiet samples get
    fine steps (``|x| < 0.001`` spans about 10 classes), loud ones coarse steps, which
    matches how we hear: 8 bits of mu-law sound like about 12-13 bits of linear PCM.

    Parameters
    ----------
    x : np.ndarray or torch.Tensor [shape=(...)], floating point in [-1, 1]
    mu : int
        ``mu + 1`` classes (255 -> 256 classes).

    Returns
    -------
    np.ndarray or torch.Tensor [shape=(...), dtype=int64]
        Same kind as ``x``.

    Examples
    --------
    >>> mu_law_encode(np.array([-1.0, 0.0, 1.0]))
    array([  0, 128, 255])
    """
    mu = _check_mu(mu)
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise ParameterError(f"x must be a floating-point signal in [-1, 1], got a {x.dtype} tensor")
        f = torch.sign(x) * torch.log1p(mu * torch.abs(x)) / math.log1p(mu)
        return ((f + 1) / 2 * mu + 0.5).to(torch.int64)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise ParameterError(f"x must be a floating-point signal in [-1, 1], got dtype {x.dtype}")
    f = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(x.dtype.type(mu))
    return ((f + 1) / 2 * mu + 0.5).astype(np.int64)         # truncation, as torchaudio's .to(int64)


def mu_law_decode(q, *, mu: int = 255):
    """The inverse of :func:`mu_law_encode`: class ``q`` in ``0 .. mu`` back to a sample in [-1, 1].

    Notebook: 11_wavenet.ipynb

    ``f = 2 q / mu - 1``, ``x = sign(f) ((1 + mu)^|f| - 1) / mu``: equal to
    ``torchaudio.functional.mu_law_decoding(q, mu + 1)``. A round trip is within half a
    quantisation step of the companded value (``1 / mu`` in ``f``).

    Parameters
    ----------
    q : np.ndarray or torch.Tensor [shape=(...)], integers in ``0 .. mu``
    mu : int

    Returns
    -------
    np.ndarray [dtype=float64] or torch.Tensor [dtype=float32] [shape=(...)]

    Examples
    --------
    >>> mu_law_decode(np.array([0, 255]))
    array([-1.,  1.])
    """
    mu = _check_mu(mu)
    if isinstance(q, torch.Tensor):
        if q.is_floating_point() or q.is_complex():
            q_ok = q
        else:
            q_ok = q.to(torch.get_default_dtype())
        if q.numel() and (q.min() < 0 or q.max() > mu):
            raise ParameterError(f"q holds classes outside 0..{mu} (min {int(q.min())}, max {int(q.max())})")
        f = q_ok / mu * 2 - 1.0
        return torch.sign(f) * (torch.exp(torch.abs(f) * math.log1p(mu)) - 1.0) / mu
    q = np.asarray(q)
    if q.size and (q.min() < 0 or q.max() > mu):
        raise ParameterError(f"q holds classes outside 0..{mu} (min {q.min()}, max {q.max()})")
    f = q.astype(np.float64) / mu * 2 - 1.0
    return np.sign(f) * np.expm1(np.abs(f) * np.log1p(mu)) / mu


# --------------------------------------------------------------------------- receptive field

def dilations(n_layers: int, *, cycle: int = 10) -> tuple:
    """The dilation schedule ``1, 2, 4, ..., 2**(cycle-1), 1, 2, ...`` of ``n_layers`` layers.

    Notebook: 11_wavenet.ipynb

    >>> dilations(5, cycle=3)
    (1, 2, 4, 1, 2)
    """
    n_layers = check_positive_int(n_layers, name="n_layers")
    cycle = check_positive_int(cycle, name="cycle")
    return tuple(2 ** (i % cycle) for i in range(n_layers))


def receptive_field(*, kernel_size: int, dilations) -> int:
    """How many input samples one output of a stack of causal dilated convolutions sees.

    Notebook: 11_wavenet.ipynb

    A layer of kernel ``k`` and dilation ``d`` adds ``(k - 1) d`` samples of the past:
    ``R = 1 + (k - 1) * sum(dilations)``. (The 1x1 convolutions add nothing.)
    ``tests/test_wavenet.py`` measures it on a model by gradient.

    >>> receptive_field(kernel_size=2, dilations=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
    1024
    """
    k = check_positive_int(kernel_size, name="kernel_size")
    ds = tuple(dilations)
    if not ds:
        raise ParameterError("dilations=() must hold at least one dilation")
    for d in ds:
        check_positive_int(d, name="dilation")
    return 1 + (k - 1) * int(sum(ds))


# --------------------------------------------------------------------------- layers

class CausalConv1d(nn.Module):
    """A dilated convolution whose output ``t`` depends on inputs ``<= t`` only; same length out.

    Notebook: 11_wavenet.ipynb

    The input is padded with ``(kernel_size - 1) * dilation`` zeros on the *left* only,
    so output ``t`` is ``sum_j W[:, :, j] x[t - (k - 1 - j) d]``. (The seed document
    padded ``dilation`` zeros on both sides: each output then read a future sample, and
    the sequence grew by ``dilation`` at every layer.)

    >>> conv = CausalConv1d(3, 5, kernel_size=2, dilation=4)
    >>> conv(torch.zeros(1, 3, 50)).shape            # (batch, out_channels, time)
    torch.Size([1, 5, 50])
    """

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: int = 2, dilation: int = 1):
        super().__init__()
        self.kernel_size = check_positive_int(kernel_size, name="kernel_size")
        self.dilation = check_positive_int(dilation, name="dilation")
        self.pad = (self.kernel_size - 1) * self.dilation
        self.conv = nn.Conv1d(in_channels, out_channels, self.kernel_size, dilation=self.dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (batch, in_channels, time) -> (batch, out_channels, time)."""
        return self.conv(F.pad(x, (self.pad, 0)))          # zeros before the start: the past only


def upsample_conditioning(c: torch.Tensor, n_samples: int, *, hop_length: int) -> torch.Tensor:
    """Frame-rate features to the sample rate by repetition, each frame on the samples it is centred on.

    Notebook: 11_wavenet.ipynb

    With centred frames (frame ``j`` centred on sample ``j * hop_length``), sample ``n``
    takes frame ``(n + hop_length // 2) // hop_length``, the frame whose centre is
    nearest; past the last frame the last one is held.

    Parameters
    ----------
    c : torch.Tensor [shape=(batch, channels, n_frames)]
    n_samples : int
    hop_length : int

    Returns
    -------
    torch.Tensor [shape=(batch, channels, n_samples)]

    >>> upsample_conditioning(torch.arange(3.)[None, None], 9, hop_length=4)[0, 0].tolist()
    [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    """
    hop = check_positive_int(hop_length, name="hop_length")
    n = check_positive_int(n_samples, name="n_samples")
    if c.dim() != 3 or c.shape[-1] < 1:
        raise ParameterError(f"c must be (batch, channels, n_frames) with n_frames >= 1, got {tuple(c.shape)}")
    idx = _frame_index(torch.arange(n, device=c.device), hop, c.shape[-1])
    return c[:, :, idx]                                    # (batch, channels, n_samples)


def _frame_index(n: torch.Tensor, hop: int, n_frames: int) -> torch.Tensor:
    return torch.clamp((n + hop // 2) // hop, max=n_frames - 1)


# --------------------------------------------------------------------------- the model

@dataclass
class WaveNetConfig:
    """Settings of :class:`WaveNet`.

    Attributes
    ----------
    n_classes : int
        mu-law classes (``mu + 1``).
    n_layers, dilation_cycle : int
        Residual layers; dilations ``2 ** (i % dilation_cycle)``.
    kernel_size : int
        Taps of the dilated convolutions (2 in the paper).
    residual_channels, gate_channels, skip_channels : int
        Width of the residual stream, of each gate half, of the skip sum.
    n_mels : int
        Local conditioning: mel bands of the input spectrogram (0: unconditional).
    cond_channels : int
        Width of the frame-rate conditioning network (a kernel-3 convolution over frames).
    hop_length : int
        Samples per mel frame (the upsampling factor).
    n_speakers, speaker_dim : int
        Global conditioning: a speaker embedding table (0 speakers: none).
    mel : dict
        The :class:`MelConfig` fields a vocoder's spectrograms follow (saved with a checkpoint).
    """

    n_classes: int = 256
    n_layers: int = 10
    dilation_cycle: int = 10
    kernel_size: int = 2
    residual_channels: int = 32
    gate_channels: int = 32
    skip_channels: int = 64
    n_mels: int = 0
    cond_channels: int = 64
    hop_length: int = 256
    n_speakers: int = 0
    speaker_dim: int = 16
    mel: dict = field(default_factory=dict)

    def __post_init__(self):
        for f in ("n_classes", "n_layers", "dilation_cycle", "kernel_size", "residual_channels", "gate_channels",
                  "skip_channels", "cond_channels", "hop_length", "speaker_dim"):
            check_positive_int(getattr(self, f), name=f)
        if self.n_classes < 2:
            raise ParameterError(f"n_classes={self.n_classes} must be at least 2 (256 for 8-bit mu-law)")
        for f in ("n_mels", "n_speakers"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ParameterError(f"{f}={v!r} must be a non-negative integer (0: no such conditioning)")
        if isinstance(self.mel, MelConfig):
            self.mel = asdict(self.mel)                # a dict, so the config is JSON (checkpoints)
        self.mel = dict(self.mel)
        if self.mel:
            m = MelConfig(**self.mel)            # validates
            if self.n_mels and m.n_mels != self.n_mels:
                raise ParameterError(f"n_mels={self.n_mels} differs from mel['n_mels']={m.n_mels}")
            if m.hop_length != self.hop_length:
                raise ParameterError(f"hop_length={self.hop_length} differs from mel['hop_length']={m.hop_length}")

    @property
    def dilations(self) -> tuple:
        return dilations(self.n_layers, cycle=self.dilation_cycle)

    @property
    def mel_config(self) -> MelConfig:
        return MelConfig(**self.mel) if self.mel else MelConfig(n_mels=self.n_mels or 80,
                                                                hop_length=self.hop_length)


class _ResidualLayer(nn.Module):
    """Dilated causal conv -> (+ conditioning) -> tanh ⊙ sigmoid -> 1x1 to residual and skip."""

    def __init__(self, cfg: WaveNetConfig, dilation: int):
        super().__init__()
        self.dilated = CausalConv1d(cfg.residual_channels, 2 * cfg.gate_channels,
                                    kernel_size=cfg.kernel_size, dilation=dilation)
        self.out = nn.Conv1d(cfg.gate_channels, cfg.residual_channels + cfg.skip_channels, 1)
        self.G, self.R = cfg.gate_channels, cfg.residual_channels

    def forward(self, h, cond):
        """``h`` (B, R, T), ``cond`` (B, 2G, T) or (B, 2G, 1) or None -> new ``h`` (B, R, T), skip (B, S, T)."""
        a = self.dilated(h)                                     # (B, 2G, T)
        if cond is not None:
            a = a + cond
        z = torch.tanh(a[:, :self.G]) * torch.sigmoid(a[:, self.G:])     # (B, G, T)
        rs = self.out(z)                                        # (B, R + S, T)
        return (h + rs[:, :self.R]) * math.sqrt(0.5), rs[:, self.R:]


class WaveNet(nn.Module):
    """WaveNet over mu-law classes, optionally conditioned on a mel spectrogram and/or a speaker.

    Notebook: 11_wavenet.ipynb

    - :meth:`forward` — teacher forcing: logits for every position at once;
      ``logits[:, :, t]`` is the distribution of sample ``t + 1`` given inputs ``0 .. t``.
    - :meth:`infer` — free running, sample by sample (``method="fast"`` or ``"naive"``).
    - :meth:`synthesize` / :meth:`resynthesize` — a vocoder's interface (log-mel in, or raw
      audio at any rate in; a waveform at ``config.mel['sr']`` out).

    >>> net = WaveNet(WaveNetConfig(n_layers=3, residual_channels=4, gate_channels=4, skip_channels=4))
    >>> net.infer(5, seed=0).shape                 # (batch, 1 start sample + 5 generated)
    torch.Size([1, 6])
    """

    Config = WaveNetConfig

    def __init__(self, config: WaveNetConfig):
        super().__init__()
        if not isinstance(config, WaveNetConfig):
            raise ParameterError(f"config must be a WaveNetConfig, got {type(config).__name__}")
        self.config = c = config
        self.front = nn.Conv1d(c.n_classes, c.residual_channels, 1)          # one-hot -> residual stream
        self.layers = nn.ModuleList(_ResidualLayer(c, d) for d in c.dilations)
        L2G = c.n_layers * 2 * c.gate_channels
        if c.n_mels:
            self.register_buffer("mel_mean", torch.zeros(c.n_mels))
            self.register_buffer("mel_std", torch.ones(c.n_mels))
            self.cond_net = nn.Conv1d(c.n_mels, c.cond_channels, 3, padding=1)   # frames: may look both ways
            self.cond_proj = nn.Conv1d(c.cond_channels, L2G, 1)                  # every layer's V_f, V_g at once
        if c.n_speakers:
            self.speaker = nn.Embedding(c.n_speakers, c.speaker_dim)
            self.speaker_proj = nn.Linear(c.speaker_dim, L2G)
        self.head = nn.Sequential(nn.ReLU(), nn.Conv1d(c.skip_channels, c.skip_channels, 1), nn.ReLU(),
                                  nn.Conv1d(c.skip_channels, c.n_classes, 1))

    # ------------------------------------------------------------------ helpers
    @property
    def receptive_field(self) -> int:
        """Samples of input one output sees (:func:`receptive_field` of the config)."""
        return receptive_field(kernel_size=self.config.kernel_size, dilations=self.config.dilations)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def set_normalisation(self, mels) -> None:
        """Standardise mel bands with the mean and std over training frames (``(n_mels, n_frames)`` arrays)."""
        if not self.config.n_mels:
            raise ParameterError("this WaveNet has no local conditioning (n_mels=0)")
        X = np.concatenate([np.asarray(m, dtype=np.float64) for m in mels], axis=1)   # (n_mels, all frames)
        self.mel_mean.copy_(torch.as_tensor(X.mean(axis=1)))
        self.mel_std.copy_(torch.as_tensor(X.std(axis=1)).clamp_min(1e-3))

    def _frame_cond(self, mel, speaker, batch: int):
        """Per-layer conditioning at frame rate: (B, L*2G, F) or None, and (B, L*2G, 1) or None."""
        c = self.config
        fc = sc = None
        if c.n_mels:
            if mel is None:
                raise ParameterError("this WaveNet is mel-conditioned (n_mels="
                                     f"{c.n_mels}): pass mel=(batch, {c.n_mels}, n_frames)")
            mel = torch.as_tensor(mel, dtype=self.front.weight.dtype, device=self.front.weight.device)
            if mel.dim() == 2:
                mel = mel[None]
            if mel.dim() != 3 or mel.shape[1] != c.n_mels or mel.shape[0] != batch:
                raise ParameterError(f"mel must be (batch={batch}, n_mels={c.n_mels}, n_frames), "
                                     f"got {tuple(mel.shape)}")
            m = (mel - self.mel_mean[:, None]) / self.mel_std[:, None]
            fc = self.cond_proj(torch.tanh(self.cond_net(m)))        # (B, L*2G, F)
        elif mel is not None:
            raise ParameterError("mel given, but this WaveNet has no local conditioning (n_mels=0)")
        if c.n_speakers:
            if speaker is None:
                raise ParameterError(f"this WaveNet is speaker-conditioned: pass speaker=(batch,) ids "
                                     f"in 0..{c.n_speakers - 1}")
            speaker = torch.as_tensor(speaker, dtype=torch.long, device=self.front.weight.device).reshape(-1)
            if speaker.shape[0] != batch or speaker.min() < 0 or speaker.max() >= c.n_speakers:
                raise ParameterError(f"speaker must hold {batch} ids in 0..{c.n_speakers - 1}, "
                                     f"got {speaker.tolist()}")
            sc = self.speaker_proj(self.speaker(speaker))[:, :, None]       # (B, L*2G, 1)
        elif speaker is not None:
            raise ParameterError("speaker given, but this WaveNet has no global conditioning (n_speakers=0)")
        return fc, sc

    def _stack(self, h, cond):
        """Residual stack + head: ``h`` (B, R, T), ``cond`` (B, L*2G, T or 1) or None -> logits (B, C, T)."""
        G2 = 2 * self.config.gate_channels
        skip = 0
        for i, layer in enumerate(self.layers):
            h, s = layer(h, None if cond is None else cond[:, i * G2:(i + 1) * G2])
            skip = skip + s
        return self.head(skip)

    def _embed(self, x):
        """Classes (B, T) long or one-hot (B, C, T) float -> (B, R, T)."""
        if x.dtype == torch.long:
            if x.dim() != 2:
                raise ParameterError(f"x must be classes (batch, time), got shape {tuple(x.shape)}")
            w = self.front.weight[:, :, 0]                              # (R, C)
            return F.embedding(x, w.t()).transpose(1, 2) + self.front.bias[:, None]   # (B, T, R) -> (B, R, T)
        if x.dim() != 3 or x.shape[1] != self.config.n_classes:
            raise ParameterError(f"x must be classes (batch, time) or one-hot (batch, {self.config.n_classes}, "
                                 f"time), got shape {tuple(x.shape)}")
        return self.front(x)

    # ------------------------------------------------------------------ training
    def forward(self, x: torch.Tensor, *, mel=None, speaker=None) -> torch.Tensor:
        """Teacher-forced logits.

        Parameters
        ----------
        x : torch.Tensor [shape=(batch, time), dtype=int64] or [shape=(batch, n_classes, time)]
            Classes of samples ``0 .. T-1`` (or their one-hot, e.g. to take gradients).
        mel : torch.Tensor [shape=(batch, n_mels, n_frames)], optional
            Log-mel frames; frame ``j`` centred on sample ``j * hop_length`` of ``x``.
        speaker : torch.Tensor [shape=(batch,)], optional
            Speaker ids (global conditioning).

        Returns
        -------
        torch.Tensor [shape=(batch, n_classes, time)]
            ``[:, :, t]``: logits of sample ``t + 1``, conditioned on sample ``t + 1``'s frame.
        """
        h = self._embed(x)                                   # (B, R, T)
        B, _, T = h.shape
        fc, sc = self._frame_cond(mel, speaker, B)
        cond = None
        if fc is not None:
            # output t predicts sample t + 1: give it sample t + 1's frame
            idx = _frame_index(torch.arange(1, T + 1, device=h.device), self.config.hop_length, fc.shape[-1])
            cond = fc[:, :, idx]                             # (B, L*2G, T)
        if sc is not None:
            cond = sc if cond is None else cond + sc
        return self._stack(h, cond)

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def infer(self, n_samples: int, *, mel=None, speaker=None, prime=None, seed: int = 0,
              temperature: float = 1.0, method: str = "fast", progress: bool = False) -> torch.Tensor:
        """Generate ``n_samples`` classes after ``prime``, one at a time.

        Parameters
        ----------
        n_samples : int
        mel : torch.Tensor [shape=(batch, n_mels, n_frames)], optional
            Frame ``j`` centred on sample ``j * hop_length`` of the output (prime included).
        speaker : torch.Tensor [shape=(batch,)], optional
        prime : torch.Tensor [shape=(batch, P), dtype=int64], optional
            Known first samples (default: one sample of silence, class ``n_classes // 2``).
        seed : int
            Seeds a private ``torch.Generator``: one uniform number per sample and batch
            item, inverted through the predicted CDF (so ``fast`` and ``naive`` draw alike).
        temperature : float
            Logits are divided by it; 0 takes the most likely class.
        method : {"fast", "naive"}
            ``fast`` keeps a queue of past activations per layer (O(layers) per sample);
            ``naive`` re-runs the stack on the last receptive-field window (O(layers x R)).
        progress : bool
            A tqdm bar over samples.

        Returns
        -------
        torch.Tensor [shape=(batch, P + n_samples), dtype=int64]
            The prime followed by the generated classes.
        """
        n_samples = check_positive_int(n_samples, name="n_samples")
        if method not in ("fast", "naive"):
            raise ParameterError(f"method={method!r} must be 'fast' or 'naive'")
        if not (isinstance(temperature, (int, float)) and temperature >= 0):
            raise ParameterError(f"temperature={temperature!r} must be a number >= 0")
        dev = self.front.weight.device
        if prime is None:
            B = 1
            if mel is not None:
                B = 1 if torch.as_tensor(mel).dim() == 2 else int(torch.as_tensor(mel).shape[0])
            elif speaker is not None:
                B = int(torch.as_tensor(speaker).reshape(-1).shape[0])
            prime = torch.full((B, 1), self.config.n_classes // 2, dtype=torch.long)
        prime = torch.as_tensor(prime).to(dev)
        if prime.dim() != 2 or prime.dtype != torch.long or prime.shape[1] < 1:
            raise ParameterError(f"prime must be classes (batch, P >= 1) int64, got {tuple(prime.shape)} {prime.dtype}")
        if prime.min() < 0 or prime.max() >= self.config.n_classes:
            raise ParameterError(f"prime holds classes outside 0..{self.config.n_classes - 1}")
        fc, sc = self._frame_cond(mel, speaker, prime.shape[0])
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        u = torch.rand(n_samples, prime.shape[0], generator=gen, dtype=torch.float64)   # one per sample and item
        run = self._fast if method == "fast" else self._naive
        return run(prime, n_samples, fc, sc, u, float(temperature), progress)

    def _draw(self, logits, u, temperature):
        """One class per batch item from logits (B, C) and uniforms ``u`` (B,) in float64: the first class
        whose cumulative probability reaches ``u`` (the inverse CDF); temperature 0: the argmax."""
        if temperature == 0:
            return logits.argmax(dim=-1)
        p = torch.softmax(logits.double() / temperature, dim=-1)
        cdf = torch.cumsum(p, dim=-1)
        cdf = cdf / cdf[:, -1:]
        idx = (cdf < u.to(cdf.device)[:, None]).sum(dim=-1)
        return idx.clamp(max=self.config.n_classes - 1)

    def _cond_at(self, fc, sc, positions):
        """Conditioning of the outputs at ``positions`` (predicting samples positions + 1): (B, L*2G, len)."""
        cond = None
        if fc is not None:
            cond = fc[:, :, _frame_index(positions + 1, self.config.hop_length, fc.shape[-1])]
        if sc is not None:
            cond = sc if cond is None else cond + sc
        return cond

    def _naive(self, prime, n, fc, sc, u, temperature, progress):
        from tqdm.auto import tqdm

        R = self.receptive_field
        seq = prime
        P = prime.shape[1]
        for t in tqdm(range(P - 1, P - 1 + n), disable=not progress, desc="naive", unit="sample", mininterval=1):
            lo = max(0, t + 1 - R)                              # the window one output sees
            pos = torch.arange(lo, t + 1, device=seq.device)
            logits = self._stack(self._embed(seq[:, lo:t + 1]), self._cond_at(fc, sc, pos))   # (B, C, w)
            nxt = self._draw(logits[:, :, -1], u[t - (P - 1)], temperature)
            seq = torch.cat([seq, nxt[:, None]], dim=1)
        return seq

    def _fast(self, prime, n, fc, sc, u, temperature, progress):
        """Paine et al. (2016): a queue of each layer's past inputs; one column per layer per sample.

        Layer ``i`` (dilation ``d``) keeps its last ``(k - 1) d`` inputs in a deque (zeros
        before the start, as the causal padding); its new output needs only the taps
        ``t - d, ..., t - (k-1) d`` from the queue and the new input: a few vector-matrix
        products per layer instead of a convolution over the receptive field. Everything
        that does not change from sample to sample (weights reshaped, biases added to the
        conditioning, the skip projections stacked into one matrix) is prepared once. The
        loop runs in NumPy float64 on the CPU: at one sample per step, the cost is the
        per-operation overhead, which NumPy keeps a few times lower than torch.
        """
        from collections import deque

        from tqdm.auto import tqdm

        c = self.config
        B, P = prime.shape
        k, G, Rch, L = c.kernel_size, c.gate_channels, c.residual_channels, c.n_layers

        def np64(t):
            return t.detach().to("cpu", torch.float64).numpy()

        emb = np64(self.front.weight[:, :, 0].t() + self.front.bias)    # (C, R): the 1x1 front as a table
        scale = math.sqrt(0.5)
        fc = None if fc is None else np64(fc)                          # (B, L*2G, F)
        sc = None if sc is None else np64(sc)[:, :, 0]                 # (B, L*2G)
        layers = []
        for i, layer in enumerate(self.layers):
            d = layer.dilated.dilation
            W = np64(layer.dilated.conv.weight)                         # (2G, R, k): tap j reads t - (k-1-j) d
            Wcat = np.ascontiguousarray(W.transpose(2, 1, 0).reshape(k * Rch, 2 * G))   # tap 0's rows, tap 1's..
            cb = np64(layer.dilated.conv.bias)[None, None, :]          # (1, 1, 2G)
            sl = slice(i * 2 * G, (i + 1) * 2 * G)
            if fc is not None:
                cb = cb + fc[:, sl].transpose(0, 2, 1)                  # (B, F, 2G): frames, bias included
            if sc is not None:
                cb = cb + sc[:, None, sl]
            cb = np.ascontiguousarray(np.broadcast_to(cb, (B,) + cb.shape[1:]))
            Wo, bo = np64(layer.out.weight[:, :, 0]), np64(layer.out.bias)      # (R + S, G)
            queue = deque([np.zeros((B, Rch))] * ((k - 1) * d), maxlen=(k - 1) * d)
            layers.append((d, queue, Wcat, cb, np.ascontiguousarray(Wo[:Rch].T) * scale, bo[:Rch] * scale))
        # every layer's skip 1x1 stacked: skip = [z_0 .. z_{L-1}] @ Ws + sum of biases
        Ws = np.concatenate([np64(l.out.weight[Rch:, :, 0]).T for l in self.layers])     # (L*G, S)
        bs = sum(np64(l.out.bias[Rch:]) for l in self.layers)
        h1wT, h1b = np64(self.head[1].weight[:, :, 0]).T, np64(self.head[1].bias)
        h2wT, h2b = np64(self.head[3].weight[:, :, 0]).T, np64(self.head[3].bias)
        n_frames = None if fc is None else fc.shape[-1]
        hop = c.hop_length
        u = u.numpy()
        q = prime.cpu().numpy()
        out = np.empty((B, P + n), dtype=np.int64)
        out[:, :P] = q
        x = q[:, 0]
        rows = np.arange(B)
        for t in tqdm(range(P - 1 + n), disable=not progress, desc="fast", unit="sample", mininterval=1):
            f = 0 if n_frames is None else min((t + 1 + hop // 2) // hop, n_frames - 1)   # sample t+1's frame
            h = emb[x]                                                  # (B, R)
            zs = []
            for i, (d, queue, Wcat, cb, WrT, br) in enumerate(layers):
                taps = [queue[len(queue) - j * d] for j in range(k - 1, 0, -1)] + [h]      # t-(k-1)d .. t
                queue.append(h)                                         # the oldest input drops out
                a = np.concatenate(taps, axis=1) @ Wcat + cb[:, f if cb.shape[1] > 1 else 0]   # (B, 2G)
                z = np.tanh(a[:, :G]) * (0.5 + 0.5 * np.tanh(0.5 * a[:, G:]))   # tanh ⊙ sigmoid, (B, G)
                zs.append(z)
                if i < L - 1:                                           # the last residual is never read
                    h = h * scale + br + z @ WrT                        # (h + W_r z + b_r) / sqrt 2
            if t < P - 1:
                x = q[:, t + 1]                                         # still reading the prime
                continue
            skip = np.concatenate(zs, axis=1) @ Ws + bs                 # (B, S)
            logits = np.maximum(np.maximum(skip, 0) @ h1wT + h1b, 0) @ h2wT + h2b     # (B, C)
            if temperature == 0:
                x = logits.argmax(axis=1)
            else:
                z = logits / temperature
                p = np.exp(z - z.max(axis=1, keepdims=True))
                cdf = np.cumsum(p, axis=1)
                cdf /= cdf[:, -1:]
                x = np.minimum((cdf < u[t - (P - 1)][:, None]).sum(axis=1), c.n_classes - 1)
            out[rows, t + 1] = x
        return torch.from_numpy(out).to(prime.device)

    # ------------------------------------------------------------------ vocoder interface
    @torch.no_grad()
    def synthesize(self, mel, *, n_samples: int | None = None, seed: int = 0, temperature: float = 1.0,
                   progress: bool = False) -> np.ndarray:
        """Waveform(s) from log-mel spectrogram(s) (:func:`log_mel`), by fast generation.

        Parameters
        ----------
        mel : np.ndarray [shape=(n_mels, n_frames) or (batch, n_mels, n_frames)]
        n_samples : int, optional
            Output length (default ``(n_frames - 1) * hop_length``, the length that has
            ``n_frames`` centred frames).

        Returns
        -------
        np.ndarray [shape=(n_samples,) or (batch, n_samples), dtype=float32]
            In [-1, 1], at ``config.mel['sr']``.
        """
        if not self.config.n_mels:
            raise ParameterError("synthesize needs a mel-conditioned WaveNet (config.n_mels > 0)")
        m = torch.as_tensor(np.asarray(mel, dtype=np.float32))
        single = m.dim() == 2
        if single:
            m = m[None]
        total = n_samples if n_samples is not None else max(2, (m.shape[-1] - 1) * self.config.hop_length)
        q = self.infer(total - 1, mel=m, seed=seed, temperature=temperature, progress=progress)   # (B, total)
        y = mu_law_decode(q.cpu(), mu=self.config.n_classes - 1).numpy().astype(np.float32)
        return y[0] if single else y

    @torch.no_grad()
    def resynthesize(self, y, *, sr: int, seed: int = 0, progress: bool = False) -> np.ndarray:
        """Raw audio (mono, any rate) -> its log-mel -> :meth:`synthesize`: float32 at ``config.mel['sr']``."""
        from .. import audio

        cfg = self.config.mel_config
        y = np.asarray(y, dtype=np.float32)
        audio.valid_audio(y, mono=True)
        sr = check_sr(sr)
        if sr != cfg.sr:
            y = audio.resample(y, orig_sr=sr, target_sr=cfg.sr)
        mel = log_mel(y, cfg)
        return self.synthesize(mel, n_samples=len(y), seed=seed, progress=progress)


def teacher_forced_loss(model: WaveNet, batch) -> torch.Tensor:
    """Cross-entropy of the next sample's class, for :func:`course_lib.train.fit` (``step_fn``).

    Notebook: 11_wavenet.ipynb

    ``batch`` is ``(x, target)`` or ``(x, mel, target)``: ``x`` and ``target`` classes
    (batch, time), ``target[:, t] = x[:, t + 1]`` of the same recording.
    """
    if len(batch) == 3:
        x, mel, target = batch
        logits = model(x, mel=mel)
    else:
        x, target = batch
        logits = model(x)
    return F.cross_entropy(logits, target)                     # logits (B, C, T) vs target (B, T)


# --------------------------------------------------------------------------- vocoder training

class VocoderSegments(torch.utils.data.Dataset):
    """Random fixed-length segments of recordings with their log-mel frames, for teacher forcing.

    Notebook: 11_wavenet.ipynb

    Item ``i`` is segment ``i // n_clips`` of clip ``i % n_clips``: it starts at a
    frame boundary (a multiple of ``hop_length``) drawn from ``seed`` and ``i``. Returns
    ``(x (T,), mel (n_mels, n_frames), target (T,))`` with ``target[t]`` the class
    after ``x[t]`` and ``mel`` frame 0 centred on ``x[0]``.
    """

    def __init__(self, waves, *, cfg: MelConfig = MelConfig(), segment_samples: int = 8000, copies: int = 8,
                 seed: int = 0, mu: int = 255):
        self.cfg, self.T, self.mu = cfg, check_positive_int(segment_samples, name="segment_samples"), mu
        self.copies = check_positive_int(copies, name="copies")
        hop = cfg.hop_length
        self.waves, self.mels = [], []
        for y in waves:
            y = np.asarray(y, dtype=np.float32)
            if len(y) < self.T + 1 + hop:                        # short clips: pad with silence
                y = np.pad(y, (0, self.T + 1 + hop - len(y)))
            self.waves.append(y)
            self.mels.append(log_mel(y, cfg))
        self.n_frames = (self.T + hop // 2) // hop + 1
        rng = np.random.default_rng(seed)
        self.starts = [[int(rng.integers(0, (len(y) - self.T - 1) // hop + 1)) * hop for _ in range(copies)]
                       for y in self.waves]

    def __len__(self):
        return len(self.waves) * self.copies

    def __getitem__(self, i):
        c, k = i % len(self.waves), i // len(self.waves)
        s0 = self.starts[c][k]
        q = mu_law_encode(np.clip(self.waves[c][s0:s0 + self.T + 1], -1, 1), mu=self.mu)
        j = s0 // self.cfg.hop_length
        mel = self.mels[c][:, j:j + self.n_frames]
        if mel.shape[1] < self.n_frames:                          # hold the last frame
            mel = np.pad(mel, ((0, 0), (0, self.n_frames - mel.shape[1])), mode="edge")
        return torch.from_numpy(q[:-1]), torch.from_numpy(np.ascontiguousarray(mel)), torch.from_numpy(q[1:])


def train_vocoder(config: WaveNetConfig, waves, *, time_budget: float, seed: int = 0, batch_size: int = 8,
                  segment_samples: int = 8000, copies: int = 8, lr: float = 2e-3, valid_waves=None,
                  checkpoint_dir=None, progress: bool = True, init_from=None):
    """Train a mel-conditioned WaveNet on ``waves`` (mono float arrays at ``config.mel['sr']``).

    Notebook: 11_wavenet.ipynb

    Returns ``(model, history)`` from :func:`course_lib.train.fit` (teacher forcing,
    AdamW, gradient clipping at 1, ``time_budget`` seconds). ``init_from`` (a trained
    :class:`WaveNet` with the same config) continues from its weights and its mel
    normalisation, with a fresh optimiser (a warm start); another config raises
    ``ParameterError`` naming it.
    """
    from .. import train

    if not config.n_mels:
        raise ParameterError("a vocoder needs n_mels > 0 (local conditioning)")
    cfg = config.mel_config
    torch.manual_seed(seed)
    model = train.warm_start(WaveNet(config), init_from)      # its weights and normalisation buffers
    data = VocoderSegments(waves, cfg=cfg, segment_samples=segment_samples, copies=copies, seed=seed)
    if init_from is None:
        model.set_normalisation(data.mels)
    valid = None
    if valid_waves is not None:
        valid = VocoderSegments(valid_waves, cfg=cfg, segment_samples=segment_samples, copies=1, seed=seed + 1)
    history = train.fit(model, data, step_fn=teacher_forced_loss, lr=lr, time_budget=time_budget, epochs=1000,
                        batch_size=batch_size, valid_data=valid, seed=seed, checkpoint_dir=checkpoint_dir,
                        progress=progress, desc="wavenet vocoder")
    return model, history


# --------------------------------------------------------------------------- evaluation

def griffin_lim(mel, cfg: MelConfig = MEL, *, n_iter: int = 32, n_samples: int | None = None,
                seed: int = 0) -> np.ndarray:
    """The classical baseline vocoder: :func:`log_mel` back to a waveform with Griffin-Lim.

    Notebook: 11_wavenet.ipynb

    :func:`course_lib.tts.vocoder.griffin_lim_mel` (equal to
    ``librosa.feature.inverse.mel_to_audio`` on ``exp(mel)``: a non-negative least-squares
    inverse of the filterbank, then ``n_iter`` fast Griffin-Lim iterations from seeded
    random phases). Returns float32 ``(n_samples,)`` at ``cfg.sr``.
    """
    return _vocoder.griffin_lim_mel(mel, n_iter=n_iter, seed=seed, length=n_samples, config=cfg)


class VocoderRow(NamedTuple):
    """One test sentence in :func:`vocoder_report`."""

    clip: str
    text: str
    seconds: float
    cer_original: float
    cer_griffin_lim: float
    cer_wavenet: float


def vocoder_report(model: WaveNet, clips, *, recognizer=None, seed: int = 0, seeds=None, temperature: float = 1.0,
                   progress: bool = True) -> dict:
    """Intelligibility of vocoded test sentences, per sentence: the recogniser's CER on the
    original, on Griffin-Lim from the same mels, and on ``model``'s fast generation.

    Notebook: 11_wavenet.ipynb

    All sentences are generated in one batch (padded with silence frames, cut back to
    each one's length), sampling at ``temperature`` (:meth:`WaveNet.infer`), once per seed in
    ``seeds`` (default ``(seed,)``): a sampled waveform is one draw, so a fair figure averages a
    few. The original and Griffin-Lim (seeded with the first seed) are made and transcribed once.
    ``recognizer`` defaults to ``pretrained.load("ctc_bigru")``.
    Returns ``{"rows": [VocoderRow, ...], "cer_*": corpus means, "cer_wavenet_per_sample": one mean
    per seed, "samples_per_second": ..., "generation_seconds": ... (the first seed's),
    "waves": {"wavenet": [...], "griffin_lim": [...], "wavenet_samples": [[...] per seed]},
    "transcripts": {"original": [...], "griffin_lim": [...], "wavenet_samples": [[...] per seed]}}`` (what
    was judged and what the recogniser heard; ``"wavenet"`` is the first seed's). A row's ``cer_wavenet``
    is its mean over the seeds.
    """
    from .. import metrics, pretrained

    seeds = (seed,) if seeds is None else tuple(int(s) for s in seeds)
    if not seeds:
        raise ParameterError("seeds=() judges nothing: give at least one seed, e.g. seeds=range(3)")
    if recognizer is None:
        recognizer = pretrained.load("ctc_bigru", device="cpu")
    cfg = model.config.mel_config
    waves = [np.asarray(c.audio, dtype=np.float32) for c in clips]
    mels = [log_mel(y, cfg) for y in waves]
    F_max = max(m.shape[1] for m in mels)
    silence = np.log(cfg.log_floor)
    batch = np.stack([np.pad(m, ((0, 0), (0, F_max - m.shape[1])), constant_values=silence) for m in mels])
    n_total = max(len(y) for y in waves)
    samples, times = [], []
    for s in seeds:
        t0 = time.perf_counter()
        gen = model.synthesize(batch, n_samples=n_total, seed=s, temperature=temperature,
                               progress=progress)                                      # (B, n_total)
        times.append(time.perf_counter() - t0)
        samples.append([g[:len(y)] for g, y in zip(gen, waves)])
    seconds = times[0]
    rows, gls, per_sample = [], [], np.zeros((len(seeds), len(clips)))
    heard = {"original": [], "griffin_lim": [], "wavenet_samples": [[] for _ in seeds]}
    for i, (c, y, m) in enumerate(zip(clips, waves, mels)):
        gl = griffin_lim(m, cfg, n_samples=len(y), seed=seeds[0])
        gls.append(gl)
        ref = c.text
        for k in range(len(seeds)):
            heard["wavenet_samples"][k].append(recognizer.transcribe(samples[k][i], sr=cfg.sr))
            per_sample[k, i] = metrics.cer(ref, heard["wavenet_samples"][k][i])
        heard["original"].append(recognizer.transcribe(y, sr=cfg.sr))
        heard["griffin_lim"].append(recognizer.transcribe(gl, sr=cfg.sr))
        rows.append(VocoderRow(Path(c.path).stem, ref, len(y) / cfg.sr, metrics.cer(ref, heard["original"][i]),
                               metrics.cer(ref, heard["griffin_lim"][i]), float(per_sample[:, i].mean())))
    out = {"rows": rows, "generation_seconds": seconds, "batch": len(clips), "temperature": temperature,
           "seeds": list(seeds), "samples_per_second": len(clips) * (n_total - 1) / seconds,
           "samples_per_second_per_item": (n_total - 1) / seconds}
    for key in ("cer_original", "cer_griffin_lim", "cer_wavenet"):
        out[key] = float(np.mean([getattr(r, key) for r in rows]))
    out["cer_wavenet_per_sample"] = [float(v) for v in per_sample.mean(axis=1)]
    out["waves"] = {"wavenet": samples[0], "griffin_lim": gls, "wavenet_samples": samples}
    out["transcripts"] = heard
    return out


def generation_speed(model: WaveNet, *, n_samples: int = 300, batch: int = 1, seed: int = 0) -> dict:
    """Time naive and fast generation of the same ``n_samples`` in one run (same seed, same samples).

    Notebook: 11_wavenet.ipynb

    A mel-conditioned model gets a silent mel spectrogram. Returns seconds, samples per
    second of each, their ratio, the receptive field and whether the samples are identical.
    """
    n_samples = check_positive_int(n_samples, name="n_samples")
    c = model.config
    mel = None
    if c.n_mels:
        n_frames = n_samples // c.hop_length + 2
        mel = torch.full((batch, c.n_mels, n_frames), math.log(c.mel_config.log_floor))
    spk = torch.zeros(batch, dtype=torch.long) if c.n_speakers else None
    prime = torch.full((batch, 1), c.n_classes // 2, dtype=torch.long)
    out, secs = {}, {}
    for method in ("naive", "fast"):
        t0 = time.perf_counter()
        out[method] = model.infer(n_samples, mel=mel, speaker=spk, prime=prime, seed=seed, method=method)
        secs[method] = time.perf_counter() - t0
    return {"n_samples": n_samples, "batch": batch, "n_layers": c.n_layers, "receptive_field": model.receptive_field,
            "naive_seconds": secs["naive"], "fast_seconds": secs["fast"],
            "naive_samples_per_second": batch * n_samples / secs["naive"],
            "fast_samples_per_second": batch * n_samples / secs["fast"],
            "ratio": secs["naive"] / secs["fast"], "identical": bool(torch.equal(out["naive"], out["fast"]))}
