"""Checks for exercise 05 (CTC: the extended label sequence, collapsing, the α recursion).

Notebook: 05_ctc_asr.ipynb

Expected log-likelihoods come from ``torch.nn.functional.ctc_loss`` (float64,
reduction="sum"), computed here in the grading process; the learner's code never
imports torch. Small cases are also worked out by hand.
Run with ``course check ex05`` (learner) or pytest (``--impl solutions``).
"""

from __future__ import annotations

import numpy as np
import torch

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex05_ctc"


def _log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def _torch_ll(lp, targets, blank=0):
    loss = torch.nn.functional.ctc_loss(
        torch.from_numpy(lp)[:, None], torch.tensor([list(targets)], dtype=torch.long).reshape(1, -1),
        torch.tensor([lp.shape[0]]), torch.tensor([len(targets)]), blank=blank, reduction="sum")
    return -float(loss)


_rng = np.random.default_rng(5)
_LP = np.round(_log_softmax(_rng.normal(scale=2.0, size=(8, 4))), 4)
_LP = _log_softmax(_LP)                                   # rows sum to one again after rounding
_LONG = _log_softmax(_rng.normal(scale=1.0, size=(1500, 6)))   # a product of 1500 probabilities underflows
_LONG_TARGET = [1, 2, 3, 4, 5] * 20
_HALF = np.log(np.full((2, 2), 0.5))
_BLANK_LAST = _log_softmax(_rng.normal(size=(7, 4)))

CHECKS = [
    # ---------------------------------------------------------------- extend_with_blanks
    Check("extend_with_blanks", args=([3, 3, 5],), expected=np.array([0, 3, 0, 3, 0, 5, 0]),
          name="[3, 3, 5] -> blank, 3, blank, 3, blank, 5, blank"),
    Check("extend_with_blanks", args=([],), expected=np.array([0]), name="empty transcript -> (blank,)"),
    Check("extend_with_blanks", args=([1, 2],), kwargs={"blank": 9}, expected=np.array([9, 1, 9, 2, 9]),
          name="blank=9 is used as the separator"),
    # ---------------------------------------------------------------- collapse
    Check("collapse", args=([1, 1, 0, 1, 2, 2, 0],), expected=[1, 1, 2],
          name="1 1 - 1 2 2 - -> [1, 1, 2]: the blank keeps the two 1s apart"),
    Check("collapse", args=([2, 2, 2, 2],), expected=[2], name="a run of one label -> one label"),
    Check("collapse", args=([0, 0, 0],), expected=[], name="only blanks -> empty"),
    Check("collapse", args=([3, 0, 3, 3, 1],), kwargs={"blank": 3}, expected=[0, 1],
          name="blank=3: 3 is the blank, 0 is a label"),
    # ---------------------------------------------------------------- ctc_log_likelihood
    Check("ctc_log_likelihood", args=(_HALF, [1]), expected=float(np.log(0.75)), rtol=1e-9,
          name="2 frames, p=1/2 each: paths '1 1', '- 1', '1 -' -> log 3/4"),
    Check("ctc_log_likelihood", args=(_LP, [1, 2, 3]), expected=_torch_ll(_LP, [1, 2, 3]), rtol=1e-9,
          name="8 frames, targets [1, 2, 3] (= -torch ctc_loss)"),
    Check("ctc_log_likelihood", args=(_LP, [2, 2]), expected=_torch_ll(_LP, [2, 2]), rtol=1e-9,
          name="repeated label [2, 2]: the blank between them cannot be skipped (= torch)"),
    Check("ctc_log_likelihood", args=(_LP, []), expected=float(_LP[:, 0].sum()), rtol=1e-9,
          name="empty transcript: every frame is a blank"),
    Check("ctc_log_likelihood", args=(_LP[:2], [1, 1]), expected=-np.inf,
          name="2 frames cannot hold '1 - 1' -> -inf (torch: inf loss)"),
    Check("ctc_log_likelihood", args=(_BLANK_LAST, [0, 1, 0]), kwargs={"blank": 3},
          expected=_torch_ll(_BLANK_LAST, [0, 1, 0], blank=3), rtol=1e-9,
          name="blank=3, targets [0, 1, 0] (= torch with blank=3)"),
    Check("ctc_log_likelihood", args=(_LONG, _LONG_TARGET), expected=_torch_ll(_LONG, _LONG_TARGET),
          rtol=1e-9, name="1500 frames, 100 labels: finite only in log space (= torch)"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
