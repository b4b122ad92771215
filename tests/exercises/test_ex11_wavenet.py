"""Checks for exercise 11 (mu-law, the receptive field, a causal dilated convolution).

Notebook: 11_wavenet.ipynb

Expected values come from torchaudio (``mu_law_encoding`` / ``mu_law_decoding``, in
float64 here so the two computations agree to rounding: class indices exactly,
samples to ``rtol=1e-9``), from ``torch.nn.functional.conv1d`` on the input padded on
the left only (the causal convolution, float64: ``rtol=1e-9``), and from the formula
``1 + (k - 1) sum(d)`` checked by hand on small stacks. The learner's code never
imports torch; the grader computes these references.
"""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex11_wavenet"

_rng = np.random.default_rng(11)
_X = np.concatenate([_rng.uniform(-1, 1, 500), _rng.standard_normal(100) * 1e-3, [-1.0, 0.0, 1.0]])
_Q = _rng.integers(0, 256, 300)


def _ta_encode(x, mu=255):
    return torchaudio.functional.mu_law_encoding(torch.from_numpy(np.asarray(x, dtype=np.float64)), mu + 1).numpy()


def _ta_decode(q, mu=255):
    return torchaudio.functional.mu_law_decoding(torch.from_numpy(np.asarray(q, dtype=np.float64)), mu + 1).numpy()


def _torch_causal(x, w, d):
    k = len(w)
    xt = torch.nn.functional.pad(torch.tensor(x, dtype=torch.float64)[None, None], ((k - 1) * d, 0))
    return torch.nn.functional.conv1d(xt, torch.tensor(w, dtype=torch.float64)[None, None], dilation=d)[0, 0].numpy()


_SIG = _rng.standard_normal(64)
_W2 = np.array([0.7, -1.3])
_W3 = np.array([0.5, -0.25, 2.0])
_IMPULSE = np.zeros(20)
_IMPULSE[5] = 1.0

CHECKS = [
    # ---------------------------------------------------------------- mu_law_encode
    Check("mu_law_encode", args=([-1.0, 0.0, 1.0],), expected=np.array([0, 128, 255]),
          name="the docstring example: -1, 0, 1 -> 0, 128, 255"),
    Check("mu_law_encode", args=(_X,), expected=_ta_encode(_X), rtol=0, atol=0,
          name="603 samples (uniform, quiet and the extremes) equal torchaudio.functional.mu_law_encoding"),
    Check("mu_law_encode", args=(_X[:50],), kwargs={"mu": 15}, expected=_ta_encode(_X[:50], 15), rtol=0, atol=0,
          name="mu=15 (16 classes) equals torchaudio with 16 channels"),
    Check("mu_law_encode", args=([0.001, 0.01, 0.1],), expected=_ta_encode([0.001, 0.01, 0.1]), rtol=0, atol=0,
          name="quiet samples get fine steps: 0.001 is already 4 classes above silence"),
    # ---------------------------------------------------------------- mu_law_decode
    Check("mu_law_decode", args=([0, 255],), expected=np.array([-1.0, 1.0]), rtol=1e-12,
          name="the docstring example"),
    Check("mu_law_decode", args=(_Q,), expected=_ta_decode(_Q), rtol=1e-9, atol=1e-12,
          name="300 random classes equal torchaudio.functional.mu_law_decoding"),
    Check("mu_law_decode", args=(np.arange(16),), kwargs={"mu": 15}, expected=_ta_decode(np.arange(16), 15),
          rtol=1e-9, atol=1e-12, name="mu=15: all 16 classes"),
    # ---------------------------------------------------------------- receptive_field
    Check("receptive_field", args=(2, [1, 2, 4, 8]), expected=16, name="the docstring example"),
    Check("receptive_field", args=(2, [2 ** i for i in range(10)]), expected=1024,
          name="kernel 2, dilations 1..512: 1024 samples (64 ms at 16 kHz)"),
    Check("receptive_field", args=(3, [1, 2, 4]), expected=15, name="kernel 3, dilations 1, 2, 4: 1 + 2*7"),
    Check("receptive_field", args=(2, [1, 2, 4, 1, 2, 4]), expected=15,
          name="two cycles of 1, 2, 4: the cycles add up"),
    Check("receptive_field", args=(1, [1, 8]), expected=1, name="kernel 1 (a 1x1 convolution) sees one sample"),
    # ---------------------------------------------------------------- causal_dilated_conv
    Check("causal_dilated_conv", args=([1.0, 2.0, 3.0, 4.0], [10.0, 1.0], 2), expected=np.array([1.0, 2, 13, 24]),
          name="the docstring example"),
    Check("causal_dilated_conv", args=(_SIG, _W2, 1), expected=_torch_causal(_SIG, _W2, 1), rtol=1e-9, atol=1e-12,
          name="kernel 2, dilation 1 equals torch conv1d padded on the left"),
    Check("causal_dilated_conv", args=(_SIG, _W3, 4), expected=_torch_causal(_SIG, _W3, 4), rtol=1e-9, atol=1e-12,
          name="kernel 3, dilation 4 equals torch conv1d padded on the left"),
    Check("causal_dilated_conv", args=(_IMPULSE, _W3, 3), expected=_torch_causal(_IMPULSE, _W3, 3), rtol=1e-9,
          atol=1e-12, name="an impulse at t=5: output only at t=5, 8, 11 (nothing before it: causal)"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
