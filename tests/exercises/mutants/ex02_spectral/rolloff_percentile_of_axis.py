"""MUTANT (rolloff_percentile_of_axis): the 'rolloff' is np.percentile of the frequency axis: the same number for every frame, whatever the spectrum.

A copy of solutions/ex02_spectral.py with this one deliberate bug; at least one check must fail.

Exercise 02 — framing and framewise features, from scratch in NumPy.

Notebook: 02_spectral_analysis.ipynb

Fill in the four functions below (each between 5 and 20 lines). Use NumPy
only: no librosa, no ``course_lib.features``. Each docstring says which
librosa call your answer must equal, so you can compare while you work::

    course check ex02

Conventions (the same as librosa's and ``course_lib``'s):

- a signal ``y`` is a 1-D float array;
- frames are the *columns* of a 2-D array: ``frames[:, t]`` is frame ``t``;
- a spectrogram ``S`` has shape ``(1 + n_fft // 2, n_frames)``: row ``k`` is the
  frequency ``k * sr / n_fft`` Hz, from 0 Hz up to the Nyquist frequency ``sr / 2``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["frame", "zero_crossing_rate", "spectral_centroid", "spectral_rolloff"]


def frame(y, *, frame_length, hop_length):
    """Cut a signal into overlapping frames, one frame per column (no padding).

    Frame ``t`` holds the samples ``y[t * hop_length : t * hop_length + frame_length]``.
    Only whole frames are kept, so there are
    ``n_frames = 1 + (len(y) - frame_length) // hop_length`` of them
    (samples after the last whole frame are dropped).

    Equals ``librosa.util.frame(y, frame_length=frame_length, hop_length=hop_length)``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float
    frame_length : int > 0
        Samples per frame.
    hop_length : int > 0
        Samples between the starts of two consecutive frames.

    Returns
    -------
    frames : np.ndarray [shape=(frame_length, n_frames)]
        ``frames[:, t]`` is frame ``t`` (a copy or a view, either is fine).

    Raises
    ------
    ValueError
        If ``y`` is not 1-D, if ``frame_length`` or ``hop_length`` is not a
        positive integer, or if ``len(y) < frame_length`` (not even one frame).

    Examples
    --------
    >>> frame(np.arange(5.0), frame_length=3, hop_length=1)
    array([[0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    """
    ### BEGIN SOLUTION
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    if int(frame_length) != frame_length or frame_length < 1:
        raise ValueError(f"frame_length={frame_length!r} must be a positive integer")
    if int(hop_length) != hop_length or hop_length < 1:
        raise ValueError(f"hop_length={hop_length!r} must be a positive integer")
    frame_length, hop_length = int(frame_length), int(hop_length)
    if len(y) < frame_length:
        raise ValueError(f"len(y)={len(y)} is shorter than frame_length={frame_length}")
    n_frames = 1 + (len(y) - frame_length) // hop_length
    starts = hop_length * np.arange(n_frames)
    index = np.arange(frame_length)[:, None] + starts[None, :]  # (frame_length, n_frames)
    return y[index]
    ### END SOLUTION


def zero_crossing_rate(y, *, frame_length, hop_length):
    """Fraction of sign changes in each frame of ``y`` (frames as in :func:`frame`).

    In each frame ``x = frames[:, t]``, position ``i`` (for ``i = 1 ..
    frame_length - 1``) is a crossing when ``x[i]`` and ``x[i - 1]`` have
    different signs, where **0 counts as positive** (use ``np.signbit``) and
    samples with ``abs(x) <= 1e-10`` count as 0. The rate is the number of
    crossings divided by ``frame_length`` (not ``frame_length - 1``: librosa
    counts position 0 as "no crossing" and averages over all positions).

    Equals ``librosa.feature.zero_crossing_rate(y, frame_length=frame_length,
    hop_length=hop_length, center=False)[0]``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float
    frame_length, hop_length : int > 0
        As in :func:`frame` (no padding; whole frames only).

    Returns
    -------
    zcr : np.ndarray [shape=(n_frames,)], float in [0, 1)

    Raises
    ------
    ValueError
        For the same bad inputs as :func:`frame`.

    Examples
    --------
    >>> zero_crossing_rate(np.array([1., -1., 1., -1.]), frame_length=4, hop_length=4)
    array([0.75])
    """
    ### BEGIN SOLUTION
    frames = frame(np.asarray(y, dtype=np.float64), frame_length=frame_length, hop_length=hop_length)
    frames = np.where(np.abs(frames) <= 1e-10, 0.0, frames)
    negative = np.signbit(frames)
    crossings = negative[1:, :] != negative[:-1, :]  # (frame_length - 1, n_frames)
    return crossings.sum(axis=0) / frames.shape[0]
    ### END SOLUTION


def spectral_centroid(S, *, sr, n_fft):
    """The "centre of mass" of each frame's spectrum, in Hz.

    With ``f_k = k * sr / n_fft`` the frequency of row ``k`` (``k = 0 ..
    n_fft // 2``: **non-negative frequencies only**)::

        centroid[t] = sum_k f_k * S[k, t] / sum_k S[k, t]

    A silent frame (a column that sums to 0) has centroid 0.

    Equals ``librosa.feature.spectral_centroid(S=S, sr=sr, n_fft=n_fft)[0]``.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)], real, >= 0
        Magnitude spectrogram, e.g. ``np.abs(course_lib.spectral.stft(y, n_fft=n_fft))``.
    sr : number > 0
        Sample rate in Hz.
    n_fft : int > 0
        FFT length that produced ``S``.

    Returns
    -------
    centroid : np.ndarray [shape=(n_frames,)], Hz

    Raises
    ------
    ValueError
        If ``S`` is not 2-D, if ``S.shape[0] != 1 + n_fft // 2``, if ``S`` has
        negative entries, or if ``sr`` is not positive.

    Examples
    --------
    >>> S = np.zeros((5, 1)); S[2, 0] = 1.0      # all energy in bin 2
    >>> spectral_centroid(S, sr=8000, n_fft=8)   # bin 2 = 2 * 8000 / 8 Hz
    array([2000.])
    """
    ### BEGIN SOLUTION
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2:
        raise ValueError(f"S must be 2-D (n_freq, n_frames), got shape {S.shape}")
    if S.shape[0] != 1 + n_fft // 2:
        raise ValueError(f"S has {S.shape[0]} rows but n_fft={n_fft} needs 1 + n_fft // 2 = {1 + n_fft // 2}")
    if np.any(S < 0):
        raise ValueError("S must be a magnitude spectrogram (no negative entries); use np.abs")
    if not sr > 0:
        raise ValueError(f"sr={sr!r} must be positive")
    freqs = np.arange(S.shape[0]) * sr / n_fft  # 0 .. sr/2, never negative
    total = S.sum(axis=0)
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, (freqs[:, None] * S).sum(axis=0) / safe, 0.0)
    ### END SOLUTION


def spectral_rolloff(S, *, sr, n_fft, roll_percent=0.85):
    """The frequency below which ``roll_percent`` of each frame's spectrum lies.

    For each frame ``t``, the answer is ``f_k = k * sr / n_fft`` for the
    **smallest** bin ``k`` with ``cumsum(S[:, t])[k] >= roll_percent *
    sum(S[:, t])``. It depends on the frame (a percentile of the frequency
    axis alone would not), and a silent frame gives 0 Hz.

    Equals ``librosa.feature.spectral_rolloff(S=S, sr=sr, n_fft=n_fft,
    roll_percent=roll_percent)[0]``.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)], real, >= 0
        Magnitude (or power) spectrogram.
    sr : number > 0
    n_fft : int > 0
    roll_percent : float in (0, 1)

    Returns
    -------
    rolloff : np.ndarray [shape=(n_frames,)], Hz

    Raises
    ------
    ValueError
        If ``roll_percent`` is not strictly between 0 and 1, or for the same
        bad ``S`` as :func:`spectral_centroid`.

    Examples
    --------
    >>> S = np.array([[1.0], [1.0], [1.0], [1.0], [0.0]])   # flat up to bin 3
    >>> spectral_rolloff(S, sr=8000, n_fft=8)               # 85 % reached at bin 3
    array([3000.])
    """
    ### BEGIN SOLUTION
    if not 0 < roll_percent < 1:
        raise ValueError(f"roll_percent={roll_percent!r} must be strictly between 0 and 1")
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2:
        raise ValueError(f"S must be 2-D (n_freq, n_frames), got shape {S.shape}")
    if S.shape[0] != 1 + n_fft // 2:
        raise ValueError(f"S has {S.shape[0]} rows but n_fft={n_fft} needs 1 + n_fft // 2 = {1 + n_fft // 2}")
    if np.any(S < 0):
        raise ValueError("S must be non-negative; use np.abs")
    freqs = np.arange(S.shape[0]) * sr / n_fft
    cumulative = np.cumsum(S, axis=0)  # (n_freq, n_frames)
    reached = cumulative >= roll_percent * cumulative[-1:, :]
    first = np.argmax(reached, axis=0)  # first True per column (row n_freq-1 is always True)
    return np.full(S.shape[1], np.percentile(freqs, 100 * roll_percent))  # BUG: ignores S
    ### END SOLUTION
