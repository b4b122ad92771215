"""Exercise 13 — speaker recognition: equal error rate, statistics pooling, cosine scoring,
MAP adaptation of a GMM's means.

Notebook: 13_speaker_recognition.ipynb

Fill in the four functions below with NumPy only (no ``course_lib.speaker``,
no scikit-learn). Check your work with::

    course check ex13

Conventions (``course_lib.speaker``'s):

- a trial has a score (higher = more likely the same speaker) and a label
  (1 = target: same speaker, 0 = non-target); a trial is *accepted* when
  ``score >= threshold``;
- frame-level features are ``(batch, channels, time)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["eer", "stats_pool", "cosine_score", "map_adapt_means"]


def eer(scores, labels):
    """Equal error rate by a threshold sweep.

    For every threshold ``t`` in the sorted unique scores and ``+inf``:
    ``p_miss(t)`` = share of target trials with ``score < t``, ``p_fa(t)`` = share of
    non-target trials with ``score >= t``. Take the threshold where
    ``|p_miss - p_fa|`` is smallest (the first one on a tie) and return
    ``(p_miss + p_fa) / 2`` there.

    Parameters
    ----------
    scores : np.ndarray [shape=(n,)]
    labels : np.ndarray [shape=(n,)] of 0/1

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Lengths differ, or only one kind of trial is present.

    Examples
    --------
    >>> eer([3.0, 2.0, 1.0, 0.0], [1, 1, 0, 0])
    0.0
    """
    ### BEGIN SOLUTION
    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels).astype(bool)
    if s.shape != lab.shape:
        raise ValueError(f"scores {s.shape} and labels {lab.shape} must have the same length")
    if lab.all() or not lab.any():
        raise ValueError("need both target (1) and non-target (0) trials")
    best, best_gap = None, np.inf
    for t in list(np.unique(s)) + [np.inf]:
        p_miss = np.mean(s[lab] < t)
        p_fa = np.mean(s[~lab] >= t)
        if abs(p_miss - p_fa) < best_gap:
            best_gap, best = abs(p_miss - p_fa), (p_miss + p_fa) / 2
    return float(best)
    ### END SOLUTION


def stats_pool(h, lengths=None):
    """Mean and standard deviation over time of the first ``lengths[b]`` frames of each item.

    Parameters
    ----------
    h : np.ndarray [shape=(batch, channels, time)]
    lengths : np.ndarray [shape=(batch,)] of int, optional
        Valid frames per item (default: all ``time`` frames).

    Returns
    -------
    np.ndarray [shape=(batch, 2 * channels)]
        ``[mean, std]`` per item (population std, ``ddof=0``).

    Raises
    ------
    ValueError
        ``h`` is not 3-D.

    Examples
    --------
    >>> stats_pool(np.array([[[1.0, 3.0, 100.0]]]), lengths=np.array([2]))
    array([[2., 1.]])
    """
    ### BEGIN SOLUTION
    h = np.asarray(h, dtype=np.float64)
    if h.ndim != 3:
        raise ValueError(f"h must have shape (batch, channels, time), got {h.shape}")
    b, c, t = h.shape
    lengths = np.full(b, t) if lengths is None else np.asarray(lengths)
    out = np.empty((b, 2 * c))
    for i in range(b):
        x = h[i, :, :int(lengths[i])]
        out[i] = np.concatenate([x.mean(axis=1), x.std(axis=1)])
    return out
    ### END SOLUTION


def cosine_score(a, b):
    """Cosine similarity of two embeddings: ``a . b / (|a| |b|)``.

    Parameters
    ----------
    a, b : np.ndarray [shape=(d,)]

    Returns
    -------
    float in [-1, 1]

    Raises
    ------
    ValueError
        Shapes differ.

    Examples
    --------
    >>> cosine_score(np.array([1.0, 0.0]), np.array([3.0, 3.0]))
    0.7071067811865475
    """
    ### BEGIN SOLUTION
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"embeddings {a.shape} and {b.shape} must have the same shape")
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    ### END SOLUTION


def map_adapt_means(X, weights, means, variances, *, relevance=16.0):
    """MAP adaptation of a diagonal GMM's means to the frames ``X`` (Reynolds et al. 2000).

    1. Posteriors: ``gamma[t, c] = w_c N(x_t; mu_c, diag var_c) / sum_k w_k N(x_t; mu_k, diag var_k)``
       (compute in the log domain: subtract each row's maximum before ``exp``).
    2. ``n_c = sum_t gamma[t, c]``, ``E_c = sum_t gamma[t, c] x_t / n_c``.
    3. ``alpha_c = n_c / (n_c + relevance)``, ``mu_c' = alpha_c E_c + (1 - alpha_c) mu_c``.

    Parameters
    ----------
    X : np.ndarray [shape=(n_frames, dim)]
    weights : np.ndarray [shape=(n_components,)]
    means, variances : np.ndarray [shape=(n_components, dim)]
    relevance : float > 0

    Returns
    -------
    np.ndarray [shape=(n_components, dim)]

    Examples
    --------
    >>> map_adapt_means(np.array([[2.0]]), np.array([1.0]), np.array([[0.0]]), np.array([[1.0]]), relevance=1.0)
    array([[1.]])
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    w, mu, var = (np.asarray(a, dtype=np.float64) for a in (weights, means, variances))
    log_n = -0.5 * (np.sum(np.log(2 * np.pi * var), axis=1)[None, :]
                    + np.sum((X[:, None, :] - mu[None, :, :]) ** 2 / var[None, :, :], axis=2))
    a = np.log(w)[None, :] + log_n
    a = a - a.max(axis=1, keepdims=True)
    gamma = np.exp(a)
    gamma /= gamma.sum(axis=1, keepdims=True)
    n = gamma.sum(axis=0)
    E = gamma.T @ X / np.maximum(n, 1e-10)[:, None]
    alpha = (n / (n + relevance))[:, None]
    return alpha * E + (1 - alpha) * mu
    ### END SOLUTION
