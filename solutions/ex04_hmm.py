"""Exercise 04 — hidden Markov models: a word model's transitions, the forward algorithm, Viterbi.

Notebook: 04_hmm_word_recognition.ipynb

Fill in the three functions below with NumPy only (no hmmlearn, no scipy,
no ``course_lib.hmm``). Check your work with::

    course check ex04

Conventions (``course_lib.hmm``'s and hmmlearn's):

- ``N`` states, ``T`` frames;
- ``log_b`` has shape ``(T, N)``: ``log_b[t, j] = log p(x_t | state j)``;
- ``log_pi`` has shape ``(N,)`` and ``log_A`` shape ``(N, N)`` with
  ``log_A[i, j] = log p(state j at t | state i at t - 1)``;
- everything is in **log space**, and ``-inf`` means "impossible": your code
  must cope with it (``np.exp(-np.inf) == 0``; ``-np.inf - (-np.inf)`` is NaN,
  so never subtract a maximum that may be ``-inf``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["left_to_right", "forward", "viterbi"]


def left_to_right(n_states, *, self_loop=0.5):
    """Transition matrix of a left-to-right word model.

    State ``i < N - 1`` stays with probability ``self_loop`` and moves to
    ``i + 1`` with probability ``1 - self_loop``; the last state stays with
    probability 1. Everything else (backward moves, skips) is 0.

    Parameters
    ----------
    n_states : int >= 1
    self_loop : float, ``0 <= self_loop < 1``

    Returns
    -------
    A : np.ndarray [shape=(n_states, n_states)], rows sum to 1

    Raises
    ------
    ValueError
        If ``n_states < 1`` or ``self_loop`` is not in ``[0, 1)``.

    Examples
    --------
    >>> left_to_right(3, self_loop=0.6)
    array([[0.6, 0.4, 0. ],
           [0. , 0.6, 0.4],
           [0. , 0. , 1. ]])
    """
    ### BEGIN SOLUTION
    if int(n_states) != n_states or n_states < 1:
        raise ValueError(f"n_states={n_states!r} must be a positive integer")
    if not 0 <= self_loop < 1:
        raise ValueError(f"self_loop={self_loop!r} must be in [0, 1)")
    n = int(n_states)
    A = np.zeros((n, n))
    i = np.arange(n - 1)
    A[i, i] = self_loop
    A[i, i + 1] = 1.0 - self_loop
    A[n - 1, n - 1] = 1.0
    return A
    ### END SOLUTION


def forward(log_b, *, log_pi, log_A):
    """The forward algorithm in log space.

    ::

        log_alpha[0, j] = log_pi[j] + log_b[0, j]
        log_alpha[t, j] = logsumexp_i(log_alpha[t-1, i] + log_A[i, j]) + log_b[t, j]
        log_likelihood  = logsumexp_j(log_alpha[T-1, j])

    where ``logsumexp(v) = m + log(sum(exp(v - m)))`` with ``m = max(v)``
    (and ``-inf`` if every entry is ``-inf``). Vectorise over states: one
    NumPy expression per frame, a loop over ``t`` only.

    Equals hmmlearn's ``_hmmc.forward_log`` (and ``GaussianHMM.score``).

    Parameters
    ----------
    log_b : np.ndarray [shape=(T, N)]
    log_pi : np.ndarray [shape=(N,)]
    log_A : np.ndarray [shape=(N, N)]

    Returns
    -------
    log_alpha : np.ndarray [shape=(T, N)]
    log_likelihood : float

    Raises
    ------
    ValueError
        If the shapes do not fit together.
    """
    ### BEGIN SOLUTION
    log_b = np.asarray(log_b, dtype=np.float64)
    log_pi = np.asarray(log_pi, dtype=np.float64)
    log_A = np.asarray(log_A, dtype=np.float64)
    if log_b.ndim != 2 or log_pi.shape != log_b.shape[1:] or log_A.shape != (log_b.shape[1],) * 2:
        raise ValueError(f"shapes do not fit: log_b {log_b.shape}, log_pi {log_pi.shape}, log_A {log_A.shape}")
    T, N = log_b.shape
    log_alpha = np.empty((T, N))
    log_alpha[0] = log_pi + log_b[0]
    for t in range(1, T):
        M = log_alpha[t - 1][:, None] + log_A          # (N, N): from i (rows) to j (columns)
        m = M.max(axis=0)
        m = np.where(np.isfinite(m), m, 0.0)           # an all -inf column: shift by 0, not by -inf
        with np.errstate(divide="ignore"):
            log_alpha[t] = m + np.log(np.exp(M - m).sum(axis=0)) + log_b[t]
    last = log_alpha[-1]
    top = last.max()
    if not np.isfinite(top):
        return log_alpha, float("-inf")
    return log_alpha, float(top + np.log(np.exp(last - top).sum()))
    ### END SOLUTION


def viterbi(log_b, *, log_pi, log_A):
    """The most likely state path, with its backtrace.

    ::

        delta[0, j] = log_pi[j] + log_b[0, j]
        delta[t, j] = max_i(delta[t-1, i] + log_A[i, j]) + log_b[t, j]
        psi[t, j]   = argmax_i(delta[t-1, i] + log_A[i, j])

    then ``path[T-1] = argmax_j delta[T-1, j]`` and, going backwards,
    ``path[t-1] = psi[t, path[t]]``. On ties take the smallest index
    (``np.argmax`` does). Equals hmmlearn's ``decode(X, algorithm="viterbi")``.

    Parameters
    ----------
    log_b, log_pi, log_A
        As :func:`forward`.

    Returns
    -------
    path : np.ndarray [shape=(T,), dtype=int]
    log_prob : float
        ``max_j delta[T-1, j]``, the log-probability of the observations *and* that path.

    Raises
    ------
    ValueError
        If the shapes do not fit together.
    """
    ### BEGIN SOLUTION
    log_b = np.asarray(log_b, dtype=np.float64)
    log_pi = np.asarray(log_pi, dtype=np.float64)
    log_A = np.asarray(log_A, dtype=np.float64)
    if log_b.ndim != 2 or log_pi.shape != log_b.shape[1:] or log_A.shape != (log_b.shape[1],) * 2:
        raise ValueError(f"shapes do not fit: log_b {log_b.shape}, log_pi {log_pi.shape}, log_A {log_A.shape}")
    T, N = log_b.shape
    delta = log_pi + log_b[0]
    psi = np.zeros((T, N), dtype=int)
    for t in range(1, T):
        scores = delta[:, None] + log_A
        psi[t] = scores.argmax(axis=0)
        delta = scores.max(axis=0) + log_b[t]
    path = np.zeros(T, dtype=int)
    path[-1] = delta.argmax()
    for t in range(T - 1, 0, -1):
        path[t - 1] = psi[t, path[t]]
    return path, float(delta[path[-1]])
    ### END SOLUTION
