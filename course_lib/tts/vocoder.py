"""The mel convention of chapters 11 and 12, and Griffin-Lim: audio back from a mel spectrogram.

Notebook: 12_tacotron2.ipynb

Tacotron 2 predicts a *log-mel* spectrogram; something must turn it back into
a waveform. The classical answer (no training) has two steps:

1. **mel inversion** — the 80 mel bands are a non-negative mixture of the 513
   STFT bins (``M = F |D|``); find a non-negative ``|D|`` that fits
   (non-negative least squares, as ``librosa.feature.inverse.mel_to_stft``);
2. **phase reconstruction** — Griffin & Lim (1984): alternate between
   "has this magnitude" and "is the STFT of some signal", here with the
   momentum of Perraudin et al. (2013), as ``librosa.griffinlim``.

Pipeline (every step equal to librosa's under the same settings)::

    y --stft--> |D| --mel filterbank--> M --log--> log-mel  (model target)
    log-mel --exp--> M --nnls--> |D| --griffin_lim--> y

>>> import numpy as np
>>> y = np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32)
>>> log_mel(y, sr=16000).shape        # (n_mels, n_frames)
(80, 63)
>>> griffin_lim_mel(log_mel(y, sr=16000), n_iter=4, seed=0).shape
(15872,)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize

from .. import features, spectral
from ..errors import ParameterError
from ..validation import check_positive_int, check_signal, check_sr

__all__ = ["MelConfig", "MEL", "log_mel", "mel_to_stft", "griffin_lim", "griffin_lim_mel"]


@dataclass(frozen=True)
class MelConfig:
    """The log-mel convention shared by Tacotron 2 (chapter 12) and the WaveNet vocoder (chapter 11).

    16 kHz, 1024-point STFT (64 ms Hann window), hop 256 (16 ms), 80 Slaney mel bands
    (librosa's default filterbank: ``htk=False, norm="slaney"``) from 0 to 8 kHz, of the
    STFT *magnitude* (``power=1``), natural log of ``max(mel, 1e-5)`` (so silence is
    ``log(1e-5) = -11.51``).
    """

    sr: int = 16000
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0
    power: float = 1.0
    log_floor: float = 1e-5

    def __post_init__(self):
        check_sr(self.sr)
        for name in ("n_fft", "win_length", "hop_length", "n_mels"):
            check_positive_int(getattr(self, name), name=name)
        if self.win_length > self.n_fft:
            raise ParameterError(f"win_length={self.win_length} must be <= n_fft={self.n_fft}")
        if not 0 <= self.fmin < self.fmax <= self.sr / 2:
            raise ParameterError(f"need 0 <= fmin < fmax <= sr/2, got fmin={self.fmin}, fmax={self.fmax}, "
                                 f"sr={self.sr}")
        if self.log_floor <= 0:
            raise ParameterError(f"log_floor={self.log_floor} must be > 0 (the log of silence)")

    def filterbank(self, dtype=np.float64) -> np.ndarray:
        """The mel filterbank ``(n_mels, 1 + n_fft // 2)``, equal to ``librosa.filters.mel``."""
        return features.mel_filterbank(sr=self.sr, n_fft=self.n_fft, n_mels=self.n_mels, fmin=self.fmin,
                                       fmax=self.fmax, htk=False, norm="slaney").astype(dtype)


#: The course's one mel convention (chapters 11 and 12).
MEL = MelConfig()


def _config(config) -> MelConfig:
    if config is None:
        return MEL
    if not isinstance(config, MelConfig):
        raise ParameterError(f"config must be a MelConfig, got {type(config).__name__}")
    return config


def log_mel(y: np.ndarray, *, sr: int, config: MelConfig | None = None) -> np.ndarray:
    """Log-mel spectrogram of ``y`` in the course's convention (:class:`MelConfig`).

    Notebook: 12_tacotron2.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float
        Mono signal at ``sr`` = ``config.sr`` (resample first otherwise).
    sr : int
    config : MelConfig, optional
        Default :data:`MEL`.

    Returns
    -------
    np.ndarray [shape=(n_mels, n_frames)], float32
        ``log(max(M, floor))`` with ``M = librosa.feature.melspectrogram(y, power=1, ...)``,
        ``n_frames = 1 + len(y) // hop_length``.
    """
    cfg = _config(config)
    y = check_signal(y, mono=True)
    if check_sr(sr) != cfg.sr:
        raise ParameterError(f"sr={sr} but the mel convention is at {cfg.sr} Hz: resample first "
                             f"(course_lib.audio.resample(y, orig_sr={sr}, target_sr={cfg.sr}))")
    M = features.melspectrogram(y.astype(np.float64), sr=cfg.sr, n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                win_length=cfg.win_length, power=cfg.power, n_mels=cfg.n_mels, fmin=cfg.fmin,
                                fmax=cfg.fmax, htk=False, norm="slaney")
    return np.log(np.maximum(M, cfg.log_floor)).astype(np.float32)


# librosa.util.utils.MAX_MEM_BLOCK: librosa solves NNLS in blocks of frames of this many bytes;
# we use the same blocks so that the (non-unique: 80 equations, 513 unknowns) solution is the same.
_MAX_MEM_BLOCK = 2**8 * 2**10


def _nnls_block(A, B, x_init):
    """min ||A X - B||^2 s.t. X >= 0 by L-BFGS-B, the objective scaled by 1 / B.size (librosa's)."""
    shape = x_init.shape

    def objective(x):
        X = x.reshape(shape)
        diff = A @ X - B
        value = 0.5 * np.sum(diff**2) / B.size
        grad = (A.T @ diff) / B.size
        return value, grad.ravel()

    x, _, _ = scipy.optimize.fmin_l_bfgs_b(objective, x_init.ravel(), bounds=[(0, None)] * x_init.size,
                                           m=A.shape[1])
    return x.reshape(shape)


def mel_to_stft(M: np.ndarray, *, config: MelConfig | None = None) -> np.ndarray:
    """A non-negative STFT magnitude whose mel spectrogram is ``M`` (least squares).

    Notebook: 12_tacotron2.ipynb

    The same solver as ``librosa.feature.inverse.mel_to_stft(M, power=1)``: start from the
    pseudo-inverse clipped at 0, then L-BFGS-B with ``X >= 0`` on blocks of frames.

    Parameters
    ----------
    M : np.ndarray [shape=(n_mels, n_frames)]
        A *linear* (not log) magnitude mel spectrogram.

    Returns
    -------
    np.ndarray [shape=(1 + n_fft // 2, n_frames)], float64
    """
    cfg = _config(config)
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != cfg.n_mels:
        raise ParameterError(f"M must have shape (n_mels={cfg.n_mels}, n_frames), got {M.shape}")
    if not np.all(np.isfinite(M)) or np.any(M < 0):
        raise ParameterError("M must be a finite, non-negative (linear magnitude) mel spectrogram; "
                             "for a log-mel, pass np.exp(log_mel) or use griffin_lim_mel")
    A = cfg.filterbank(np.float64)                                    # (n_mels, n_bins)
    x = np.clip(np.linalg.pinv(A) @ M, 0, None)                       # (n_bins, n_frames)
    n_columns = max(_MAX_MEM_BLOCK // (M.shape[0] * A.itemsize), 1)
    if M.shape[1] <= n_columns:
        return _nnls_block(A, M, x)
    for start in range(0, M.shape[1], n_columns):                     # librosa warm-starts each block
        stop = min(start + n_columns, M.shape[1])
        x[:, start:stop] = _nnls_block(A, M[:, start:stop], x[:, start:stop])
    return x


def griffin_lim(S: np.ndarray, *, n_iter: int = 32, hop_length: int = 256, win_length: int = 1024,
                n_fft: int = 1024, momentum: float = 0.99, init: str | None = "random", seed=None,
                length: int | None = None) -> np.ndarray:
    """Fast Griffin-Lim: a signal whose STFT magnitude approximates ``S``.

    Notebook: 12_tacotron2.ipynb

    ``librosa.griffinlim`` step by step (Perraudin et al. 2013's momentum): with
    ``rebuilt = stft(istft(angles * S))``, ``angles = rebuilt - momentum / (1 + momentum) * previous``,
    then normalised to unit modulus. Hann window, ``center=True``, zero padding.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)], non-negative
    n_iter : int > 0
    momentum : float in [0, 1)
        0 gives the original Griffin-Lim.
    init : "random" or None
        Random initial phases (uniform, from ``seed``), or zero phase.
    seed : int, np.random.Generator, np.random.RandomState or None
        Only for ``init="random"``: the phases are ``np.exp(2j pi rng.random(S.shape))``, drawn
        exactly as librosa draws them from ``random_state`` (an int seeds a ``RandomState``,
        None draws fresh entropy).

    Returns
    -------
    np.ndarray [shape=(n,)], float64
        ``n = hop_length * (n_frames - 1)`` or ``length``.
    """
    S = np.asarray(S, dtype=np.float64)
    n_iter = check_positive_int(n_iter, name="n_iter")
    if S.ndim != 2 or S.shape[0] != 1 + n_fft // 2:
        raise ParameterError(f"S must have shape (1 + n_fft // 2 = {1 + n_fft // 2}, n_frames), got {S.shape}")
    if not 0 <= momentum < 1:
        raise ParameterError(f"momentum={momentum} must be in [0, 1) (librosa warns above 1)")
    if init == "random":
        if isinstance(seed, (np.random.Generator, np.random.RandomState)):
            rng = seed
        elif seed is None:
            rng = np.random.default_rng()                 # fresh entropy, as librosa's random_state=None
        else:
            rng = np.random.RandomState(seed=int(seed))  # librosa's rule for an int random_state
        angles = np.exp(2j * np.pi * rng.random(size=S.shape))
    elif init is None:
        angles = np.ones(S.shape, dtype=np.complex128)
    else:
        raise ParameterError(f"init={init!r} must be 'random' or None")
    stft_kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window="hann", center=True)
    eps = np.finfo(np.float64).tiny
    rebuilt = np.zeros_like(angles)
    for _ in range(n_iter):
        previous = rebuilt
        y = spectral.istft(S * angles, hop_length=hop_length, win_length=win_length, n_fft=n_fft,
                           window="hann", center=True, length=length)
        rebuilt = spectral.stft(y, pad_mode="constant", **stft_kw)
        angles = rebuilt - (momentum / (1 + momentum)) * previous
        angles = angles / (np.abs(angles) + eps)
    return spectral.istft(S * angles, hop_length=hop_length, win_length=win_length, n_fft=n_fft,
                          window="hann", center=True, length=length)


def griffin_lim_mel(log_M: np.ndarray, *, n_iter: int = 32, momentum: float = 0.99, init: str | None = "random",
                    seed=None, length: int | None = None, config: MelConfig | None = None) -> np.ndarray:
    """A waveform from a *log*-mel spectrogram: ``exp``, :func:`mel_to_stft`, :func:`griffin_lim`.

    Notebook: 12_tacotron2.ipynb

    Equal to ``librosa.feature.inverse.mel_to_audio(np.exp(log_M), sr=16000, n_fft=1024,
    hop_length=256, win_length=1024, power=1, n_iter=n_iter, fmax=8000)``, which is
    ``librosa.griffinlim(librosa.feature.inverse.mel_to_stft(...), ...)`` with unseeded random
    phases; with the same ``seed`` as griffinlim's ``random_state`` (or ``init=None``) the two agree.

    Parameters
    ----------
    log_M : np.ndarray [shape=(n_mels, n_frames)] or torch.Tensor
        Natural-log mel magnitudes (a model's output; rows are mel bands).

    Returns
    -------
    np.ndarray [shape=(n,)], float32
        At ``config.sr``; ``n = hop_length * (n_frames - 1)`` or ``length``.
    """
    cfg = _config(config)
    if hasattr(log_M, "detach"):
        log_M = log_M.detach().cpu().numpy()
    log_M = np.asarray(log_M, dtype=np.float64)
    if log_M.ndim != 2 or log_M.shape[0] != cfg.n_mels:
        raise ParameterError(f"log_M must have shape (n_mels={cfg.n_mels}, n_frames), got {log_M.shape}; "
                             "a model's (n_frames, n_mels) output needs a .T")
    S = mel_to_stft(np.exp(log_M), config=cfg)
    y = griffin_lim(S, n_iter=n_iter, hop_length=cfg.hop_length, win_length=cfg.win_length, n_fft=cfg.n_fft,
                    momentum=momentum, init=init, seed=seed, length=length)
    return y.astype(np.float32)
