# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex09`.
"""Exercise 09 — speech enhancement: mixing at an SNR, the spectral-subtraction gain, SI-SDR.

Notebook: 09_enhancement.ipynb

Fill in the three functions below with NumPy only (no ``course_lib``, no
scipy). Check your work with::

    course check ex09

Conventions: signals are 1-D float arrays ``(n,)``; spectrograms are
``(n_freq, n_frames)``; SNRs are in dB, ``10·log10`` of an energy ratio.
Raise ``ValueError`` (with a message that says what is wrong) for input the
docstring rules out.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mix_at_snr", "subtraction_gain", "si_sdr"]


def mix_at_snr(clean, noise, *, snr_db):
    """Add ``noise`` to ``clean`` scaled so that the mixture has exactly ``snr_db``.

    With ``E_s = Σ clean²`` and ``E_n = Σ noise²`` the noise is multiplied by
    ``g = sqrt(E_s / (E_n · 10^(snr_db / 10)))``, so that
    ``10·log10(Σ clean² / Σ (g·noise)²) = snr_db``.

    Parameters
    ----------
    clean, noise : np.ndarray [shape=(n,)]
        Same length.
    snr_db : float

    Returns
    -------
    np.ndarray [shape=(n,)]
        ``clean + g · noise``.

    Raises
    ------
    ValueError
        Different lengths, or ``clean`` or ``noise`` all zeros.

    Examples
    --------
    >>> mix_at_snr(np.array([1.0, 1.0]), np.array([1.0, -1.0]), snr_db=20.0)
    array([1.1, 0.9])
    """
    raise NotImplementedError()


def subtraction_gain(power, noise_power, *, alpha=2.0, beta=0.02):
    """Power spectral subtraction gain with over-subtraction ``alpha`` and floor ``beta``.

    For every bin: ``S² = max(P − alpha·λ, beta·λ)`` and ``G = min(sqrt(S² / P), 1)``,
    where ``P = power`` (``|Y|²``) and ``λ = noise_power`` (broadcast over frames).
    A bin with ``P = 0`` gets ``G = 0``.

    Parameters
    ----------
    power : np.ndarray [shape=(n_freq, n_frames)]
    noise_power : np.ndarray [shape=(n_freq, 1) or (n_freq, n_frames)]
    alpha, beta : float >= 0

    Returns
    -------
    np.ndarray [shape=(n_freq, n_frames)], values in [0, 1]

    Raises
    ------
    ValueError
        ``alpha`` or ``beta`` negative.

    Examples
    --------
    >>> subtraction_gain(np.array([[4.0, 1.0]]), np.array([[1.0]]), alpha=1.0, beta=0.25)
    array([[0.8660254, 0.5      ]])
    """
    raise NotImplementedError()


def si_sdr(reference, estimate):
    """Scale-invariant signal-to-distortion ratio in dB.

    ``a = <estimate, reference> / ‖reference‖²``, ``target = a · reference``,
    ``error = estimate − target``, ``SI-SDR = 10·log10(‖target‖² / ‖error‖²)``.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n,)]

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Different shapes, or ``reference`` all zeros.

    Examples
    --------
    >>> round(si_sdr(np.array([1.0, 0.0]), np.array([2.0, 1.0])), 4)
    6.0206
    """
    raise NotImplementedError()
