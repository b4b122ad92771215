"""A small CTC recogniser: log-mel front end, convolutional subsampling, BiGRU.

Notebook: 05_ctc_asr.ipynb

The seed document's LSTM recogniser, done right:

- the output is ``log_softmax`` over the *classes* (the last axis), not over time;
- the loss wants ``(time, batch, class)``: :meth:`CTCRecognizer.forward` returns
  that layout and says so, so nothing is transposed by accident;
- the convolutional front end shortens the sequence, so the *input lengths the
  loss sees are the lengths after subsampling* (:meth:`CTCRecognizer.output_lengths`,
  tested against the convolutions themselves);
- padded frames never reach the recurrent layer (packed sequences), so an
  utterance's output does not depend on what it was batched with.

Shapes (one vocabulary: ``(batch, time, feature)`` inside, time-first only
for the loss)::

    waveform (batch, samples) -> log-mel (batch, frames, n_mels)
      -> conv subsampling (batch, frames / 2**n_conv, channels)
      -> BiGRU (batch, T', 2 * hidden) -> linear (batch, T', vocab)
      -> log_softmax, transposed to (T', batch, vocab) for CTC

>>> import torch
>>> model = CTCRecognizer(CTCConfig(hidden=32, n_layers=1, channels=16))
>>> feats = torch.randn(2, 101, 40)
>>> out = model(feats, torch.tensor([101, 60]))
>>> tuple(out.log_probs.shape), out.lengths.tolist()
((51, 2, 29), [51, 30])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ..errors import ParameterError
from . import ctc as _ctc
from .text import CharTokenizer

__all__ = ["CTCConfig", "CTCOutput", "CTCRecognizer", "LogMel"]


@dataclass
class CTCConfig:
    """Hyper-parameters of :class:`CTCRecognizer` (validated when the model is built).

    sample_rate, n_fft, hop_length, n_mels, fmin, fmax : the log-mel front end
        (``fmax=4000`` keeps only the telephone band, so 8 kHz recordings look
        like the training data).
    channels : int
        Output channels of each subsampling convolution.
    n_conv : int
        Number of stride-2 convolutions: the time axis shrinks by ``2 ** n_conv``.
    hidden : int
        GRU units per direction.
    n_layers : int
    dropout : float
    vocab_size : int
        Output classes including the blank (``CharTokenizer().vocab_size`` = 29).
    alphabet : str
        The tokenizer's alphabet (ids 1..), stored so a checkpoint decodes itself.
    """

    sample_rate: int = 16000
    n_fft: int = 400
    hop_length: int = 160
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float = 8000.0
    channels: int = 64
    n_conv: int = 1
    hidden: int = 128
    n_layers: int = 2
    dropout: float = 0.1
    vocab_size: int = 29
    alphabet: str = " '" + "abcdefghijklmnopqrstuvwxyz"

    def validate(self) -> None:
        for name in ("sample_rate", "n_fft", "hop_length", "n_mels", "channels", "hidden",
                     "n_layers", "vocab_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ParameterError(f"CTCConfig.{name}={v!r} must be a positive integer")
        if not isinstance(self.n_conv, int) or not 0 <= self.n_conv <= 4:
            raise ParameterError(f"CTCConfig.n_conv={self.n_conv!r} must be an integer in 0..4")
        if not 0.0 <= self.dropout < 1.0:
            raise ParameterError(f"CTCConfig.dropout={self.dropout!r} must be in [0, 1)")
        if not 0.0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ParameterError(
                f"CTCConfig needs 0 <= fmin < fmax <= sample_rate / 2, got fmin={self.fmin}, "
                f"fmax={self.fmax}, sample_rate={self.sample_rate}"
            )
        if self.vocab_size != len(self.alphabet) + 1:
            raise ParameterError(
                f"CTCConfig.vocab_size={self.vocab_size} must be len(alphabet) + 1 = "
                f"{len(self.alphabet) + 1} (the blank is class 0)"
            )


class CTCOutput(NamedTuple):
    """log_probs : (time, batch, vocab) log-softmax over classes, time first for the CTC loss;
    lengths : (batch,) valid output frames of each utterance (after subsampling)."""

    log_probs: torch.Tensor
    lengths: torch.Tensor


class LogMel(nn.Module):
    """Waveform ``(batch, samples)`` → log-mel ``(batch, frames, n_mels)``, normalised per
    utterance and per band (CMVN over its own frames; padding excluded).

    The mel filterbank is Slaney-normalised on the Slaney scale, as
    :func:`course_lib.features.melspectrogram` (and librosa) build it."""

    def __init__(self, cfg: CTCConfig):
        super().__init__()
        import torchaudio

        self.hop_length = cfg.hop_length
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
            f_min=cfg.fmin, f_max=cfg.fmax, n_mels=cfg.n_mels, norm="slaney", mel_scale="slaney",
            center=True, pad_mode="constant", power=2.0)

    def frames(self, n_samples: torch.Tensor) -> torch.Tensor:
        """Frames of a centred STFT of ``n_samples`` samples: ``1 + n // hop``."""
        return 1 + torch.div(n_samples, self.hop_length, rounding_mode="floor")

    def forward(self, wav: torch.Tensor, n_samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        spec = self.mel(wav)                                   # (B, n_mels, frames)
        x = torch.log(spec + 1e-6).transpose(1, 2)             # (B, frames, n_mels)
        lengths = self.frames(n_samples).clamp(max=x.shape[1])
        mask = (torch.arange(x.shape[1], device=x.device)[None] < lengths[:, None])[..., None]
        n = lengths[:, None, None].to(x.dtype)
        mean = (x * mask).sum(1, keepdim=True) / n
        var = (((x - mean) * mask) ** 2).sum(1, keepdim=True) / n
        x = (x - mean) / torch.sqrt(var + 1e-5) * mask         # padding stays 0
        return x, lengths


class CTCRecognizer(nn.Module):
    """Conv subsampling + bidirectional GRU + linear, trained with CTC.

    ``forward(features, lengths)`` (teacher-free: CTC needs no targets to run)
    returns :class:`CTCOutput`; :meth:`transcribe` takes raw audio at any sample
    rate and returns text (greedy, or prefix beam search with ``beam_width``).
    """

    Config = CTCConfig          #: how :func:`course_lib.pretrained.load` rebuilds it from ``NAME.json``

    def __init__(self, config: CTCConfig | None = None):
        super().__init__()
        self.config = cfg = config if config is not None else CTCConfig()
        cfg.validate()
        self.tokenizer = CharTokenizer(cfg.alphabet)
        self.frontend = LogMel(cfg)
        convs, c_in = [], cfg.n_mels
        for _ in range(cfg.n_conv):
            convs += [nn.Conv1d(c_in, cfg.channels, kernel_size=3, stride=2, padding=1), nn.GELU()]
            c_in = cfg.channels
        self.subsample = nn.Sequential(*convs)
        self.rnn = nn.GRU(c_in, cfg.hidden, num_layers=cfg.n_layers, batch_first=True,
                          bidirectional=True, dropout=cfg.dropout if cfg.n_layers > 1 else 0.0)
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(2 * cfg.hidden, cfg.vocab_size)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Frames after subsampling: each conv (k=3, s=2, p=1) maps L to ``(L - 1) // 2 + 1``."""
        out = torch.as_tensor(lengths)
        for _ in range(self.config.n_conv):
            out = torch.div(out - 1, 2, rounding_mode="floor") + 1
        return out

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> CTCOutput:
        """features : (batch, frames, n_mels); lengths : (batch,) valid frames."""
        if features.dim() != 3 or features.shape[-1] != self.config.n_mels:
            raise ParameterError(
                f"features must be (batch, frames, n_mels={self.config.n_mels}), got {tuple(features.shape)}"
            )
        lengths = torch.as_tensor(lengths, device=features.device)
        x = features.transpose(1, 2)                                    # (B, n_mels, T) for Conv1d
        cur = lengths.clamp(max=x.shape[-1])
        for layer in self.subsample:
            if isinstance(layer, nn.Conv1d):
                # zero the padding first: a kernel at an utterance's edge must see the same
                # zeros whether the utterance is alone or padded in a batch
                x = x * (torch.arange(x.shape[-1], device=x.device)[None] < cur[:, None])[:, None]
                x = layer(x)
                cur = (torch.div(cur - 1, 2, rounding_mode="floor") + 1).clamp(max=x.shape[-1])
            else:
                x = layer(x)
        x = x.transpose(1, 2)                                           # (B, C, T') -> (B, T', C)
        out_lengths = cur
        packed = nn.utils.rnn.pack_padded_sequence(x, out_lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        logits = self.head(self.dropout(y))                             # (B, T', vocab)
        log_probs = logits.log_softmax(dim=-1).transpose(0, 1)          # (T', B, vocab) for CTC
        return CTCOutput(log_probs, out_lengths)

    def waveform_features(self, wav: torch.Tensor, n_samples: torch.Tensor):
        """(batch, samples) at ``config.sample_rate`` -> ((batch, frames, n_mels), lengths)."""
        return self.frontend(wav, n_samples)

    @torch.no_grad()
    def log_probs(self, y, *, sr: int) -> np.ndarray:
        """Per-frame log-probabilities ``(frames after subsampling, vocab)`` of one utterance ``y``
        (mono, any sample rate; resampled inside): what the decoders of :meth:`decode` search."""
        from .. import audio, validation

        y = np.asarray(y, dtype=np.float32)
        validation.valid_audio(y, mono=True, name="y")
        if sr != self.config.sample_rate:
            y = audio.resample(y, orig_sr=sr, target_sr=self.config.sample_rate)
        device = next(self.parameters()).device
        wav = torch.from_numpy(np.ascontiguousarray(y))[None].to(device)
        feats, lengths = self.frontend(wav, torch.tensor([wav.shape[1]], device=device))
        out = self(feats, lengths)
        return out.log_probs[: int(out.lengths[0]), 0].double().cpu().numpy()

    def decode(self, log_probs: np.ndarray, *, beam_width: int = 1, lm=None, lm_weight: float = 0.5,
               word_bonus: float = 0.0, lexicon=None) -> str:
        """Text from :meth:`log_probs`: greedy (``beam_width=1``, no ``lm``, no ``lexicon``) or the prefix
        beam search of :func:`course_lib.asr.ctc.prefix_beam_search` (shallow fusion with ``lm`` at
        ``lm_weight`` plus ``word_bonus`` per word, words restricted to ``lexicon``)."""
        if beam_width <= 1 and lm is None and lexicon is None:
            ids = _ctc.greedy_decode(log_probs)
        else:
            ids = _ctc.prefix_beam_search(log_probs, beam_width=max(beam_width, 1), lm=lm, lm_weight=lm_weight,
                                          word_bonus=word_bonus, lexicon=lexicon, space=self.tokenizer.space,
                                          symbols=self.tokenizer.symbols)
        return self.tokenizer.decode(ids).strip()

    def transcribe(self, y, *, sr: int, beam_width: int = 1, lm=None, lm_weight: float = 0.5,
                   word_bonus: float = 0.0, lexicon=None) -> str:
        """Text of one utterance ``y`` (mono, any sample rate; resampled inside):
        :meth:`decode` of :meth:`log_probs`."""
        return self.decode(self.log_probs(y, sr=sr), beam_width=beam_width, lm=lm, lm_weight=lm_weight,
                           word_bonus=word_bonus, lexicon=lexicon)

    def config_dict(self) -> dict:
        return asdict(self.config)
