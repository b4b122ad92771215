"""Exercise 08 — music analysis: spectral flux, tempo from an autocorrelation, chord templates, template matching.

Notebook: 08_music_analysis.ipynb

Fill in the four functions below with NumPy only (no ``course_lib.music``, no
librosa). Check your work with::

    course check ex08

Conventions (``course_lib.music``'s):

- spectrograms are ``(n_bands, n_frames)``: rows are frequency bands, columns are time;
- pitch classes are numbered 0 = C, 1 = C#, ..., 9 = A, 11 = B;
- chroma is ``(12, n_frames)``; templates are ``(n_chords, 12)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spectral_flux", "tempo_from_autocorrelation", "chord_template", "match_chords"]


def spectral_flux(S_db, *, lag=1):
    """Onset strength by spectral flux: how much louder each band got since ``lag`` frames ago.

    ``flux[t] = mean over bands b of max(0, S_db[b, t] - S_db[b, t - lag])`` for
    ``t >= lag``, and ``flux[t] = 0`` for the first ``lag`` frames (nothing to compare).
    Only increases count (half-wave rectification): a note that starts is an onset, one
    that fades is not.

    Parameters
    ----------
    S_db : np.ndarray [shape=(n_bands, n_frames)]
        A spectrogram in decibels (e.g. a log-mel spectrogram).
    lag : int >= 1

    Returns
    -------
    flux : np.ndarray [shape=(n_frames,)], >= 0

    Raises
    ------
    ValueError
        ``lag < 1``.

    Examples
    --------
    >>> spectral_flux(np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 3.0]]))
    array([0. , 1. , 1.5])
    """
    ### BEGIN SOLUTION
    if lag < 1:
        raise ValueError(f"lag={lag!r} must be >= 1")
    S = np.asarray(S_db, dtype=float)
    flux = np.zeros(S.shape[1])
    flux[lag:] = np.maximum(0.0, S[:, lag:] - S[:, :-lag]).mean(axis=0)
    return flux
    ### END SOLUTION


def tempo_from_autocorrelation(onset_env, *, fps, min_bpm=40.0, max_bpm=240.0):
    """The tempo (BPM) whose beat period best repeats the onset envelope.

    1. ``r[k] = sum_t o[t] * o[t + k]`` (the autocorrelation, no mean removed);
    2. among the lags ``k`` (whole frames) whose tempo ``60 * fps / k`` lies in
       ``[min_bpm, max_bpm]``, take the one with the largest ``r[k]`` (the smallest
       such lag on a tie);
    3. return ``60 * fps / k``.

    Parameters
    ----------
    onset_env : np.ndarray [shape=(n_frames,)]
    fps : float > 0
        Frames per second of the envelope (``sr / hop_length``).
    min_bpm, max_bpm : float > 0

    Returns
    -------
    float

    Raises
    ------
    ValueError
        No whole lag fits in the tempo range (or the envelope is shorter than it).

    Examples
    --------
    >>> o = np.zeros(100); o[::10] = 1.0          # a pulse every 10 frames
    >>> tempo_from_autocorrelation(o, fps=20.0)  # 10 frames at 20 fps = 0.5 s = 120 BPM
    120.0
    """
    ### BEGIN SOLUTION
    o = np.asarray(onset_env, dtype=float)
    n = len(o)
    k_min = int(np.ceil(60.0 * fps / max_bpm))
    k_max = min(int(np.floor(60.0 * fps / min_bpm)), n - 1)
    if k_min < 1:
        k_min = 1
    if k_max < k_min:
        raise ValueError(f"no lag between {min_bpm} and {max_bpm} BPM fits {n} frames at fps={fps}")
    lags = np.arange(k_min, k_max + 1)
    r = np.array([np.dot(o[: n - k], o[k:]) for k in lags])
    return float(60.0 * fps / lags[int(np.argmax(r))])
    ### END SOLUTION


def chord_template(root, quality):
    """A binary chroma template of a triad.

    Major: the root, the major third (4 semitones up) and the fifth (7 up); minor: the
    root, the minor third (3 up) and the fifth; pitch classes wrap around mod 12
    (B major holds B, D#, F#).

    Parameters
    ----------
    root : int in 0 .. 11
    quality : {"maj", "min"}

    Returns
    -------
    np.ndarray [shape=(12,)], three ones and nine zeros

    Raises
    ------
    ValueError
        Another quality, or a root outside 0 .. 11.

    Examples
    --------
    >>> chord_template(0, "maj")                     # C E G
    array([1., 0., 0., 0., 1., 0., 0., 1., 0., 0., 0., 0.])
    """
    ### BEGIN SOLUTION
    if quality not in ("maj", "min"):
        raise ValueError(f"quality={quality!r} must be 'maj' or 'min'")
    if not 0 <= root <= 11:
        raise ValueError(f"root={root!r} must be a pitch class 0..11")
    t = np.zeros(12)
    third = 4 if quality == "maj" else 3
    t[[root, (root + third) % 12, (root + 7) % 12]] = 1.0
    return t
    ### END SOLUTION


def match_chords(chroma, templates):
    """The best template for every frame, by cosine similarity.

    ``score[j, t] = <T_j, c_t> / (||T_j|| ||c_t||)``; return ``argmax_j score[j, t]``
    per frame (the first on a tie). A frame whose chroma is all zero matches
    template 0.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n_frames)], >= 0
    templates : np.ndarray [shape=(n_chords, 12)]

    Returns
    -------
    np.ndarray [shape=(n_frames,)], int

    Examples
    --------
    >>> T = np.stack([chord_template(0, "maj"), chord_template(9, "min")])   # C:maj, A:min
    >>> c = np.zeros((12, 1)); c[[9, 0, 4], 0] = [1.0, 0.6, 0.6]              # A C E, A loudest
    >>> match_chords(c, T)
    array([1])
    """
    ### BEGIN SOLUTION
    C = np.asarray(chroma, dtype=float)
    T = np.asarray(templates, dtype=float)
    Cn = C / np.maximum(np.linalg.norm(C, axis=0, keepdims=True), 1e-12)
    Tn = T / np.maximum(np.linalg.norm(T, axis=1, keepdims=True), 1e-12)
    return np.argmax(Tn @ Cn, axis=0)
    ### END SOLUTION
