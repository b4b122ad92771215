"""Prosody: a pitch tracker written out (YIN), energy, speaking rate, voicing, jitter and
shimmer, utterance statistics, and the style (simulated emotion) classifiers of chapter 14.

Notebook: 14_emotion_recognition.ipynb

A pipeline, top to bottom::

    >>> import numpy as np
    >>> sr = 16000
    >>> t = np.arange(sr) / sr
    >>> y = np.sin(2 * np.pi * 200 * t) + 0.5 * np.sin(2 * np.pi * 400 * t)
    >>> p = yin(y, sr=sr)                    # F0 per 10 ms frame, NaN where unvoiced
    >>> round(float(np.nanmedian(p.f0)), 1)
    200.0
    >>> feats = utterance_features(y, sr=sr)  # one vector per utterance
    >>> len(feats) == len(FEATURE_NAMES)
    True

Pitch is compared with ``librosa.pyin`` and Praat (through ``praat-parselmouth``)
by :func:`compare_pitch`: the gross pitch error (share of frames voiced in both
whose estimates differ by more than 20 %), the fine error in cents on the rest,
and the voicing decision error.

The corpus's styles are **simulated prosody** (espeak-ng's SSML pitch, range,
rate and volume), not recorded emotion: a classifier that separates them has
learnt pitch, tempo and loudness.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.signal

from .errors import ParameterError
from .validation import check_positive, check_sr, valid_audio

__all__ = ["PitchTrack", "yin", "cmnd", "pyin_pitch", "praat_pitch", "PitchComparison", "compare_pitch",
           "energy_db", "speech_span", "speaking_rate", "jitter", "shimmer", "FEATURE_NAMES",
           "utterance_features", "normalize_by_speaker", "per_class_recall", "uar", "logmel"]


class PitchTrack(NamedTuple):
    """A frame-wise pitch track.

    Attributes
    ----------
    times : np.ndarray [shape=(n_frames,)]
        Frame centres in seconds (frame ``t`` is centred on sample ``t * hop_length``).
    f0 : np.ndarray [shape=(n_frames,)]
        Fundamental frequency in Hz, NaN on unvoiced frames.
    voiced : np.ndarray [shape=(n_frames,), dtype=bool]
    aperiodicity : np.ndarray [shape=(n_frames,)]
        The minimum of the cumulative mean normalised difference (0 = perfectly periodic).
    """

    times: np.ndarray
    f0: np.ndarray
    voiced: np.ndarray
    aperiodicity: np.ndarray


def _frames(y, frame_length, hop_length, offset=None):
    """Frames (n_frames, frame_length); frame t starts at sample t * hop_length - offset
    (default ``frame_length // 2``: centred on t * hop_length), zeros outside the signal."""
    pad = frame_length // 2 if offset is None else int(offset)
    yp = np.pad(y, (pad, frame_length))
    n_frames = 1 + len(y) // hop_length
    yp = np.pad(yp, (0, max(0, (n_frames - 1) * hop_length + frame_length - len(yp))))
    idx = np.arange(n_frames)[:, None] * hop_length + np.arange(frame_length)[None, :]
    return yp[idx]


def cmnd(frames, *, max_lag):
    """The cumulative mean normalised difference function of YIN (de Cheveigné & Kawahara 2002).

    With the integration window ``W = frame_length - max_lag``::

        d(tau)  = sum_{j=0}^{W-1} (x[j] - x[j + tau])^2
        d'(0)   = 1,   d'(tau) = d(tau) / ((1 / tau) * sum_{k=1}^{tau} d(k))

    ``d`` is computed as ``e(0) + e(tau) - 2 r(tau)`` (energies from a cumulative sum,
    the cross-correlation ``r`` by FFT).

    Parameters
    ----------
    frames : np.ndarray [shape=(n_frames, frame_length)]
    max_lag : int, 1 <= max_lag < frame_length

    Returns
    -------
    np.ndarray [shape=(n_frames, max_lag + 1)]
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2:
        raise ParameterError(f"frames must have shape (n_frames, frame_length), got {frames.shape}")
    n = frames.shape[1]
    if not 1 <= max_lag < n:
        raise ParameterError(f"max_lag={max_lag!r} must be in [1, frame_length={n})")
    w = n - max_lag
    nfft = 1 << int(np.ceil(np.log2(n + w)))
    a = np.fft.rfft(frames[:, :w], nfft)
    b = np.fft.rfft(frames, nfft)
    r = np.fft.irfft(np.conj(a) * b, nfft)[:, :max_lag + 1]          # r(tau) = sum_j x[j] x[j + tau]
    c = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames ** 2, axis=1)], axis=1)
    lags = np.arange(max_lag + 1)
    e_tau = c[:, lags + w] - c[:, lags]                                # sum_{j=tau}^{tau+W-1} x[j]^2
    d = np.maximum(c[:, [w]] + e_tau - 2 * r, 0.0)
    d[:, 0] = 0.0
    cum = np.cumsum(d[:, 1:], axis=1)
    out = np.ones_like(d)
    out[:, 1:] = d[:, 1:] * lags[1:] / np.where(cum > 0, cum, 1.0)
    out[:, 1:][cum <= 0] = 1.0                                         # silent frame: no periodicity
    return out


def yin(y, *, sr: int, fmin: float = 60.0, fmax: float = 500.0, frame_length: int | None = None,
        hop_length: int | None = None, threshold: float = 0.15, silence_db: float = 40.0) -> PitchTrack:
    """F0 by YIN: difference function, cumulative mean normalisation, absolute threshold,
    the first dip below it (followed down to its minimum), parabolic interpolation.

    Notebook: 14_emotion_recognition.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int
    fmin, fmax : float
        Search range in Hz (lags ``sr / fmax`` .. ``sr / fmin``).
    frame_length : int, optional
        Default: the smallest power of two holding two periods of ``fmin`` plus the
        largest lag (1024 at 16 kHz and 60 Hz).
    hop_length : int, optional
        Default 10 ms.
    threshold : float
        A frame is voiced when the normalised difference dips below this.
    silence_db : float
        Frames more than this many dB below the loudest frame are unvoiced.

    Returns
    -------
    PitchTrack

    Examples
    --------
    >>> sr = 8000
    >>> y = np.sign(np.sin(2 * np.pi * 125 * np.arange(sr) / sr))   # square wave, 125 Hz
    >>> round(float(np.nanmedian(yin(y, sr=sr).f0)))
    125
    """
    valid_audio(y, mono=True)
    sr = check_sr(sr)
    fmin, fmax = check_positive(fmin, "fmin"), check_positive(fmax, "fmax")
    if fmin >= fmax:
        raise ParameterError(f"fmin={fmin!r} must be below fmax={fmax!r}")
    if fmax >= sr / 2:
        raise ParameterError(f"fmax={fmax!r} must be below the Nyquist frequency sr/2={sr / 2}")
    if not 0 < threshold < 1:
        raise ParameterError(f"threshold={threshold!r} must be in (0, 1)")
    max_lag = int(np.ceil(sr / fmin))
    min_lag = max(2, int(np.floor(sr / fmax)))
    if frame_length is None:
        frame_length = 1 << int(np.ceil(np.log2(3 * max_lag)))
    if frame_length < 2 * max_lag:
        raise ParameterError(f"frame_length={frame_length!r} must be at least 2 * sr / fmin = {2 * max_lag}")
    hop_length = int(round(sr / 100)) if hop_length is None else int(hop_length)
    if hop_length < 1:
        raise ParameterError(f"hop_length={hop_length!r} must be a positive integer")
    x = np.asarray(y, dtype=np.float64)
    # d(tau) sums over samples start .. start + W + tau: place the frame so that this span is
    # centred on t * hop_length for a mid-range lag (else a glide reads a few ms late)
    w = frame_length - (max_lag + 1)
    fr = _frames(x, frame_length, hop_length, offset=(w + (min_lag + max_lag) // 2) // 2)
    dn = cmnd(fr, max_lag=max_lag + 1)                         # one extra lag for the parabola
    seg = dn[:, min_lag:max_lag + 1]                           # candidate lags min_lag..max_lag
    below = seg < threshold
    has = below.any(axis=1)
    first = np.where(has, below.argmax(axis=1), seg.argmin(axis=1))
    # follow the first dip down to its local minimum
    k = first.copy()
    for _ in range(max_lag - min_lag):
        nxt = np.minimum(k + 1, seg.shape[1] - 1)
        step = has & (seg[np.arange(len(k)), nxt] < seg[np.arange(len(k)), k]) & (nxt > k)
        if not step.any():
            break
        k = np.where(step, nxt, k)
    tau = k + min_lag
    rows = np.arange(len(tau))
    a, b, c = dn[rows, tau - 1], dn[rows, tau], dn[rows, np.minimum(tau + 1, dn.shape[1] - 1)]
    den = a - 2 * b + c
    shift = np.where(np.abs(den) > 1e-12, 0.5 * (a - c) / np.where(np.abs(den) > 1e-12, den, 1.0), 0.0)
    tau_f = tau + np.clip(shift, -1, 1)
    aper = dn[rows, tau]
    fe = _frames(x, 2 * hop_length, hop_length)                 # 20 ms centred on the frame, for the gate
    e = np.sqrt(np.mean(fe ** 2, axis=1))
    loud = 20 * np.log10(np.maximum(e, 1e-10)) > 20 * np.log10(max(e.max(), 1e-10)) - silence_db
    voiced = has & loud
    f0 = np.where(voiced, sr / tau_f, np.nan)
    return PitchTrack(np.arange(len(f0)) * hop_length / sr, f0, voiced, aper)


def pyin_pitch(y, *, sr: int, fmin: float = 60.0, fmax: float = 500.0, hop_length: int | None = None) -> PitchTrack:
    """``librosa.pyin`` on the same frame grid as :func:`yin` (frames centred on ``t * hop_length``)."""
    import librosa

    hop_length = int(round(sr / 100)) if hop_length is None else int(hop_length)
    frame_length = 1 << int(np.ceil(np.log2(3 * np.ceil(sr / fmin))))
    f0, vflag, vprob = librosa.pyin(np.asarray(y, dtype=np.float64), fmin=fmin, fmax=fmax, sr=sr,
                                    frame_length=frame_length, hop_length=hop_length, center=True)
    n = 1 + len(y) // hop_length
    f0, vflag, vprob = f0[:n], vflag[:n], vprob[:n]
    return PitchTrack(np.arange(len(f0)) * hop_length / sr, np.where(vflag, f0, np.nan), vflag.astype(bool),
                      1.0 - vprob)


def praat_pitch(y, *, sr: int, fmin: float = 60.0, fmax: float = 500.0, hop_length: int | None = None) -> PitchTrack:
    """Praat's autocorrelation pitch (``To Pitch (ac)`` via ``praat-parselmouth``), on :func:`yin`'s frame grid.

    Praat places its own frames; each of ours takes the nearest Praat frame within half
    a hop (else unvoiced).
    """
    import parselmouth

    hop_length = int(round(sr / 100)) if hop_length is None else int(hop_length)
    snd = parselmouth.Sound(np.asarray(y, dtype=np.float64), sampling_frequency=sr)
    p = snd.to_pitch_ac(time_step=hop_length / sr, pitch_floor=fmin, pitch_ceiling=fmax)
    pt, pf = p.xs(), p.selected_array["frequency"]
    times = np.arange(1 + len(y) // hop_length) * hop_length / sr
    j = np.clip(np.searchsorted(pt, times), 1, max(len(pt) - 1, 1))
    j = np.where(np.abs(pt[j - 1] - times) <= np.abs(pt[j] - times), j - 1, j) if len(pt) > 1 else np.zeros_like(j)
    ok = (np.abs(pt[j] - times) <= 0.5 * hop_length / sr) & (pf[j] > 0) if len(pt) else np.zeros(len(times), bool)
    f0 = np.where(ok, pf[j] if len(pt) else 0.0, np.nan)
    return PitchTrack(times, f0, ok, np.where(ok, 0.0, 1.0))


class PitchComparison(NamedTuple):
    """How an estimated pitch track agrees with a reference.

    Attributes
    ----------
    gpe : float
        Gross pitch error: share of frames voiced in both where ``|f_est / f_ref - 1| > 0.2``.
    fine_cents : float
        Mean ``|1200 log2(f_est / f_ref)|`` over frames voiced in both without a gross error.
    vde : float
        Voicing decision error: share of all frames where the two disagree on voicing.
    voicing_recall : float
        Share of the reference's voiced frames that the estimate calls voiced.
    voicing_false_alarm : float
        Share of the reference's unvoiced frames that the estimate calls voiced.
    n_both : int
        Frames voiced in both.
    """

    gpe: float
    fine_cents: float
    vde: float
    voicing_recall: float
    voicing_false_alarm: float
    n_both: int


def compare_pitch(f0_ref, f0_est, *, gross: float = 0.2) -> PitchComparison:
    """Gross pitch error, fine error (cents) and voicing errors of ``f0_est`` against ``f0_ref``.

    Unvoiced frames are NaN or <= 0 in either array; both arrays are on the same frame grid.

    Examples
    --------
    >>> r = compare_pitch([100, 100, np.nan, 200], [100, 150, 120, 200 * 2 ** (10 / 1200)])
    >>> r.gpe, round(r.fine_cents, 3), r.vde
    (0.3333333333333333, 5.0, 0.25)
    """
    ref = np.asarray(f0_ref, dtype=np.float64)
    est = np.asarray(f0_est, dtype=np.float64)
    if ref.shape != est.shape or ref.ndim != 1:
        raise ParameterError(f"f0_ref {ref.shape} and f0_est {est.shape} must be 1-D on the same frame grid")
    vr = np.isfinite(ref) & (np.nan_to_num(ref) > 0)
    ve = np.isfinite(est) & (np.nan_to_num(est) > 0)
    both = vr & ve
    ratio = est[both] / ref[both]
    g = np.abs(ratio - 1) > gross
    cents = np.abs(1200 * np.log2(ratio[~g])) if (~g).any() else np.array([np.nan])
    return PitchComparison(float(g.mean()) if both.any() else float("nan"), float(np.mean(cents)),
                           float(np.mean(vr != ve)) if len(ref) else float("nan"),
                           float(ve[vr].mean()) if vr.any() else float("nan"),
                           float(ve[~vr].mean()) if (~vr).any() else float("nan"), int(both.sum()))


# --------------------------------------------------------------------------- energy, rate, perturbation

def energy_db(y, *, sr: int, frame_length: int | None = None, hop_length: int | None = None) -> np.ndarray:
    """Frame RMS in dBFS (frames of 25 ms every 10 ms, centred like :func:`yin`): (n_frames,)."""
    valid_audio(y, mono=True)
    sr = check_sr(sr)
    frame_length = int(round(0.025 * sr)) if frame_length is None else int(frame_length)
    hop_length = int(round(sr / 100)) if hop_length is None else int(hop_length)
    fr = _frames(np.asarray(y, dtype=np.float64), frame_length, hop_length)
    return 10 * np.log10(np.maximum(np.mean(fr ** 2, axis=1), 1e-12))


def speech_span(e_db, *, floor_db: float = 35.0) -> tuple[int, int]:
    """First and last frame within ``floor_db`` of the loudest (the speech's extent), end exclusive."""
    e_db = np.asarray(e_db, dtype=np.float64)
    on = np.flatnonzero(e_db > e_db.max() - floor_db)
    return int(on[0]), int(on[-1]) + 1


def speaking_rate(y, *, sr: int, track: PitchTrack | None = None, min_gap_s: float = 0.1,
                  prominence_db: float = 2.0) -> float:
    """Syllable nuclei per second of speech: peaks of the smoothed energy of voiced frames.

    A nucleus is a peak of the 50 ms-smoothed frame energy (dB) on a voiced frame,
    at least ``prominence_db`` above the dips around it and ``min_gap_s`` from the next.
    The rate divides their count by the speech's extent (:func:`speech_span`).
    """
    hop = int(round(sr / 100))
    e = energy_db(y, sr=sr)
    track = yin(y, sr=sr) if track is None else track
    n = min(len(e), len(track.voiced))
    e, v = e[:n], track.voiced[:n]
    sm = np.convolve(e, np.ones(5) / 5, mode="same")
    masked = np.where(v, sm, sm.min() - 20.0)
    peaks, _ = scipy.signal.find_peaks(masked, prominence=prominence_db, distance=max(1, int(min_gap_s * sr / hop)))
    a, b = speech_span(e)
    return float(len(peaks) / max((b - a) * hop / sr, 1e-3))


def _runs(mask):
    """(start, stop) of each run of True."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(int))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def jitter(f0) -> float:
    """Frame-level jitter: mean ``|T[i+1] - T[i]|`` over consecutive voiced frames, divided by the mean period.

    ``T = 1 / f0``. Praat's *local jitter* measures the same ratio cycle by cycle; this
    one uses one period per 10 ms frame, so it is smoother (smaller) than Praat's.
    NaN with fewer than two consecutive voiced frames.

    >>> round(jitter([100, 100, 125, np.nan, 100]), 4)    # steps 0 and 2 ms; mean period 9.33 ms
    0.1071
    """
    f0 = np.asarray(f0, dtype=np.float64)
    diffs, periods = [], []
    for a, b in _runs(np.isfinite(f0) & (np.nan_to_num(f0) > 0)):
        if b - a >= 2:
            t = 1.0 / f0[a:b]
            diffs.append(np.abs(np.diff(t)))
            periods.append(t)
    if not diffs:
        return float("nan")
    return float(np.mean(np.concatenate(diffs)) / np.mean(np.concatenate(periods)))


def shimmer(amplitude, voiced) -> float:
    """Frame-level shimmer: mean ``|A[i+1] - A[i]|`` over consecutive voiced frames, divided by the mean ``A``.

    ``amplitude`` is a linear frame amplitude (e.g. RMS). The same caveat as :func:`jitter`.

    >>> round(shimmer([1.0, 1.0, 0.8, 5.0], [True, True, True, False]), 4)   # 0.1 / 0.933
    0.1071
    """
    a = np.asarray(amplitude, dtype=np.float64)
    v = np.asarray(voiced, dtype=bool)
    if a.shape != v.shape:
        raise ParameterError(f"amplitude {a.shape} and voiced {v.shape} must have the same shape")
    diffs, amps = [], []
    for s, e in _runs(v):
        if e - s >= 2:
            diffs.append(np.abs(np.diff(a[s:e])))
            amps.append(a[s:e])
    if not diffs:
        return float("nan")
    return float(np.mean(np.concatenate(diffs)) / np.mean(np.concatenate(amps)))


#: The statistics of :func:`utterance_features`, in order.
FEATURE_NAMES = ("f0_mean_st", "f0_std_st", "f0_range_st", "f0_slope_st_s", "energy_mean_db", "energy_std_db",
                 "energy_p95_db", "speaking_rate", "voiced_fraction", "speech_s", "jitter", "shimmer")


def utterance_features(y, *, sr: int, track: PitchTrack | None = None) -> np.ndarray:
    """One prosodic vector per utterance, in the order of :data:`FEATURE_NAMES`.

    F0 in semitones re 100 Hz (mean, standard deviation, 5-95 % range, slope of a line
    fit over time); energy in dBFS over the speech span (mean, std, 95th percentile);
    speaking rate; voiced fraction of the speech span; speech duration; jitter; shimmer.

    Returns
    -------
    np.ndarray [shape=(len(FEATURE_NAMES),)]
    """
    valid_audio(y, mono=True)
    sr = check_sr(sr)
    track = yin(y, sr=sr) if track is None else track
    e = energy_db(y, sr=sr)
    n = min(len(e), len(track.f0))
    e, f0, v = e[:n], track.f0[:n], track.voiced[:n]
    a, b = speech_span(e)
    st = 12 * np.log2(f0[v] / 100.0)
    t = track.times[:n][v]
    if len(st) >= 3:
        slope = float(np.polyfit(t - t.mean(), st, 1)[0])
        f_mean, f_std = float(np.mean(st)), float(np.std(st))
        f_rng = float(np.percentile(st, 95) - np.percentile(st, 5))
    else:
        slope = f_mean = f_std = f_rng = 0.0
    es = e[a:b]
    jit = jitter(f0)
    shim = shimmer(10 ** (e / 20), v)
    return np.array([f_mean, f_std, f_rng, slope, float(np.mean(es)), float(np.std(es)),
                     float(np.percentile(es, 95)), speaking_rate(y, sr=sr, track=track),
                     float(np.mean(v[a:b])), (b - a) / 100.0,
                     0.0 if np.isnan(jit) else jit, 0.0 if np.isnan(shim) else shim])


def normalize_by_speaker(X, speakers) -> np.ndarray:
    """Z-score every column within each speaker (speaker normalisation; labels are not used).

    A test speaker's statistics come from their own unlabelled utterances, so a low
    voice and a high voice both become "higher or lower than this speaker usually is".

    Parameters
    ----------
    X : np.ndarray [shape=(n_items, n_features)]
    speakers : sequence of str [length n_items]
    """
    X = np.asarray(X, dtype=np.float64)
    spk = np.asarray(speakers)
    if X.ndim != 2 or len(spk) != len(X):
        raise ParameterError(f"X {X.shape} must be 2-D with one row per speaker label ({len(spk)})")
    out = np.empty_like(X)
    for s in np.unique(spk):
        m = spk == s
        out[m] = (X[m] - X[m].mean(axis=0)) / np.maximum(X[m].std(axis=0), 1e-8)
    return out


def per_class_recall(y_true, y_pred, *, labels) -> dict:
    """Recall of each class: correct / items of that class (NaN for a class with no items)."""
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if yt.shape != yp.shape:
        raise ParameterError(f"y_true {yt.shape} and y_pred {yp.shape} must have the same shape")
    return {c: float(np.mean(yp[yt == c] == c)) if np.any(yt == c) else float("nan") for c in labels}


def uar(y_true, y_pred, *, labels) -> float:
    """Unweighted average recall: the mean of :func:`per_class_recall` over classes that occur.

    >>> uar(["a", "a", "a", "b"], ["a", "a", "a", "a"], labels=["a", "b"])   # accuracy 0.75
    0.5
    """
    r = [v for v in per_class_recall(y_true, y_pred, labels=labels).values() if not np.isnan(v)]
    return float(np.mean(r))


def logmel(y, *, sr: int, n_mels: int = 40, n_frames: int | None = None) -> np.ndarray:
    """Log-mel spectrogram (25 ms / 10 ms, 60-7600 Hz, dB re 1, floor -100 dB): (n_mels, time).

    With ``n_frames`` the result is cut or padded (with the floor) to that many frames.
    No per-utterance normalisation: loudness is one of the cues.
    """
    import librosa

    valid_audio(y, mono=True)
    sr = check_sr(sr)
    S = librosa.feature.melspectrogram(y=np.asarray(y, dtype=np.float32), sr=sr, n_fft=512,
                                       win_length=int(0.025 * sr), hop_length=int(sr / 100), n_mels=n_mels,
                                       fmin=60.0, fmax=min(7600.0, sr / 2))
    L = 10 * np.log10(np.maximum(S, 1e-10)).astype(np.float32)
    if n_frames is not None:
        L = L[:, :n_frames]
        if L.shape[1] < n_frames:
            L = np.pad(L, ((0, 0), (0, n_frames - L.shape[1])), constant_values=-100.0)
    return L
