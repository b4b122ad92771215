"""Tempo and beats: autocorrelation of the onset envelope, a tempogram, Ellis's (2007) DP tracker.

Notebook: 08_music_analysis.ipynb

The pipeline::

    y --onset_strength--> o[t] --autocorrelate (whole clip) / tempogram (8 s windows)--> periodicity per lag
      --log-normal tempo prior around 120 BPM--> tempo --DP over beat times (Ellis 2007)--> beats (s)

- :func:`autocorrelate` equals ``librosa.autocorrelate``; :func:`tempogram` equals
  ``librosa.feature.tempogram`` and :func:`tempo` equals ``librosa.feature.tempo``
  (``aggregate=np.mean``) with the same arguments.
- :func:`dp_beats` is the dynamic programme of Ellis (2007), written out: the score of
  a beat at frame ``t`` is the local onset score plus the best predecessor's score,
  penalised by ``tightness * log(gap / period)**2``.
- :func:`beat_track` chains them: ``beat_track(y, sr=sr)`` -> ``BeatResult(tempo, beats)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.fft
import scipy.signal

from ..errors import ParameterError
from ..spectral import frames_to_time
from ..validation import check_positive, check_positive_int, check_signal, check_sr
from .onsets import onset_strength

__all__ = ["BeatResult", "autocorrelate", "tempo_frequencies", "tempogram", "tempo", "dp_beats", "beat_track",
           "beat_f_measure", "tempo_error", "click_track"]


class BeatResult(NamedTuple):
    """Output of :func:`beat_track`: ``tempo`` (BPM) and ``beats`` (seconds, increasing)."""

    tempo: float
    beats: np.ndarray


def autocorrelate(x: np.ndarray, *, max_size: int | None = None, axis: int = -1) -> np.ndarray:
    """Autocorrelation ``r[k] = sum_t x[t] x[t + k]`` for ``k < max_size``, by FFT.

    Notebook: 08_music_analysis.ipynb

    Equal to ``librosa.autocorrelate``.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[axis]
    max_size = n if max_size is None else min(int(max_size), n)
    n_pad = scipy.fft.next_fast_len(2 * n - 1, real=True)
    X = np.fft.rfft(x, n=n_pad, axis=axis)
    r = np.fft.irfft(np.abs(X) ** 2, n=n_pad, axis=axis)
    return np.take(r, np.arange(max_size), axis=axis)


def tempo_frequencies(n_bins: int, *, sr: int, hop_length: int = 512) -> np.ndarray:
    """BPM of each autocorrelation lag: ``60 sr / (hop_length * lag)`` (lag 0 is ``inf``)."""
    with np.errstate(divide="ignore"):
        return 60.0 * sr / (hop_length * np.arange(n_bins, dtype=float))


def tempogram(onset_envelope: np.ndarray, *, sr: int, hop_length: int = 512, win_length: int = 384) -> np.ndarray:
    """Autocorrelation tempogram: the autocorrelation of Hann-windowed 384-frame pieces of ``o``.

    Notebook: 08_music_analysis.ipynb

    Parameters
    ----------
    onset_envelope : np.ndarray [shape=(n_frames,)]
    win_length : int > 0
        Frames per window (384 frames of 512 at 22.05 kHz = 8.9 s).

    Returns
    -------
    np.ndarray [shape=(win_length, n_frames)]
        Column ``t``: lags 0 .. win_length - 1 around frame ``t``, scaled to max 1.
        Equal to ``librosa.feature.tempogram`` (``center=True``, Hann window).
    """
    o = check_signal(np.asarray(onset_envelope, dtype=float), name="onset_envelope", mono=True)
    win_length = check_positive_int(win_length, name="win_length")
    n = len(o)
    padded = np.pad(o, (win_length // 2, win_length // 2), mode="linear_ramp", end_values=(0, 0))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win_length)[:n].T   # (win_length, n)
    w = scipy.signal.get_window("hann", win_length, fftbins=True)
    ac = autocorrelate(frames * w[:, None], axis=0)
    peak = np.abs(ac).max(axis=0)
    return ac / np.where(peak < np.finfo(float).tiny, 1.0, peak)


def _log_prior(bpms, start_bpm, std_bpm, max_tempo):
    with np.errstate(divide="ignore"):
        logprior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / std_bpm) ** 2
    if max_tempo is not None:
        logprior[: int(np.argmax(bpms < max_tempo))] = -np.inf
    return logprior


def tempo(onset_envelope: np.ndarray, *, sr: int, hop_length: int = 512, start_bpm: float = 120.0,
          std_bpm: float = 1.0, ac_size: float = 8.0, max_tempo: float | None = 320.0) -> float:
    """Global tempo (BPM): the mean tempogram's best lag under a log-normal prior.

    Notebook: 08_music_analysis.ipynb

    ``argmax_lag log(1 + 1e6 * mean_t T[lag, t]) - 0.5 ((log2 bpm(lag) - log2 start_bpm) / std_bpm)**2``.
    Equal to ``librosa.feature.tempo(onset_envelope=..., aggregate=np.mean)``.
    """
    sr = check_sr(sr)
    start_bpm = check_positive(start_bpm, name="start_bpm")
    std_bpm = check_positive(std_bpm, name="std_bpm")
    win_length = int(np.floor(ac_size * sr / hop_length))
    tg = tempogram(onset_envelope, sr=sr, hop_length=hop_length, win_length=win_length).mean(axis=1)
    bpms = tempo_frequencies(len(tg), sr=sr, hop_length=hop_length)
    best = int(np.argmax(np.log1p(1e6 * tg) + _log_prior(bpms, start_bpm, std_bpm, max_tempo)))
    return float(bpms[best])


def _local_score(o, period):
    # onset envelope smoothed by a Gaussian of width period / 32 (Ellis 2007, eq. 4)
    window = np.exp(-0.5 * (np.arange(-period, period + 1) * 32.0 / period) ** 2)
    return scipy.signal.convolve(o, window, "same")


def dp_beats(onset_envelope: np.ndarray, *, period: float, tightness: float = 100.0,
             trim: float = 0.5) -> tuple[np.ndarray, float]:
    """Beat frames by dynamic programming (Ellis 2007), and the mean local score per beat.

    Notebook: 08_music_analysis.ipynb

    ``C[t] = L[t] + max_{t - 2p <= s <= t - p/2} (C[s] - tightness * log((t - s) / p)**2)``
    where ``L`` is the envelope (divided by its standard deviation) smoothed by a Gaussian,
    ``p`` the beat period in frames. Beats are read back from the last strong ``C`` maximum.

    Parameters
    ----------
    onset_envelope : np.ndarray [shape=(n_frames,)]
    period : float > 0
        Beat period in frames.
    tightness : float > 0
        How strongly gaps away from ``period`` are penalised.
    trim : float >= 0
        Beats at either end whose smoothed local score is below ``trim`` times the RMS
        over all beats are dropped (silence before and after the music), as librosa.
        (0.1 kept a spurious beat after the music on 7 of the 18 train / valid grooves.)

    Returns
    -------
    beats : np.ndarray [shape=(n_beats,)], int
        Frame indices, increasing, weak beats at the edges trimmed.
    score : float
        Mean of the local score ``L`` at the beats (0 when there are none).
    """
    o = np.asarray(onset_envelope, dtype=float)
    period = check_positive(period, name="period")
    n = len(o)
    p = int(round(period))
    if not o.any() or n < 2 or p < 1:
        return np.zeros(0, dtype=int), 0.0
    L = _local_score(o / o.std(ddof=1), p)
    gaps = np.arange(max(p // 2, 1), 2 * p + 1)                      # allowed distance to the previous beat
    penalty = -tightness * np.log(gaps / period) ** 2
    C = np.zeros(n)
    back = np.full(n, -1)                     # -1: the beat starts a chain (nothing before it)
    h = int(gaps[0])                          # every predecessor is >= h frames back, so the h frames
    for b in range(0, n, h):                  # of one block depend only on earlier blocks: vectorise them
        t = np.arange(b, min(b + h, n))
        prev = t[:, None] - gaps[None, :]                                # (block, n_gaps)
        cand = np.where(prev >= 0, C[np.maximum(prev, 0)] + penalty[None, :], -np.inf)
        k = np.argmax(cand, axis=1)
        best = cand[np.arange(len(t)), k]
        # a chain may start anywhere: a predecessor is kept only when it adds to the score
        # (Ellis and librosa chain every beat to one, so after silence the first beat's
        # predecessor is a silent frame whose penalty pushes the real first beat out)
        keep = best > 0
        C[t] = L[t] + np.where(keep, best, 0.0)
        back[t] = np.where(keep, prev[np.arange(len(t)), k], -1)
    # the last beat: the last local maximum of C that is at least half the median maximum
    peaks = np.flatnonzero((C[1:-1] > C[:-2]) & (C[1:-1] >= C[2:])) + 1
    if len(peaks) == 0:
        return np.zeros(0, dtype=int), 0.0
    med = np.median(C[peaks])
    t = int(peaks[C[peaks] >= 0.5 * med][-1])
    beats = []
    while t >= 0:
        beats.append(t)
        t = back[t]
    beats = np.array(beats[::-1], dtype=int)
    # trim weak beats at both ends (before the music starts, after it stops)
    Ls = np.convolve(L, scipy.signal.get_window("hann", 5, fftbins=False), "same")[beats]
    floor = trim * np.sqrt(np.mean(Ls ** 2))
    strong = np.flatnonzero(Ls >= floor)
    beats = beats[strong[0]:strong[-1] + 1] if len(strong) else beats[:0]
    return beats, float(L[beats].mean()) if len(beats) else 0.0


def beat_track(y: np.ndarray, *, sr: int, hop_length: int = 512, start_bpm: float = 120.0,
               tightness: float = 100.0, trim: float = 0.5) -> BeatResult:
    """Tempo and beat times of a music signal.

    Notebook: 08_music_analysis.ipynb

    Onset envelope (:func:`onset_strength`) -> tempo (:func:`tempo`, the tempogram
    under a log-normal prior around ``start_bpm``) -> beats (:func:`dp_beats`).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono signal.
    sr : int > 0
    hop_length : int > 0
    start_bpm : float > 0
        Centre of the tempo prior.
    tightness, trim : float
        As :func:`dp_beats`.

    Returns
    -------
    BeatResult
        ``tempo`` (BPM) and ``beats`` (seconds); ``(0.0, [])`` for silence.

    Examples
    --------
    >>> sr = 22050
    >>> y = np.zeros(6 * sr, dtype=np.float32)
    >>> for t in np.arange(0.25, 6, 0.5):                  # clicks at 120 BPM
    ...     y[int(t * sr):int(t * sr) + 200] = np.hanning(200)
    >>> res = beat_track(y, sr=sr)
    >>> round(res.tempo), len(res.beats)
    (117, 12)
    """
    y = check_signal(y, mono=True)
    sr = check_sr(sr)
    hop_length = check_positive_int(hop_length, name="hop_length")
    o = onset_strength(y, sr=sr, hop_length=hop_length)
    if not o.any():
        return BeatResult(0.0, np.zeros(0))
    bpm = tempo(o, sr=sr, hop_length=hop_length, start_bpm=start_bpm)
    frames, _ = dp_beats(o, period=60.0 * sr / hop_length / bpm, tightness=tightness, trim=trim)
    return BeatResult(float(bpm), frames_to_time(frames, sr=sr, hop_length=hop_length))


def beat_f_measure(reference: np.ndarray, estimated: np.ndarray) -> float:
    """mir_eval's beat F-measure (a hit is within 70 ms of a reference beat), all beats kept.

    Notebook: 08_music_analysis.ipynb

    ``mir_eval.beat.trim_beats`` (drop the first 5 s) is not applied: the corpus clips
    are 6-10 s long and annotated from their first beat.
    """
    import mir_eval

    return float(mir_eval.beat.f_measure(np.asarray(reference, float), np.asarray(estimated, float)))


def tempo_error(estimated: float, reference: float, *, tolerance: float = 0.04) -> str:
    """``"ok"`` within ``tolerance`` (relative), ``"octave"`` when within it of half / double /
    third / triple the reference, else ``"wrong"``.

    Notebook: 08_music_analysis.ipynb
    """
    if reference <= 0:
        raise ParameterError(f"reference={reference!r} must be a positive tempo in BPM")
    rel = lambda f: abs(estimated - f * reference) / (f * reference)  # noqa: E731
    if rel(1.0) <= tolerance:
        return "ok"
    if min(rel(f) for f in (0.5, 2.0, 1 / 3, 3.0)) <= tolerance:
        return "octave"
    return "wrong"


def click_track(times: np.ndarray, *, sr: int, length: int, frequency: float = 1000.0,
                duration: float = 0.1) -> np.ndarray:
    """Decaying sine clicks at ``times`` (seconds), ``length`` samples long, float32 in [-1, 1].

    Notebook: 08_music_analysis.ipynb (mix it over the music to hear the beats).
    """
    sr = check_sr(sr)
    n = int(duration * sr)
    t = np.arange(n) / sr
    click = np.sin(2 * np.pi * frequency * t) * np.exp(-t * 10.0 / duration)
    out = np.zeros(int(length))
    for s in (np.asarray(times, float) * sr).astype(int):
        if 0 <= s < len(out):
            m = min(n, len(out) - s)
            out[s:s + m] += click[:m]
    return out.astype(np.float32)
