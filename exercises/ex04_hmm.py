# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex04`.
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
    raise NotImplementedError()


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
    raise NotImplementedError()


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
    raise NotImplementedError()
