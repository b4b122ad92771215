"""Audio classification: log-mel CNN and CRNN, keyword spotting, evaluation helpers.

Notebook: 07_audio_classification.ipynb

The seed document's two classifiers keep their ideas here and lose their bugs:

- its CNN ended in ``nn.Linear(128 * 16 * 16, n_classes)``, which fits one input
  size only (a 128 x 128 log-mel "image"); :class:`AudioCNN` ends with adaptive
  average pooling, so any number of mel bands and any clip length give the same
  ``(batch, n_classes)`` logits (:class:`SeedCNN` keeps the bug for the notebook);
- its CRNN reshaped ``x.view(batch, height, channels * width)``, so the recurrent
  layer walked along the *frequency* axis; :class:`CRNN` permutes to
  ``(batch, time, channels * freq)`` and the RNN walks along time
  (:func:`seed_crnn_sequence` shows the seed's reshape).

Both take log-mel spectrograms ``(batch, n_mels, time)`` (or with a channel axis,
``(batch, 1, n_mels, time)``) and return logits; ``log_softmax`` lives only inside
the loss (``torch.nn.functional.cross_entropy``).

:class:`KeywordSpotter` wraps either with its own log-mel front end (the mel
filterbank of :func:`course_lib.features.mel_filterbank`, so it equals librosa's),
and takes raw audio at any sample rate: ``.predict(y, sr=sr)`` answers a label.
:func:`kws_windows` builds the keyword-spotting task (the 20 corpus words plus
``_silence_`` and ``_unknown_``) in one-second windows with the word at a random
place, and :func:`train_kws` trains it through :func:`course_lib.train.fit`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .errors import ParameterError

__all__ = ["AudioCNNConfig", "AudioCNN", "CRNNConfig", "CRNN", "SeedCNN", "seed_crnn_sequence",
           "n_parameters", "KwsConfig", "KeywordSpotter", "KWS_LABELS", "SILENCE", "UNKNOWN",
           "place_in_window", "centre_in_window", "kws_windows", "train_kws", "eval_windows", "evaluate_windows", "accuracy", "confusion_matrix",
           "precision_recall", "plot_confusion", "most_confused", "per_voice_accuracy", "latency_ms"]

SILENCE, UNKNOWN = "_silence_", "_unknown_"


def _words():
    from .data import WORDS

    return WORDS


#: The keyword-spotting labels: the 20 corpus words, then silence (noise only) and unknown (other speech).
KWS_LABELS = tuple(_words()) + (SILENCE, UNKNOWN)


def n_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def _as_image(x: torch.Tensor) -> torch.Tensor:
    """(batch, n_mels, time) or (batch, 1, n_mels, time) -> (batch, 1, n_mels, time)."""
    if x.dim() == 3:
        return x[:, None]
    if x.dim() == 4 and x.shape[1] == 1:
        return x
    raise ParameterError(f"expected log-mel input (batch, n_mels, time) or (batch, 1, n_mels, time), "
                         f"got shape {tuple(x.shape)}")


def _check_channels(channels, name="channels"):
    channels = tuple(int(c) for c in channels)
    if not channels or any(c < 1 for c in channels):
        raise ParameterError(f"{name}={channels!r} must be a non-empty sequence of positive integers")
    return channels


def _block(c_in, c_out, kernel_size, pool):
    # conv -> batch norm -> ReLU -> max-pool; ceil_mode so a tiny input (1 frame) still passes
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
                         nn.MaxPool2d(pool, ceil_mode=True))


# --------------------------------------------------------------------------- CNN

@dataclass
class AudioCNNConfig:
    """Settings of :class:`AudioCNN`.

    Attributes
    ----------
    n_classes : int
        Number of output logits.
    channels : tuple of int
        Output channels of each conv block (3x3 conv, batch norm, ReLU, 2x2 max-pool).
    kernel_size : int
        Odd convolution kernel size ("same" padding).
    dropout : float
        Dropout before the final linear layer, in [0, 1).
    """

    n_classes: int = 10
    channels: tuple = (16, 32, 64)
    kernel_size: int = 3
    dropout: float = 0.1

    def __post_init__(self):
        if isinstance(self.n_classes, bool) or not isinstance(self.n_classes, int) or self.n_classes < 2:
            raise ParameterError(f"n_classes={self.n_classes!r} must be an integer >= 2")
        self.channels = _check_channels(self.channels)
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ParameterError(f"kernel_size={self.kernel_size!r} must be a positive odd integer")
        if not 0.0 <= self.dropout < 1.0:
            raise ParameterError(f"dropout={self.dropout!r} must be in [0, 1)")


class AudioCNN(nn.Module):
    """A CNN on log-mel "images" that takes any number of mel bands and any clip length.

    Notebook: 07_audio_classification.ipynb

    Blocks of conv 3x3 -> batch norm -> ReLU -> max-pool 2x2 halve both axes; adaptive
    average pooling then reduces whatever (freq, time) is left to 1 x 1, so the final
    linear layer sees ``channels[-1]`` numbers for any input size (the seed's
    ``nn.Linear(128 * 16 * 16, n)`` saw a fixed 128 x 128 input).

    >>> m = AudioCNN(AudioCNNConfig(n_classes=5))
    >>> m(torch.zeros(2, 40, 101)).shape, m(torch.zeros(2, 64, 313)).shape
    (torch.Size([2, 5]), torch.Size([2, 5]))
    """

    Config = AudioCNNConfig

    def __init__(self, config: AudioCNNConfig):
        super().__init__()
        if not isinstance(config, AudioCNNConfig):
            raise ParameterError(f"config must be an AudioCNNConfig, got {type(config).__name__}")
        self.config = config
        c_in, blocks = 1, []
        for c in config.channels:
            blocks.append(_block(c_in, c, config.kernel_size, 2))
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(c_in, config.n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, [1,] n_mels, time) -> (batch, channels[-1]) pooled features."""
        h = self.blocks(_as_image(x))                  # (batch, C, n_mels / 2^k, time / 2^k)
        return self.pool(h).flatten(1)                 # (batch, C, 1, 1) -> (batch, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits.

        Parameters
        ----------
        x : torch.Tensor [shape=(batch, n_mels, time) or (batch, 1, n_mels, time)]
            Log-mel spectrograms (normalised); any n_mels and time >= 1.

        Returns
        -------
        torch.Tensor [shape=(batch, n_classes)]
        """
        return self.head(self.dropout(self.embed(x)))

    def trace(self, x: torch.Tensor) -> list[tuple[str, tuple]]:
        """The shape after every layer, for a (batch, n_mels, time) input: ``[(name, shape), ...]``."""
        out = [("input", tuple(_as_image(x).shape))]
        h = _as_image(x)
        with torch.no_grad():
            for i, block in enumerate(self.blocks):
                for layer in block:
                    h = layer(h)
                    out.append((f"block{i}.{type(layer).__name__}", tuple(h.shape)))
            h = self.pool(h)
            out.append(("AdaptiveAvgPool2d", tuple(h.shape)))
            h = self.head(h.flatten(1))
            out.append(("Linear", tuple(h.shape)))
        return out


class SeedCNN(nn.Module):
    """The seed document's CNN, bug kept: ``nn.Linear(128 * 16 * 16, n)`` fits only 128 x 128 inputs.

    Notebook: 07_audio_classification.ipynb

    Three conv (32, 64, 128 channels) + 2x2 max-pool blocks turn a (1, 128, 128)
    log-mel image into (128, 16, 16), flattened into the fixed-size linear layer; any
    other clip length (or number of mel bands) raises a shape error. Shown, not used.
    """

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(128 * 16 * 16, n_classes)

    def forward(self, x):
        """(batch, 1, 128, 128) -> (batch, n_classes); anything else fails in ``fc``."""
        h = self.features(_as_image(x))
        return self.fc(h.view(h.size(0), -1))


# --------------------------------------------------------------------------- CRNN

@dataclass
class CRNNConfig:
    """Settings of :class:`CRNN`.

    Attributes
    ----------
    n_classes : int
    channels : tuple of int
        Conv blocks (each halves frequency and time).
    freq_out : int
        Frequency rows kept by adaptive pooling after the convolutions, so the RNN's
        input size ``channels[-1] * freq_out`` does not depend on ``n_mels``.
    hidden : int
        GRU hidden size (per direction).
    bidirectional : bool
    dropout : float
    """

    n_classes: int = 10
    channels: tuple = (16, 32)
    freq_out: int = 4
    hidden: int = 64
    bidirectional: bool = True
    dropout: float = 0.1
    kernel_size: int = 3

    def __post_init__(self):
        if isinstance(self.n_classes, bool) or not isinstance(self.n_classes, int) or self.n_classes < 2:
            raise ParameterError(f"n_classes={self.n_classes!r} must be an integer >= 2")
        self.channels = _check_channels(self.channels)
        for name in ("freq_out", "hidden"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ParameterError(f"{name}={v!r} must be a positive integer")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ParameterError(f"kernel_size={self.kernel_size!r} must be a positive odd integer")
        if not 0.0 <= self.dropout < 1.0:
            raise ParameterError(f"dropout={self.dropout!r} must be in [0, 1)")


class CRNN(nn.Module):
    """Convolutions, then a GRU over **time**, then the mean of its outputs over time.

    Notebook: 07_audio_classification.ipynb

    After the conv blocks the tensor is ``(batch, C, F', T')``; it is pooled to
    ``F' = freq_out`` rows, permuted to ``(batch, T', C, freq_out)`` and flattened to
    ``(batch, T', C * freq_out)``: one feature vector per *time* step. The seed's
    ``x.view(batch, height, channels * width)`` instead made the frequency axis the
    sequence (see :func:`seed_crnn_sequence`).

    >>> m = CRNN(CRNNConfig(n_classes=3))
    >>> m.sequence(torch.zeros(2, 40, 100)).shape   # T' = 100 / 4
    torch.Size([2, 25, 128])
    """

    Config = CRNNConfig

    def __init__(self, config: CRNNConfig):
        super().__init__()
        if not isinstance(config, CRNNConfig):
            raise ParameterError(f"config must be a CRNNConfig, got {type(config).__name__}")
        self.config = config
        c_in, blocks = 1, []
        for c in config.channels:
            blocks.append(_block(c_in, c, config.kernel_size, 2))
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.freq_pool = nn.AdaptiveAvgPool2d((config.freq_out, None))
        self.rnn = nn.GRU(c_in * config.freq_out, config.hidden, batch_first=True,
                          bidirectional=config.bidirectional)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden * (2 if config.bidirectional else 1), config.n_classes)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """The RNN's input: (batch, [1,] n_mels, time) -> (batch, T', C * freq_out), T' = ceil(time / 2^k)."""
        h = self.freq_pool(self.blocks(_as_image(x)))   # (batch, C, freq_out, T')
        h = h.permute(0, 3, 1, 2)                        # (batch, T', C, freq_out): time first
        return h.reshape(h.shape[0], h.shape[1], -1)     # (batch, T', C * freq_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits.

        Parameters
        ----------
        x : torch.Tensor [shape=(batch, n_mels, time) or (batch, 1, n_mels, time)]

        Returns
        -------
        torch.Tensor [shape=(batch, n_classes)]
        """
        out, _ = self.rnn(self.sequence(x))              # (batch, T', hidden * directions)
        return self.head(self.dropout(out.mean(dim=1)))  # mean over time -> (batch, n_classes)


def seed_crnn_sequence(conv_out: torch.Tensor) -> torch.Tensor:
    """The seed's reshape, bug kept: ``x.view(batch, height, channels * width)`` on (batch, C, F, T).

    The sequence axis it hands the RNN is ``height`` = the *frequency* axis F, not time.
    """
    b, c, h, w = conv_out.size()
    return conv_out.view(b, h, c * w)


# --------------------------------------------------------------------------- keyword spotter

@dataclass
class KwsConfig:
    """Settings of :class:`KeywordSpotter`: front end and network.

    Attributes
    ----------
    labels : tuple of str
        Output classes (default :data:`KWS_LABELS`).
    arch : {"cnn", "crnn"}
    sr : int
        The model's sample rate (input at any other rate is resampled).
    n_fft, hop_length, n_mels, fmin, fmax : log-mel front end
        ``fmax=4000`` keeps the telephone band only, so 8 kHz recordings look like 16 kHz ones.
    top_db : float
        Dynamic range kept below each clip's loudest mel bin.
    channels, hidden, dropout : network (see :class:`AudioCNNConfig`, :class:`CRNNConfig`)
    warps, shifts : test-time averaging (:meth:`KeywordSpotter.proba`, and so ``predict``,
        ``predict_proba`` and :func:`evaluate_windows`): the softmax is averaged over every
        pair of a frequency warp - the mel filterbank with its band edges ``fmin``, ``fmax``
        scaled by the factor, so that band k listens at ``warp`` times its usual frequency, a
        vocal-tract-length warp as in VTLN - and a shift - the window rotated by that many
        samples. Training and its choice of epoch are unaffected (one pass, ``warps=(1.0,)``,
        ``shifts=(0,)``, the default: predictions then equal the plain network's).
    """

    labels: tuple = KWS_LABELS
    arch: str = "cnn"
    sr: int = 16000
    n_fft: int = 512
    hop_length: int = 320
    n_mels: int = 40
    fmin: float = 60.0
    fmax: float = 4000.0
    top_db: float = 80.0
    channels: tuple = (16, 32, 48)
    hidden: int = 64
    dropout: float = 0.1
    warps: tuple = (1.0,)
    shifts: tuple = (0,)

    def __post_init__(self):
        self.labels = tuple(str(s) for s in self.labels)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ParameterError(f"labels={self.labels!r} must be >= 2 distinct names")
        try:
            self.warps = tuple(float(w) for w in self.warps)
            self.shifts = tuple(int(s) for s in self.shifts)
        except (TypeError, ValueError):
            raise ParameterError(f"warps={self.warps!r} must be factors and shifts={self.shifts!r} whole numbers "
                                 "of samples, e.g. warps=(0.94, 1.0, 1.06), shifts=(-1600, 0, 1600)") from None
        try:                                  # LangIdConfig's window_s (checked, and named, by LangIdConfig)
            n_window = int(round(float(getattr(self, "window_s", 1.0)) * self.sr))
        except (TypeError, ValueError):
            n_window = 0
        if not self.warps or not all(0.5 <= w <= 2.0 for w in self.warps) or self.fmax * max(self.warps) > self.sr / 2:
            raise ParameterError(f"warps={self.warps!r}: need at least one factor, each in [0.5, 2], and "
                                 f"fmax * max(warps) <= sr / 2 = {self.sr / 2:g} Hz (fmax={self.fmax:g})")
        if not self.shifts or (n_window > 0 and not all(abs(s) < n_window for s in self.shifts)):
            raise ParameterError(f"shifts={self.shifts!r}: need at least one, each shorter than the "
                                 f"{n_window}-sample window; (0,) for none")
        if self.arch not in ("cnn", "crnn"):
            raise ParameterError(f"arch={self.arch!r} must be 'cnn' or 'crnn'")
        self.channels = _check_channels(self.channels)
        if not 0 <= self.fmin < self.fmax <= self.sr / 2:
            raise ParameterError(f"need 0 <= fmin < fmax <= sr/2, got fmin={self.fmin}, fmax={self.fmax}, "
                                 f"sr={self.sr}")
        if self.hop_length < 1 or self.n_fft < 16 or self.n_mels < 1 or self.top_db <= 0:
            raise ParameterError("hop_length, n_fft (>= 16), n_mels and top_db must be positive")


class KeywordSpotter(nn.Module):
    """Raw audio -> log-mel -> :class:`AudioCNN` or :class:`CRNN` -> one of ``config.labels``.

    Notebook: 07_audio_classification.ipynb

    ``features`` turns waveforms ``(batch, n)`` at ``config.sr`` into normalised log-mels
    ``(batch, n_mels, frames)``: power mel spectrogram (hann, centred, zero padded, the
    slaney mel filterbank of :func:`course_lib.features.mel_filterbank`), ``10 log10``
    floored ``top_db`` below the clip's maximum, then each mel band's mean over time
    removed (cepstral mean normalisation: a microphone's response and the level
    drop out) and divided by the clip's standard deviation. ``forward`` takes those
    features (training), :meth:`predict` raw audio at any sample rate.
    """

    Config = KwsConfig

    def __init__(self, config: KwsConfig):
        super().__init__()
        if not isinstance(config, KwsConfig):
            raise ParameterError(f"config must be a KwsConfig, got {type(config).__name__}")
        from .features import mel_filterbank

        self.config = config
        fb = mel_filterbank(sr=config.sr, n_fft=config.n_fft, n_mels=config.n_mels, fmin=config.fmin,
                            fmax=config.fmax)
        self.register_buffer("mel_fb", torch.as_tensor(fb, dtype=torch.float32), persistent=False)
        self._warped = {}                                   # config.warps -> filterbanks, built on first use
        self.register_buffer("window", torch.hann_window(config.n_fft), persistent=False)
        n = len(config.labels)
        if config.arch == "cnn":
            self.net = AudioCNN(AudioCNNConfig(n_classes=n, channels=config.channels, dropout=config.dropout))
        else:
            self.net = CRNN(CRNNConfig(n_classes=n, channels=config.channels, hidden=config.hidden,
                                       dropout=config.dropout))

    def _power_stft(self, y: torch.Tensor) -> torch.Tensor:
        """|STFT|^2 (batch, n) -> (batch, 1 + n_fft/2, 1 + n // hop_length): hann, centred, zero padded."""
        c = self.config
        y = torch.nn.functional.pad(y[:, None], (c.n_fft // 2, c.n_fft // 2), mode="constant")[:, 0]
        return torch.stft(y, c.n_fft, hop_length=c.hop_length, window=self.window, center=False,
                          return_complex=True).abs() ** 2

    def melspectrogram(self, y: torch.Tensor) -> torch.Tensor:
        """Power mel spectrogram (batch, n) -> (batch, n_mels, 1 + n // hop_length); equals librosa's."""
        return self.mel_fb @ self._power_stft(y)              # (batch, n_mels, frames)

    def features(self, y: torch.Tensor) -> torch.Tensor:
        """Normalised log-mel of waveforms ``(batch, n)`` at ``config.sr``: ``(batch, n_mels, frames)``."""
        return self._normalise(self.melspectrogram(y - y.mean(dim=-1, keepdim=True)))   # DC removed

    def _normalise(self, M: torch.Tensor) -> torch.Tensor:
        """A power mel spectrogram in dB, floored ``top_db`` below its maximum, band means removed, unit spread."""
        ref = M.amax(dim=(1, 2), keepdim=True).clamp_min(1e-20)
        L = 10 * torch.log10(torch.maximum(M, ref * 10 ** (-self.config.top_db / 10)))
        L = L - L.mean(dim=2, keepdim=True)                    # per-band mean over time (CMN)
        return L / L.std(dim=(1, 2), keepdim=True).clamp_min(1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_labels)`` of features ``(batch, n_mels, frames)`` from :meth:`features`."""
        return self.net(x)

    @torch.no_grad()
    def proba(self, y: torch.Tensor) -> torch.Tensor:
        """Class probabilities ``(batch, n_labels)`` of waveforms ``(batch, n)`` at ``config.sr``.

        The softmax averaged over ``config.warps`` x ``config.shifts`` (see :class:`KwsConfig`):
        for each shift the window is rotated (``torch.roll``), its power spectrum taken once
        and read through each warped mel filterbank. With the defaults it is one pass,
        ``softmax(self(self.features(y)))``.
        """
        y = y - y.mean(dim=-1, keepdim=True)
        fbs = self.warp_filterbanks()
        x = torch.cat([self._normalise(fb @ S) for S in (self._power_stft(torch.roll(y, s, dims=-1) if s else y)
                                                         for s in self.config.shifts) for fb in fbs])
        chunk = max(len(y), 256)                       # the passes through the network in a few large batches
        p = torch.cat([torch.softmax(self(x[i:i + chunk]), dim=-1) for i in range(0, len(x), chunk)])
        return p.reshape(-1, len(y), p.shape[-1]).mean(dim=0)   # (passes, batch, labels) -> mean over passes

    def warp_filterbanks(self) -> list:
        """The mel filterbanks of ``config.warps``: :func:`course_lib.features.mel_filterbank` with
        ``fmin``, ``fmax`` times each factor (1.0 gives ``mel_fb`` itself). Built when first needed,
        so a model whose ``config`` is replaced (``dataclasses.replace(m.config, warps=...)``) follows it."""
        from .features import mel_filterbank

        c, key = self.config, (self.config.warps, self.mel_fb.device, self.mel_fb.dtype)
        if key not in self._warped:
            self._warped[key] = [self.mel_fb if w == 1.0 else torch.as_tensor(
                mel_filterbank(sr=c.sr, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.fmin * w, fmax=c.fmax * w),
                dtype=self.mel_fb.dtype, device=self.mel_fb.device) for w in c.warps]
        return self._warped[key]

    # the shortest clip :meth:`predict` takes, and what the error says of it (LanguageIdentifier sets its own)
    _min_clip_s = 0.05
    _too_short = "keyword spotting needs at least 50 ms (ideally a 1 s window around the word)"

    def _prepare(self, y, sr) -> torch.Tensor:
        from .audio import resample, to_mono
        from .validation import check_sr, valid_audio

        sr = check_sr(sr)
        y = np.asarray(y)
        if y.ndim == 2:
            y = to_mono(y)
        valid_audio(y, mono=True)
        if len(y) < self._min_clip_s * sr:
            raise ParameterError(f"the clip is {len(y) / sr * 1000:.0f} ms long; {self._too_short}")
        y = y.astype(np.float32)
        if sr != self.config.sr:
            y = resample(y, orig_sr=sr, target_sr=self.config.sr)
        y = centre_in_window(y, sr=self.config.sr, window_s=getattr(self.config, "window_s", 1.0))
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))[None].to(self.mel_fb.device)

    @torch.no_grad()
    def predict_proba(self, y, *, sr: int) -> dict:
        """``{label: probability}`` for one clip of raw audio (mono, any ``sr``; :meth:`proba`)."""
        p = self.proba(self._prepare(y, sr))[0].cpu().numpy()
        return dict(zip(self.config.labels, p.tolist()))

    @torch.no_grad()
    def predict(self, y, *, sr: int) -> str:
        """The label of one clip of raw audio ``y`` (mono, any sample rate ``sr``; best a 1 s window)."""
        return self.config.labels[int(self.proba(self._prepare(y, sr)).argmax(dim=-1))]


# --------------------------------------------------------------------------- the task

def centre_in_window(y: np.ndarray, *, sr: int, window_s: float = 1.0) -> np.ndarray:
    """A clip shorter than the ``window_s`` window the spotter was trained on, put in the middle of one.

    Training always shows a word inside a 1 s window over a quiet noise floor
    (:func:`place_in_window`); a tightly cut recording (a real FSDD digit is 0.3-0.8 s)
    fed as it is fills the whole input with speech, a picture the network never saw.
    :meth:`KeywordSpotter.predict` therefore centres a shorter clip over the same -65 dB
    floor (seeded: the same clip, the same answer); a clip of ``window_s`` or longer is
    returned as it is. Measured with ``kws_cnn`` (as recorded, 8 kHz): the real valid
    speaker 0.29 -> 0.44, the real test speakers 0.495 -> 0.64, the synthetic test words
    as whole clips 0.883 -> 0.917.
    """
    n = int(round(window_s * sr))
    if len(y) >= n:
        return np.asarray(y, dtype=np.float32)
    return place_in_window(y, sr=sr, rng=np.random.default_rng(0), window_s=window_s, offset=(n - len(y)) // 2)


def place_in_window(y, *, sr: int, rng: np.random.Generator, window_s: float = 1.0, start=None, end=None,
                    offset=None, floor_db: float = -65.0) -> np.ndarray:
    """Put the speech ``y[start:end]`` at a random (or given) ``offset`` inside a ``window_s`` window.

    The rest of the window holds a very quiet white noise ``floor_db`` below the speech's
    RMS (a recording is never digitally silent). Speech longer than the window is cropped
    around its middle.

    Returns
    -------
    np.ndarray [shape=(round(window_s * sr),), dtype=float32]
    """
    n = int(round(window_s * sr))
    s = y[int(start * sr) if start is not None else 0: int(np.ceil(end * sr)) if end is not None else len(y)]
    if len(s) == 0:
        s = y
    if len(s) > n:
        a = (len(s) - n) // 2
        s = s[a:a + n]
    rms = float(np.sqrt(np.mean(np.square(s, dtype=np.float64)))) or 1e-3
    out = rng.standard_normal(n) * rms * 10 ** (floor_db / 20)
    o = int(rng.integers(0, n - len(s) + 1)) if offset is None else int(min(max(offset, 0), n - len(s)))
    out[o:o + len(s)] += s
    return out.astype(np.float32)


def _speech_span(clip, margin=0.08):
    a = clip.annotations.get("speech_start") if clip.annotations else None
    b = clip.annotations.get("speech_end") if clip.annotations else None
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return None, None
    return max(0.0, a - margin), b + margin


def kws_windows(split: str, *, rng: np.random.Generator, copies: int = 1, noise: str | None = "train",
                chain: bool = True, pitch_stretch: bool = False, snr_range=(-5.0, 25.0), p_noise: float = 0.8,
                n_silence: int | None = None, n_unknown: int | None = None, extra_clips=(), corpus: bool = True, sr: int = 16000,
                progress: bool = True, voice_change: float = 0.0):
    """The keyword-spotting examples of one corpus split as 1 s windows (waveforms).

    Each word clip of :func:`course_lib.data.spoken_words` (``split``) is placed at a
    random offset in a 1 s window, ``copies`` times; with ``chain`` each copy goes
    through :func:`course_lib.augment.recording_chain` (room, microphone, telephone,
    level), with ``noise`` ("train" or "test" takes, None for none) the eight corpus
    noises are mixed in at an SNR drawn from ``snr_range`` with probability ``p_noise``,
    and with ``pitch_stretch`` a pitch shift (+-2 semitones) or a time stretch (0.85-1.15)
    is applied first; with probability ``voice_change`` a word is first spoken by another voice
    (:func:`course_lib.augment.change_voice`: formants x 0.85-1.2, pitch median 80-320 Hz, both
    log-uniform, Praat seeded from ``rng``: the same rng, the same windows). ``_silence_`` windows
    are noise excerpts at a random level;
    ``_unknown_`` windows are digits spoken in the five other languages of
    :func:`course_lib.data.multilingual_digits` (same split: other speech, not keywords).
    ``extra_clips`` (e.g. real recordings) are added to the words (``corpus=False``: only them).

    Returns
    -------
    waves : np.ndarray [shape=(n_items, sr), dtype=float32]
    targets : np.ndarray [shape=(n_items,), dtype=int64]
        Indices into :data:`KWS_LABELS`.
    speakers : list of str
    """
    from tqdm.auto import tqdm

    from . import augment, data
    from .audio import resample

    if copies < 1:
        raise ParameterError(f"copies={copies!r} must be >= 1")
    words = (data.spoken_words(split=split) if corpus else []) + list(extra_clips)
    others = [c for c in data.multilingual_digits(split=split) if c.language != "en"]
    noises = ({k: data.noise(k, split=noise).audio for k in data.NOISE_KINDS} if noise else {})
    n_silence = len(words) // 20 if n_silence is None else n_silence
    n_unknown = len(words) // 20 if n_unknown is None else n_unknown

    def degrade(y):
        if chain:
            y = augment.recording_chain(y, sr=sr, rng=rng, p_noise=0.0, p_level=0.0)
        if noises and rng.random() < p_noise:
            kind = data.NOISE_KINDS[int(rng.integers(len(data.NOISE_KINDS)))]
            y = augment.add_noise(y, sr=sr, rng=rng, snr_db=float(rng.uniform(*snr_range)), noise=noises[kind])
        return y * np.float32(10 ** (rng.uniform(-30, 0) / 20) / max(np.abs(y).max(), 1e-6))

    waves, targets, speakers = [], [], []
    items = [(c, KWS_LABELS.index(c.label)) for c in words] * copies
    items += [(others[int(i)], KWS_LABELS.index(UNKNOWN)) for i in rng.integers(len(others), size=n_unknown * copies)]
    for clip, t in tqdm(items, desc=f"kws windows {split}", unit="clip", mininterval=2.0, disable=not progress):
        y = clip.audio if clip.sr == sr else resample(clip.audio, orig_sr=clip.sr, target_sr=sr)
        a, b = _speech_span(clip)
        if a is not None:
            y = y[int(a * sr):int(np.ceil(b * sr))]
        if voice_change and rng.random() < voice_change:
            y = augment.change_voice(y, sr=sr, formant_ratio=augment.log_uniform(rng, 0.85, 1.2),
                                     pitch_median=augment.log_uniform(rng, 80, 320),
                                     seed=int(rng.integers(2 ** 31)))
        if pitch_stretch and rng.random() < 0.5:       # on the speech alone: a stretch changes its length
            if rng.random() < 0.5:
                y = augment.pitch_shift(y, sr=sr, rng=rng)
            else:
                y = augment.time_stretch(y, sr=sr, rng=rng)
        waves.append(degrade(place_in_window(y, sr=sr, rng=rng)))
        targets.append(t)
        speakers.append(clip.speaker)
    for _ in range(n_silence * copies):
        if noises:
            kind = data.NOISE_KINDS[int(rng.integers(len(data.NOISE_KINDS)))]
            nz = noises[kind]
            s = int(rng.integers(len(nz) - sr))
            w = nz[s:s + sr].astype(np.float32) + rng.standard_normal(sr).astype(np.float32) * 1e-4
        else:
            w = rng.standard_normal(sr).astype(np.float32)
        waves.append(w * np.float32(10 ** rng.uniform(-4, -0.5) / max(np.abs(w).max(), 1e-6)))
        targets.append(KWS_LABELS.index(SILENCE))
        speakers.append("noise")
    return np.stack(waves).astype(np.float32), np.asarray(targets, dtype=np.int64), speakers


def _features_in_batches(model, waves, batch=256):
    model = model.cpu()
    out = []
    with torch.no_grad():
        for i in range(0, len(waves), batch):
            out.append(model.features(torch.from_numpy(waves[i:i + batch])))
    return torch.cat(out)


def train_kws(config: KwsConfig, train_waves, train_targets, *, valid=None, epochs: int = 20,
              time_budget: float | None = None, spec_augment: bool = False, mixup: float = 0.0,
              lr: float = 3e-3, batch_size: int = 64, seed: int = 0, progress: bool = True,
              desc: str | None = None, schedule: str = "constant", init_from=None):
    """Train a :class:`KeywordSpotter` on 1 s windows (from :func:`kws_windows`) with :func:`course_lib.train.fit`.

    Features are computed once; ``spec_augment`` masks them per batch
    (:func:`course_lib.augment.spec_augment`, 2 frequency masks of up to 6 bands, 2 time
    masks of up to 10 %), ``mixup`` > 0 mixes pairs of the batch (:func:`course_lib.augment.mixup`).
    AdamW (weight decay 10⁻³) at a constant ``lr``, or with ``schedule="one-cycle"`` on
    :class:`course_lib.train.OneCycleAdamW` spread over ``epochs`` (so set ``epochs``, not only a
    ``time_budget``: a budget that ends first stops the run at a high rate). The best epoch on
    ``valid`` (waves, targets) is kept.
    ``desc`` labels the progress bar (default ``"kws <arch>"``; chapter 15's language ID passes its own).
    ``init_from``: a trained :class:`KeywordSpotter` of the same config to continue from
    (:func:`course_lib.train.warm_start`; a fresh optimiser and schedule).

    Returns
    -------
    (KeywordSpotter, course_lib.train.History)
    """
    from . import augment, train

    torch.manual_seed(seed)
    model = train.warm_start(KeywordSpotter(config), init_from)
    Xtr = _features_in_batches(model, train_waves)
    ytr = torch.as_tensor(train_targets)
    valid_data = None
    if valid is not None:
        valid_data = (_features_in_batches(model, valid[0]), torch.as_tensor(valid[1]))
    gen = torch.Generator().manual_seed(seed)

    def step(m, batch):
        x, t = batch
        if m.training and spec_augment:
            lengths = torch.full((x.shape[0],), x.shape[2])
            x = augment.spec_augment(x.transpose(1, 2), lengths, generator=gen, max_freq=6,
                                     max_time_fraction=0.1).transpose(1, 2)
        if m.training and mixup > 0:
            x, ta, tb, lam = augment.mixup(x, t, alpha=mixup, generator=gen)
            out = m(x)
            loss = lam * nn.functional.cross_entropy(out, ta) + (1 - lam) * nn.functional.cross_entropy(out, tb)
            return loss, out, t
        out = m(x)
        return nn.functional.cross_entropy(out, t), out, t

    if schedule == "one-cycle":
        steps = epochs * -(-len(ytr) // batch_size)

        def optimizer(p):
            return train.OneCycleAdamW(p, lr=lr, total_steps=steps, weight_decay=1e-3)
    elif schedule == "constant":
        def optimizer(p):
            return torch.optim.AdamW(p, lr=lr, weight_decay=1e-3)
    else:
        raise ParameterError(f"schedule={schedule!r}: choose 'constant' or 'one-cycle'")
    history = train.fit(model, (Xtr, ytr), valid_data=valid_data, step_fn=step, epochs=epochs,
                        time_budget=time_budget, batch_size=batch_size, seed=seed, optimizer=optimizer,
                        metrics={"accuracy": train.accuracy}, monitor="valid_accuracy" if valid else None,
                        progress=progress, desc=desc or f"kws {config.arch}")
    return model.cpu().eval(), history


def eval_windows(clips, *, rng: np.random.Generator, snr_db: float | None = None, noise_split: str = "test",
                 kinds=("babble", "fan", "rain", "pink", "white", "hum", "brown", "clicks"), sr: int = 16000):
    """Evaluation windows: each clip (any sr) resampled to ``sr`` and placed at a random offset in 1 s;
    with ``snr_db`` a noise (``noise_split`` take, kinds in turn) mixed in at that SNR.

    Returns
    -------
    (waves (n, sr) float32, labels list of str, voices list of str)
    """
    from . import augment, data
    from .audio import resample

    noises = {k: data.noise(k, split=noise_split).audio for k in kinds} if snr_db is not None else {}
    waves = []
    for i, c in enumerate(clips):
        y = c.audio if c.sr == sr else resample(c.audio, orig_sr=c.sr, target_sr=sr)
        a, b = _speech_span(c)
        w = place_in_window(y, sr=sr, rng=rng, start=a, end=b)
        if snr_db is not None:
            w = augment.add_noise(w, sr=sr, rng=rng, snr_db=snr_db, noise=noises[kinds[i % len(kinds)]])
        waves.append(w)
    return np.stack(waves), [c.label for c in clips], [c.speaker for c in clips]


def evaluate_windows(model, waves, labels, voices, *, batch: int = 128) -> dict:
    """Accuracy of a :class:`KeywordSpotter` on 1 s windows at ``model.config.sr``, overall and per voice
    (the same answers as :meth:`KeywordSpotter.predict` window by window, computed in batches, with the
    config's test-time warps and shifts)."""
    from collections import defaultdict

    model = model.cpu().eval()
    pred = []
    for i in range(0, len(waves), batch):
        p = model.proba(torch.from_numpy(np.ascontiguousarray(waves[i:i + batch], dtype=np.float32)))
        pred += [model.config.labels[j] for j in p.argmax(dim=-1).tolist()]
    hits = defaultdict(list)
    for p, t, v in zip(pred, labels, voices):
        hits[v].append(p == t)
    return {"accuracy": float(np.mean([p == t for p, t in zip(pred, labels)])),
            "per_voice_accuracy": {v: float(np.mean(h)) for v, h in sorted(hits.items())},
            "n": len(labels), "predictions": pred}


# --------------------------------------------------------------------------- evaluation

def accuracy(y_true, y_pred) -> float:
    """Fraction of equal labels."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ParameterError(f"y_true and y_pred must be non-empty and of one shape, got {y_true.shape} "
                             f"and {y_pred.shape}")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, *, labels) -> np.ndarray:
    """``C[i, j]`` = number of items of true class ``labels[i]`` predicted as ``labels[j]`` (as scikit-learn)."""
    index = {lab: i for i, lab in enumerate(labels)}
    C = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for a, b in zip(y_true, y_pred, strict=True):
        if a in index and b in index:
            C[index[a], index[b]] += 1
    return C


def precision_recall(y_true, y_pred, *, labels) -> dict:
    """``{label: (precision, recall, support)}``; 0 where undefined (scikit-learn's zero_division=0)."""
    C = confusion_matrix(y_true, y_pred, labels=labels)
    tp, pred, true = np.diag(C), C.sum(axis=0), C.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(pred > 0, tp / np.maximum(pred, 1), 0.0)
        r = np.where(true > 0, tp / np.maximum(true, 1), 0.0)
    return {lab: (float(p[i]), float(r[i]), int(true[i])) for i, lab in enumerate(labels)}


def most_confused(C: np.ndarray, labels, k: int = 5) -> list[tuple[str, str, int]]:
    """The ``k`` largest off-diagonal cells: ``[(true, predicted, count), ...]``."""
    C = np.asarray(C).copy()
    np.fill_diagonal(C, 0)
    order = np.argsort(C, axis=None)[::-1][:k]
    return [(labels[i], labels[j], int(C[i, j])) for i, j in zip(*np.unravel_index(order, C.shape)) if C[i, j] > 0]


def plot_confusion(C: np.ndarray, labels, *, ax=None, normalize: bool = True, title: str | None = None):
    """Draw a confusion matrix (rows true, columns predicted); returns the Axes."""
    import matplotlib.pyplot as plt

    C = np.asarray(C, dtype=float)
    if normalize:
        C = C / np.maximum(C.sum(axis=1, keepdims=True), 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * len(labels) + 2, 0.35 * len(labels) + 1.5))
    ax.imshow(C, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return ax


def per_voice_accuracy(predict, items, *, progress: bool = False) -> dict:
    """Accuracy of ``predict(y, sr) -> label`` over ``items`` of (y, sr, label, voice), per voice.

    Returns ``{"accuracy": overall, "per_voice_accuracy": {voice: acc}, "n": count}``.
    """
    from collections import defaultdict

    from tqdm.auto import tqdm

    hits = defaultdict(list)
    for y, sr, label, voice in tqdm(items, desc="evaluate", unit="clip", disable=not progress, mininterval=2.0):
        hits[voice].append(predict(y, sr) == label)
    return {"accuracy": float(np.mean([h for v in hits.values() for h in v])),
            "per_voice_accuracy": {v: float(np.mean(h)) for v, h in sorted(hits.items())},
            "n": int(sum(len(v) for v in hits.values()))}


def latency_ms(model, *, sr: int = 16000, seconds: float = 1.0, repeats: int = 20) -> float:
    """Median CPU time of ``model.predict`` on one ``seconds``-long clip, in milliseconds."""
    y = np.random.default_rng(0).standard_normal(int(sr * seconds)).astype(np.float32) * 0.1
    model.predict(y, sr=sr)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict(y, sr=sr)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)
