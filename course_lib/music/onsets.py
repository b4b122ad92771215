"""Onsets: spectral flux on a log-mel spectrogram, peak picking, onset F-measure.

Notebook: 08_music_analysis.ipynb

The pipeline::

    y --melspectrogram (2048 / hop 512, 128 mels, power 2)--> power_to_db (ref 1, top_db 80)
      --first difference along time, half-wave rectified, mean over mel bands--> onset envelope
      --normalise to [0, 1], local maximum + moving-average threshold + minimum gap--> onset frames

:func:`onset_strength` equals ``librosa.onset.onset_strength(y=y, sr=sr,
hop_length=hop_length, n_fft=n_fft, n_mels=n_mels, lag=lag)`` with librosa's other
defaults (``max_size=1``, ``detrend=False``, ``center=True``, ``aggregate=np.mean``),
and :func:`peak_pick` equals ``librosa.util.peak_pick`` (``tests/test_music_onsets.py``).
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

from ..errors import ParameterError
from ..features import melspectrogram
from ..spectral import frames_to_time, power_to_db
from ..validation import check_positive_int, check_signal, check_sr

__all__ = ["onset_strength", "peak_pick", "onset_detect", "onset_f_measure"]


def onset_strength(y: np.ndarray, *, sr: int, hop_length: int = 512, n_fft: int = 2048, n_mels: int = 128,
                   lag: int = 1, fmax: float | None = None) -> np.ndarray:
    """Onset strength envelope by spectral flux of a log-mel spectrogram.

    Notebook: 08_music_analysis.ipynb

    ``o[t] = mean_m max(0, L[m, t] - L[m, t - lag])`` with ``L`` the mel power in dB,
    then shifted right by ``lag + n_fft // (2 hop_length)`` frames (so a peak sits on the
    frame whose *centre* hears the attack) and cut to the spectrogram's length.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono signal.
    sr : int > 0
    hop_length, n_fft, n_mels : int > 0
    lag : int > 0
        Frames between the two compared spectra.
    fmax : float or None
        Highest mel frequency (``sr / 2`` when None).

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        Non-negative; ``n_frames = 1 + len(y) // hop_length``. Equal to
        ``librosa.onset.onset_strength`` with the same arguments.
    """
    y = check_signal(y, mono=True)
    sr = check_sr(sr)
    hop_length = check_positive_int(hop_length, name="hop_length")
    n_fft = check_positive_int(n_fft, name="n_fft")
    lag = check_positive_int(lag, name="lag")
    S = power_to_db(melspectrogram(y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmax=fmax))
    n_frames = S.shape[-1]
    if n_frames <= lag:
        raise ParameterError(f"the signal has {n_frames} frames, too short for lag={lag}; pass a longer signal")
    flux = np.maximum(0.0, S[:, lag:] - S[:, :-lag]).mean(axis=0)       # (n_frames - lag,)
    pad = lag + n_fft // (2 * hop_length)
    return np.pad(flux, (pad, 0))[:n_frames]


def peak_pick(x: np.ndarray, *, pre_max: int, post_max: int, pre_avg: int, post_avg: int, delta: float,
              wait: int) -> np.ndarray:
    """Frames ``n`` where ``x[n]`` is the maximum of ``x[n - pre_max : n + post_max]``, at least
    ``delta`` above the mean of ``x[n - pre_avg : n + post_avg]``, and more than ``wait``
    frames after the previous peak.

    Notebook: 08_music_analysis.ipynb

    Equal to ``librosa.util.peak_pick`` with the same arguments.

    Returns
    -------
    np.ndarray [shape=(n_peaks,)], int
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ParameterError(f"x must be one-dimensional, got shape {x.shape}")
    for name, v in (("pre_max", pre_max), ("pre_avg", pre_avg), ("wait", wait)):
        if int(v) != v or v < 0:
            raise ParameterError(f"{name}={v!r} must be a non-negative integer")
    for name, v in (("post_max", post_max), ("post_avg", post_avg)):
        if int(v) != v or v < 1:
            raise ParameterError(f"{name}={v!r} must be a positive integer")
    pre_max, post_max, pre_avg, post_avg, wait = map(int, (pre_max, post_max, pre_avg, post_avg, wait))
    n = len(x)
    # moving maximum over [i - pre_max, i + post_max), zero outside (x >= 0 for an envelope)
    mov_max = scipy.ndimage.maximum_filter1d(x, pre_max + post_max, mode="constant",
                                             origin=int(np.ceil(0.5 * (pre_max - post_max))), cval=x.min())
    # moving mean over [i - pre_avg, i + post_avg), windows cut at the edges
    c = np.concatenate(([0.0], np.cumsum(x)))
    idx = np.arange(n)
    lo, hi = np.maximum(idx - pre_avg, 0), np.minimum(idx + post_avg, n)
    mov_avg = (c[hi] - c[lo]) / (hi - lo)
    cand = np.flatnonzero((x == mov_max) & (x >= mov_avg + delta) & (x != 0))
    peaks, last = [], -np.inf
    for i in cand:
        if i > last + wait:
            peaks.append(i)
            last = i
    return np.asarray(peaks, dtype=int)


def onset_detect(y: np.ndarray | None = None, *, sr: int, onset_envelope: np.ndarray | None = None,
                 hop_length: int = 512, delta: float = 0.07, units: str = "frames") -> np.ndarray:
    """Onsets: the normalised envelope's peaks, with librosa's default windows.

    Notebook: 08_music_analysis.ipynb

    The envelope is scaled to [0, 1]; a peak is the largest value within 30 ms before it,
    at least ``delta`` above the mean of the 100 ms around it, and more than 30 ms after
    the previous one (``librosa.onset.onset_detect`` with ``backtrack=False``).

    Returns
    -------
    np.ndarray [shape=(n_onsets,)]
        Frame indices (``units="frames"``) or seconds (``units="time"``).
    """
    sr = check_sr(sr)
    if units not in ("frames", "time"):
        raise ParameterError(f"units={units!r} must be 'frames' or 'time'")
    if onset_envelope is None:
        if y is None:
            raise ParameterError("pass the signal y or an onset_envelope")
        onset_envelope = onset_strength(y, sr=sr, hop_length=hop_length)
    o = np.asarray(onset_envelope, dtype=float)
    if not o.any():
        frames = np.zeros(0, dtype=int)
    else:
        o = o - o.min()
        o = o / max(o.max(), np.finfo(o.dtype).tiny)
        fps = sr / hop_length
        frames = peak_pick(o, pre_max=int(0.03 * fps), post_max=int(0.00 * fps) + 1, pre_avg=int(0.10 * fps),
                           post_avg=int(0.10 * fps) + 1, delta=delta, wait=int(0.03 * fps))
    return frames if units == "frames" else frames_to_time(frames, sr=sr, hop_length=hop_length)


def onset_f_measure(reference: np.ndarray, estimated: np.ndarray, *, window: float = 0.05) -> float:
    """F-measure of estimated onset times against reference times (seconds), via mir_eval.

    Notebook: 08_music_analysis.ipynb

    A hit is an estimate within ``window`` seconds of a reference onset, each matched once.
    """
    import mir_eval

    return float(mir_eval.onset.f_measure(np.asarray(reference, float), np.asarray(estimated, float),
                                          window=window)[0])
