"""Exercise 14 — prosody: autocorrelation pitch of a frame, YIN's normalised difference,
gross pitch error, unweighted average recall.

Notebook: 14_emotion_recognition.ipynb

Fill in the four functions below with NumPy only (no ``course_lib.prosody``,
no librosa). Check your work with::

    course check ex14

Conventions (``course_lib.prosody``'s):

- a frame is a 1-D array of samples; a lag ``tau`` is in samples, F0 = ``sr / tau``;
- an F0 track has one value per frame, NaN (or a value <= 0) where the frame is unvoiced.
"""

from __future__ import annotations

import numpy as np

__all__ = ["autocorr_pitch", "cmnd", "gross_pitch_error", "uar"]


def autocorr_pitch(frame, *, sr, fmin=60.0, fmax=500.0):
    """F0 of one frame from its autocorrelation peak.

    ``r[tau] = sum_n frame[n] * frame[n + tau]`` (over the ``n`` where both exist).
    Search the integer lags ``ceil(sr / fmax) <= tau <= floor(sr / fmin)`` for the
    largest ``r[tau]`` (the first one on a tie) and return ``sr / tau``.

    Parameters
    ----------
    frame : np.ndarray [shape=(n,)]
    sr : int
    fmin, fmax : float, 0 < fmin < fmax

    Returns
    -------
    float
        F0 in Hz.

    Raises
    ------
    ValueError
        ``fmin >= fmax``, or the frame is not longer than ``floor(sr / fmin)``.

    Examples
    --------
    >>> sr = 8000
    >>> autocorr_pitch(np.sin(2 * np.pi * 200 * np.arange(400) / sr), sr=sr)
    200.0
    """
    ### BEGIN SOLUTION
    x = np.asarray(frame, dtype=np.float64)
    if not 0 < fmin < fmax:
        raise ValueError(f"need 0 < fmin < fmax, got fmin={fmin!r}, fmax={fmax!r}")
    lo, hi = int(np.ceil(sr / fmax)), int(np.floor(sr / fmin))
    if len(x) <= hi:
        raise ValueError(f"the frame ({len(x)} samples) must be longer than the largest lag sr/fmin = {hi}")
    r = np.array([np.dot(x[:len(x) - tau], x[tau:]) for tau in range(lo, hi + 1)])
    return float(sr / (lo + int(np.argmax(r))))
    ### END SOLUTION


def cmnd(frame, *, max_lag):
    """YIN's cumulative mean normalised difference of one frame.

    With ``W = len(frame) - max_lag``::

        d[tau]  = sum_{j=0}^{W-1} (frame[j] - frame[j + tau]) ** 2,   tau = 0 .. max_lag
        out[0]  = 1
        out[tau] = d[tau] / ((1 / tau) * sum_{k=1}^{tau} d[k])      (1 where that sum is 0)

    Parameters
    ----------
    frame : np.ndarray [shape=(n,)]
    max_lag : int, 1 <= max_lag < n

    Returns
    -------
    np.ndarray [shape=(max_lag + 1,)]

    Raises
    ------
    ValueError
        ``max_lag`` outside ``[1, n)``.

    Examples
    --------
    >>> cmnd(np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0]), max_lag=2)   # period 2
    array([1., 1., 0.])
    """
    ### BEGIN SOLUTION
    x = np.asarray(frame, dtype=np.float64)
    if not 1 <= max_lag < len(x):
        raise ValueError(f"max_lag={max_lag!r} must be in [1, len(frame)={len(x)})")
    w = len(x) - max_lag
    d = np.array([np.sum((x[:w] - x[tau:tau + w]) ** 2) for tau in range(max_lag + 1)])
    out = np.ones(max_lag + 1)
    running = 0.0
    for tau in range(1, max_lag + 1):
        running += d[tau]
        out[tau] = d[tau] * tau / running if running > 0 else 1.0
    return out
    ### END SOLUTION


def gross_pitch_error(f0_ref, f0_est, *, tolerance=0.2):
    """Share of the frames voiced in *both* tracks where ``|f0_est / f0_ref - 1| > tolerance``.

    A frame is voiced where its value is finite and > 0.

    Parameters
    ----------
    f0_ref, f0_est : np.ndarray [shape=(n_frames,)]

    Returns
    -------
    float
        NaN when no frame is voiced in both.

    Raises
    ------
    ValueError
        The two tracks differ in length.

    Examples
    --------
    >>> gross_pitch_error([100, 100, np.nan, 200], [100, 150, 120, 210])
    0.3333333333333333
    """
    ### BEGIN SOLUTION
    ref = np.asarray(f0_ref, dtype=np.float64)
    est = np.asarray(f0_est, dtype=np.float64)
    if ref.shape != est.shape:
        raise ValueError(f"f0_ref {ref.shape} and f0_est {est.shape} must have the same length")
    both = np.isfinite(ref) & np.isfinite(est) & (np.nan_to_num(ref) > 0) & (np.nan_to_num(est) > 0)
    if not both.any():
        return float("nan")
    return float(np.mean(np.abs(est[both] / ref[both] - 1) > tolerance))
    ### END SOLUTION


def uar(y_true, y_pred, *, labels):
    """Unweighted average recall: the mean over the classes in ``labels`` that occur in
    ``y_true`` of (items of that class predicted as it) / (items of that class).

    Parameters
    ----------
    y_true, y_pred : sequence [length n]
    labels : sequence of the classes

    Returns
    -------
    float

    Examples
    --------
    >>> uar(["a", "a", "a", "b"], ["a", "a", "a", "a"], labels=["a", "b"])
    0.5
    """
    ### BEGIN SOLUTION
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    recalls = [np.mean(yp[yt == c] == c) for c in labels if np.any(yt == c)]
    return float(np.mean(recalls))
    ### END SOLUTION
