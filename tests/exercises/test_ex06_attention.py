"""Checks for exercise 06 (scaled dot-product attention with a mask, sinusoidal positions, a padding mask).

Notebook: 06_transformer_asr.ipynb

Expected values come from references, not from the solution: attention outputs from
``torch.nn.functional.scaled_dot_product_attention`` in float64 and attention weights
from a softmax written as loops over every (query, key); the position table from the
formula evaluated element by element with ``math.sin`` / ``math.cos``; the padding
mask from loops. Run with ``course check ex06`` (learner) or pytest (``--impl solutions``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex06_attention"


def _torch_attention(q, k, v, mask=None):
    t = [torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (q, k, v)]
    m = None if mask is None else torch.from_numpy(np.asarray(mask, dtype=bool))
    return torch.nn.functional.scaled_dot_product_attention(*t, attn_mask=m).numpy()


def _loop_weights(q, k, mask=None):
    """Softmax over keys, one (query, key) pair at a time, for 2-D q (n_q, d) and k (n_k, d)."""
    n_q, n_k = q.shape[0], k.shape[0]
    w = np.zeros((n_q, n_k))
    for i in range(n_q):
        s = [sum(q[i, d] * k[j, d] for d in range(q.shape[1])) / math.sqrt(q.shape[1]) for j in range(n_k)]
        allowed = [j for j in range(n_k) if mask is None or mask[i, j]]
        top = max(s[j] for j in allowed)
        z = sum(math.exp(s[j] - top) for j in allowed)
        for j in allowed:
            w[i, j] = math.exp(s[j] - top) / z
    return w


def _expected(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    out = _torch_attention(q, k, v, mask)
    if q.ndim == 2:
        w = _loop_weights(q, k, None if mask is None else np.broadcast_to(mask, (q.shape[0], k.shape[0])))
    else:                                         # (B, H, Tq, d): loop over the leading axes
        full = None if mask is None else np.broadcast_to(mask, q.shape[:-1] + (k.shape[-2],))
        w = np.zeros(q.shape[:-1] + (k.shape[-2],))
        for idx in np.ndindex(*q.shape[:-2]):
            w[idx] = _loop_weights(q[idx], k[idx], None if full is None else full[idx])
    return out, w


def _attention_compare(got, expected, args, kwargs):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise AssertionError("attention must return two arrays: (output, weights)")
    out, w = (np.asarray(g, dtype=np.float64) for g in got)
    if out.shape != expected[0].shape:
        raise AssertionError(f"output has shape {out.shape}, expected {expected[0].shape} (..., n_queries, d_v)")
    if w.shape != expected[1].shape:
        raise AssertionError(f"weights have shape {w.shape}, expected {expected[1].shape} (..., n_queries, n_keys)")
    if not np.all(np.isfinite(out)):
        raise AssertionError("output has NaN or inf: subtract each row's maximum score before exp")
    np.testing.assert_allclose(w, expected[1], rtol=1e-9, atol=1e-12,
                               err_msg="weights differ from a softmax over the keys of q·k/sqrt(d_k)")
    np.testing.assert_allclose(out, expected[0], rtol=1e-9, atol=1e-12,
                               err_msg="output differs from torch's scaled_dot_product_attention")


def _loop_pe(T, D):
    pe = np.zeros((T, D))
    for t in range(T):
        for i in range(D // 2):
            pe[t, 2 * i] = math.sin(t / 10000 ** (2 * i / D))
            pe[t, 2 * i + 1] = math.cos(t / 10000 ** (2 * i / D))
    return pe


def _loop_mask(lengths, max_len):
    return np.array([[t < n for t in range(max_len)] for n in lengths], dtype=bool)


def _mask_compare(got, expected, args, kwargs):
    got = np.asarray(got)
    if got.dtype != bool:
        raise AssertionError(f"the mask must be boolean, got dtype {got.dtype}")
    if got.shape != expected.shape:
        raise AssertionError(f"the mask has shape {got.shape}, expected {expected.shape} (batch, max_len)")
    np.testing.assert_array_equal(got, expected)


_rng = np.random.default_rng(6)
_Q, _K, _V = _rng.normal(size=(4, 8)), _rng.normal(size=(6, 8)), _rng.normal(size=(6, 3))
_Q4, _K4, _V4 = _rng.normal(size=(2, 3, 5, 4)), _rng.normal(size=(2, 3, 7, 4)), _rng.normal(size=(2, 3, 7, 2))
_PAD = _loop_mask([7, 3], 7)[:, None, None, :]                    # (batch, 1, 1, n_keys): padded keys
_CAUSAL = np.tril(np.ones((6, 6), dtype=bool))
_QS, _KS = _rng.normal(size=(6, 8)), _rng.normal(size=(6, 8))
_BIG = 400.0 * _rng.normal(size=(3, 4))                           # scores of ~1e5: exp overflows unshifted
_ROWMASK = np.array([[True, True, False], [True, True, True]])

CHECKS = [
    # ---------------------------------------------------------------- attention
    Check("attention", args=(np.zeros((2, 1)), np.ones((3, 1)), np.array([[0.0], [3.0], [6.0]])),
          kwargs={"mask": _ROWMASK}, expected=(np.array([[1.5], [3.0]]), np.array([[0.5, 0.5, 0], [1, 1, 1]]) / [[1], [3]]),
          compare=_attention_compare, name="equal scores: the mean of the allowed values (docstring example)"),
    Check("attention", args=(_Q, _K, _V), expected=_expected(_Q, _K, _V), compare=_attention_compare,
          name="4 queries, 6 keys, d_k=8, no mask (= torch, softmax over keys, scaled by sqrt(d_k))"),
    Check("attention", args=(_Q4, _K4, _V4), kwargs={"mask": _PAD}, expected=_expected(_Q4, _K4, _V4, _PAD),
          compare=_attention_compare, name="(batch, heads, time, d) with padded keys: padding gets weight 0"),
    Check("attention", args=(_QS, _KS, _V), kwargs={"mask": _CAUSAL}, expected=_expected(_QS, _KS, _V, _CAUSAL),
          compare=_attention_compare, name="causal mask: query i sees keys 0..i only"),
    Check("attention", args=(_BIG, _BIG, _V[:3]), expected=_expected(_BIG, _BIG, _V[:3]),
          compare=_attention_compare, name="huge scores: no overflow (subtract the row maximum)"),
    # ---------------------------------------------------------------- sinusoidal_encoding
    Check("sinusoidal_encoding", args=(2, 4), expected=_loop_pe(2, 4), rtol=1e-9, atol=1e-12,
          name="2 positions, d_model=4: row 0 is (0, 1, 0, 1)"),
    Check("sinusoidal_encoding", args=(50, 16), expected=_loop_pe(50, 16), rtol=1e-9, atol=1e-12,
          name="50 positions, d_model=16 (row t = frame t; sin on even, cos on odd columns)"),
    Check("sinusoidal_encoding", args=(7, 2), expected=_loop_pe(7, 2), rtol=1e-9, atol=1e-12,
          name="d_model=2: sin t and cos t"),
    Check("sinusoidal_encoding", args=(5, 3), raises=ValueError, name="odd d_model -> ValueError"),
    # ---------------------------------------------------------------- padding_mask
    Check("padding_mask", args=([3, 1, 0],), expected=_loop_mask([3, 1, 0], 3), compare=_mask_compare,
          name="lengths [3, 1, 0] -> (3, 3) mask"),
    Check("padding_mask", args=([2, 4],), kwargs={"max_len": 6}, expected=_loop_mask([2, 4], 6),
          compare=_mask_compare, name="max_len=6 pads the mask to 6 columns"),
    Check("padding_mask", args=([5],), expected=_loop_mask([5], 5), compare=_mask_compare,
          name="one full-length sequence -> all True"),
    Check("padding_mask", args=([2, 4],), kwargs={"max_len": 3}, raises=ValueError,
          name="max_len shorter than the longest sequence -> ValueError"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
