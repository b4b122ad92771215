# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex06`.
"""Exercise 06 — attention: scaled dot-product attention with a mask, sinusoidal positions, padding masks.

Notebook: 06_transformer_asr.ipynb

Fill in the three functions below with NumPy only (no torch, no ``course_lib``).
Each docstring says what your answer must equal. Check your work with::

    course check ex06

Conventions (the same as ``course_lib.asr.transformer`` and
``torch.nn.functional.scaled_dot_product_attention``):

- sequences are batch-first: ``(..., time, feature)``;
- a mask is boolean and ``True`` where attention is *allowed* (a real frame,
  or an earlier character); ``False`` where it is forbidden (padding, the future).
"""

from __future__ import annotations

import numpy as np

__all__ = ["attention", "sinusoidal_encoding", "padding_mask"]


def attention(q, k, v, *, mask=None):
    """Scaled dot-product attention: ``softmax(q kᵀ / sqrt(d_k)) v``.

    Each query's weights are a softmax over the keys (the last axis of the
    scores); a key whose mask entry is ``False`` gets weight exactly 0. Subtract
    each row's maximum score before ``exp`` so that large scores do not overflow.

    Parameters
    ----------
    q : np.ndarray [shape=(..., n_queries, d_k)]
    k : np.ndarray [shape=(..., n_keys, d_k)]
    v : np.ndarray [shape=(..., n_keys, d_v)]
    mask : np.ndarray [shape broadcastable to (..., n_queries, n_keys), dtype=bool], optional
        ``True`` = may attend. Every query has at least one allowed key.

    Returns
    -------
    output : np.ndarray [shape=(..., n_queries, d_v)]
        Equal to ``torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)``.
    weights : np.ndarray [shape=(..., n_queries, n_keys)]
        Each row sums to 1.

    Examples
    --------
    >>> q = np.zeros((2, 1)); k = np.ones((3, 1)); v = np.array([[0.0], [3.0], [6.0]])
    >>> out, w = attention(q, k, v, mask=np.array([[True, True, False], [True, True, True]]))
    >>> out.ravel().tolist(), w[0].tolist()
    ([1.5, 3.0], [0.5, 0.5, 0.0])
    """
    raise NotImplementedError()


def sinusoidal_encoding(n_positions, d_model):
    """The Transformer's sinusoidal position table (Vaswani et al. 2017).

    ``PE[t, 2i] = sin(t / 10000^(2i / d_model))`` and
    ``PE[t, 2i + 1] = cos(t / 10000^(2i / d_model))`` for ``t = 0 .. n_positions - 1``
    and ``i = 0 .. d_model / 2 - 1``: row ``t`` is the vector added to frame ``t``.

    Parameters
    ----------
    n_positions : int >= 1
    d_model : int, even

    Returns
    -------
    np.ndarray [shape=(n_positions, d_model)]

    Raises
    ------
    ValueError
        If ``d_model`` is odd (sin and cos come in pairs).

    Examples
    --------
    >>> sinusoidal_encoding(2, 4).round(4).tolist()
    [[0.0, 1.0, 0.0, 1.0], [0.8415, 0.5403, 0.01, 1.0]]
    """
    raise NotImplementedError()


def padding_mask(lengths, *, max_len=None):
    """A ``(batch, max_len)`` boolean mask: ``True`` on the first ``lengths[b]`` frames of row ``b``.

    Parameters
    ----------
    lengths : sequence of int [shape=(batch,)]
        Valid frames of each sequence (>= 0).
    max_len : int, optional
        Width of the mask (default ``max(lengths)``).

    Returns
    -------
    np.ndarray [shape=(batch, max_len), dtype=bool]

    Raises
    ------
    ValueError
        If ``max_len`` is shorter than the longest sequence.

    Examples
    --------
    >>> padding_mask([3, 1]).astype(int).tolist()
    [[1, 1, 1], [1, 0, 0]]
    """
    raise NotImplementedError()
