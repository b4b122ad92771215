"""Checks for exercise 12 (guided attention, location-sensitive energies, the stop rule).

Notebook: 12_tacotron2.ipynb

Expected answers come from ``course_lib.tts.tacotron2`` (its ``guided_attention`` and the torch
attention module of the chapter's model, with the same weights), computed here in the grading
process; the learner's code never imports torch. Small cases are worked out by hand.
Run with ``course check ex12`` (learner) or pytest (``--impl solutions``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from course_lib.grading.checks import Check, pytest_checks
from course_lib.tts import tacotron2 as tc

EXERCISE = "ex12_tacotron"


def _energies_case(seed, *, N=7, Q=6, A=5, F=3, K=5, previous=None, cumulative=None):
    """Arguments for location_energies and the chapter model's answer with the same weights."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    cfg = tc.Tacotron2Config(attention_rnn_dim=Q, attention_dim=A, location_filters=F, location_kernel=K,
                             embed_dim=4)
    att = tc._Attention(cfg).double()
    query = rng.normal(size=Q)
    pm = rng.normal(size=(N, A))
    if previous is None:
        previous = rng.dirichlet(np.ones(N))
    if cumulative is None:
        cumulative = previous + rng.dirichlet(np.ones(N)) * 2
    with torch.no_grad():
        e = att.energies(torch.from_numpy(query)[None], torch.from_numpy(pm)[None],
                         torch.from_numpy(np.stack([previous, cumulative]))[None])[0].numpy()
    kwargs = {"W_query": att.query_layer.weight.detach().numpy().copy(),
              "filters": att.location_conv.weight.detach().numpy().copy(),
              "W_location": att.location_dense.weight.detach().numpy().copy(),
              "v": att.v.weight.detach().numpy()[0].copy()}
    return (query, pm, np.asarray(previous, float), np.asarray(cumulative, float)), kwargs, e


_E1 = _energies_case(1)
_E2 = _energies_case(2, N=12, K=7, F=4)
_ONEHOT = np.eye(9)[2]
_E3 = _energies_case(3, N=9, previous=_ONEHOT, cumulative=_ONEHOT + np.eye(9)[1] + np.eye(9)[0])
_E4 = _energies_case(4, N=3, K=7)                  # kernel wider than the text: padding matters


def _g(n, t, N, T, g=0.2):
    return 1 - math.exp(-((n / N - t / T) ** 2) / (2 * g * g))


CHECKS = [
    # ---------------------------------------------------------------- guided_attention_weights
    Check("guided_attention_weights", args=(2, 2), expected=np.array([[0.0, _g(1, 0, 2, 2)], [_g(0, 1, 2, 2), 0.0]]),
          rtol=1e-9, name="2 x 2: zero on the diagonal, 1 - exp(-0.25 / 0.08) off it"),
    Check("guided_attention_weights", args=(7, 12), expected=tc.guided_attention(7, 12), rtol=1e-9, atol=1e-15,
          name="7 characters, 12 steps: shape (n_frames, n_text) = (12, 7)"),
    Check("guided_attention_weights", args=(30, 11), kwargs={"g": 0.4}, expected=tc.guided_attention(30, 11, g=0.4),
          rtol=1e-9, atol=1e-15, name="g=0.4 widens the band"),
    Check("guided_attention_weights", args=(5, 1), expected=tc.guided_attention(5, 1), rtol=1e-9, atol=1e-15,
          name="one decoder step: row t = 0"),
    # ---------------------------------------------------------------- location_energies
    Check("location_energies", args=_E1[0], kwargs=_E1[1], expected=_E1[2], rtol=1e-9, atol=1e-12,
          name="7 characters, K=5, 3 filters (= the chapter's attention module)"),
    Check("location_energies", args=_E2[0], kwargs=_E2[1], expected=_E2[2], rtol=1e-9, atol=1e-12,
          name="12 characters, K=7, 4 filters"),
    Check("location_energies", args=_E3[0], kwargs=_E3[1], expected=_E3[2], rtol=1e-9, atol=1e-12,
          name="one-hot previous weights, cumulative differs from previous (both rows are used)"),
    Check("location_energies", args=_E4[0], kwargs=_E4[1], expected=_E4[2], rtol=1e-9, atol=1e-12,
          name="3 characters, K=7: zero padding on both sides"),
    # ---------------------------------------------------------------- stop_step
    Check("stop_step", args=([-3.0, -1.0, 2.0, 5.0],), kwargs={"max_steps": 10}, expected=3,
          name="fires at the third step (sigmoid(2) = 0.88) -> 3 steps"),
    Check("stop_step", args=([4.0, -5.0],), kwargs={"max_steps": 10}, expected=1, name="fires at once -> 1 step"),
    Check("stop_step", args=([-3.0] * 20,), kwargs={"max_steps": 7}, expected=7,
          name="never fires -> cut off at max_steps"),
    Check("stop_step", args=([-3.0] * 8 + [3.0],), kwargs={"max_steps": 5}, expected=5,
          name="fires only after the cap -> max_steps"),
    Check("stop_step", args=([-3.0, 0.0, 0.5],), kwargs={"max_steps": 9}, expected=3,
          name="probability exactly 0.5 does not exceed the threshold"),
    Check("stop_step", args=([0.0, 1.0, 1.5, 3.0],), kwargs={"threshold": 0.8, "max_steps": 9}, expected=3,
          name="threshold=0.8: sigmoid(1.5) = 0.818 is the first above it -> 3 steps"),
    Check("stop_step", args=([0.0, 1.0, 1.5, 3.0],), kwargs={"threshold": 0.9, "max_steps": 9}, expected=4,
          name="threshold=0.9: only sigmoid(3) = 0.953 is above it -> 4 steps"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
