"""Small signal-processing facts the first chapter demonstrates: aliasing and quantisation.

Notebook: 01_digital_audio.ipynb

Pure NumPy, no plotting: :mod:`course_lib.widgets` draws these numbers and
the notebooks assert them.

- :func:`apparent_frequency`: where a sinusoid lands after sampling (folding
  into ``[0, sr/2]``).
- :func:`quantization_curves`: uniform mid-rise quantisation to ``2**bits``
  levels, its error and the measured SNR beside the ``6.02·bits + 1.76`` dB
  rule of thumb.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .errors import ParameterError
from .validation import check_sr, valid_audio

__all__ = ["apparent_frequency", "signed_alias", "check_bits", "QuantizationCurves", "quantization_curves"]


# --------------------------------------------------------------------------- aliasing

def signed_alias(f: float, sr: int) -> float:
    """The frequency in [-sr/2, sr/2] that has the same samples as ``f``: ``f - sr·round(f/sr)``.

    >>> signed_alias(900.0, 1000)
    -100.0
    """
    return float(f - sr * np.round(f / sr))


def apparent_frequency(f, *, sr) -> float:
    """The frequency (Hz, in ``[0, sr/2]``) a sinusoid of frequency ``f`` appears at after sampling.

    Notebook: 01_digital_audio.ipynb

    Sampling cannot tell ``f`` from ``f ± k·sr`` (for any integer ``k``) nor
    from ``-f``, so it folds every frequency into ``[0, sr/2]``:
    ``|f - sr·round(f / sr)|``.

    Parameters
    ----------
    f : float >= 0
        Frequency of the sinusoid in Hz.
    sr : int > 0
        Sample rate in Hz (see :func:`~course_lib.validation.check_sr`).

    Returns
    -------
    float

    >>> apparent_frequency(900.0, sr=1000)
    100.0
    >>> apparent_frequency(300.0, sr=1000)
    300.0
    """
    sr = check_sr(sr)
    if isinstance(f, bool) or not isinstance(f, numbers.Real) or not np.isfinite(f) or f < 0:
        raise ParameterError(f"f={f!r} must be a non-negative, finite frequency in Hz")
    return float(abs(signed_alias(float(f), sr)))


# --------------------------------------------------------------------------- quantisation

def check_bits(bits) -> int:
    """Return ``bits`` as an int if it is a bit depth from 1 to 32, else raise."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 32:
        raise ParameterError(f"bits={bits!r} must be an integer from 1 to 32")
    return int(bits)


class QuantizationCurves(NamedTuple):
    """What :func:`quantization_curves` returns."""

    y: np.ndarray      # (n,) the input
    y_q: np.ndarray    # (n,) quantised with 2**bits levels
    error: np.ndarray  # (n,) y_q - y
    snr_db: float      # 10·log10(Σy² / Σerror²)
    theory_db: float   # 6.02·bits + 1.76, the full-scale-sine rule of thumb
    step: float        # Δ = 2 / 2**bits


def quantization_curves(y, *, bits) -> QuantizationCurves:
    """Quantise ``y`` uniformly (mid-rise, ``2**bits`` levels over [-1, 1)) and measure the SNR.

    Notebook: 01_digital_audio.ipynb

    Level ``k`` is ``-1 + (k + ½)Δ`` with ``Δ = 2 / 2**bits``; each sample
    goes to the level of the cell it falls in, samples at or above 1 to the
    top level. For a full-scale sine the error is close to uniform on
    ``[-Δ/2, Δ/2]``, which gives the rule of thumb ``SNR ≈ 6.02·bits + 1.76`` dB.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], float
    bits : int in 1..32

    Returns
    -------
    QuantizationCurves

    Examples
    --------
    >>> quantization_curves(np.array([-1.0, 0.1, 0.9]), bits=2).y_q
    array([-0.75,  0.25,  0.75])
    """
    valid_audio(y)
    bits = check_bits(bits)
    x = np.asarray(y, dtype=np.float64)
    levels = 2 ** bits
    step = 2.0 / levels
    k = np.clip(np.floor((x + 1.0) / step), 0, levels - 1)
    y_q = -1.0 + (k + 0.5) * step
    error = y_q - x
    signal_energy = float(np.sum(x ** 2))
    error_energy = float(np.sum(error ** 2))
    if error_energy == 0:
        snr = float("inf")
    elif signal_energy == 0:
        snr = float("-inf")
    else:
        snr = float(10.0 * np.log10(signal_energy / error_energy))
    return QuantizationCurves(y=x, y_q=y_q, error=error, snr_db=snr,
                              theory_db=6.02 * bits + 1.76, step=step)
