# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex10`.
"""Exercise 10 — super-resolution: hold and linear upsampling with the exact length, log-spectral distance.

Notebook: 10_super_resolution.ipynb

Fill in the three functions below with NumPy only (no scipy, no librosa, no
``course_lib.superres``). Check your work with::

    course check ex10

Conventions (``course_lib.superres``'s):

- upsampling by an integer ``factor`` returns exactly ``len(y) * factor`` samples;
- output sample ``j`` lies at input position ``j / factor``; past the last input
  sample the last value is held;
- signals are 1-D float arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["zero_order_hold", "linear_upsample", "log_spectral_distance"]


def _check(y, factor):
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D signal, got shape {y.shape}")
    if isinstance(factor, bool) or int(factor) != factor or factor < 1:
        raise ValueError(f"factor={factor!r} must be a positive integer")
    return y, int(factor)


def zero_order_hold(y, factor):
    """Repeat every sample ``factor`` times (a staircase).

    Parameters
    ----------
    y : array-like [shape=(n,)]
    factor : int >= 1

    Returns
    -------
    np.ndarray [shape=(n * factor,)]

    Raises
    ------
    ValueError
        If ``y`` is not a non-empty 1-D signal or ``factor`` is not a positive integer.

    Examples
    --------
    >>> zero_order_hold([1.0, 2.0], 3)
    array([1., 1., 1., 2., 2., 2.])
    """
    raise NotImplementedError()


def linear_upsample(y, factor):
    """Straight lines between neighbouring samples; exactly ``len(y) * factor`` samples.

    Output sample ``j`` is at input position ``t = j / factor``: between ``y[i]`` and
    ``y[i + 1]`` with ``i = floor(t)`` it is ``y[i] + (t - i) (y[i + 1] - y[i])``;
    after the last sample (``i = n - 1``) it holds ``y[n - 1]``.

    Parameters
    ----------
    y : array-like [shape=(n,)]
    factor : int >= 1

    Returns
    -------
    np.ndarray [shape=(n * factor,)]

    Raises
    ------
    ValueError
        As :func:`zero_order_hold`.

    Examples
    --------
    >>> linear_upsample([0.0, 1.0, 3.0], 2)
    array([0. , 0.5, 1. , 2. , 3. , 3. ])
    """
    raise NotImplementedError()


def log_spectral_distance(reference, estimate, *, n_fft=2048, hop_length=512, eps=1e-10):
    """Log-spectral distance (Kuleshov et al. 2017), in log10-power units.

    With ``X(l, k) = log10(|STFT(x)(l, k)|² + eps)`` for frame ``l`` and bin ``k``:
    ``LSD = mean over frames l of sqrt(mean over bins k of (X(l, k) - X̂(l, k))²)``.

    Use this STFT (no centring, no padding): frame ``l`` is
    ``x[l * hop_length : l * hop_length + n_fft]`` times a periodic Hann window
    ``0.5 - 0.5 cos(2 pi m / n_fft)``, ``m = 0 .. n_fft - 1``, then ``np.fft.rfft``;
    frames that would run past the end are dropped.

    Parameters
    ----------
    reference, estimate : array-like [shape=(n,)]
        The same length, at least ``n_fft`` samples.
    n_fft, hop_length : int
    eps : float
        Added to the power before the log, so silent bins stay finite.

    Returns
    -------
    float, >= 0 (0 for identical signals)

    Raises
    ------
    ValueError
        If the lengths differ or the signals are shorter than ``n_fft``.
    """
    raise NotImplementedError()
