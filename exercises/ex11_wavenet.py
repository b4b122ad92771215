# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex11`.
"""Exercise 11 — WaveNet: mu-law companding, the receptive field, a causal dilated convolution.

Notebook: 11_wavenet.ipynb

Fill in the four functions below with NumPy only (no torch, no torchaudio, no
``course_lib.tts``). Check your work with::

    course check ex11

Conventions (``course_lib.tts.wavenet``'s, which equal torchaudio's):

- mu-law with ``mu = 255``: 256 integer classes ``0 .. 255``, class 128 is silence;
- a causal convolution of kernel ``k`` and dilation ``d`` reads the current sample and
  ``k - 1`` past samples ``d`` apart, with zeros before the start, and returns as many
  samples as it was given.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mu_law_encode", "mu_law_decode", "receptive_field", "causal_dilated_conv"]


def mu_law_encode(x, mu=255):
    """Compand ``x`` in [-1, 1] and quantise it to the integer classes ``0 .. mu``.

    ``f = sign(x) ln(1 + mu |x|) / ln(1 + mu)`` (in [-1, 1]), then
    ``q = floor((f + 1) / 2 * mu + 0.5)`` (``np.floor`` or ``.astype(np.int64)``: the value is
    never negative).

    Parameters
    ----------
    x : array-like [shape=(n,)], floats in [-1, 1]
    mu : int

    Returns
    -------
    np.ndarray [shape=(n,), dtype=int64]

    Examples
    --------
    >>> mu_law_encode([-1.0, 0.0, 1.0])
    array([  0, 128, 255])
    """
    raise NotImplementedError()


def mu_law_decode(q, mu=255):
    """The inverse of :func:`mu_law_encode`: classes back to samples in [-1, 1].

    ``f = 2 q / mu - 1``, then ``x = sign(f) ((1 + mu) ** |f| - 1) / mu``.

    Parameters
    ----------
    q : array-like [shape=(n,)], integers in ``0 .. mu``
    mu : int

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float64]

    Examples
    --------
    >>> mu_law_decode([0, 255])
    array([-1.,  1.])
    """
    raise NotImplementedError()


def receptive_field(kernel_size, dilations):
    """How many input samples one output of a stack of causal dilated convolutions sees.

    Each layer (kernel ``k``, dilation ``d``) reaches ``(k - 1) d`` samples further into
    the past than the layer below it; the output itself sees the current sample.

    Parameters
    ----------
    kernel_size : int >= 1
    dilations : sequence of int >= 1
        One per layer.

    Returns
    -------
    int

    Examples
    --------
    >>> receptive_field(2, [1, 2, 4, 8])
    16
    """
    raise NotImplementedError()


def causal_dilated_conv(x, w, dilation=1):
    """A causal dilated convolution of one channel: ``y[t] = sum_j w[j] x[t - (k - 1 - j) d]``.

    ``w[-1]`` multiplies the current sample ``x[t]``, ``w[-2]`` the sample ``d`` earlier, and
    so on (the order of ``torch.nn.Conv1d``'s weights); samples before the start are zero.
    The output has exactly ``len(x)`` samples and ``y[t]`` never depends on ``x[t + 1:]``.

    Parameters
    ----------
    x : array-like [shape=(n,)]
    w : array-like [shape=(k,)]
    dilation : int >= 1

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float64]

    Examples
    --------
    >>> causal_dilated_conv([1.0, 2.0, 3.0, 4.0], [10.0, 1.0], dilation=2)
    array([ 1.,  2., 13., 24.])
    """
    raise NotImplementedError()
