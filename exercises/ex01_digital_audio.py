# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex01`.
"""Exercise 01 — digital audio: quantisation, levels in dBFS, aliasing.

Notebook: 01_digital_audio.ipynb

Fill in the three functions below, then run ``course check ex01``.
Use NumPy only. Bad input must raise ``ValueError`` (``ParameterError`` is one)
with a message that names the argument.
"""

import numpy as np

from course_lib.errors import ParameterError


def quantize(y, *, bits):
    """Quantise ``y`` with a mid-rise uniform quantiser of ``2**bits`` levels over [-1, 1).

    Notebook: 01_digital_audio.ipynb

    The range [-1, 1) is cut into ``L = 2**bits`` cells of width
    ``step = 2 / L``; cell ``k = floor((y + 1) / step)`` (``k = 0 .. L-1``) is
    represented by its midpoint ``-1 + (k + 0.5) * step``. "Mid-rise" means
    there is no level at 0: the two levels nearest zero are ``±step/2``.
    Values outside the range are clipped to the first or last cell (so 1.0
    gives the top level ``1 - step/2``).

    Parameters
    ----------
    y : np.ndarray [shape=(...)] or array-like of float
        Samples, any shape, normally in [-1, 1].
    bits : int
        Bits per sample, 1 to 32.

    Returns
    -------
    np.ndarray [shape=y.shape], float64
        The quantised samples (still floats, in (-1, 1)).

    Raises
    ------
    ValueError
        ``bits`` is not an integer in [1, 32], or ``y`` is not numeric or holds NaN / Inf.

    Examples
    --------
    >>> quantize(np.array([-1.0, -0.5, 0.0, 0.5, 1.0]), bits=2)
    array([-0.75, -0.25,  0.25,  0.75,  0.75])
    """
    raise NotImplementedError()


def rms_dbfs(y):
    """Root-mean-square level in dB relative to full scale (amplitude 1.0).

    Notebook: 01_digital_audio.ipynb

    ``rms = sqrt(mean(y**2))`` over all samples, and the level is
    ``20 * log10(rms)``. So a constant 1.0 (or a ±1 square wave) reads 0 dBFS
    and a full-scale sine reads 20·log10(1/√2) ≈ -3.01 dBFS (some meters add
    3.01 dB so that the sine reads 0; we do not). Digital silence (all zeros)
    reads ``-inf`` (no error: silence is a valid signal).

    Parameters
    ----------
    y : np.ndarray [shape=(...)] or array-like of float
        Samples, any shape, at least one sample.

    Returns
    -------
    float
        The level in dBFS; ``-inf`` for silence.

    Raises
    ------
    ValueError
        ``y`` is empty, not numeric, or holds NaN / Inf.

    Examples
    --------
    >>> rms_dbfs(np.full(100, 0.5))
    -6.020599913279624
    """
    raise NotImplementedError()


def aliased_frequency(f, *, sr):
    """The frequency (Hz) a sinusoid of frequency ``f`` appears at after sampling at ``sr``.

    Notebook: 01_digital_audio.ipynb

    Sampling cannot tell ``f`` from ``f + m·sr`` (any integer ``m``) nor,
    for a real signal, from ``-f``. The apparent frequency is the one of those
    that lies in [0, sr/2]: ``r = |f| mod sr``, then ``min(r, sr - r)``
    (fold about the Nyquist frequency ``sr/2``). Frequencies already in
    [0, sr/2] are unchanged; ``sr/2`` itself stays ``sr/2``.

    Parameters
    ----------
    f : float or np.ndarray [shape=(...)]
        Frequency or frequencies in Hz (negative values are allowed: a real
        sinusoid at -f is the one at f).
    sr : float
        Sample rate in Hz, > 0.

    Returns
    -------
    float or np.ndarray [shape=f.shape]
        A float for a scalar ``f``, else an array of floats, in [0, sr/2].

    Raises
    ------
    ValueError
        ``sr`` is not a positive finite number, or ``f`` is not finite.

    Examples
    --------
    >>> aliased_frequency(900.0, sr=1000)
    100.0
    """
    raise NotImplementedError()


def _as_float_array(x, name):
    """``x`` as a float64 array, or ParameterError naming ``name`` (given, not an exercise)."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be numeric, got {type(x).__name__}") from None
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} contains NaN or Inf; pass finite values")
    return arr
