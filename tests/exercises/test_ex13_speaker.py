"""Checks for exercise 13 (equal error rate, statistics pooling, cosine score, MAP adaptation).

Notebook: 13_speaker_recognition.ipynb

Expected values: ``course_lib.speaker.eer`` (tested against a brute-force sweep in
tests/test_speaker.py), ``speaker.stats_pool`` on a torch tensor (float64),
``speaker.cosine_scores``, ``speaker.map_adapt_means`` (tested against the formula on
scikit-learn's posteriors). Float64: ``rtol=1e-9`` (MAP: 1e-7, a different but equivalent
order of operations).
"""

from __future__ import annotations

import numpy as np
import torch

from course_lib import speaker
from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex13_speaker"

_rng = np.random.default_rng(13)

_S1 = np.round(np.concatenate([_rng.normal(1.5, 1, 40), _rng.normal(0, 1, 200)]), 3)
_L1 = np.concatenate([np.ones(40), np.zeros(200)]).astype(int)
_S2 = np.round(np.concatenate([_rng.normal(1, 1, 30), _rng.normal(0, 1, 30)]), 0)   # many ties
_L2 = np.concatenate([np.ones(30), np.zeros(30)]).astype(int)
_S3 = np.round(_rng.normal(0, 1, 25), 3)
_L3 = (_rng.random(25) < 0.3).astype(int)


def _eer(s, lab):
    return speaker.eer(s, lab).eer


_H1 = np.round(_rng.normal(size=(3, 4, 10)), 3)
_LEN1 = np.array([10, 4, 1])
_H2 = np.round(_rng.normal(2, 3, size=(2, 6, 7)), 3)


def _pool(h, lengths=None):
    """speaker.stats_pool (torch), except where it floors the variance at 1e-6 (one valid frame)."""
    ht = torch.tensor(h, dtype=torch.float64)
    out = speaker.stats_pool(ht, None if lengths is None else torch.tensor(lengths)).numpy()
    c = h.shape[1]
    out[:, c:][out[:, c:] <= 1e-3 + 1e-12] = 0.0
    return out


_A = np.round(_rng.normal(size=16), 3)
_B = np.round(_A + _rng.normal(0, 0.5, 16), 3)

_W = np.array([0.5, 0.3, 0.2])
_MU = np.round(_rng.normal(0, 2, (3, 4)), 3)
_VAR = np.round(_rng.uniform(0.5, 2.0, (3, 4)), 3)
_X = np.round(_rng.normal(1, 1, (30, 4)), 3)
_XFAR = _X + 40.0                               # far from every component: tiny likelihoods


def _map(X, r=16.0):
    return speaker.map_adapt_means(X, _W, _MU, _VAR, relevance=r)


CHECKS = [
    # ---------------------------------------------------------------- eer
    Check("eer", args=([3.0, 2.0, 1.0, 0.0], [1, 1, 0, 0]), expected=0.0, atol=1e-12,
          name="perfectly separated (the docstring example)"),
    Check("eer", args=([0.9, 0.8, 0.3, 0.4, 0.1], [1, 1, 1, 0, 0]), expected=_eer([0.9, 0.8, 0.3, 0.4, 0.1],
                                                                                  [1, 1, 1, 0, 0]),
          rtol=1e-9, name="five trials: the rates cross between steps"),
    Check("eer", args=(_S1, _L1), expected=_eer(_S1, _L1), rtol=1e-9, name="40 target and 200 non-target scores"),
    Check("eer", args=(_S2, _L2), expected=_eer(_S2, _L2), rtol=1e-9,
          name="integer scores: many ties (accept when score >= threshold)"),
    Check("eer", args=(_S3, _L3), expected=_eer(_S3, _L3), rtol=1e-9, name="random scores and labels"),
    Check("eer", args=([1.0, 2.0], [1, 1]), raises=ValueError, name="only target trials"),
    # ---------------------------------------------------------------- stats_pool
    Check("stats_pool", args=(np.array([[[1.0, 3.0, 100.0]]]),), kwargs={"lengths": np.array([2])},
          expected=np.array([[2.0, 1.0]]), rtol=1e-9, name="the docstring example: the padded 100 is ignored"),
    Check("stats_pool", args=(_H1,), kwargs={"lengths": _LEN1}, expected=_pool(_H1, _LEN1), rtol=1e-6, atol=1e-6,
          name="3 items of 10, 4 and 1 valid frames (one frame: std 0)"),
    Check("stats_pool", args=(_H2,), expected=_pool(_H2), rtol=1e-6, atol=1e-6, name="no lengths: every frame"),
    Check("stats_pool", args=(_H2[0],), raises=ValueError, name="a 2-D array"),
    # ---------------------------------------------------------------- cosine_score
    Check("cosine_score", args=(np.array([1.0, 0.0]), np.array([3.0, 3.0])), expected=2 ** -0.5, rtol=1e-9,
          name="the docstring example: 45 degrees"),
    Check("cosine_score", args=(_A, _B), expected=float(speaker.cosine_scores(_A[None], _B[None])[0]), rtol=1e-9,
          name="two 16-d embeddings"),
    Check("cosine_score", args=(_A, -3 * _A), expected=-1.0, rtol=1e-9, name="opposite directions, any length"),
    Check("cosine_score", args=(_A, _B[:8]), raises=ValueError, name="different sizes"),
    # ---------------------------------------------------------------- map_adapt_means
    Check("map_adapt_means", args=(np.array([[2.0]]), np.array([1.0]), np.array([[0.0]]), np.array([[1.0]])),
          kwargs={"relevance": 1.0}, expected=np.array([[1.0]]), rtol=1e-9, name="one component, one frame"),
    Check("map_adapt_means", args=(_X, _W, _MU, _VAR), expected=_map(_X), rtol=1e-7, atol=1e-9,
          name="3 components, 30 frames, relevance 16"),
    Check("map_adapt_means", args=(_X, _W, _MU, _VAR), kwargs={"relevance": 2.0}, expected=_map(_X, 2.0),
          rtol=1e-7, atol=1e-9, name="relevance 2: the means move further"),
    Check("map_adapt_means", args=(_X[:3], _W, _MU, _VAR), expected=_map(_X[:3]), rtol=1e-7, atol=1e-9,
          name="3 frames: the means hardly move"),
    Check("map_adapt_means", args=(_XFAR, _W, _MU, _VAR), expected=_map(_XFAR), rtol=1e-7, atol=1e-9,
          name="frames far from every component (log-domain posteriors needed)"),
]

assert np.all(np.isfinite(CHECKS[-1].expected))

test_checks = pytest_checks(EXERCISE, CHECKS)
