"""Checks for exercise 17 (Markov transition matrix, temperature / top-k distribution, pitch classes, Karplus-Strong).

Notebook: 17_music_generation.ipynb

Expected values: transition counts by a plain double loop over pairs
(``_brute_counts``), the softmax written out from its definition, pitch-class
sums by a loop, and ``course_lib.music.generate.karplus_strong``'s recursion
evaluated sample by sample (``_ks_loop``). Also the token sequences of a real
corpus composition. Float64 throughout: ``rtol=1e-9``.
"""

from __future__ import annotations

import numpy as np

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex17_music_gen"

_rng = np.random.default_rng(17)


def _brute_counts(seqs, n, alpha):
    C = np.zeros((n, n))
    for s in seqs:
        for i in range(len(s) - 1):
            C[s[i], s[i + 1]] += 1
    A = np.empty((n, n))
    for i in range(n):
        tot = C[i].sum() + alpha * n
        A[i] = (C[i] + alpha) / tot if tot > 0 else 1.0 / n
    return A


_S1 = [[0, 1, 1, 0]]
_S2 = [list(_rng.integers(0, 6, int(n))) for n in (30, 1, 12, 25)]          # a 1-token sequence has no pairs
_S3 = [[0, 1, 2], [2, 0]]                                                   # state 3 never occurs


def _softmax_def(z, T, k):
    z = np.array(z, dtype=float)
    if k is not None:
        keep = z >= np.sort(z)[::-1][k - 1]
        z = np.where(keep, z, -np.inf)
    if T == 0:
        p = np.zeros(len(z))
        p[int(np.argmax(z))] = 1
        return p
    e = np.array([0.0 if v == -np.inf else np.exp(v / T - np.max(z) / T) for v in z])
    return e / e.sum()


_L = np.log(np.array([0.4, 0.25, 0.2, 0.1, 0.05]))
_BIG = np.array([1000.0, 999.0, 990.0, -5.0])
_TIE = np.array([2.0, 1.0, 1.0, 0.0])
_RND = np.round(_rng.normal(0, 2, 40), 3)

_P = [60, 62, 64, 65, 67, 69, 71, 72, 48, 55]
_D = list(np.round(_rng.uniform(0.1, 1.0, len(_P)), 3))


def _pch(p, d):
    h = np.zeros(12)
    for a, b in zip(p, d):
        h[a % 12] += b
    return h / sum(d)


def _ks_loop(burst, n, decay):
    N = len(burst)
    y = np.zeros(n)
    for i in range(n):
        x = burst[i] if i < N else 0.0
        y[i] = x + decay * ((y[i - N] if i - N >= 0 else 0.0) + (y[i - N - 1] if i - N - 1 >= 0 else 0.0)) / 2
    return y


_BURST = np.round(_rng.uniform(-1, 1, 50), 4)
_BURST2 = np.round(_rng.uniform(-1, 1, 7), 4)

CHECKS = [
    # ---------------------------------------------------------------- transition_matrix
    Check("transition_matrix", args=(_S1, 2), expected=np.array([[0.0, 1.0], [0.5, 0.5]]),
          name="the docstring example"),
    Check("transition_matrix", args=(_S2, 6), kwargs={"alpha": 0.5}, expected=_brute_counts(_S2, 6, 0.5), rtol=1e-9,
          name="4 random sequences over 6 states, alpha=0.5 (pairs never span two sequences)"),
    Check("transition_matrix", args=(_S3, 4), expected=_brute_counts(_S3, 4, 0.0), rtol=1e-9,
          name="alpha=0: a state never followed by anything gets a uniform row"),
    Check("transition_matrix", args=(_S3, 4), kwargs={"alpha": 1.0}, expected=_brute_counts(_S3, 4, 1.0), rtol=1e-9,
          name="alpha=1 (Laplace)"),
    Check("transition_matrix", args=([[0, 5]], 3), raises=ValueError, name="token 5 with 3 states is rejected"),
    # ---------------------------------------------------------------- sampling_distribution
    Check("sampling_distribution", args=(_L,), expected=_softmax_def(_L, 1.0, None), rtol=1e-9,
          name="temperature 1: the distribution the logits came from"),
    Check("sampling_distribution", args=(_L,), kwargs={"temperature": 0.5}, expected=_softmax_def(_L, 0.5, None),
          rtol=1e-9, name="temperature 0.5 sharpens"),
    Check("sampling_distribution", args=(_RND,), kwargs={"temperature": 2.0, "top_k": 5},
          expected=_softmax_def(_RND, 2.0, 5), rtol=1e-9, name="40 logits, temperature 2, top-5"),
    Check("sampling_distribution", args=(_BIG,), kwargs={"temperature": 0.1}, expected=_softmax_def(_BIG, 0.1, None),
          rtol=1e-9, name="logits near 1000 at temperature 0.1: subtract the maximum or overflow"),
    Check("sampling_distribution", args=(_TIE,), kwargs={"top_k": 2}, expected=_softmax_def(_TIE, 1.0, 2),
          rtol=1e-9, name="top-2 with a tie at the 2nd value: both tied tokens are kept"),
    Check("sampling_distribution", args=(_L,), kwargs={"temperature": 0}, expected=np.eye(5)[0],
          name="temperature 0: all the probability on the argmax"),
    Check("sampling_distribution", args=(_L,), kwargs={"temperature": -1.0}, raises=ValueError,
          name="a negative temperature is rejected"),
    # ---------------------------------------------------------------- pitch_class_histogram
    Check("pitch_class_histogram", args=([60, 64, 72], [1.0, 0.5, 0.5]),
          expected=np.array([0.75, 0, 0, 0, 0.25, 0, 0, 0, 0, 0, 0, 0]), name="the docstring example"),
    Check("pitch_class_histogram", args=(_P, _D), expected=_pch(_P, _D), rtol=1e-9,
          name="a C major scale with a bass: octaves fold onto one class"),
    Check("pitch_class_histogram", args=([61, 73, 49], [1.0, 1.0, 2.0]), expected=np.eye(12)[1], rtol=1e-9,
          name="three C#s in three octaves"),
    Check("pitch_class_histogram", args=([60, 62], [1.0]), raises=ValueError,
          name="two pitches and one duration are rejected"),
    # ---------------------------------------------------------------- karplus_strong
    Check("karplus_strong", args=(np.array([1.0, 0.0]), 6), kwargs={"decay": 1.0},
          expected=np.array([1.0, 0.0, 0.5, 0.5, 0.25, 0.5]), rtol=1e-9, name="the docstring example"),
    Check("karplus_strong", args=(_BURST, 2000), kwargs={"decay": 0.996}, expected=_ks_loop(_BURST, 2000, 0.996),
          rtol=1e-9, atol=1e-12, name="a 50-sample burst (441 Hz at 22.05 kHz), 2000 samples"),
    Check("karplus_strong", args=(_BURST2, 300), kwargs={"decay": 0.9}, expected=_ks_loop(_BURST2, 300, 0.9),
          rtol=1e-9, atol=1e-12, name="a 7-sample burst, decay 0.9"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
