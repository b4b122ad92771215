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
  of word models and a silence model; :meth:`WordRecognizer.embedded_train`
  re-trains the models on whole digit strings (HTK's embedded training).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .errors import ParameterError

__all__ = [
    "ForwardResult", "ViterbiResult", "DTWResult",
    "forward", "backward", "posteriors", "viterbi", "left_to_right", "brute_force",
    "endpoint", "word_features", "viterbi_left_to_right", "FEATURE_SR", "n_states_for", "RecognizerConfig", "WordRecognizer",
    "WARP_SEARCH",
    "Evaluation", "evaluate", "evaluate_adapted", "mllr_mean_transform", "dtw", "DTWRecognizer",
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


# --------------------------------------------------------------------------- features for words

def endpoint(y: np.ndarray, *, sr: int, top_db: float = 35.0, margin: float = 0.05,
             floor_db: float | None = 10.0) -> np.ndarray:
    """Cut the leading and trailing silence off a recording of one word (energy endpointing).

    Notebook: 04_hmm_word_recognition.ipynb

    Frames of 25 ms every 10 ms; keep from the first to the last frame whose
    energy is within ``top_db`` of the loudest frame **and**, where the
    recording has a steady noise floor (its quietest 30 % of frames within 3 dB
    of each other), more than ``floor_db`` above that floor (the 10th percentile
    of the frame energies); plus ``margin`` seconds on each side. A word model should model
    the word, not the room tone before it (whose length varies from one
    recording to the next). The second rule matters for a quiet talker in a
    noisy room: the word may be only 20 dB above the noise, and "within 35 dB
    of the loudest frame" would then keep all of the noise.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int > 0
    top_db : float > 0
    margin : float >= 0, seconds
    floor_db : float >= 0 or None
        ``None``: the ``top_db`` rule alone.

    Returns
    -------
    y_trimmed : np.ndarray [shape=(m,)], a view of ``y`` (``m <= n``)

    Examples
    --------
    >>> y = np.r_[np.zeros(8000), np.sin(np.arange(4000) / 5), np.zeros(8000)]
    >>> len(endpoint(y, sr=16000, margin=0.0)) / 16000   # the 0.25 s tone, plus the frames that overlap it
    0.285
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ParameterError(f"y must be mono (n,), got shape {y.shape}")
    a, b = _speech_bounds(y, sr=sr, top_db=top_db, margin=margin, floor_db=floor_db)
    return y[a:b]


def _speech_bounds(y, *, sr, top_db=35.0, margin=0.05, floor_db=10.0) -> tuple[int, int]:
    """Sample indices ``(start, stop)`` of the speech in ``y`` (see :func:`endpoint`)."""
    if not top_db > 0:
        raise ParameterError(f"top_db={top_db!r} must be a positive number of dB")
    if not margin >= 0:
        raise ParameterError(f"margin={margin!r} must be >= 0 seconds")
    if floor_db is not None and not floor_db >= 0:
        raise ParameterError(f"floor_db={floor_db!r} must be >= 0 dB (or None)")
    frame, hop = int(0.025 * sr), int(0.010 * sr)
    if len(y) < frame:
        return 0, len(y)
    frames = np.lib.stride_tricks.sliding_window_view(y, frame)[::hop]              # (n_frames, frame)
    energy = 10 * np.log10(np.mean(np.square(frames, dtype=np.float64), axis=1) + 1e-20)
    threshold = energy.max() - top_db
    if floor_db is not None:
        p5, p10, p30 = np.percentile(energy, [5, 10, 30])
        if p30 - p5 < 3.0:   # a steady noise floor: the quietest 30 % of the frames lie within 3 dB
            threshold = max(threshold, min(p10 + floor_db, energy.max() - 1e-9))
    loud = np.flatnonzero(energy > threshold)
    pad = int(margin * sr)
    return max(0, loud[0] * hop - pad), min(len(y), loud[-1] * hop + frame + pad)


#: Feature settings shared by training and recognition (8 kHz, so telephone-band recordings match).
FEATURE_SR = 8000


def word_features(y: np.ndarray, *, sr: int, deltas: bool = True, normalise: bool | str = True,
                  trim: bool = True, n_mfcc: int = 13, fmin: float = 50.0, fmax: float = 4000.0,
                  dither: float = 1e-4) -> np.ndarray:
    """The feature sequence a word model sees: MFCC (+ delta + delta-delta), CMVN, one row per frame.

    Notebook: 04_hmm_word_recognition.ipynb

    1. resample to :data:`FEATURE_SR` (8 kHz) and band-limit the mel filters to
       ``fmin .. fmax`` -- a 16 kHz studio recording and an 8 kHz phone
       recording then give comparable features;
    2. :func:`endpoint` (``trim=True``);
    3. a tiny seeded dither (``dither`` times unit noise): digital silence gives
       identical frames whose variance is 0, which a Gaussian cannot fit;
    4. ``features.mfcc_deltas`` (``deltas=True``, 3 x n_mfcc rows, deltas over 9 frames)
       or ``features.mfcc``; 25 ms / 10 ms frames (``n_fft=200``, ``hop_length=80``),
       40 mel bands from ``fmin`` to ``fmax`` (50-4000 Hz: the telephone band and a little below);
    5. ``features.cmvn`` (``normalise=True`` or ``"cmvn"``): each coefficient to mean 0 /
       std 1 over the utterance, which removes a fixed channel (microphone,
       line) from the cepstrum; ``normalise="heq"``: ``features.heq``, each
       coefficient's whole distribution over the utterance made standard normal
       (feature warping); ``False``: neither;
    6. ``features.to_sequence``: ``(n_frames, n_features)`` for hmmlearn.

    Returns
    -------
    X : np.ndarray [shape=(n_frames, 3 * n_mfcc) or (n_frames, n_mfcc)], float64
    """
    from . import audio, features

    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or y.size == 0:
        raise ParameterError(f"y must be a non-empty mono signal (n,), got shape {y.shape}")
    if sr != FEATURE_SR:
        y = audio.resample(y, orig_sr=sr, target_sr=FEATURE_SR)
    if trim:
        y = endpoint(y, sr=FEATURE_SR)
    if dither:
        y = y + dither * np.random.default_rng(len(y)).standard_normal(len(y))
    if len(y) < 12 * 80:   # deltas over 9 frames need at least 9; a word has more than 0.12 s
        y = np.pad(y, (0, 12 * 80 - len(y)))
    kw = dict(sr=FEATURE_SR, n_mfcc=n_mfcc, n_fft=200, hop_length=80, n_mels=40, fmin=fmin, fmax=fmax)
    F = features.mfcc_deltas(y, width=9, **kw) if deltas else features.mfcc(y, **kw)   # (n_features, n_frames)
    if normalise == "heq":
        F = features.heq(F)
    elif normalise:
        F = features.cmvn(F)
    return features.to_sequence(F)                                                   # (n_frames, n_features)


def _normalise_by(X, S, how):
    """Frames ``X (n, D)`` normalised with the statistics of the frames ``S`` (the speech): CMVN, or HEQ by
    each value's mid-rank among ``S`` (on ``S`` itself exactly ``features.heq``; beyond its range clipped to
    the extreme quantiles)."""
    if how == "heq":
        import scipy.special

        n = len(S)
        srt = np.sort(S, axis=0)
        below = np.stack([np.searchsorted(srt[:, d], X[:, d], side="left") for d in range(X.shape[1])], axis=1)
        upto = np.stack([np.searchsorted(srt[:, d], X[:, d], side="right") for d in range(X.shape[1])], axis=1)
        return scipy.special.ndtri(np.clip((below + upto) / (2.0 * n), 0.5 / n, 1 - 0.5 / n))
    mu, sd = S.mean(axis=0), S.std(axis=0)
    return (X - mu) / np.where(sd > 0, sd, 1.0)


# --------------------------------------------------------------------------- the word recogniser

def n_states_for(word: str, *, min_states: int = 3, max_states: int = 10) -> int:
    """States of a word model: two per syllable is the classic rule; letters + 1 approximates it.

    Notebook: 04_hmm_word_recognition.ipynb

    >>> n_states_for("go"), n_states_for("seven"), n_states_for("zero")
    (3, 6, 5)
    """
    return int(np.clip(len(word) + 1, min_states, max_states))


def default_augment(y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
    """The augmentation :class:`WordRecognizer` trains on by default: another talker.

    Notebook: 04_hmm_word_recognition.ipynb

    A **speed perturbation** (Ko et al. 2015, Kaldi's ``speed-perturb``): the clip
    resampled by a factor drawn from 0.85-1.15 and played at the original rate,
    which moves pitch, formants and tempo together -- a shorter or longer vocal
    tract, a faster or slower talker.

    The recording-chain links of ``course_lib.augment`` (``reverberate``,
    ``band_limit``, ``telephone``, ``add_noise``; pass e.g.
    ``augment=course_lib.augment.recording_chain``) are left out of the default on
    purpose: measured on the corpus (5-state x 2-Gaussian models trained on all 70
    voices, 20 words, hardest test voice ``alicia``), one copy of each clip through the full chain took that voice from
    65 % to 50 % (the word models grow broad and the short "go" starts to win),
    speed + band-limit + telephone gave 73 %, speed perturbation alone 82 %; the
    real FSDD speakers did no better with the chain either (79 % speed alone,
    75 % with band-limit/telephone). The endpointer and CMVN deal with quiet noise
    and a fixed channel at recognition time instead.

    Returns
    -------
    np.ndarray [shape=(about n / factor,), dtype=float32]
    """
    from . import audio

    factor = float(rng.uniform(0.85, 1.15))
    out = audio.resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=int(round(sr / factor)))
    return np.asarray(out, dtype=np.float32)


#: The warp search that chapter 04 measures (``WordRecognizer(warps=WARP_SEARCH)``): five factors over
#: the range :func:`default_augment` trains with, set before any test voice was scored.
WARP_SEARCH = (0.88, 0.94, 1.0, 1.06, 1.12)


@dataclass
class RecognizerConfig:
    """Settings of :class:`WordRecognizer` (validated on creation).

    Attributes
    ----------
    n_mix : int
        Gaussians per state (diagonal covariances).
    n_viterbi : int
        Viterbi-training iterations (segmental k-means, HTK's ``HInit``) from the
        flat start: align every clip to the model, re-estimate each state from the
        frames it got. 0: the flat start goes straight to Baum-Welch.
    n_iter : int
        Baum-Welch iterations (hmmlearn's ``fit``, HTK's ``HRest``) after that; 0: none.
    n_states : int or None
        States of every word model; ``None``: :func:`n_states_for` the word.
    var_floor : float
        Smallest variance of a Gaussian in Viterbi training (features are CMVN'd, so 1e-2 is std 0.1).
    self_loop : float
        Initial self-loop probability of the left-to-right model (training adjusts it).
    topology : {"left-to-right", "ergodic"}
        ``"ergodic"`` lets hmmlearn initialise and train a full transition matrix
        (the seed document's slip), for comparison only.
    min_states, max_states : int
        Bounds of :func:`n_states_for` (5..8: a short word like "go" still gets 5 states).
    deltas, trim : bool
        :func:`word_features` options (for ablations).
    normalise : bool or {"cmvn", "heq"}
        :func:`word_features`' normalisation: ``True`` / ``"cmvn"`` (the default), ``"heq"``
        (histogram equalisation, ``features.heq``) or ``False``.
    augment : callable, "default" or None
        ``augment(y, *, sr, rng) -> y`` applied to extra copies of each training
        clip, e.g. ``course_lib.augment.recording_chain``; ``"default"``:
        :func:`default_augment`.
    n_augment : int
        Augmented copies per training clip (0: none).
    silence_states : int
        States of the silence model used by :meth:`WordRecognizer.transcribe`.
    warps : tuple of float
        Test-time **warp search**: recognise the input resampled by each factor
        (``1 / warp`` of its length, every frequency x ``warp``: another vocal
        tract, the way :func:`default_augment` makes one in training) and keep the
        warp whose best model fits best per frame. The idea of vocal tract length
        normalisation (Lee & Rose 1996: pick the speaker's warp by maximum
        likelihood), applied by resampling, per utterance. ``(1.0,)``: off. It
        costs one recognition per warp. See :data:`WARP_SEARCH`.
    """

    n_mix: int = 4
    n_viterbi: int = 8
    n_iter: int = 0
    n_states: int | None = None
    var_floor: float = 1e-2
    self_loop: float = 0.6
    topology: str = "left-to-right"
    min_states: int = 5
    max_states: int = 8
    deltas: bool = True
    normalise: bool | str = True
    trim: bool = True
    augment: object = "default"
    n_augment: int = 1
    silence_states: int = 1
    warps: tuple = (1.0,)

    def __post_init__(self):
        try:
            self.warps = tuple(float(w) for w in self.warps)
        except (TypeError, ValueError):
            raise ParameterError(f"warps={self.warps!r} must be a sequence of numbers, e.g. (0.94, 1.0, 1.06)") from None
        if not self.warps or not all(0.5 <= w <= 2.0 for w in self.warps):
            raise ParameterError(f"warps={self.warps!r} must hold factors between 0.5 and 2 (1.0: the input as it is)")
        for name in ("n_mix", "min_states", "max_states", "silence_states"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ParameterError(f"{name}={v!r} must be a positive integer")
        for name in ("n_viterbi", "n_iter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ParameterError(f"{name}={v!r} must be a non-negative integer")
        if self.n_states is not None and (isinstance(self.n_states, bool)
                                          or not isinstance(self.n_states, (int, np.integer)) or self.n_states < 1):
            raise ParameterError(f"n_states={self.n_states!r} must be a positive integer or None")
        if not (isinstance(self.var_floor, (int, float)) and self.var_floor > 0):
            raise ParameterError(f"var_floor={self.var_floor!r} must be a positive number")
        if self.min_states > self.max_states:
            raise ParameterError(f"min_states={self.min_states} must be <= max_states={self.max_states}")
        if not 0 < self.self_loop < 1:
            raise ParameterError(f"self_loop={self.self_loop!r} must be a probability in (0, 1)")
        if self.topology not in ("left-to-right", "ergodic"):
            raise ParameterError(f"topology={self.topology!r} must be 'left-to-right' or 'ergodic'")
        if self.topology == "ergodic" and self.n_iter < 1:
            raise ParameterError("topology='ergodic' is trained by Baum-Welch only: give n_iter >= 1")
        if self.topology == "left-to-right" and self.n_viterbi + self.n_iter < 1:
            raise ParameterError("n_viterbi=0 and n_iter=0 train nothing: give n_viterbi >= 1 or n_iter >= 1")
        if not (isinstance(self.normalise, bool) or self.normalise in ("cmvn", "heq")):
            raise ParameterError(f"normalise={self.normalise!r} must be True / 'cmvn', 'heq' or False")
        if isinstance(self.augment, str):
            if self.augment != "default":
                raise ParameterError(f"augment={self.augment!r}: give a callable (y, *, sr, rng) -> y, "
                                     f"'default' or None")
            self.augment = default_augment
        if isinstance(self.n_augment, bool) or not isinstance(self.n_augment, (int, np.integer)) or self.n_augment < 0:
            raise ParameterError(f"n_augment={self.n_augment!r} must be a non-negative integer")
        if self.n_augment and not callable(self.augment):
            raise ParameterError(f"n_augment={self.n_augment} needs augment=<callable (y, *, sr, rng) -> y>, "
                                 f"got augment={self.augment!r}")


def _gmmhmm(n_states, cfg: RecognizerConfig, seed: int, *, left_to_right_topology: bool):
    from hmmlearn.hmm import GMMHMM

    # covars_weight is hmmlearn's inverse-gamma prior "beta": adds 2 * 0.1 to every variance's numerator,
    # so a mixture component that gets (almost) no frames keeps a finite variance instead of collapsing to 0.
    common = dict(n_components=n_states, n_mix=cfg.n_mix, covariance_type="diag", n_iter=max(cfg.n_iter, 1),
                  random_state=seed, covars_prior=0.0, covars_weight=0.1, tol=1e-3)
    if not left_to_right_topology:
        return GMMHMM(init_params="stmcw", params="stmcw", **common)
    # Our own start and transition probabilities ("s", "t" not in init_params), and Baum-Welch may
    # re-estimate them ("s", "t" in params): a zero stays zero, because the expected number of
    # transitions i -> j is proportional to A[i, j]. So the model stays left-to-right.
    m = _flat_start_class()(init_params="", params="stmcw", **common)
    m.startprob_, m.transmat_ = left_to_right(n_states, self_loop=cfg.self_loop)
    return m


@functools.lru_cache(maxsize=1)
def _flat_start_class():
    """The subclass is built on first use, so that importing course_lib.hmm does not import hmmlearn."""
    from hmmlearn.hmm import GMMHMM

    class FlatStartGMMHMM(GMMHMM):
        """GMMHMM whose parameters were set by :func:`_flat_start`: skip hmmlearn's k-means.

        (hmmlearn 0.3.3 runs k-means in ``_init`` even with ``init_params=""``, which
        is most of the training time and ignores the word's time order.)
        """

        def _init(self, X, lengths=None):
            self._init_covar_priors()
            self._fix_priors_shape()

    # picklable as course_lib.hmm._FlatStartGMMHMM (found through the module __getattr__ below)
    FlatStartGMMHMM.__name__ = FlatStartGMMHMM.__qualname__ = "_FlatStartGMMHMM"
    FlatStartGMMHMM.__module__ = __name__
    return FlatStartGMMHMM


def __getattr__(name):
    if name == "_FlatStartGMMHMM":
        return _flat_start_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _flat_start(m, sequences, n_mix):
    """Initialise a left-to-right GMM-HMM from a uniform segmentation (HTK's "flat start").

    Cut every training sequence into ``n_states`` equal parts; part ``j`` of every
    sequence initialises state ``j``: its mean and variance, and ``n_mix``
    components spread around the mean along +-0.5 standard deviations. This
    respects the word's time order (k-means over all frames, hmmlearn's default,
    does not) and costs one pass over the data.
    """
    n = m.n_components
    parts = [[] for _ in range(n)]
    for X in sequences:                                      # X: (n_frames, n_features)
        bounds = np.linspace(0, len(X), n + 1).round().astype(int)
        for j in range(n):
            parts[j].append(X[bounds[j]:max(bounds[j + 1], bounds[j] + 1)])
    means, covars = [], []
    offsets = np.linspace(-0.5, 0.5, n_mix) if n_mix > 1 else np.zeros(1)
    for j in range(n):
        P = np.concatenate(parts[j])                         # (frames of state j, n_features)
        mu, var = P.mean(axis=0), np.maximum(P.var(axis=0), 1e-2)
        means.append(mu[None, :] + offsets[:, None] * np.sqrt(var)[None, :])   # (n_mix, n_features)
        covars.append(np.repeat(var[None, :], n_mix, axis=0))
    m.n_features = sequences[0].shape[1]
    m.means_ = np.array(means)                               # (n_states, n_mix, n_features)
    m.covars_ = np.array(covars)
    m.weights_ = np.full((n, n_mix), 1.0 / n_mix)


def viterbi_left_to_right(log_b: np.ndarray, lengths, *, log_stay: np.ndarray, log_move: np.ndarray):
    """Best state path of many sequences at once through a strict left-to-right model.

    Notebook: 04_hmm_word_recognition.ipynb

    The path starts in state 0, steps by 0 or +1 state per frame and **ends in
    the last state** (the whole word was said). Vectorised over sequences and
    states (one Python step per frame), for Viterbi training; equal to
    :func:`viterbi` on each sequence with the last frame restricted to the last
    state (``tests/test_hmm.py``).

    Parameters
    ----------
    log_b : np.ndarray [shape=(n_seq, T_max, N)]
        Emission log-likelihoods, padded after each sequence's end (padding is ignored).
    lengths : array of int [shape=(n_seq,)]
        Frames of each sequence (``>= N``, or no path reaches the last state: ``-inf``).
    log_stay, log_move : np.ndarray [shape=(N,)]
        ``log A[i, i]`` and ``log A[i, i + 1]`` (``log_move[-1]`` is unused).

    Returns
    -------
    log_prob : np.ndarray [shape=(n_seq,)]
    paths : np.ndarray [shape=(n_seq, T_max), dtype=int] (state ``N - 1`` after a sequence's end)
    """
    log_b = np.asarray(log_b, dtype=np.float64)
    if log_b.ndim != 3:
        raise ParameterError(f"log_b must be (n_seq, T_max, N), got shape {log_b.shape}")
    n_seq, T_max, N = log_b.shape
    lengths = np.asarray(lengths, dtype=int)
    if lengths.shape != (n_seq,) or lengths.min(initial=1) < 1 or lengths.max(initial=0) > T_max:
        raise ParameterError(f"lengths must be {n_seq} integers in 1..{T_max}, got {lengths!r}")
    log_stay, log_move = np.asarray(log_stay, np.float64), np.asarray(log_move, np.float64)
    if log_stay.shape != (N,) or log_move.shape != (N,):
        raise ParameterError(f"log_stay and log_move must have shape ({N},)")
    delta = np.full((n_seq, N), -np.inf)
    delta[:, 0] = log_b[:, 0, 0]
    moved = np.zeros((n_seq, T_max, N), dtype=bool)           # True: came from state s - 1
    for t in range(1, T_max):
        stay = delta + log_stay                                 # (n_seq, N)
        move = np.full((n_seq, N), -np.inf)
        move[:, 1:] = delta[:, :-1] + log_move[:-1]
        live = (t < lengths)[:, None]
        moved[:, t] = live & (move > stay)
        delta = np.where(live, np.maximum(stay, move) + log_b[:, t], delta)
    paths = np.full((n_seq, T_max), N - 1)
    s = np.full(n_seq, N - 1)
    rows = np.arange(n_seq)
    for t in range(T_max - 1, -1, -1):
        live = t < lengths
        paths[live, t] = s[live]
        s = np.where(live & moved[rows, t, s], s - 1, s)
    return delta[:, -1], paths


def _pad(sequences):
    """``(n_seq, T_max, D)`` zero-padded array and the lengths."""
    lengths = np.array([len(x) for x in sequences])
    out = np.zeros((len(sequences), lengths.max(), sequences[0].shape[1]))
    for i, x in enumerate(sequences):
        out[i, :len(x)] = x
    return out, lengths


def _gmm_log_b(X, means, covars, weights):
    """Emission log-likelihoods of diagonal-Gaussian-mixture states: ``X (n, D)`` -> ``(n, N)``.

    The same numbers as hmmlearn's ``GMMHMM._compute_log_likelihood`` (tested), as
    three matrix products instead of a loop over states and components.
    """
    return _logsumexp(_gmm_log_components(X, means, covars, weights), axis=2)   # (n, N)


def _gmm_log_components(X, means, covars, weights):
    """``log w_jm + log N(x_t; mu_jm, diag var_jm)`` for every frame, state and component: ``(n, N, M)``."""
    N, M, D = means.shape
    iv = 1.0 / covars                                                          # (N, M, D)
    quad = (X ** 2) @ iv.reshape(-1, D).T - 2.0 * X @ (means * iv).reshape(-1, D).T \
        + np.sum(means ** 2 * iv, axis=-1).reshape(-1)                         # (n, N*M)
    with np.errstate(divide="ignore"):
        lw = -0.5 * (quad + np.sum(np.log(2 * np.pi * covars), axis=-1).reshape(-1)) + np.log(weights).reshape(-1)
    return lw.reshape(len(X), N, M)


def _fit_state_mixture(x, mu, var, w, *, var_floor, n_em=4):
    """A few EM steps of one state's diagonal Gaussian mixture on the frames ``x (n, D)`` it owns."""
    for _ in range(n_em):
        ll = -0.5 * (((x[:, None, :] - mu[None]) ** 2 / var[None]).sum(-1)
                     + np.log(2 * np.pi * var).sum(-1)) + np.log(w)            # (n, M)
        r = np.exp(ll - ll.max(axis=1, keepdims=True))
        r /= r.sum(axis=1, keepdims=True)
        nk = r.sum(axis=0) + 1e-6                                               # (M,)
        w = np.maximum(nk / nk.sum(), 1e-3)
        w /= w.sum()
        mu = (r.T @ x) / nk[:, None]
        var = np.maximum((r.T @ x ** 2) / nk[:, None] - mu ** 2, var_floor)
    return mu, var, w


def _segmental_kmeans(m, sequences, *, n_iter, var_floor, rng):
    """Viterbi training (HTK's HInit): segment, re-estimate each state from its frames, realign.

    Starts from a uniform segmentation of every sequence (the flat start); each
    iteration fits every state's mixture to the frames the current alignment gives
    it, sets its self-loop probability from the mean time spent there, and
    realigns all sequences with :func:`viterbi_left_to_right`. Writes hmmlearn's
    ``means_``, ``covars_``, ``weights_``, ``startprob_``, ``transmat_`` on ``m``.
    """
    N, M = m.n_components, m.n_mix
    X, lengths = _pad(sequences)                                 # (n_seq, T_max, D)
    D = X.shape[2]
    m.n_features = D
    frame = np.arange(X.shape[1])[None, :]
    valid = frame < lengths[:, None]                             # (n_seq, T_max)
    path = np.minimum(frame * N // np.maximum(lengths[:, None], 1), N - 1)   # uniform segments
    means, covars, weights = np.zeros((N, M, D)), np.ones((N, M, D)), np.full((N, M), 1.0 / M)
    stay = np.full(N, 0.5)
    for it in range(n_iter + 1):
        for s in range(N):
            x = X[valid & (path == s)]
            if len(x) < 2 * M:                                   # too few frames: keep (or borrow) the state
                if it == 0:
                    x = X[valid]
                else:
                    continue
            if it == 0:
                sd = np.sqrt(np.maximum(x.var(axis=0), var_floor))
                means[s] = x.mean(axis=0) + 0.2 * sd * rng.standard_normal((M, D))
                covars[s] = sd ** 2
            means[s], covars[s], weights[s] = _fit_state_mixture(x, means[s], covars[s], weights[s],
                                                                 var_floor=var_floor)
            visits = np.sum(np.any(valid & (path == s), axis=1))
            stay[s] = np.clip(1.0 - visits / len(x), 0.05, 0.95)
        stay[-1] = 1.0
        m.means_, m.covars_, m.weights_ = means.copy(), covars.copy(), weights.copy()
        m.startprob_ = np.eye(N)[0]
        A = np.diag(stay) + np.diag(1.0 - stay[:-1], 1)
        m.transmat_ = A
        if it == n_iter:
            break
        log_b = _gmm_log_b(X.reshape(-1, D), means, covars, weights).reshape(len(sequences), -1, N)
        with np.errstate(divide="ignore"):
            lp, new = viterbi_left_to_right(log_b, lengths, log_stay=np.log(stay),
                                            log_move=np.log(np.r_[1.0 - stay[:-1], 1.0]))
        ok = np.isfinite(lp)                                     # shorter than N frames: keep the old segments
        path[ok] = new[ok]


class WordRecognizer:
    """Isolated-word recogniser: one GMM-HMM per word (hmmlearn), the most likely model wins.

    Notebook: 04_hmm_word_recognition.ipynb

    Parameters
    ----------
    seed : int
        Seeds hmmlearn's initialisation and the augmentation: the same clips and
        seed give the same models.
    **settings
        Fields of :class:`RecognizerConfig` (``n_mix``, ``n_iter``, ``topology``, ...).

    Attributes (after :meth:`fit`)
    ------------------------------
    models_ : dict[str, hmmlearn.hmm.GMMHMM]
    labels_ : list[str]
    silence_ : GMMHMM or None
        Trained on the silence :func:`endpoint` cuts off the training clips (for :meth:`transcribe`).

    Examples
    --------
    >>> from course_lib import data
    >>> train = data.spoken_words(split="train", words=["yes", "no"])[:12]
    >>> rec = WordRecognizer(seed=0, n_iter=3).fit(train)
    >>> rec.predict(train[0].audio, sr=train[0].sr) in ("yes", "no")
    True
    """

    def __init__(self, *, seed: int = 0, **settings):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ParameterError(f"seed={seed!r} must be a non-negative integer")
        self.seed = int(seed)
        self.config = RecognizerConfig(**settings)
        self.models_: dict = {}
        self.labels_: list = []
        self.silence_ = None

    def __repr__(self) -> str:
        return f"WordRecognizer(seed={self.seed}, {self.config}, words={len(self.labels_)})"

    # -- features
    def features(self, y: np.ndarray, *, sr: int) -> np.ndarray:
        """:func:`word_features` with this recogniser's settings: ``(n_frames, n_features)``."""
        c = self.config
        return word_features(y, sr=sr, deltas=c.deltas, normalise=c.normalise, trim=c.trim)

    # -- training
    def fit(self, clips, *, progress: bool = False) -> "WordRecognizer":
        """Train one model per label on ``clips`` (``data.Clip``: ``.audio``, ``.sr``, ``.label``).

        Returns ``self``. Each word model is a left-to-right GMM-HMM with
        :func:`n_states_for` states (or ``n_states``), trained the way HTK does it
        on all its clips (plus ``n_augment`` augmented copies of each): a flat start
        (uniform segments), ``n_viterbi`` iterations of Viterbi training
        (segmental k-means), then ``n_iter`` iterations of Baum-Welch.
        """
        clips = list(clips)
        if not clips:
            raise ParameterError("clips is empty: pass data.Clip records with .audio, .sr and .label")
        for c in clips:
            if getattr(c, "label", None) is None or getattr(c, "audio", None) is None:
                raise ParameterError(f"every clip needs .audio, .sr and .label; got {c!r}")
        cfg = self.config
        rng = np.random.default_rng(self.seed)
        by_label: dict = {}
        silence = []
        every = max(1, len(clips) // 300)   # the silence model needs a few hundred examples, not all of them
        for k, c in enumerate(_maybe_tqdm(clips, progress, "features")):
            by_label.setdefault(c.label, []).append(self.features(c.audio, sr=c.sr))
            if k % every == 0:
                silence.extend(self._silence_frames(c.audio, c.sr))
            for _ in range(cfg.n_augment):
                y = cfg.augment(np.asarray(c.audio, dtype=np.float32), sr=c.sr, rng=rng)
                by_label[c.label].append(self.features(y, sr=c.sr))
        self.labels_ = sorted(by_label)
        self.models_ = {}
        for i, label in enumerate(_maybe_tqdm(self.labels_, progress, "word models")):
            n = cfg.n_states or n_states_for(label, min_states=cfg.min_states, max_states=cfg.max_states)
            self.models_[label] = self._train_one(n, by_label[label], self.seed + i)
        self.silence_ = None
        if len(silence) >= 5 and sum(len(s) for s in silence) >= 20 * cfg.n_mix:   # a few segments, enough frames
            self.silence_ = self._train_one(cfg.silence_states, silence, self.seed + 1000)
        return self

    def _train_one(self, n_states, X, seed):
        """One GMM-HMM on the sequences ``X`` (list of ``(n_frames, n_features)``)."""
        cfg = self.config
        left_to_right_topology = cfg.topology == "left-to-right"
        m = _gmmhmm(n_states, cfg, seed, left_to_right_topology=left_to_right_topology)
        if left_to_right_topology:
            if cfg.n_viterbi:
                _segmental_kmeans(m, X, n_iter=cfg.n_viterbi, var_floor=cfg.var_floor,
                                  rng=np.random.default_rng(seed))
            else:
                _flat_start(m, X, cfg.n_mix)
            m._init_covar_priors()
        if cfg.n_iter:
            with _quiet_hmmlearn():
                m.fit(np.concatenate(X), [len(x) for x in X])   # (sum of n_frames, n_features)
        return m

    def _silence_frames(self, y, sr):
        """Frames before / after the word, normalised with the word's own statistics."""
        X, speech = self._utterance_features(y, sr)
        out = []
        if speech.start >= 5:
            out.append(X[:speech.start])
        if len(X) - speech.stop >= 5:
            out.append(X[speech.stop:])
        return out

    def _utterance_features(self, y, sr):
        """Features of a whole recording (no trimming), CMVN with the statistics of its speech frames.

        Returns ``(X (n_frames, n_features), slice of the speech frames)``.
        """
        from . import audio

        c = self.config
        y = np.asarray(y, dtype=np.float64)
        if sr != FEATURE_SR:
            y = audio.resample(y, orig_sr=sr, target_sr=FEATURE_SR)
        X = word_features(y, sr=FEATURE_SR, deltas=c.deltas, normalise=False, trim=False)
        a, b = _speech_bounds(y, sr=FEATURE_SR)
        speech = slice(min(a // 80, len(X) - 1), max(min(len(X), b // 80 + 1), min(a // 80, len(X) - 1) + 2))   # hop 80
        if c.normalise:
            X = _normalise_by(X, X[speech], c.normalise)
        return X, speech

    # -- recognition
    def _check_fitted(self):
        if not self.models_:
            raise ParameterError("this WordRecognizer is not trained yet: call .fit(clips) first")

    def score(self, y: np.ndarray, *, sr: int) -> dict:
        """Log-likelihood ``log p(features | word model)`` of ``y`` under each word model: ``{label: float}``.

        With a warp search (``warps`` other than ``(1.0,)``), each word's best **per-frame** log-likelihood
        over the warped inputs (their lengths differ, so totals would not compare).
        """
        self._check_fitted()
        if self.config.warps == (1.0,):
            X = self.features(y, sr=sr)
            return {label: float(m.score(X)) for label, m in self.models_.items()}
        best: dict = {}
        for yw in self._warped(y, sr):
            X = self.features(yw, sr=sr)
            for label, m in self.models_.items():
                best[label] = max(best.get(label, -np.inf), float(m.score(X)) / len(X))
        return best

    def with_warps(self, warps=WARP_SEARCH) -> "WordRecognizer":
        """The same trained models recognising with a warp search (``warps``, validated as in
        :class:`RecognizerConfig`); this recogniser is left as it is."""
        import copy
        import dataclasses

        out = copy.copy(self)                                   # shares the models; they are not changed
        out.config = dataclasses.replace(self.config, warps=warps)
        return out

    def adapt(self, ys, *, sr: int, labels=None, n_iter: int = 3, prior_frames: float = 0.0,
              progress: bool = False) -> "WordRecognizer":
        """A copy of this recogniser adapted to one speaker by MLLR (maximum-likelihood linear regression).

        Notebook: 04_hmm_word_recognition.ipynb

        ``ys`` are recordings of **one** speaker (1-D arrays at ``sr``). One affine
        transform ``mu -> A mu + b`` of every Gaussian mean of every word model
        (Leggetter & Woodland 1995; :func:`mllr_mean_transform`) is estimated so
        that the adapted models fit those recordings best. ``labels=None``:
        **unsupervised** -- the words are the recogniser's own hypotheses, and each
        of the ``n_iter`` rounds recognises again with the models of the round
        before (errors in the hypotheses are outvoted: a wrong word still has
        mostly the right kind of sounds). With ``labels`` (one per recording):
        supervised, as when a user reads prompted words.

        One transform of 39 x 40 numbers is shared by all the Gaussians, so a few
        dozen words (a few thousand frames) are enough, and a speaker's every word
        moves, including words the adaptation data did not contain. ``prior_frames``
        adds that many pseudo-frames at each Gaussian's own mean (they pull the
        transform towards the identity; 0: maximum likelihood). This recogniser is
        left as it is; the copy's ``mllr_`` is the transform ``(39, 40)``.
        """
        import copy

        self._check_fitted()
        ys = [np.asarray(y) for y in ys]
        if not ys:
            raise ParameterError("ys is empty: pass a list of recordings of one speaker (1-D arrays at sr)")
        if labels is not None:
            labels = list(labels)
            if len(labels) != len(ys):
                raise ParameterError(f"labels has {len(labels)} entries for {len(ys)} recordings: give one per recording")
            unknown = sorted(set(labels) - set(self.models_))
            if unknown:
                raise ParameterError(f"labels {unknown} have no word model; known: {self.labels_}")
        if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
            raise ParameterError(f"n_iter={n_iter!r} must be a positive integer")
        feats = [self.features(y, sr=sr) for y in ys]
        out = copy.deepcopy(self)
        words = list(self.models_)
        base = {w: self.models_[w].means_ for w in words}
        ends = np.cumsum([base[w].shape[0] * base[w].shape[1] for w in words])
        span = {w: slice(e - base[w].shape[0] * base[w].shape[1], e) for w, e in zip(words, ends)}   # its Gaussians
        D = feats[0].shape[1]
        means = np.concatenate([base[w].reshape(-1, D) for w in words])                       # (K, D)
        variances = np.concatenate([self.models_[w].covars_.reshape(-1, D) for w in words])   # diagonal
        for _ in _maybe_tqdm(range(n_iter), progress, "MLLR"):
            hyps = labels if labels is not None else [out.predict(y, sr=sr) for y in ys]
            frames, occ = [], []
            for X, w in zip(feats, hyps):
                g = np.zeros((len(X), len(means)))
                g[:, span[w]] = _gaussian_occupancy(out.models_[w], X)
                frames.append(X)
                occ.append(g)
            W = mllr_mean_transform(np.concatenate(frames), np.concatenate(occ), means, variances,
                                    prior_frames=prior_frames)
            for w in words:
                out.models_[w].means_ = base[w] @ W[:, 1:].T + W[:, 0]
        out.mllr_ = W
        return out

    def _warped(self, y, sr):
        """``y`` resampled by each of ``config.warps`` (1.0: ``y`` itself), read at the same ``sr``."""
        from . import audio

        for w in self.config.warps:
            if w == 1.0:
                yield y
            else:
                yield audio.resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=int(round(sr / w)))

    def predict(self, y: np.ndarray, *, sr: int) -> str:
        """The label whose model gives ``y`` the highest likelihood."""
        s = self.score(y, sr=sr)
        return max(s, key=s.get)

    def align(self, y: np.ndarray, *, sr: int, label: str) -> ViterbiResult:
        """Viterbi state alignment of ``y`` to ``label``'s model (by :func:`viterbi`): which frame is in which state."""
        self._check_fitted()
        if label not in self.models_:
            raise ParameterError(f"label={label!r} has no model; trained labels: {self.labels_}")
        m = self.models_[label]
        X = self.features(y, sr=sr)
        with np.errstate(divide="ignore"):
            return viterbi(m._compute_log_likelihood(X), log_pi=np.log(m.startprob_), log_A=np.log(m.transmat_))

    def transcribe(self, y: np.ndarray, *, sr: int, words=None, word_prob: float = 1e-15) -> list[str]:
        """Connected words (e.g. a digit string) by Viterbi over a loop of word models and silence.

        Notebook: 04_hmm_word_recognition.ipynb

        The grammar "any word, any number of times, with optional silence between":
        one composite HMM whose states are the silence model's and every word
        model's states; from silence or a word's last state the path may enter
        any word's first state (total probability ``word_prob``, shared equally;
        a smaller value is a larger word-insertion penalty) or silence.
        :func:`viterbi` on the composite model gives the state path; each entry
        into a word's first state starts a new word.
        With a warp search (``warps``), every warped input is decoded and the path
        with the best log-probability per frame wins.

        Parameters
        ----------
        y : np.ndarray [shape=(n,)]
        sr : int
        words : iterable of str, optional
            The vocabulary of the loop (default: every trained label).
        word_prob : float in (0, 1)
            The word-insertion penalty, as a probability: every word the path enters
            costs ``log(word_prob / n_words)`` (1e-15 with ten digits: -36.8 nats).
            It looks tiny because the frames are 10 ms apart: a word's acoustic
            log-likelihood is a sum over dozens of frames, each worth several nats,
            and a penalty of ``log 0.05`` would let a stretch of one word split into
            two. 1e-15 was chosen on the *valid* voices' digit strings (WER 0.4 %,
            against 0.9-1.8 % at 1e-5, 1e-20, 1e-30, 1e-40; the test voices were not
            looked at).

        Returns
        -------
        list of str
            The recognised words in order (``metrics.wer(" ".join(ref), " ".join(hyp))`` scores it).
        """
        words = self._check_connected(self.labels_ if words is None else words)
        if not 0 < word_prob < 1:
            raise ParameterError(f"word_prob={word_prob!r} must be in (0, 1)")
        best = None
        for yw in self._warped(y, sr):                   # one pass unless there is a warp search
            X, _ = self._utterance_features(yw, sr)
            log_b, log_pi, log_A, starts, owner = _composite(self.silence_, [self.models_[w] for w in words],
                                                             X, word_prob)
            res = viterbi(log_b, log_pi=log_pi, log_A=log_A)
            if best is None or res.log_prob / len(X) > best[0]:
                best = (res.log_prob / len(X), res.path)
        path = best[1]
        out = []
        for t, s in enumerate(path):
            if s in starts and (t == 0 or path[t - 1] != s):
                out.append(words[owner[s]])
        return out

    def force_align(self, y: np.ndarray, *, sr: int, words) -> list[tuple[str, float, float]]:
        """Where each word of a known transcript was said: Viterbi through ``sil? w1 sil? w2 ... wk sil?``.

        Notebook: 04_hmm_word_recognition.ipynb

        Forced alignment, the step :meth:`embedded_train` repeats for every
        training utterance. Returns ``[(word, start_s, end_s), ...]`` in order
        (times in seconds, frame hop 10 ms); raises if the recording is too short
        to hold every state of every word.
        """
        words = self._check_connected([words] if isinstance(words, str) else words)
        X, _ = self._utterance_features(y, sr)
        best, owner = self._align_chain(X, words)
        if not np.isfinite(best.log_prob):
            raise ParameterError(f"{len(X)} frames cannot hold {len(words)} words' states: is this the right "
                                 f"recording for {' '.join(words)!r}?")
        hop = 80 / FEATURE_SR
        k_of = np.array([owner[s][0] for s in best.path])
        return [(w, float(np.flatnonzero(k_of == k)[0] * hop), float((np.flatnonzero(k_of == k)[-1] + 1) * hop))
                for k, w in enumerate(words)]

    def _check_connected(self, words) -> list:
        """What :meth:`transcribe`, :meth:`force_align` and :meth:`embedded_train` need: a fitted recogniser
        with a silence model, and ``words`` (non-empty) among its labels. Returns ``words`` as a list."""
        self._check_fitted()
        if self.silence_ is None:
            raise ParameterError("no silence model: fit() found no silence around the training words; "
                                 "train on recordings with leading/trailing silence")
        words = list(words)
        unknown = [w for w in words if w not in self.models_]
        if unknown or not words:
            raise ParameterError(f"words {unknown or words} are not trained labels {self.labels_}")
        return words

    def _align_chain(self, X, words):
        """Viterbi through :func:`_chain` of ``words``: ``(ViterbiResult, owner)``."""
        log_b, log_pi, log_A, owner = _chain(self.silence_, [self.models_[w] for w in words], X)
        return viterbi(log_b, log_pi=log_pi, log_A=log_A), owner

    def embedded_train(self, clips, *, n_iter: int = 3, progress: bool = False) -> "WordRecognizer":
        """Re-train the word and silence models on whole utterances with known transcripts (embedded training).

        Notebook: 04_hmm_word_recognition.ipynb

        :meth:`fit` trains each word on recordings of that word alone, cut out of
        its silence and normalised on its own; :meth:`transcribe` then meets words
        run together ("six three seven": co-articulated, pauses only here and
        there, normalised over the whole string). Embedded training (HTK's
        ``HERest``; here its Viterbi form) closes that gap: each utterance's
        transcript becomes one chain of models, ``sil? w1 sil? w2 ... wk sil?``
        (every silence optional), Viterbi through the chain says which frame
        belongs to which state of which word, and every state (and the silence
        model) is re-estimated from all the frames it got, across all the
        utterances; ``n_iter`` rounds of align-and-re-estimate. The models stay
        left-to-right (only self-loop and next-state probabilities are
        re-estimated), and start from what :meth:`fit` made.

        Parameters
        ----------
        clips : iterable of data.Clip
            ``.audio``, ``.sr`` and the words said: ``.text`` split on spaces
            (``data.digit_strings``: "six three seven"), or ``.label`` where there
            is no text (an isolated word). Every word needs a trained model. Include
            isolated words too, or the models forget how a word sounds alone.
            The recogniser's ``n_augment`` augmented copies of each are added, as in
            :meth:`fit`.
        n_iter : int
            Rounds of alignment and re-estimation.

        Returns
        -------
        self, with ``embedded_log_prob_``: the summed Viterbi log-probability of
        the utterances at each round's alignment (it should rise).
        """
        self._check_connected(self.labels_)
        if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
            raise ParameterError(f"n_iter={n_iter!r} must be a positive integer")
        cfg = self.config
        rng = np.random.default_rng(self.seed + 2000)
        utterances = []                                          # (features, words)
        for c in _maybe_tqdm(list(clips), progress, "utterances"):
            text = getattr(c, "text", None)
            said = text.split() if isinstance(text, str) and text.strip() else [getattr(c, "label", None)]
            unknown = [w for w in said if w not in self.models_]
            if unknown:
                raise ParameterError(f"clip {getattr(c, 'path', c)!r} says {unknown}, which have no model; "
                                     f"trained labels: {self.labels_}")
            utterances.append((self._utterance_features(c.audio, c.sr)[0], said))
            for _ in range(cfg.n_augment):
                y = cfg.augment(np.asarray(c.audio, dtype=np.float32), sr=c.sr, rng=rng)
                utterances.append((self._utterance_features(y, c.sr)[0], said))
        if not utterances:
            raise ParameterError("clips is empty: pass data.Clip records with .audio, .sr and .text or .label")
        self.embedded_log_prob_ = []
        for _ in _maybe_tqdm(range(n_iter), progress, "embedded training"):
            frames: dict = {}          # (word, state) or (None, state) for silence -> list of (n, D) arrays
            stays: dict = {}           # (word, state) -> [frames spent there, times entered]
            total = 0.0
            for X, said in utterances:
                best, owner = self._align_chain(X, said)
                if not np.isfinite(best.log_prob):               # fewer frames than the chain has states
                    continue
                total += best.log_prob
                entered = np.r_[True, best.path[1:] != best.path[:-1]]
                for s in np.unique(best.path):
                    k, state = owner[s]
                    at = best.path == s
                    key = (None if k < 0 else said[k], state)
                    frames.setdefault(key, []).append(X[at])
                    if k >= 0:
                        v = stays.setdefault(key, [0, 0])
                        v[0] += int(at.sum())
                        v[1] += int((at & entered).sum())
            self.embedded_log_prob_.append(total)
            for (word, state), xs in frames.items():
                m = self.silence_ if word is None else self.models_[word]
                x = np.concatenate(xs)
                if len(x) < 2 * m.n_mix:                         # too few frames: keep the state as it is
                    continue
                m.means_[state], m.covars_[state], m.weights_[state] = _fit_state_mixture(
                    x, m.means_[state].copy(), m.covars_[state].copy(), m.weights_[state].copy(),
                    var_floor=cfg.var_floor)
                if word is not None and state < m.n_components - 1:
                    n, entries = stays[(word, state)]
                    stay = float(np.clip(1.0 - entries / n, 0.05, 0.95))
                    m.transmat_[state, state], m.transmat_[state, state + 1] = stay, 1.0 - stay
        return self


def _exit_probability(m, *, word: bool) -> float:
    """How likely a block's last state is left at each frame, in :func:`_composite` and :func:`_chain`.

    A word's last state stays with the mean self-loop of its other states (clipped to 0.5..0.95; training
    sets the last state's own self-loop to 1); silence stays with 0.9.
    """
    if not word:
        return 0.1
    n = m.n_components
    stay = float(np.mean(np.diag(m.transmat_)[:-1])) if n > 1 else float(m.transmat_[0, 0])
    return 1.0 - min(max(stay, 0.5), 0.95)


def _chain(silence, models, X):
    """The HMM of one known word sequence, ``sil? w1 sil? w2 ... wk sil?``, for :meth:`WordRecognizer.embedded_train`.

    Every silence is optional: a word's last state moves on into the silence after it or straight into the
    next word, half and half; the chain starts in the first silence or the first word, and ends in the last
    silence or at the end of the last word. Returns ``log_b (T, S), log_pi (S,), log_A (S, S)`` and
    ``owner``: for each state, ``(k, state)`` with ``k`` the word's position in ``models`` or -1 for silence.
    """
    blocks = []                                              # (model, k): k = -1 for silence
    for k, m in enumerate(models):
        blocks += [(silence, -1), (m, k)]
    blocks.append((silence, -1))
    sizes = [m.n_components for m, _ in blocks]
    offsets = np.cumsum([0] + sizes)
    S = int(offsets[-1])
    log_b = np.concatenate([m._compute_log_likelihood(X) for m, _ in blocks], axis=1)
    A = np.zeros((S, S))
    for b, (m, k) in enumerate(blocks):
        o, n = offsets[b], sizes[b]
        A[o:o + n, o:o + n] = m.transmat_
        last = o + n - 1
        leave = _exit_probability(m, word=k >= 0)
        A[last, last] = 1.0 - leave
        if b + 1 == len(blocks):                             # the final silence: stay to the end
            A[last, last] = 1.0
        elif k < 0 or b + 2 == len(blocks):                  # silence -> next word; last word -> final silence
            A[last, offsets[b + 1]] += leave
        else:                                                # a word -> the silence after it, or the next word
            A[last, offsets[b + 1]] += leave / 2
            A[last, offsets[b + 2]] += leave / 2
    A /= A.sum(axis=1, keepdims=True)
    pi = np.zeros(S)
    pi[0] = pi[offsets[1]] = 0.5
    with np.errstate(divide="ignore"):
        log_A, log_pi = np.log(A), np.log(pi)
    end = np.full(S, -np.inf)
    end[[offsets[-1] - 1, offsets[-2] - 1]] = 0.0            # end in the last silence or the last word's last state
    log_b = log_b.copy()
    log_b[-1] += end
    owner = [(k, j) for (m, k), n in zip(blocks, sizes) for j in range(n)]
    return log_b, log_pi, log_A, owner


def _composite(silence, models, X, word_prob):
    """Composite HMM: silence + a loop over word models. Returns log_b (T, S), log_pi, log_A, starts, owner."""
    blocks = [silence] + list(models)
    sizes = [m.n_components for m in blocks]
    offsets = np.cumsum([0] + sizes)
    S = offsets[-1]
    log_b = np.concatenate([m._compute_log_likelihood(X) for m in blocks], axis=1)   # (T, S)
    A = np.zeros((S, S))
    n_words = len(models)
    word_starts = offsets[1:-1]
    exits = []   # (state, probability of leaving it)
    for k, m in enumerate(blocks):
        o, n = offsets[k], sizes[k]
        A[o:o + n, o:o + n] = m.transmat_
        last = o + n - 1
        leave = _exit_probability(m, word=k > 0)
        A[last, last] = 1.0 - leave
        exits.append((last, leave))
    for last, p in exits:
        A[last, word_starts] += p * word_prob / n_words
        A[last, 0] += p * (1 - word_prob)
    A /= A.sum(axis=1, keepdims=True)
    pi = np.zeros(S)
    pi[0] = 0.5
    pi[word_starts] = 0.5 / n_words
    with np.errstate(divide="ignore"):
        log_A, log_pi = np.log(A), np.log(pi)
    # the utterance must end in silence or at the end of a word
    finals = [offsets[k] + sizes[k] - 1 for k in range(len(blocks))]
    mask = np.full(S, -np.inf)
    mask[finals] = 0.0
    log_b = log_b.copy()
    log_b[-1] += mask
    owner = {int(s): i for i, s in enumerate(word_starts)}
    return log_b, log_pi, log_A, set(owner), owner


def _gaussian_occupancy(m, X) -> np.ndarray:
    """``gamma_t(j, k)``: the posterior probability that frame t is in state j and was drawn by its
    Gaussian k, under the hmmlearn GMM-HMM ``m`` (forward-backward x component responsibility): ``(T, N*M)``."""
    lc = _gmm_log_components(X, m.means_, m.covars_, m.weights_)              # (T, N, M)
    log_b = _logsumexp(lc, axis=2)                                              # (T, N)
    with np.errstate(divide="ignore"):
        gamma = posteriors(log_b, log_pi=np.log(m.startprob_), log_A=np.log(m.transmat_))
    return (gamma[:, :, None] * np.exp(lc - log_b[:, :, None])).reshape(len(X), -1)


def mllr_mean_transform(frames, occupancy, means, variances, *, prior_frames: float = 0.0) -> np.ndarray:
    """The MLLR mean transform: ``W`` of shape ``(D, D + 1)``, adapted mean ``W @ [1, mu] = b + A mu``.

    Notebook: 04_hmm_word_recognition.ipynb

    Maximises the expected log-likelihood of ``frames (T, D)`` under diagonal
    Gaussians with means ``W @ [1, mu_k]`` and the given ``variances``, where
    ``occupancy[t, k]`` is the probability that frame t belongs to Gaussian k
    (from forward-backward; the E-step). With diagonal covariances the rows of
    ``W`` separate (Leggetter & Woodland 1995): for each feature ``i``,

        w_i = G_i^{-1} k_i,   G_i = sum_k (n_k / var_ki) xi_k xi_k^T,   k_i = sum_k (s_ki / var_ki) xi_k,

    with ``xi_k = [1, mu_k]``, the occupancy ``n_k = sum_t occupancy[t, k]`` and
    the first-order statistic ``s_ki = sum_t occupancy[t, k] x_ti``.
    ``prior_frames``: pseudo-frames placed at every Gaussian's own mean, which
    the identity explains perfectly; they keep ``G_i`` invertible with little
    data and pull ``W`` towards ``[0 | I]``.

    Parameters
    ----------
    frames : np.ndarray [shape=(T, D)]
    occupancy : np.ndarray [shape=(T, K)], non-negative
    means, variances : np.ndarray [shape=(K, D)]
    prior_frames : float >= 0

    Returns
    -------
    W : np.ndarray [shape=(D, D + 1)]
    """
    X = _as_float_array(frames, "frames", 2)
    g = _as_float_array(occupancy, "occupancy", 2)
    mu = _as_float_array(means, "means", 2)
    var = _as_float_array(variances, "variances", 2)
    T, D = X.shape
    K = mu.shape[0]
    if g.shape != (T, K):
        raise ParameterError(f"occupancy has shape {g.shape}; expected (n_frames, n_gaussians) = {(T, K)}")
    if mu.shape[1] != D or var.shape != mu.shape:
        raise ParameterError(f"means {mu.shape} and variances {var.shape} must both be (n_gaussians, {D})")
    if np.any(g < 0) or np.any(var <= 0):
        raise ParameterError("occupancy must be >= 0 and variances > 0")
    if not (isinstance(prior_frames, (int, float)) and np.isfinite(prior_frames) and prior_frames >= 0):
        raise ParameterError(f"prior_frames={prior_frames!r} must be a number >= 0")
    n = g.sum(axis=0) + prior_frames                                    # (K,)
    s = g.T @ X + prior_frames * mu                                     # (K, D)
    xi = np.concatenate([np.ones((K, 1)), mu], axis=1)                  # (K, D + 1)
    G = np.einsum("kd,ka,kb->dab", n[:, None] / var, xi, xi)           # (D, D + 1, D + 1)
    k = np.einsum("kd,ka->da", s / var, xi)                             # (D, D + 1)
    if np.linalg.cond(G).max() > 1e12:
        raise ParameterError(f"{n.sum() - K * prior_frames:.0f} frames over {int(np.sum(g.sum(0) > 1e-3))} Gaussians "
                             f"cannot determine a {D} x {D + 1} transform: give more recordings, or prior_frames > 0")
    return np.linalg.solve(G, k[:, :, None])[:, :, 0]


def evaluate_adapted(recognizer, clips, *, n_iter: int = 3, prior_frames: float = 0.0,
                     progress: bool = False) -> Evaluation:
    """:func:`evaluate` with unsupervised speaker adaptation: for each speaker (``Clip.speaker``), adapt
    ``recognizer`` (:meth:`WordRecognizer.adapt`, no labels) on that speaker's clips, then recognise them.

    Notebook: 04_hmm_word_recognition.ipynb

    Batch adaptation, as a dictation system does after a user's first minutes:
    the recordings are used twice (to adapt, then to be recognised), never their labels.
    """
    clips = list(clips)
    if not clips:
        raise ParameterError("clips is empty")
    by_speaker: dict = {}
    for i, c in enumerate(clips):
        by_speaker.setdefault((c.speaker, c.sr), []).append(i)
    predictions = [None] * len(clips)
    for (_, sr), idx in _maybe_tqdm(list(by_speaker.items()), progress, "adapting per speaker"):
        adapted = recognizer.adapt([clips[i].audio for i in idx], sr=sr, n_iter=n_iter, prior_frames=prior_frames)
        for i in idx:
            predictions[i] = adapted.predict(clips[i].audio, sr=sr)
    return _score_predictions(clips, predictions)


class _quiet_hmmlearn:
    """Silence hmmlearn's convergence chatter (it logs through ``logging`` and warns on small data)."""

    def __enter__(self):
        import logging
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")
        self._logger = logging.getLogger("hmmlearn")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        self._logger.setLevel(self._level)
        return self._w.__exit__(*exc)


def _maybe_tqdm(it, progress, desc):
    if not progress:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, desc=desc)


# --------------------------------------------------------------------------- evaluation

class Evaluation(NamedTuple):
    """What :func:`evaluate` returns.

    Attributes
    ----------
    accuracy : float
        Over all clips.
    per_speaker : dict[str, float]
        Accuracy per voice (``Clip.speaker``), sorted by speaker id.
    confusion : np.ndarray [shape=(n_labels, n_labels), dtype=int]
        ``confusion[i, j]``: clips of ``labels[i]`` recognised as ``labels[j]``.
    labels : list[str]
    predictions : list[str]
        One per clip, in order.
    """
    accuracy: float
    per_speaker: dict
    confusion: np.ndarray
    labels: list
    predictions: list


def evaluate(recognizer, clips, *, progress: bool = False) -> Evaluation:
    """Recognise every clip and score it: overall, per voice, confusion matrix.

    Notebook: 04_hmm_word_recognition.ipynb

    ``recognizer`` is anything with ``predict(y, *, sr) -> label``
    (:class:`WordRecognizer`, :class:`DTWRecognizer`).
    """
    clips = list(clips)
    if not clips:
        raise ParameterError("clips is empty")
    preds = [recognizer.predict(c.audio, sr=c.sr) for c in _maybe_tqdm(clips, progress, "recognising")]
    return _score_predictions(clips, preds)


def _score_predictions(clips, preds) -> Evaluation:
    labels = sorted({c.label for c in clips} | set(preds))
    index = {lab: i for i, lab in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    hits: dict = {}
    for c, p in zip(clips, preds):
        confusion[index[c.label], index[p]] += 1
        hits.setdefault(c.speaker, []).append(p == c.label)
    per_speaker = {s: float(np.mean(h)) for s, h in sorted(hits.items(), key=lambda kv: str(kv[0]))}
    accuracy = float(np.trace(confusion) / confusion.sum())
    return Evaluation(accuracy, per_speaker, confusion, labels, preds)


# --------------------------------------------------------------------------- dynamic time warping

class DTWResult(NamedTuple):
    """What :func:`dtw` returns.

    Attributes
    ----------
    cost : float
        Total cost of the best alignment, ``D[-1, -1]``.
    path : np.ndarray [shape=(K, 2), dtype=int]
        Pairs ``(i, j)`` from ``(0, 0)`` to ``(n-1, m-1)``.
    D : np.ndarray [shape=(n, m)]
        Accumulated cost matrix.
    C : np.ndarray [shape=(n, m)]
        Local cost matrix (Euclidean distance between frames).
    """
    cost: float
    path: np.ndarray
    D: np.ndarray
    C: np.ndarray


def _accumulate(C: np.ndarray) -> np.ndarray:
    """``D[i, j] = C[i, j] + min(D[i-1, j-1], D[i-1, j], D[i, j-1])``, one vectorised row at a time.

    Within a row the horizontal step makes ``D[i, j]`` depend on ``D[i, j-1]``;
    unrolled, ``D[i, j] = min_k (a_k + C[i, k+1] + ... + C[i, j])`` with
    ``a_k = C[i, k] + min(D[i-1, k-1], D[i-1, k])``, which is a running
    minimum of ``a - cumsum(C[i])`` plus ``cumsum(C[i])``.
    """
    n, m = C.shape
    D = np.empty((n, m))
    D[0] = np.cumsum(C[0])
    for i in range(1, n):
        up = D[i - 1]
        diag = np.r_[np.inf, up[:-1]]
        a = C[i] + np.minimum(up, diag)
        cum = np.cumsum(C[i])
        D[i] = np.minimum.accumulate(a - cum) + cum
    return D


def dtw(X: np.ndarray, Y: np.ndarray) -> DTWResult:
    """Dynamic time warping between two feature sequences: the template matcher before HMMs.

    Notebook: 04_hmm_word_recognition.ipynb

    Local cost ``C[i, j] = ||X[i] - Y[j]||``; steps (1, 1), (0, 1), (1, 0)
    with weight 1; the best path from ``(0, 0)`` to ``(n-1, m-1)`` by dynamic
    programming. Equal to ``librosa.sequence.dtw(X.T, Y.T)`` (``D``, and its
    path ``wp[::-1]``).

    Parameters
    ----------
    X : np.ndarray [shape=(n, d)]
    Y : np.ndarray [shape=(m, d)]
        Sequences, one row per frame (``features.to_sequence`` layout).

    Returns
    -------
    DTWResult
        ``cost``, ``path (K, 2)``, ``D (n, m)``, ``C (n, m)``.

    Examples
    --------
    >>> r = dtw(np.array([[0.], [1.], [2.]]), np.array([[0.], [0.], [1.], [2.]]))
    >>> r.cost, r.path.tolist()
    (0.0, [[0, 0], [0, 1], [1, 2], [2, 3]])
    """
    import scipy.spatial.distance

    X = _as_float_array(X, "X", 2)
    Y = _as_float_array(Y, "Y", 2)
    if X.shape[1] != Y.shape[1] or not len(X) or not len(Y):
        raise ParameterError(f"X {X.shape} and Y {Y.shape} must be non-empty (n_frames, n_features) "
                             f"sequences with the same number of features")
    C = scipy.spatial.distance.cdist(X, Y)                      # (n, m)
    D = _accumulate(C)
    i, j = len(X) - 1, len(Y) - 1
    path = [(i, j)]
    while i > 0 or j > 0:   # backtrace; on ties prefer diagonal, then horizontal, then vertical (librosa's order)
        options = [(i - 1, j - 1), (i, j - 1), (i - 1, j)]
        costs = [D[a, b] if a >= 0 and b >= 0 else np.inf for a, b in options]
        i, j = options[int(np.argmin(costs))]
        path.append((i, j))
    return DTWResult(float(D[-1, -1]), np.array(path[::-1], dtype=np.intp), D, C)


class DTWRecognizer:
    """Nearest-template word recogniser by :func:`dtw` (the baseline for :class:`WordRecognizer`).

    Notebook: 04_hmm_word_recognition.ipynb

    Keeps up to ``n_templates`` training recordings per word (from as many
    different voices as possible, chosen with ``seed``) and labels a new
    recording with the word of the template at the smallest DTW cost,
    normalised by ``n + m`` so that long words are not penalised.
    Features: :func:`word_features`.
    """

    def __init__(self, *, n_templates: int = 5, seed: int = 0):
        if isinstance(n_templates, bool) or not isinstance(n_templates, (int, np.integer)) or n_templates < 1:
            raise ParameterError(f"n_templates={n_templates!r} must be a positive integer")
        self.n_templates = int(n_templates)
        self.seed = seed
        self.templates_: list = []

    def fit(self, clips) -> "DTWRecognizer":
        rng = np.random.default_rng(self.seed)
        by_label: dict = {}
        for c in clips:
            by_label.setdefault(c.label, []).append(c)
        if not by_label:
            raise ParameterError("clips is empty")
        self.templates_ = []
        for label, cs in sorted(by_label.items()):
            order = rng.permutation(len(cs))
            chosen, voices = [], set()
            for k in order:   # first one per voice, then the rest
                if cs[k].speaker not in voices:
                    chosen.append(int(k))
                    voices.add(cs[k].speaker)
            chosen += [int(k) for k in order if k not in chosen]
            for k in chosen[: self.n_templates]:
                self.templates_.append((label, word_features(cs[k].audio, sr=cs[k].sr)))
        return self

    def predict(self, y: np.ndarray, *, sr: int) -> str:
        import scipy.spatial.distance

        if not self.templates_:
            raise ParameterError("this DTWRecognizer is not trained yet: call .fit(clips) first")
        X = word_features(y, sr=sr)
        best, best_label = np.inf, None
        for label, T in self.templates_:
            cost = _accumulate(scipy.spatial.distance.cdist(X, T))[-1, -1] / (len(X) + len(T))
            if cost < best:
                best, best_label = cost, label
        return best_label
