"""Hidden Markov models for word recognition: the teaching algorithms and a GMM-HMM recogniser.

Notebook: 04_hmm_word_recognition.ipynb

The pipeline, top to bottom::

    >>> import numpy as np
    >>> pi, A = left_to_right(3, self_loop=0.6)          # a 3-state word model
    >>> with np.errstate(divide="ignore"):               # log(0) = -inf: forbidden
    ...     log_pi, log_A = np.log(pi), np.log(A)
    >>> log_b = np.log(np.array([[.9, .1, .1], [.2, .8, .1], [.1, .1, .9]]))  # (T, N) emissions
    >>> viterbi(log_b, log_pi=log_pi, log_A=log_A).path
    array([0, 1, 2])
    >>> ll, best = brute_force(log_b, log_pi=log_pi, log_A=log_A)   # all 3**3 = 27 paths
    >>> bool(np.isclose(forward(log_b, log_pi=log_pi, log_A=log_A).log_likelihood, ll))
    True

Everything is in **log space**: a product of a thousand probabilities of 0.1
is 1e-1000, which is 0.0 in float64, while its logarithm (-2302.6) is an
ordinary number. Sums of probabilities become ``logsumexp``; products become
sums; an impossible transition is ``-inf`` and stays impossible.

Teaching functions (NumPy, vectorised over states, a loop over time only):

- :func:`forward` -> :class:`ForwardResult` ``(log_alpha (T, N), log_likelihood)``;
- :func:`backward` -> ``log_beta (T, N)``; :func:`posteriors` -> state occupancy ``gamma (T, N)``;
- :func:`viterbi` -> :class:`ViterbiResult` ``(path (T,), log_prob)``;
- :func:`left_to_right` -> ``(pi (N,), A (N, N))`` of a left-to-right (Bakis) word model.

They take emission log-likelihoods ``log_b[t, j] = log p(x_t | state j)`` and
are equal to hmmlearn's compiled ``score`` / ``decode`` / ``predict_proba``
on the same model (``tests/test_hmm.py``) and to brute-force enumeration of
every path on tiny models.

Recognisers (built on the same functions):

- :class:`WordRecognizer` — one hmmlearn ``GMMHMM`` per word, left-to-right
  topology that Baum-Welch keeps, MFCC + delta + delta-delta with CMVN;
- :func:`dtw` and :class:`DTWRecognizer` — template matching, the pre-HMM method;
- :meth:`WordRecognizer.transcribe` — connected digits by Viterbi over a loop
  of word models and a silence model.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .errors import ParameterError

__all__ = [
    "ForwardResult", "ViterbiResult", "DTWResult",
    "forward", "backward", "posteriors", "viterbi", "left_to_right", "brute_force",
    "dtw",
]

# Probabilities must sum to one within this (in the log domain: |logsumexp| <= _SUM_TOL).
_SUM_TOL = 1e-6
# logsumexp's shift is floored here, so that a column of -inf gives -inf instead of -inf - -inf = NaN
# (any finite shift gives the same exact result; only log-probabilities below -1e300 would underflow).
_FLOOR = -1e300


class ForwardResult(NamedTuple):
    """What :func:`forward` returns.

    Attributes
    ----------
    log_alpha : np.ndarray [shape=(T, N)]
        ``log_alpha[t, j] = log p(x_0 .. x_t, state_t = j)``.
    log_likelihood : float
        ``log p(x_0 .. x_{T-1})`` = ``logsumexp(log_alpha[-1])``.
    """
    log_alpha: np.ndarray
    log_likelihood: float


class ViterbiResult(NamedTuple):
    """What :func:`viterbi` returns.

    Attributes
    ----------
    path : np.ndarray [shape=(T,), dtype=int]
        The most likely state sequence.
    log_prob : float
        ``log p(x, path)``, the joint log-probability of the observations and that path.
    """
    path: np.ndarray
    log_prob: float


# --------------------------------------------------------------------------- validation

def _logsumexp(M: np.ndarray, axis: int) -> np.ndarray:
    """``log(sum(exp(M), axis))`` without overflow; all ``-inf`` gives ``-inf`` (no warning, no NaN)."""
    m = M.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)   # an all -inf slice: shift by 0, exp gives 0, log gives -inf
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(M - m).sum(axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def _as_float_array(x, name: str, ndim: int) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real array, got {type(x).__name__}") from None
    if a.ndim != ndim:
        raise ParameterError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if np.isnan(a).any():
        raise ParameterError(f"{name} contains NaN")
    if np.isposinf(a).any():
        raise ParameterError(f"{name} contains +inf (a log-probability is at most 0; emissions must be finite)")
    return a


def _check_log_distribution(a: np.ndarray, name: str, axis: int = -1) -> None:
    total = _logsumexp(a, axis=axis)
    bad = np.abs(total) > _SUM_TOL
    if bad.any():
        hint = ""
        with np.errstate(all="ignore"):
            if np.all((a >= 0) & (a <= 1)) and np.allclose(a.sum(axis=axis), 1.0):
                hint = f" (it looks like probabilities: pass np.log({name[4:] if name.startswith('log_') else name}))"
        where = "" if a.ndim == 1 else f" (row {int(np.flatnonzero(bad)[0])})"
        value = float(np.atleast_1d(np.exp(total))[np.flatnonzero(bad)[0]])
        raise ParameterError(
            f"{name} must hold log-probabilities that sum to one{where}: exp({name}) sums to {value:.6g}{hint}"
        )


def _check_model(log_b, log_pi, log_A):
    log_b = _as_float_array(log_b, "log_b", 2)
    T, N = log_b.shape
    if T < 1 or N < 1:
        raise ParameterError(f"log_b must have shape (T, N) with T >= 1 frames and N >= 1 states, got {log_b.shape}")
    log_pi = _as_float_array(log_pi, "log_pi", 1)
    if log_pi.shape != (N,):
        raise ParameterError(f"log_pi must have shape (N,) = ({N},) to match log_b {log_b.shape}, got {log_pi.shape}")
    log_A = _as_float_array(log_A, "log_A", 2)
    if log_A.shape != (N, N):
        raise ParameterError(f"log_A must have shape (N, N) = ({N}, {N}) to match log_b {log_b.shape}, got {log_A.shape}")
    _check_log_distribution(log_pi, "log_pi")
    _check_log_distribution(log_A, "log_A", axis=1)
    return log_b, log_pi, log_A


# --------------------------------------------------------------------------- the three problems

def forward(log_b: np.ndarray, *, log_pi: np.ndarray, log_A: np.ndarray) -> ForwardResult:
    """The forward algorithm in log space: how likely are the observations under this model?

    Notebook: 04_hmm_word_recognition.ipynb

    ``alpha[0, j] = pi[j] b[0, j]`` and ``alpha[t, j] = (sum_i alpha[t-1, i] A[i, j]) b[t, j]``,
    written with logarithms::

        log_alpha[t, j] = logsumexp_i(log_alpha[t-1, i] + log_A[i, j]) + log_b[t, j]

    One vectorised step per frame (all ``N x N`` terms at once); cost ``O(T N^2)``
    instead of the ``N^T`` paths of :func:`brute_force`.

    Parameters
    ----------
    log_b : np.ndarray [shape=(T, N)]
        Emission log-likelihoods ``log p(x_t | state j)``; ``-inf`` allowed.
    log_pi : np.ndarray [shape=(N,)]
        Log initial probabilities (``exp`` sums to 1; ``-inf`` for a state you cannot start in).
    log_A : np.ndarray [shape=(N, N)]
        Log transition probabilities, ``log_A[i, j] = log p(state_t = j | state_{t-1} = i)``;
        each row's ``exp`` sums to 1; ``-inf`` for a forbidden transition.

    Returns
    -------
    ForwardResult
        ``log_alpha (T, N)`` and ``log_likelihood`` (``-inf`` if the observations are impossible).
        Equal to hmmlearn's ``score`` (and ``_hmmc.forward_log``) on the same model.

    Raises
    ------
    ParameterError
        Shapes that do not match, NaN, or probabilities that do not sum to one
        (the message names the argument).

    Examples
    --------
    >>> r = forward(np.log([[0.5, 0.5]]), log_pi=np.log([0.5, 0.5]), log_A=np.log([[0.5, 0.5], [0.5, 0.5]]))
    >>> r.log_alpha.shape, round(float(np.exp(r.log_likelihood)), 6)
    ((1, 2), 0.5)
    """
    log_b, log_pi, log_A = _check_model(log_b, log_pi, log_A)
    T, N = log_b.shape
    log_alpha = np.empty((T, N))
    log_alpha[0] = log_pi + log_b[0]
    with np.errstate(divide="ignore"):                 # log(0) = -inf is a legitimate answer here
        for t in range(1, T):
            # (N, 1) + (N, N): every predecessor i of every state j; logsumexp over i (axis 0),
            # shifted by the column maximum (floored so that an all -inf column gives -inf, not NaN)
            M = log_alpha[t - 1][:, None] + log_A
            m = np.maximum(M.max(axis=0), _FLOOR)
            log_alpha[t] = np.log(np.exp(M - m).sum(axis=0)) + m + log_b[t]
    return ForwardResult(log_alpha, float(_logsumexp(log_alpha[-1], axis=0)))


def backward(log_b: np.ndarray, *, log_pi: np.ndarray, log_A: np.ndarray) -> np.ndarray:
    """The backward algorithm in log space.

    Notebook: 04_hmm_word_recognition.ipynb

    ``log_beta[T-1, i] = 0`` and
    ``log_beta[t, i] = logsumexp_j(log_A[i, j] + log_b[t+1, j] + log_beta[t+1, j])``:
    the log-probability of the *rest* of the observations given state ``i`` at ``t``.
    ``logsumexp(log_pi + log_b[0] + log_beta[0])`` is the same log-likelihood as :func:`forward`'s.

    Parameters
    ----------
    log_b, log_pi, log_A
        As :func:`forward` (``log_pi`` is only validated).

    Returns
    -------
    log_beta : np.ndarray [shape=(T, N)]
    """
    log_b, log_pi, log_A = _check_model(log_b, log_pi, log_A)
    T, N = log_b.shape
    log_beta = np.zeros((T, N))
    with np.errstate(divide="ignore"):
        for t in range(T - 2, -1, -1):
            # (N, N) + (1, N): every successor j of every state i; logsumexp over j (axis 1)
            M = log_A + (log_b[t + 1] + log_beta[t + 1])[None, :]
            m = np.maximum(M.max(axis=1), _FLOOR)
            log_beta[t] = np.log(np.exp(M - m[:, None]).sum(axis=1)) + m
    return log_beta


def posteriors(log_b: np.ndarray, *, log_pi: np.ndarray, log_A: np.ndarray) -> np.ndarray:
    """State occupancy ``gamma[t, j] = p(state_t = j | x)`` from forward and backward.

    Notebook: 04_hmm_word_recognition.ipynb

    ``gamma = exp(log_alpha + log_beta - log_likelihood)``; each row sums to 1.
    Baum-Welch re-estimates the Gaussians from these weights.

    Returns
    -------
    gamma : np.ndarray [shape=(T, N)]
        Equal to hmmlearn's ``predict_proba``.

    Raises
    ------
    ParameterError
        When the observations are impossible under the model (log-likelihood ``-inf``).
    """
    fwd = forward(log_b, log_pi=log_pi, log_A=log_A)
    if not np.isfinite(fwd.log_likelihood):
        raise ParameterError("the observations are impossible under this model (log-likelihood -inf): "
                             "no path has non-zero probability, so posteriors are undefined")
    log_beta = backward(log_b, log_pi=log_pi, log_A=log_A)
    return np.exp(fwd.log_alpha + log_beta - fwd.log_likelihood)


def viterbi(log_b: np.ndarray, *, log_pi: np.ndarray, log_A: np.ndarray) -> ViterbiResult:
    """The most likely state sequence, by dynamic programming in log space, with its backtrace.

    Notebook: 04_hmm_word_recognition.ipynb

    Forward's ``logsumexp`` becomes a ``max``, and we remember where each
    maximum came from::

        delta[t, j] = max_i(delta[t-1, i] + log_A[i, j]) + log_b[t, j]
        psi[t, j]   = argmax_i(delta[t-1, i] + log_A[i, j])

    then read the path backwards from ``argmax_j delta[T-1, j]``. Ties go to
    the lowest state index (like hmmlearn).

    Parameters
    ----------
    log_b, log_pi, log_A
        As :func:`forward`.

    Returns
    -------
    ViterbiResult
        ``path (T,)`` ints and ``log_prob`` (the joint ``log p(x, path)``; ``-inf`` when
        every path is impossible, and the path is then meaningless). Equal to hmmlearn's
        ``decode(X, algorithm="viterbi")`` and to brute force.

    Examples
    --------
    >>> pi, A = left_to_right(2, self_loop=0.5)
    >>> with np.errstate(divide="ignore"):      # log(0) = -inf: a forbidden transition
    ...     log_pi, log_A = np.log(pi), np.log(A)
    >>> viterbi(np.log([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]), log_pi=log_pi, log_A=log_A)
    ViterbiResult(path=array([0, 1, 1]), log_prob=-1.714...)
    """
    log_b, log_pi, log_A = _check_model(log_b, log_pi, log_A)
    T, N = log_b.shape
    delta = log_pi + log_b[0]
    psi = np.zeros((T, N), dtype=np.intp)
    for t in range(1, T):
        scores = delta[:, None] + log_A            # (N, N): from i (rows) to j (columns)
        psi[t] = scores.argmax(axis=0)             # best predecessor of each j
        delta = scores.max(axis=0) + log_b[t]
    path = np.empty(T, dtype=np.intp)
    path[-1] = int(np.argmax(delta))
    for t in range(T - 1, 0, -1):                  # the backtrace
        path[t - 1] = psi[t, path[t]]
    return ViterbiResult(path, float(delta[path[-1]]))


def brute_force(log_b: np.ndarray, *, log_pi: np.ndarray, log_A: np.ndarray):
    """Enumerate all ``N**T`` state paths: the definition that :func:`forward` and :func:`viterbi` speed up.

    Notebook: 04_hmm_word_recognition.ipynb

    Only for tiny models (``N**T <= 200_000``).

    Returns
    -------
    log_likelihood : float
        ``log sum_paths p(x, path)``.
    best : ViterbiResult
        The path with the largest ``log p(x, path)`` (first in lexicographic order on ties).
    """
    import itertools

    log_b, log_pi, log_A = _check_model(log_b, log_pi, log_A)
    T, N = log_b.shape
    if N ** T > 200_000:
        raise ParameterError(f"brute_force enumerates N**T = {N}**{T} paths; keep it at most 200000")
    paths = np.array(list(itertools.product(range(N), repeat=T)), dtype=np.intp)   # (N**T, T)
    t = np.arange(T)
    with np.errstate(invalid="ignore"):
        scores = (log_pi[paths[:, 0]] + log_b[t, paths].sum(axis=1)
                  + log_A[paths[:, :-1], paths[:, 1:]].sum(axis=1))                 # (N**T,)
    best = int(np.argmax(scores))
    return float(_logsumexp(scores, axis=0)), ViterbiResult(paths[best], float(scores[best]))


def left_to_right(n_states: int, *, self_loop: float = 0.5, max_jump: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Initial and transition probabilities of a left-to-right (Bakis) word model.

    Notebook: 04_hmm_word_recognition.ipynb

    A word is a sequence of sounds that never goes back: start in state 0,
    stay (probability ``self_loop``) or move forward by 1 .. ``max_jump``
    states (the rest, shared equally); the last state only loops. Every
    entry below the diagonal is zero, and Baum-Welch keeps zeros at zero.

    Parameters
    ----------
    n_states : int >= 1
    self_loop : float in [0, 1)
        Probability of staying in a (non-final) state.
    max_jump : int >= 1
        1: next state only; 2: may also skip one state (Bakis).

    Returns
    -------
    pi : np.ndarray [shape=(n_states,)]
        ``[1, 0, ..., 0]``.
    A : np.ndarray [shape=(n_states, n_states)]
        Upper triangular, rows sum to 1, ``A[-1, -1] = 1``.

    Examples
    --------
    >>> pi, A = left_to_right(3, self_loop=0.6)
    >>> A
    array([[0.6, 0.4, 0. ],
           [0. , 0.6, 0.4],
           [0. , 0. , 1. ]])
    """
    if isinstance(n_states, bool) or not isinstance(n_states, (int, np.integer)) or n_states < 1:
        raise ParameterError(f"n_states={n_states!r} must be a positive integer")
    if isinstance(max_jump, bool) or not isinstance(max_jump, (int, np.integer)) or max_jump < 1:
        raise ParameterError(f"max_jump={max_jump!r} must be a positive integer (1: next state only)")
    if isinstance(self_loop, bool) or not isinstance(self_loop, (int, float, np.floating, np.integer)) \
            or not 0 <= self_loop < 1:
        raise ParameterError(f"self_loop={self_loop!r} must be a probability in [0, 1)")
    n = int(n_states)
    pi = np.zeros(n)
    pi[0] = 1.0
    A = np.zeros((n, n))
    for i in range(n - 1):
        targets = np.arange(i + 1, min(i + max_jump, n - 1) + 1)
        A[i, i] = self_loop
        A[i, targets] = (1.0 - self_loop) / len(targets)
    A[n - 1, n - 1] = 1.0
    return pi, A
