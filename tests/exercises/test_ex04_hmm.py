"""Checks for exercise 04 (left-to-right transition matrix, forward algorithm, Viterbi).

Notebook: 04_hmm_word_recognition.ipynb

Expected values come from hmmlearn's compiled kernels (``_hmmc.forward_log``,
``_hmmc.viterbi``, the code behind ``score`` and ``decode``) on the same
arrays; both sides are exact float64 computations, so ``rtol=1e-9``.
Models are small (3-4 states) so a failure message stays readable.
"""

from __future__ import annotations

import numpy as np
from hmmlearn import _hmmc

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex04_hmm"

_rng = np.random.default_rng(4)


def _model(N, rng, *, zeros=False):
    pi = rng.dirichlet(np.ones(N))
    A = rng.dirichlet(np.ones(N), size=N)
    if zeros:   # a left-to-right model: impossible transitions and starts are -inf in the log domain
        A = np.triu(A)
        A /= A.sum(axis=1, keepdims=True)
        pi = np.eye(N)[0]
    with np.errstate(divide="ignore"):
        return pi, A, np.log(pi), np.log(A)


# an ergodic 3-state model, 6 frames
_PI, _A, _LPI, _LA = _model(3, _rng)
_LB = np.round(np.log(_rng.uniform(0.05, 1.0, (6, 3))), 4)
# a 4-state left-to-right model (with -inf), 9 frames
_PI2, _A2, _LPI2, _LA2 = _model(4, _rng, zeros=True)
_LB2 = np.round(np.log(_rng.uniform(0.05, 1.0, (9, 4))), 4)
# a long utterance: 400 frames of log-likelihood around -900 (probabilities ~1e-391, 0.0 in float64)
_PI3, _A3, _LPI3, _LA3 = _model(3, _rng)
_LB3 = -900.0 + 20.0 * _rng.standard_normal((400, 3))


def _fwd(lb, pi, A):
    ll, alpha = _hmmc.forward_log(pi, A, lb)
    return (alpha, ll)


def _vit(lb, pi, A):
    ll, path = _hmmc.viterbi(pi, A, lb)
    return (path.astype(int), ll)


CHECKS = [
    # ---------------------------------------------------------------- left_to_right
    Check("left_to_right", args=(3,), kwargs={"self_loop": 0.6},
          expected=np.array([[0.6, 0.4, 0.0], [0.0, 0.6, 0.4], [0.0, 0.0, 1.0]]),
          name="3 states, self_loop=0.6 (the docstring example)"),
    Check("left_to_right", args=(5,), kwargs={"self_loop": 0.25},
          expected=np.diag([0.25] * 4 + [1.0]) + np.diag([0.75] * 4, k=1),
          name="5 states, self_loop=0.25: 0.75 to the next state, the last state absorbs"),
    Check("left_to_right", args=(1,), kwargs={"self_loop": 0.5}, expected=np.array([[1.0]]),
          name="a single state always stays"),
    Check("left_to_right", args=(3,), kwargs={"self_loop": 1.0}, raises=ValueError,
          name="self_loop=1 (a state you can never leave) is rejected"),
    # ---------------------------------------------------------------- forward
    Check("forward", args=(_LB,), kwargs={"log_pi": _LPI, "log_A": _LA}, expected=_fwd(_LB, _PI, _A),
          rtol=1e-9, name="3 states, 6 frames, every transition possible: (log_alpha, log_likelihood)"),
    Check("forward", args=(_LB2,), kwargs={"log_pi": _LPI2, "log_A": _LA2}, expected=_fwd(_LB2, _PI2, _A2),
          rtol=1e-9, name="4-state left-to-right model (log_A and log_pi contain -inf), 9 frames"),
    Check("forward", args=(_LB3,), kwargs={"log_pi": _LPI3, "log_A": _LA3}, expected=_fwd(_LB3, _PI3, _A3),
          rtol=1e-9, name="400 frames with log_b ~ -900: only a max-shifted logsumexp survives (no underflow)"),
    Check("forward", args=(_LB,), kwargs={"log_pi": _LPI, "log_A": _LA[:2]}, raises=ValueError,
          name="log_A of shape (2, 3) for 3 states is rejected"),
    # ---------------------------------------------------------------- viterbi
    Check("viterbi", args=(_LB,), kwargs={"log_pi": _LPI, "log_A": _LA}, expected=_vit(_LB, _PI, _A),
          rtol=1e-9, name="3 states, 6 frames: (path, log_prob)"),
    Check("viterbi", args=(_LB2,), kwargs={"log_pi": _LPI2, "log_A": _LA2}, expected=_vit(_LB2, _PI2, _A2),
          rtol=1e-9, name="4-state left-to-right model: the path starts in state 0 and never goes back"),
    Check("viterbi", args=(_LB3,), kwargs={"log_pi": _LPI3, "log_A": _LA3}, expected=_vit(_LB3, _PI3, _A3),
          rtol=1e-9, name="400 frames with log_b ~ -900"),
    Check("viterbi", args=(_LB[0],), kwargs={"log_pi": _LPI, "log_A": _LA}, raises=ValueError,
          name="a 1-D log_b is rejected (it must be (T, N))"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
