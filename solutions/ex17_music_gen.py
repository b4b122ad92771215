"""Exercise 17 — music generation: a Markov transition matrix, temperature and top-k, pitch classes, a plucked string.

Notebook: 17_music_generation.ipynb

Fill in the four functions below with NumPy (and ``scipy.signal.lfilter``
where it says so; no ``course_lib.music.generate``). Check your work with::

    course check ex17

Conventions (``course_lib.music.generate``'s):

- a token sequence is a list of integers ``0 .. n_states - 1``;
- logits are log-probabilities up to a constant; ``-inf`` means impossible;
- a pitch is a MIDI key number (60 = middle C); its pitch class is ``pitch % 12``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["transition_matrix", "sampling_distribution", "pitch_class_histogram", "karplus_strong"]


def transition_matrix(sequences, n_states, *, alpha=0.0):
    """First-order Markov transition probabilities estimated from sequences.

    ``A[i, j] = (count(i -> j) + alpha) / (count(i -> anything) + alpha * n_states)``,
    counting every pair of consecutive tokens within each sequence (never
    across two sequences). A state that is never followed by anything gets
    the uniform row ``1 / n_states``.

    Parameters
    ----------
    sequences : list of list of int
    n_states : int >= 1
    alpha : float >= 0
        Add-alpha (Laplace) smoothing.

    Returns
    -------
    A : np.ndarray [shape=(n_states, n_states)], every row sums to 1

    Raises
    ------
    ValueError
        A token outside ``0 .. n_states - 1``, or ``alpha < 0``.

    Examples
    --------
    >>> transition_matrix([[0, 1, 1, 0]], 2)
    array([[0. , 1. ],
           [0.5, 0.5]])
    """
    ### BEGIN SOLUTION
    if alpha < 0:
        raise ValueError(f"alpha={alpha!r} must be >= 0")
    C = np.zeros((n_states, n_states))
    for seq in sequences:
        seq = np.asarray(seq, dtype=int)
        if len(seq) and (seq.min() < 0 or seq.max() >= n_states):
            raise ValueError(f"tokens must be in 0..{n_states - 1}")
        np.add.at(C, (seq[:-1], seq[1:]), 1.0)
    C += alpha
    totals = C.sum(axis=1, keepdims=True)
    return np.where(totals > 0, C / np.where(totals > 0, totals, 1.0), 1.0 / n_states)
    ### END SOLUTION


def sampling_distribution(logits, *, temperature=1.0, top_k=None):
    """The probabilities a sampler draws the next token from.

    1. keep only the ``top_k`` largest logits (all of them if ``top_k`` is
       None; ties with the k-th largest value are kept); the others become
       impossible;
    2. divide the kept logits by ``temperature`` and take the softmax
       (subtract the maximum first, so large logits do not overflow).

    ``temperature == 0`` means "always the most likely token": probability 1
    on the (first) argmax.

    Parameters
    ----------
    logits : np.ndarray [shape=(vocab,)]
    temperature : float >= 0
    top_k : int >= 1 or None

    Returns
    -------
    p : np.ndarray [shape=(vocab,)], sums to 1

    Raises
    ------
    ValueError
        ``temperature < 0`` or ``top_k < 1``.

    Examples
    --------
    >>> sampling_distribution(np.log([0.5, 0.3, 0.2]), top_k=2).round(3)
    array([0.625, 0.375, 0.   ])
    """
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=np.float64).copy()
    if temperature < 0:
        raise ValueError(f"temperature={temperature!r} must be >= 0")
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"top_k={top_k!r} must be >= 1")
        if top_k < len(z):
            kth = np.sort(z)[-top_k]
            z[z < kth] = -np.inf
    if temperature == 0:
        p = np.zeros(len(z))
        p[np.argmax(z)] = 1.0
        return p
    z = z / temperature
    z = z - np.max(z)
    p = np.exp(z)
    return p / p.sum()
    ### END SOLUTION


def pitch_class_histogram(pitches, durations):
    """How long each of the 12 pitch classes sounds, as a fraction of the total.

    ``h[c] = sum of durations[i] over notes with pitches[i] % 12 == c``,
    divided by the sum of all durations (all zeros if there are no notes).

    Parameters
    ----------
    pitches : sequence of int (MIDI keys)
    durations : sequence of float (seconds), same length

    Returns
    -------
    h : np.ndarray [shape=(12,)]

    Raises
    ------
    ValueError
        ``pitches`` and ``durations`` differ in length.

    Examples
    --------
    >>> pitch_class_histogram([60, 64, 72], [1.0, 0.5, 0.5]).tolist()
    [0.75, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    ### BEGIN SOLUTION
    pitches = np.asarray(pitches, dtype=int)
    durations = np.asarray(durations, dtype=np.float64)
    if pitches.shape != durations.shape:
        raise ValueError(f"{len(pitches)} pitches but {len(durations)} durations")
    h = np.bincount(pitches % 12, weights=durations, minlength=12) if len(pitches) else np.zeros(12)
    total = h.sum()
    return h / total if total > 0 else h
    ### END SOLUTION


def karplus_strong(burst, n_samples, *, decay=0.996):
    """A plucked string by the Karplus–Strong recursion.

    With ``N = len(burst)``: ``x`` is the burst followed by zeros
    (``n_samples`` in all), and

    ``y[n] = x[n] + decay * (y[n - N] + y[n - N - 1]) / 2``

    (terms with a negative index are 0). Use one ``scipy.signal.lfilter``
    call: the recursion is an IIR filter with ``b = [1]`` and ``a`` of length
    ``N + 2``.

    Parameters
    ----------
    burst : np.ndarray [shape=(N,)], N >= 1
    n_samples : int >= N
    decay : float in (0, 1]

    Returns
    -------
    y : np.ndarray [shape=(n_samples,)]

    Examples
    --------
    >>> karplus_strong(np.array([1.0, 0.0]), 6, decay=1.0)
    array([1.  , 0.  , 0.5 , 0.5 , 0.25, 0.5 ])
    """
    ### BEGIN SOLUTION
    from scipy.signal import lfilter

    burst = np.asarray(burst, dtype=np.float64)
    N = len(burst)
    if N < 1 or n_samples < N:
        raise ValueError(f"need 1 <= len(burst)={N} <= n_samples={n_samples}")
    x = np.zeros(int(n_samples))
    x[:N] = burst
    a = np.zeros(N + 2)
    a[0] = 1.0
    a[N] = a[N + 1] = -decay / 2
    return lfilter([1.0], a, x)
    ### END SOLUTION
