# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex13`.
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
    raise NotImplementedError()


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
    raise NotImplementedError()


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
    raise NotImplementedError()


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
    raise NotImplementedError()
