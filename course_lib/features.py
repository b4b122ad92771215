"""Audio features: time-domain statistics, spectral shape, mel spectrogram, MFCC, deltas.

Notebooks: 02_spectral_analysis.ipynb (time-domain and spectral-shape features), 03_mel_and_mfcc.ipynb (mel, MFCC, deltas)

Written out with NumPy / SciPy and tested to be *equal* to librosa 0.11
with the same arguments (``assert_allclose``, rtol 1e-5 in float64, 1e-4 in
float32). Framewise features return shape ``(..., 1, n_frames)`` like
librosa, and keep the input's float precision.

Differences from librosa, on purpose:

- :func:`rms` returns the input's dtype (librosa's default ``dtype`` is
  float32 whatever the input).
- :func:`mel_filterbank` refuses ``fmax > sr / 2`` (there is no energy above
  Nyquist; librosa silently builds filters there). Empty filters (``n_mels``
  too large for ``n_fft``) give librosa's ``UserWarning``, not an error, so
  that the result stays equal to ``librosa.filters.mel``.
- :func:`melspectrogram` / :func:`mfcc` from a signal never build the whole
  complex STFT: each block of frames goes FFT -> power while it is still in
  the CPU cache, then one matrix product applies the filterbank (same
  numbers, less memory traffic).
- Given a spectrogram ``S`` and an ``n_fft`` that does not match its rows
  (``1 + n_fft // 2``), the spectral features raise :class:`ParameterError`;
  librosa silently replaces ``n_fft`` by ``2 * (rows - 1)``, which gives wrong
  frequencies for the ``n_fft`` the caller meant. Leaving ``n_fft=None``
  takes it from ``S`` as librosa does.
- :func:`mfcc` refuses ``n_mfcc > n_mels`` (librosa silently returns fewer
  rows than asked for).
- :func:`time_features` raises :class:`ParameterError` for a constant signal
  (silence included), where skewness and kurtosis are 0/0.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.fft

from .errors import ParameterError
from .spectral import fft_frequencies, frame, power_to_db, stft, stft_frames
from .validation import check_finite, check_positive_int, check_shape, check_signal, check_sr

__all__ = [
    "time_features", "rms", "zero_crossing_rate",
    "spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "spectral_flatness",
    "hz_to_mel", "mel_to_hz", "mel_frequencies", "mel_filterbank", "melspectrogram",
    "mfcc", "delta", "mfcc_deltas", "to_sequence", "cmvn", "heq", "fft_frequencies",
]


# --------------------------------------------------------------------------- time domain

def time_features(y: np.ndarray) -> dict:
    """Whole-signal time-domain statistics of a mono signal.

    Notebook: 02_spectral_analysis.ipynb

    With ``mu = mean(y)`` and central moments ``m_k = mean((y - mu)**k)``:

    - ``rms_energy``: ``sqrt(mean(y**2))``
    - ``zero_crossing_rate``: sign changes between neighbouring samples
      divided by ``len(y)``, i.e. :func:`zero_crossing_rate` with one frame
      covering the whole signal (``|y| <= 1e-10`` counts as positive)
    - ``mean``: ``mu``; ``std``: ``sqrt(m_2)`` (population, ``ddof=0``)
    - ``skewness``: ``m_3 / m_2**1.5``
    - ``kurtosis``: excess kurtosis ``m_4 / m_2**2 - 3`` (0 for a Gaussian),
      as ``scipy.stats.kurtosis`` (Fisher, biased)

    Computed in float64; values are Python floats.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point

    Returns
    -------
    features : dict[str, float]

    Raises
    ------
    ParameterError
        ``y`` not mono, empty, non-float or non-finite; or ``y`` constant
        (silence included): skewness and kurtosis divide by ``std = 0`` and
        are undefined, so instead of returning NaN the function says so.

    Examples
    --------
    >>> f = time_features(np.array([1.0, -1.0, 1.0, -1.0]))
    >>> f["rms_energy"], f["zero_crossing_rate"], f["skewness"]
    (1.0, 0.75, 0.0)
    """
    y = check_signal(y, mono=True)
    if y[0] == y[-1] and np.all(y == y[0]):
        raise ParameterError(
            f"y is constant (every sample equals {float(y[0])!r}, e.g. silence): skewness and "
            f"kurtosis are undefined (std = 0); check the signal, or compute rms/mean directly"
        )
    x = y.astype(np.float64)
    mu = x.mean()
    d = x - mu
    m2 = np.mean(d * d)
    m3 = np.mean(d * d * d)
    m4 = np.mean((d * d) ** 2)
    negative = x < -1e-10
    crossings = np.count_nonzero(negative[1:] != negative[:-1])
    return {
        "rms_energy": float(np.sqrt(np.mean(x * x))),
        "zero_crossing_rate": float(crossings / x.size),
        "mean": float(mu),
        "std": float(np.sqrt(m2)),
        "skewness": float(m3 / m2**1.5),
        "kurtosis": float(m4 / m2**2 - 3.0),
    }


def _pad_and_frame(y, *, frame_length, hop_length, center, pad_mode):
    y = check_signal(y)
    frame_length = check_positive_int(frame_length, "frame_length")
    hop_length = check_positive_int(hop_length, "hop_length")
    if center:
        p = frame_length // 2
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(p, p)], mode=pad_mode)
    if y.shape[-1] < frame_length:
        raise ParameterError(
            f"y has {y.shape[-1]} samples{' after padding' if center else ''}, fewer than "
            f"frame_length={frame_length}; use a shorter frame"
            + ("" if center else " or center=True")
        )
    return y, frame_length, hop_length


def rms(y: np.ndarray, *, frame_length: int = 2048, hop_length: int = 512,
        center: bool = True, pad_mode: str = "constant") -> np.ndarray:
    """Root-mean-square of each frame: ``sqrt(mean(frame**2))``.

    Notebook: 02_spectral_analysis.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)], floating point
    frame_length : int > 0
    hop_length : int > 0
    center : bool
        Pad ``frame_length // 2`` samples (``pad_mode``) on each side first.
    pad_mode : str
        ``np.pad`` mode for ``center=True``.

    Returns
    -------
    rms : np.ndarray [shape=(..., 1, n_frames)], dtype of ``y``
        Equal to ``librosa.feature.rms(y=y, ..., dtype=y.dtype)``.

    Examples
    --------
    >>> rms(np.ones(8), frame_length=4, hop_length=4, center=False)
    array([[1., 1.]])
    """
    y, frame_length, hop_length = _pad_and_frame(
        y, frame_length=frame_length, hop_length=hop_length, center=center, pad_mode=pad_mode
    )
    frames = frame(y, frame_length=frame_length, hop_length=hop_length)  # (..., m, t), a view
    # sum of squares without a squared copy of the (overlapping) frames,
    # accumulated in float64 so long float32 frames keep their precision
    power = np.einsum("...mt,...mt->...t", frames, frames, dtype=np.float64) / frame_length
    return np.sqrt(power).astype(y.dtype, copy=False)[..., None, :]


def zero_crossing_rate(y: np.ndarray, *, frame_length: int = 2048, hop_length: int = 512,
                       center: bool = True, threshold: float = 1e-10) -> np.ndarray:
    """Fraction of sign changes in each frame.

    Notebook: 02_spectral_analysis.ipynb

    A sample with ``|y| <= threshold`` counts as 0, and 0 as positive, so
    tiny noise around silence does not count. A frame of ``frame_length``
    samples has ``frame_length - 1`` neighbouring pairs; the count is
    divided by ``frame_length`` (librosa's convention). With
    ``center=True`` the signal is padded by repeating its edge samples.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)], floating point
    frame_length, hop_length : int > 0
    center : bool
    threshold : float >= 0

    Returns
    -------
    zcr : np.ndarray [shape=(..., 1, n_frames)], float64
        Equal to ``librosa.feature.zero_crossing_rate``.

    Examples
    --------
    >>> zero_crossing_rate(np.array([1.0, -1, 1, -1]), frame_length=4, center=False)
    array([[0.75]])
    """
    y, frame_length, hop_length = _pad_and_frame(
        y, frame_length=frame_length, hop_length=hop_length, center=center, pad_mode="edge"
    )
    negative = y < -threshold
    change = negative[..., 1:] != negative[..., :-1]        # pair (i, i+1) -> index i
    csum = np.zeros(y.shape[:-1] + (y.shape[-1],), dtype=np.int64)
    np.cumsum(change, axis=-1, out=csum[..., 1:])           # csum[i] = changes before i
    n_frames = 1 + (y.shape[-1] - frame_length) // hop_length
    starts = np.arange(n_frames) * hop_length
    counts = csum[..., starts + frame_length - 1] - csum[..., starts]
    return (counts / frame_length)[..., None, :]


# --------------------------------------------------------------------------- spectral shape

#: n_fft for a signal when none is given (librosa's default); a given S sets its own.
_N_FFT = 2048


def _magnitude(y, S, *, n_fft, hop_length, win_length, window, center, pad_mode, power=1.0):
    """``(S, n_fft)``: a given non-negative spectrogram, or ``|stft(y)|**power``."""
    if S is not None:
        S = np.asarray(S)
        if np.iscomplexobj(S) or not np.issubdtype(S.dtype, np.floating):
            raise ParameterError(f"S must be a real floating-point spectrogram, got dtype={S.dtype}")
        check_shape(S, (..., "n_freq", "n_frames"), name="S")
        if np.any(S < 0):
            raise ParameterError("S must be non-negative (a magnitude or power spectrogram)")
        check_finite(S, name="S")
        rows = S.shape[-2]
        if rows < 2:
            raise ParameterError(f"S has {rows} frequency row(s); a spectrogram has 1 + n_fft // 2 >= 2")
        if n_fft is None:  # librosa's rule: an even n_fft, from the rows
            return S, 2 * (rows - 1)
        n_fft = check_positive_int(n_fft, "n_fft")
        if 1 + n_fft // 2 != rows:  # never replace an explicit n_fft: the frequencies would be wrong
            raise ParameterError(
                f"n_fft={n_fft} gives 1 + n_fft // 2 = {1 + n_fft // 2} frequency rows, but S has "
                f"{rows} (shape={S.shape}); pass the n_fft that made S (n_fft={2 * (rows - 1)} or "
                f"{2 * rows - 1}), or leave n_fft=None to take it from S"
            )
        return S, n_fft
    if y is None:
        raise ParameterError("pass a signal y or a spectrogram S")
    n_fft = _N_FFT if n_fft is None else n_fft
    D = stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
             center=center, pad_mode=pad_mode)
    mag = np.abs(D)
    return (mag if power == 1.0 else mag**power), n_fft


def _normalize_columns(S):
    """Divide each column by its sum; columns summing to ~0 are left as they are."""
    total = S.sum(axis=-2, keepdims=True)
    total = np.where(total < np.finfo(S.dtype).tiny, 1.0, total)
    return S / total


def spectral_centroid(y: np.ndarray | None = None, *, sr: int, S: np.ndarray | None = None,
                      n_fft: int | None = None, hop_length: int = 512, win_length: int | None = None,
                      window="hann", center: bool = True, pad_mode: str = "constant") -> np.ndarray:
    """Centre of mass of each frame's magnitude spectrum, in Hz.

    Notebook: 02_spectral_analysis.ipynb

    ``centroid[t] = sum_k f_k S[k, t] / sum_k S[k, t]`` over the
    non-negative frequencies ``f_k = k sr / n_fft`` only; a silent frame
    gives 0.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)] or None
        Signal; or pass ``S``.
    sr : int > 0
    S : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames)] or None
        Magnitude spectrogram (instead of ``y``).
    n_fft : int > 0 or None
        FFT length. ``None``: 2048 for a signal ``y``, or ``2 * (n_freq - 1)``
        from ``S``'s rows (librosa's rule). A given ``n_fft`` must match
        ``S``'s rows (``1 + n_fft // 2``), else :class:`ParameterError`:
        it is never silently replaced (an odd ``n_fft`` has other frequencies).
    hop_length, win_length, window, center, pad_mode
        As :func:`~course_lib.spectral.stft`.

    Returns
    -------
    centroid : np.ndarray [shape=(..., 1, n_frames)]
        Equal to ``librosa.feature.spectral_centroid``.

    Examples
    --------
    >>> t = np.arange(22050) / 22050
    >>> c = spectral_centroid(np.sin(2 * np.pi * 1000 * t), sr=22050)
    >>> c.shape, bool(abs(np.median(c) - 1000) < 22050 / 2048)
    ((1, 44), True)
    """
    sr = check_sr(sr)
    S, n_fft = _magnitude(y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                          window=window, center=center, pad_mode=pad_mode)
    freq = fft_frequencies(sr=sr, n_fft=n_fft)[:, None]
    return np.sum(freq * _normalize_columns(S), axis=-2, keepdims=True)


def spectral_bandwidth(y: np.ndarray | None = None, *, sr: int, S: np.ndarray | None = None,
                       n_fft: int | None = None, hop_length: int = 512, win_length: int | None = None,
                       window="hann", center: bool = True, pad_mode: str = "constant",
                       p: float = 2.0) -> np.ndarray:
    """Spread of each frame's spectrum around its centroid, in Hz.

    Notebook: 02_spectral_analysis.ipynb

    ``bw[t] = (sum_k s_k |f_k - centroid[t]|**p)**(1/p)`` with ``s`` the
    column of ``S`` normalised to sum 1 (``p=2``: a standard deviation).

    Returns
    -------
    bandwidth : np.ndarray [shape=(..., 1, n_frames)]
        Equal to ``librosa.feature.spectral_bandwidth``.
    """
    sr = check_sr(sr)
    if not p > 0:
        raise ParameterError(f"p={p!r} must be positive")
    S, n_fft = _magnitude(y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                          window=window, center=center, pad_mode=pad_mode)
    freq = fft_frequencies(sr=sr, n_fft=n_fft)[:, None]
    Sn = _normalize_columns(S)
    centroid = np.sum(freq * Sn, axis=-2, keepdims=True)
    return np.sum(Sn * np.abs(freq - centroid) ** p, axis=-2, keepdims=True) ** (1.0 / p)


def spectral_rolloff(y: np.ndarray | None = None, *, sr: int, S: np.ndarray | None = None,
                     n_fft: int | None = None, hop_length: int = 512, win_length: int | None = None,
                     window="hann", center: bool = True, pad_mode: str = "constant",
                     roll_percent: float = 0.85) -> np.ndarray:
    """Lowest frequency below which ``roll_percent`` of each frame's magnitude lies.

    Notebook: 02_spectral_analysis.ipynb

    The first bin ``k`` with ``sum_{j<=k} S[j, t] >= roll_percent *
    sum_j S[j, t]``, reported as its frequency ``f_k`` (a silent frame
    gives 0 Hz). This is a quantile of the *spectrum*, not of the
    frequency axis.

    Returns
    -------
    rolloff : np.ndarray [shape=(..., 1, n_frames)]
        Equal to ``librosa.feature.spectral_rolloff``.
    """
    sr = check_sr(sr)
    if not 0.0 < roll_percent < 1.0:
        raise ParameterError(f"roll_percent={roll_percent!r} must lie strictly between 0 and 1")
    S, n_fft = _magnitude(y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                          window=window, center=center, pad_mode=pad_mode)
    freq = fft_frequencies(sr=sr, n_fft=n_fft)
    cumulative = np.cumsum(S, axis=-2)
    reached = cumulative >= roll_percent * cumulative[..., -1:, :]
    return freq[np.argmax(reached, axis=-2)][..., None, :]  # argmax: first True


def spectral_flatness(y: np.ndarray | None = None, *, S: np.ndarray | None = None,
                      n_fft: int | None = None, hop_length: int = 512, win_length: int | None = None,
                      window="hann", center: bool = True, pad_mode: str = "constant",
                      amin: float = 1e-10, power: float = 2.0) -> np.ndarray:
    """Geometric over arithmetic mean of each frame's power spectrum (Wiener entropy).

    Notebook: 02_spectral_analysis.ipynb

    Near 1 for white noise, near 0 for a pure tone. ``S`` here is a
    *magnitude* spectrogram, raised to ``power`` and floored at ``amin``.

    Returns
    -------
    flatness : np.ndarray [shape=(..., 1, n_frames)], in (0, 1]
        Equal to ``librosa.feature.spectral_flatness``.
    """
    if not amin > 0:
        raise ParameterError(f"amin={amin!r} must be strictly positive")
    S, n_fft = _magnitude(y, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                          window=window, center=center, pad_mode=pad_mode)
    P = np.maximum(amin, S**power)
    gmean = np.exp(np.mean(np.log(P), axis=-2, keepdims=True))
    return gmean / np.mean(P, axis=-2, keepdims=True)


# --------------------------------------------------------------------------- mel scale

_F_SP = 200.0 / 3           # Slaney: 66.67 Hz per mel below 1 kHz
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def _scalar_or_array(x, like):
    return x if np.ndim(like) else x[()]


def hz_to_mel(frequencies, *, htk: bool = False):
    """Hz to mels.

    Notebook: 03_mel_and_mfcc.ipynb

    HTK: ``m = 2595 log10(1 + f / 700)``. Slaney (default, as librosa and
    the Auditory Toolbox): linear ``f / (200/3)`` below 1 kHz, logarithmic
    above (``27 / ln 6.4`` mels per natural-log unit).

    Examples
    --------
    >>> round(float(hz_to_mel(1000.0)), 6), round(float(hz_to_mel(1000.0, htk=True)), 3)
    (15.0, 999.986)
    """
    f = np.asarray(frequencies, dtype=float)
    if htk:
        return _scalar_or_array(2595.0 * np.log10(1.0 + f / 700.0), frequencies)
    log_part = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return _scalar_or_array(np.where(f >= _MIN_LOG_HZ, log_part, f / _F_SP), frequencies)


def mel_to_hz(mels, *, htk: bool = False):
    """Mels to Hz: the inverse of :func:`hz_to_mel`.

    Notebook: 03_mel_and_mfcc.ipynb

    >>> round(float(mel_to_hz(15.0)), 6)
    1000.0
    """
    m = np.asarray(mels, dtype=float)
    if htk:
        return _scalar_or_array(700.0 * (10.0 ** (m / 2595.0) - 1.0), mels)
    log_part = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(m, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return _scalar_or_array(np.where(m >= _MIN_LOG_MEL, log_part, _F_SP * m), mels)


def mel_frequencies(n_mels: int = 128, *, fmin: float = 0.0, fmax: float = 11025.0,
                    htk: bool = False) -> np.ndarray:
    """``n_mels`` frequencies (Hz) equally spaced on the mel scale from ``fmin`` to ``fmax``.

    Notebook: 03_mel_and_mfcc.ipynb

    >>> mel_frequencies(3, fmin=0.0, fmax=2000.0, htk=True).round(1)
    array([   0. ,  674.8, 2000. ])
    """
    n_mels = check_positive_int(n_mels, "n_mels")
    mels = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


def mel_filterbank(*, sr: int, n_fft: int, n_mels: int = 128, fmin: float = 0.0,
                   fmax: float | None = None, htk: bool = False, norm="slaney",
                   dtype=np.float32) -> np.ndarray:
    """Triangular mel filters that map an STFT power spectrum to mel bands.

    Notebook: 03_mel_and_mfcc.ipynb

    ``n_mels + 2`` edge frequencies ``m_0 < ... < m_{n_mels+1}`` are equally
    spaced in mels (:func:`mel_frequencies`); filter ``i`` rises linearly
    from 0 at ``m_i`` to 1 at ``m_{i+1}`` and falls back to 0 at
    ``m_{i+2}``, sampled at the FFT bin frequencies. ``norm="slaney"``
    scales filter ``i`` by ``2 / (m_{i+2} - m_i)`` so each has unit area
    (roughly constant energy per band); a number ``p`` divides each row by
    its p-norm; ``None`` leaves peaks at 1.

    Parameters
    ----------
    sr : int > 0
    n_fft : int > 0
    n_mels : int > 0
    fmin : float, 0 <= fmin < fmax
    fmax : float <= sr / 2, or None for sr / 2
    htk : bool
        HTK mel formula instead of Slaney's.
    norm : "slaney", None, or a number > 0 (p-norm, ``np.inf`` allowed)
    dtype : np.dtype
        Output dtype (librosa's default float32).

    Returns
    -------
    M : np.ndarray [shape=(n_mels, 1 + n_fft // 2)]
        Equal to ``librosa.filters.mel`` with the same arguments.

    Raises
    ------
    ParameterError
        ``fmax > sr / 2``, ``fmin >= fmax``, ``fmin < 0``, bad ``n_fft`` /
        ``n_mels`` / ``norm``.

    Warns
    -----
    UserWarning
        Some filters are empty (all zero): too many mels for ``n_fft``.

    Examples
    --------
    >>> mel_filterbank(sr=16000, n_fft=512, n_mels=40).shape
    (40, 257)
    """
    sr = check_sr(sr)
    n_fft = check_positive_int(n_fft, "n_fft")
    n_mels = check_positive_int(n_mels, "n_mels")
    if fmax is None:
        fmax = sr / 2
    if fmax > sr / 2:
        raise ParameterError(
            f"fmax={fmax!r} is above the Nyquist frequency sr/2={sr / 2:g}; "
            f"use fmax=None (sr/2) or a smaller value"
        )
    if fmin < 0 or fmin >= fmax:
        raise ParameterError(f"fmin={fmin!r} must satisfy 0 <= fmin < fmax={fmax!r}")
    edges = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)  # (n_mels + 2,)
    fftfreqs = fft_frequencies(sr=sr, n_fft=n_fft)                      # (n_freq,)
    width = np.diff(edges)                                              # (n_mels + 1,)
    ramps = edges[:, None] - fftfreqs[None, :]                          # (n_mels + 2, n_freq)
    rising = -ramps[:-2] / width[:-1, None]      # 0 at m_i, 1 at m_{i+1}
    falling = ramps[2:] / width[1:, None]        # 1 at m_{i+1}, 0 at m_{i+2}
    weights = np.maximum(0.0, np.minimum(rising, falling))              # (n_mels, n_freq)

    if isinstance(norm, str):
        if norm != "slaney":
            raise ParameterError(f"norm={norm!r} must be 'slaney', None or a positive number")
        weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    elif norm is not None:
        if isinstance(norm, bool) or not isinstance(norm, (int, float, np.number)) or not norm > 0:
            raise ParameterError(f"norm={norm!r} must be 'slaney', None or a positive number")
        length = np.linalg.norm(weights, ord=norm, axis=-1, keepdims=True)
        weights /= np.where(length < np.finfo(dtype).tiny, 1.0, length)

    if not np.all((edges[:-2] == 0) | (weights.max(axis=1) > 0)):
        warnings.warn(
            f"Empty filters in the mel filterbank (n_mels={n_mels} is too many for "
            f"n_fft={n_fft} at sr={sr:g}): some mel bands will always be 0. "
            f"Use fewer mels or a larger n_fft.",
            UserWarning, stacklevel=2,
        )
    return weights.astype(dtype)


def _mel_power_blocks(y, *, sr, n_fft, hop_length, win_length, window, center, pad_mode,
                      power, n_mels, fmin, fmax, htk, norm):
    """Mel spectrogram from a signal, block by block; returns (..., n_frames, n_mels)."""
    frames = stft_frames(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=window, center=center, pad_mode=pad_mode)
    fb_t = mel_filterbank(sr=sr, n_fft=frames.n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                          norm=norm, dtype=frames.y.dtype).T.copy()     # (n_freq, n_mels)

    def to_power(spec):                                                 # (..., b, n_freq)
        if power == 2.0:
            p = spec.real * spec.real
            p += spec.imag * spec.imag
            return p
        return np.abs(spec) if power == 1.0 else np.abs(spec) ** power

    # FFT and |.|**power block by block (in cache); then ONE matrix product:
    # BLAS is slow on many small products (thread start-up per call).
    P = frames.blockwise(n_out=fb_t.shape[0], out_dtype=frames.y.dtype, func=to_power)
    return P @ fb_t                                                     # (..., n_frames, n_mels)


def melspectrogram(y: np.ndarray | None = None, *, sr: int, S: np.ndarray | None = None,
                   n_fft: int | None = None, hop_length: int = 512, win_length: int | None = None,
                   window="hann", center: bool = True, pad_mode: str = "constant",
                   power: float = 2.0, n_mels: int = 128, fmin: float = 0.0,
                   fmax: float | None = None, htk: bool = False, norm="slaney") -> np.ndarray:
    """Mel spectrogram: the mel filterbank applied to ``|STFT|**power``.

    Notebook: 03_mel_and_mfcc.ipynb

    ``M[..., i, t] = sum_k F[i, k] |D[..., k, t]|**power`` with ``F`` from
    :func:`mel_filterbank` (built in the input's precision).

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)] or None
        Signal; or pass ``S``.
    sr : int > 0
    S : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames)] or None
        A spectrogram already raised to ``power``.
    n_fft : int > 0 or None
        As :func:`spectral_centroid`: 2048 for ``y``, taken from ``S``'s rows,
        and an error (not a silent replacement) when a given one does not fit ``S``.
    hop_length, win_length, window, center, pad_mode
        As :func:`~course_lib.spectral.stft`.
    power : float > 0
        2 for power, 1 for magnitude.
    n_mels, fmin, fmax, htk, norm
        As :func:`mel_filterbank`.

    Returns
    -------
    M : np.ndarray [shape=(..., n_mels, n_frames)]
        Equal to ``librosa.feature.melspectrogram`` with the same arguments.

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> M = melspectrogram(y, sr=16000, n_fft=512, hop_length=160, n_mels=40)
    >>> M.shape, M.dtype
    ((40, 101), dtype('float32'))
    """
    sr = check_sr(sr)
    if not power > 0:
        raise ParameterError(f"power={power!r} must be positive (2: power, 1: magnitude)")
    if S is not None:
        S, n_fft = _magnitude(None, S, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                              window=window, center=center, pad_mode=pad_mode)
        fb = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk,
                            norm=norm, dtype=S.dtype)
        return np.matmul(fb, S)                      # (n_mels, n_freq) @ (..., n_freq, n_frames)
    if y is None:
        raise ParameterError("pass a signal y or a spectrogram S")
    M = _mel_power_blocks(y, sr=sr, n_fft=_N_FFT if n_fft is None else n_fft, hop_length=hop_length, win_length=win_length,
                          window=window, center=center, pad_mode=pad_mode, power=power,
                          n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    return np.swapaxes(M, -1, -2)                    # (..., n_frames, n_mels) -> (..., n_mels, n_frames)


def mfcc(y: np.ndarray | None = None, *, sr: int, S: np.ndarray | None = None, n_mfcc: int = 13,
         n_fft: int = 2048, hop_length: int = 512, win_length: int | None = None, window="hann",
         center: bool = True, pad_mode: str = "constant", n_mels: int = 128, fmin: float = 0.0,
         fmax: float | None = None, htk: bool = False, norm="slaney", lifter: float = 0,
         top_db: float | None = 80.0) -> np.ndarray:
    """Mel-frequency cepstral coefficients.

    Notebook: 03_mel_and_mfcc.ipynb

    1. power mel spectrogram (:func:`melspectrogram`, ``power=2``);
    2. decibels: ``power_to_db(M, ref=1.0, amin=1e-10, top_db=top_db)``;
    3. orthonormal DCT-II along the mel axis, first ``n_mfcc`` rows;
    4. optional liftering: row ``c`` times ``1 + (lifter / 2) sin(pi (c + 1) / lifter)``.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)] or None
        Signal; or pass ``S``.
    sr : int > 0
    S : np.ndarray [shape=(..., n_mels, n_frames)] or None
        A log-power (dB) mel spectrogram; steps 1-2 are skipped.
    n_mfcc : int > 0
        Number of coefficients (at most ``n_mels``).
    lifter : float >= 0
        0 disables liftering.
    top_db : float or None
        Clipping of the dB mel spectrogram below its maximum (librosa: 80).
    other parameters
        As :func:`melspectrogram`.

    Returns
    -------
    M : np.ndarray [shape=(..., n_mfcc, n_frames)]
        Equal to ``librosa.feature.mfcc`` with the same arguments
        (librosa's default ``n_mfcc`` is 20, ours 13: pass it explicitly).

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(16000)
    >>> mfcc(y, sr=16000, n_fft=512, hop_length=160, n_mels=40).shape
    (13, 101)
    """
    n_mfcc = check_positive_int(n_mfcc, "n_mfcc")
    if not lifter >= 0:
        raise ParameterError(f"lifter={lifter!r} must be a non-negative number (0: no liftering)")
    if S is None:
        mel = melspectrogram(y, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                             window=window, center=center, pad_mode=pad_mode, power=2.0,
                             n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
        S = power_to_db(mel, top_db=top_db)
    else:
        S = np.asarray(S)
        if S.ndim < 2 or not np.issubdtype(S.dtype, np.floating):
            raise ParameterError(
                f"S must be a real log-power mel spectrogram of shape (..., n_mels, n_frames), "
                f"got dtype={S.dtype}, shape={S.shape}"
            )
    if n_mfcc > S.shape[-2]:
        raise ParameterError(f"n_mfcc={n_mfcc} must be <= the number of mel bands {S.shape[-2]}")
    C = scipy.fft.dct(S, type=2, norm="ortho", axis=-2)[..., :n_mfcc, :]
    if lifter > 0:
        c = np.arange(1, 1 + n_mfcc, dtype=C.dtype)
        C = C * (1 + (lifter / 2) * np.sin(np.pi * c / lifter))[:, None]
    return C


# --------------------------------------------------------------------------- deltas

def delta(x: np.ndarray, *, width: int = 9, order: int = 1, axis: int = -1,
          mode: str = "interp") -> np.ndarray:
    """Local derivative of a feature sequence (delta, delta-delta) by Savitzky-Golay.

    Notebook: 03_mel_and_mfcc.ipynb

    In each window of ``width`` frames, fit a polynomial of degree
    ``order`` by least squares and take its ``order``-th derivative at the
    centre. For ``order=1`` away from the edges this is the familiar
    regression ``d_t = sum_n n (c_{t+n} - c_{t-n}) / (2 sum_n n**2)``,
    ``n = 1 .. width // 2``. With ``mode="interp"`` the edge frames use the
    polynomial fitted to the first / last ``width`` frames.

    Parameters
    ----------
    x : np.ndarray [shape=(..., n_frames)]
        Feature sequence, e.g. MFCCs ``(n_mfcc, n_frames)``.
    width : odd int >= 3
    order : int > 0
    axis : int
        The time axis.
    mode : str
        ``scipy.signal.savgol_filter`` edge mode.

    Returns
    -------
    delta : np.ndarray [shape=x.shape]
        Equal to ``librosa.feature.delta``.

    Examples
    --------
    >>> delta(np.arange(8.0) ** 2, width=3)   # d/dt t**2 = 2t; edges: slope of the end fits
    array([ 2.,  2.,  4.,  6.,  8., 10., 12., 12.])
    """
    import scipy.signal  # here, not at the top: keeps `import course_lib.features` light

    data = np.atleast_1d(np.asarray(x))
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 3 or width % 2 != 1:
        raise ParameterError(f"width={width!r} must be an odd integer >= 3")
    order = check_positive_int(order, "order")
    if mode == "interp" and width > data.shape[axis]:
        raise ParameterError(
            f"width={width} must not exceed the number of frames x.shape[axis]={data.shape[axis]} "
            f"with mode='interp'; use a smaller width"
        )
    return scipy.signal.savgol_filter(data, width, polyorder=order, deriv=order, axis=axis, mode=mode)


def mfcc_deltas(y: np.ndarray, *, sr: int, n_mfcc: int = 13, n_fft: int = 2048,
                hop_length: int = 512, n_mels: int = 128, fmin: float = 0.0,
                fmax: float | None = None, width: int = 9, **mfcc_kwargs) -> np.ndarray:
    """MFCCs stacked with their deltas and delta-deltas: the classic 39-dim speech feature.

    Notebooks: 03_mel_and_mfcc.ipynb (derived step by step), 04_hmm_word_recognition.ipynb

    ``np.concatenate([C, delta(C, order=1), delta(C, order=2)], axis=-2)``
    with ``C = mfcc(y, ...)``; both deltas use the same ``width``.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)], floating point
    sr : int > 0
    n_mfcc, n_fft, hop_length, n_mels, fmin, fmax
        As :func:`mfcc`.
    width : odd int >= 3
        Frames in each delta window (:func:`delta`); the signal must give at
        least ``width`` frames.
    **mfcc_kwargs
        Passed on to :func:`mfcc` (``win_length``, ``window``, ``center``,
        ``pad_mode``, ``htk``, ``norm``, ``lifter``, ``top_db``).

    Returns
    -------
    F : np.ndarray [shape=(..., 3 * n_mfcc, n_frames)]
        Rows ``0 .. n_mfcc-1`` the MFCCs, then their deltas, then the
        delta-deltas. Transpose with :func:`to_sequence` for a model that
        wants ``(n_frames, n_features)``.

    Raises
    ------
    ParameterError
        As :func:`mfcc`; or fewer frames than ``width`` (the message says
        how long the signal must be).

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(8000)
    >>> mfcc_deltas(y, sr=8000, n_fft=256, hop_length=80, n_mels=40).shape
    (39, 101)
    """
    C = mfcc(y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels,
             fmin=fmin, fmax=fmax, **mfcc_kwargs)
    if C.shape[-1] < width:
        raise ParameterError(
            f"y gives {C.shape[-1]} frames at hop_length={hop_length}, fewer than the delta "
            f"width={width}; pass a smaller odd width (>= 3) or a longer signal "
            f"(at least {(width - 1) * hop_length} samples with center=True)"
        )
    d1 = delta(C, width=width, order=1)
    d2 = delta(C, width=width, order=2)
    return np.concatenate([C, d1, d2], axis=-2)               # (..., 3 * n_mfcc, n_frames)


def to_sequence(F: np.ndarray) -> np.ndarray:
    """Feature matrix ``(..., n_features, n_frames)`` -> ``(..., n_frames, n_features)``.

    Notebook: 04_hmm_word_recognition.ipynb

    ``course_lib`` keeps librosa's layout for features (one *column* per
    frame, like a spectrogram); sequence models (hmmlearn, ``torch.nn.LSTM``
    with ``batch_first=True``, transformers) want one *row* per frame,
    i.e. ``(time, feature)``. This swaps the last two axes and returns a
    C-contiguous copy, so each frame's features are adjacent in memory.

    Parameters
    ----------
    F : np.ndarray [shape=(..., n_features, n_frames)]

    Returns
    -------
    X : np.ndarray [shape=(..., n_frames, n_features)], C-contiguous

    Examples
    --------
    >>> to_sequence(np.zeros((39, 120))).shape
    (120, 39)
    """
    F = check_shape(F, (..., "n_features", "n_frames"), name="F")
    return np.ascontiguousarray(np.swapaxes(F, -1, -2))      # (..., n_frames, n_features)


def cmvn(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    """Cepstral mean and variance normalisation of one utterance.

    Notebook: 03_mel_and_mfcc.ipynb

    Each feature (row, for the default layout ``(n_features, n_frames)``)
    is shifted to mean 0 and scaled to standard deviation 1 over the
    frames along ``axis``: ``(x - mean) / std`` (population std,
    ``ddof=0``). A constant feature has no spread to normalise: it becomes
    all zeros instead of 0/0 = NaN (e.g. an MFCC of a clip padded with
    digital silence).

    Parameters
    ----------
    x : np.ndarray [shape=(..., n_frames)], real
        Features, frames along ``axis``; integers are converted to float64.
    axis : int
        The frame (time) axis: ``-1`` for ``(n_features, n_frames)``,
        ``0`` for a ``(n_frames, n_features)`` sequence.

    Returns
    -------
    x_norm : np.ndarray [shape=x.shape], float (the input's precision; computed in float64)

    Raises
    ------
    ParameterError
        Not a real array, NaN / Inf values, a bad ``axis``, or fewer than
        2 frames (the mean would be the frame itself).

    Examples
    --------
    >>> cmvn(np.array([[1.0, 3.0], [5.0, 5.0]]))
    array([[-1.,  1.],
           [ 0.,  0.]])
    """
    x = np.asarray(x)
    if np.iscomplexobj(x) or not np.issubdtype(x.dtype, np.number):
        raise ParameterError(f"x must be a real numeric array, got dtype={x.dtype}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    check_finite(x, name="x")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < max(x.ndim, 1):
        raise ParameterError(f"axis={axis!r} must be an integer axis of x with shape {x.shape}")
    if x.shape[axis] < 2:
        raise ParameterError(
            f"x has {x.shape[axis]} frame(s) along axis={axis} (shape={x.shape}); CMVN needs at "
            f"least 2 (check that axis is the time axis)"
        )
    x64 = x.astype(np.float64)  # float32 features with a large offset lose digits in the mean
    mean = x64.mean(axis=axis, keepdims=True)
    std = x64.std(axis=axis, keepdims=True)
    # exactly constant rows (or a spread that underflows) -> zeros, not 0/0
    constant = (np.ptp(x, axis=axis, keepdims=True) == 0) | (std == 0)
    out = np.where(constant, 0.0, (x64 - mean) / np.where(constant, 1.0, std))
    return out.astype(x.dtype, copy=False)


def heq(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    """Histogram equalisation of one utterance ("feature warping", Pelecanos & Sridharan 2001).

    Notebook: 04_hmm_word_recognition.ipynb

    Each feature (row, for the default layout ``(n_features, n_frames)``) is
    replaced frame by frame by the standard normal quantile of its rank among
    the utterance's frames: the ``r``-th smallest of ``T`` values becomes
    ``Phi^-1((r + 0.5) / T)`` (``r = 0 .. T-1``; tied values share the average of
    their ranks). Afterwards every feature has the same distribution in every
    utterance, not only the same mean and spread as after :func:`cmvn`: a
    recording chain that bends the features non-linearly (a microphone's
    response, a room, compression, noise filling the quiet frames) is undone
    as long as it keeps their order. The price: a speaker's distinctive spread
    is equalised away as well.

    Parameters
    ----------
    x : np.ndarray [shape=(..., n_frames)], real
    axis : int
        The frame (time) axis.

    Returns
    -------
    x_eq : np.ndarray [shape=x.shape], float64

    Raises
    ------
    ParameterError
        Not a real array, NaN / Inf values, a bad ``axis``, or fewer than 2 frames.

    Examples
    --------
    >>> heq(np.array([[10.0, -3.0, 7.0]])).round(3)     # ranks 2, 0, 1 of 3
    array([[ 0.967, -0.967,  0.   ]])
    """
    import scipy.special
    import scipy.stats

    x = np.asarray(x)
    if np.iscomplexobj(x) or not np.issubdtype(x.dtype, np.number):
        raise ParameterError(f"x must be a real numeric array, got dtype={x.dtype}")
    x = x.astype(np.float64)
    check_finite(x, name="x")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < max(x.ndim, 1):
        raise ParameterError(f"axis={axis!r} must be an integer axis of x with shape {x.shape}")
    T = x.shape[axis]
    if T < 2:
        raise ParameterError(f"x has {T} frame(s) along axis={axis} (shape={x.shape}); HEQ needs at least 2 "
                             f"(check that axis is the time axis)")
    ranks = scipy.stats.rankdata(x, axis=axis, method="average") - 1.0          # 0 .. T-1, ties averaged
    return scipy.special.ndtri((ranks + 0.5) / T)
