"""Exercise 03 — the mel scale, a mel filterbank and MFCCs, from scratch in NumPy.

Notebook: 03_mel_and_mfcc.ipynb

Fill in the five functions below with NumPy only (no librosa, no scipy, no
``course_lib.features``). Each docstring names the librosa call your answer
must equal. Check your work with::

    course check ex03

Conventions (librosa's and ``course_lib``'s):

- a power spectrogram ``S`` has shape ``(1 + n_fft // 2, n_frames)``; row ``k``
  is the frequency ``k * sr / n_fft`` Hz;
- a filterbank has shape ``(n_mels, 1 + n_fft // 2)``, so ``M = fb @ S`` is the
  mel spectrogram ``(n_mels, n_frames)``;
- feature matrices (MFCCs) have shape ``(n_coefficients, n_frames)``;
- the mel scale is Slaney's unless ``htk=True`` is passed, the default of
  ``librosa`` and of ``course_lib.features`` (so your functions and theirs
  agree when called the same way).
"""

from __future__ import annotations

import numpy as np

__all__ = ["hz_to_mel", "mel_to_hz", "mel_filterbank", "mfcc_from_power", "cmvn"]

# Slaney's mel scale (htk=False): linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3  # Hz per mel in the linear part
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP  # = 15 mel
_LOGSTEP = np.log(6.4) / 27.0  # natural log: 27 mel per factor 6.4 in Hz


def hz_to_mel(f, *, htk=False):
    """Convert frequencies in Hz to mels.

    - ``htk=True`` (HTK's formula): ``mel = 2595 * log10(1 + f / 700)``.
    - ``htk=False`` (Slaney's Auditory Toolbox, librosa's default): linear
      below 1000 Hz, ``mel = f / (200 / 3)`` (so 1000 Hz is 15 mel), and
      logarithmic above: ``mel = 15 + ln(f / 1000) / (ln(6.4) / 27)``.

    Equals ``librosa.hz_to_mel(f, htk=htk)``.

    Parameters
    ----------
    f : float or np.ndarray [shape=(...)], Hz, >= 0
    htk : bool

    Returns
    -------
    mel : np.ndarray [shape=(...)], float (a 0-d array for a scalar ``f``)

    Raises
    ------
    ValueError
        If any ``f`` is negative.

    Examples
    --------
    >>> float(hz_to_mel(700.0, htk=True))   # 2595 * log10(2)
    781.1...
    >>> round(float(hz_to_mel(1000.0, htk=False)), 9)
    15.0
    """
    ### BEGIN SOLUTION
    f = np.asarray(f, dtype=np.float64)
    if np.any(f < 0):
        raise ValueError("frequencies must be >= 0 Hz")
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    linear = f / _F_SP
    logpart = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, logpart, linear)
    ### END SOLUTION


def mel_to_hz(m, *, htk=False):
    """Convert mels back to Hz: the inverse of :func:`hz_to_mel`.

    - ``htk=True``: ``f = 700 * (10 ** (m / 2595) - 1)``.
    - ``htk=False``: ``f = (200 / 3) * m`` below 15 mel and
      ``f = 1000 * exp((ln(6.4) / 27) * (m - 15))`` from 15 mel up.

    Equals ``librosa.mel_to_hz(m, htk=htk)``.

    Parameters
    ----------
    m : float or np.ndarray [shape=(...)], mel
    htk : bool

    Returns
    -------
    f : np.ndarray [shape=(...)], Hz

    Examples
    --------
    >>> round(float(mel_to_hz(15.0, htk=False)), 9)
    1000.0
    """
    ### BEGIN SOLUTION
    m = np.asarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    linear = _F_SP * m
    logpart = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(m, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, logpart, linear)
    ### END SOLUTION


def mel_filterbank(*, sr, n_fft, n_mels, fmin=0.0, fmax=None, htk=False, norm="slaney"):
    """Triangular mel filters, one per row, over the STFT bins ``0 .. sr / 2``.

    Recipe (librosa's):

    1. ``n_mels + 2`` band edges equally spaced in mel from
       ``hz_to_mel(fmin)`` to ``hz_to_mel(fmax)`` (both with this ``htk``),
       converted back to Hz: ``edges[0 .. n_mels + 1]``. ``fmax=None`` means ``sr / 2``.
    2. Filter ``i`` is a triangle in **Hz** that rises linearly from 0 at
       ``edges[i]`` to 1 at ``edges[i + 1]`` and falls back to 0 at
       ``edges[i + 2]``; evaluate it at the bin frequencies
       ``k * sr / n_fft`` (``k = 0 .. n_fft // 2``), clipping negatives to 0.
       (Hint: ``min(rising, falling)`` where ``rising = (f - edges[i]) /
       (edges[i+1] - edges[i])`` and ``falling = (edges[i+2] - f) / (edges[i+2] - edges[i+1])``.)
    3. ``norm="slaney"``: multiply filter ``i`` by ``2 / (edges[i + 2] - edges[i])``
       so every filter has the same area (constant energy per band);
       ``norm=None``: leave the peaks at 1.

    Equals ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels,
    fmin=fmin, fmax=fmax, htk=htk, norm=norm)``.

    Parameters
    ----------
    sr : number > 0
    n_fft : int > 0
    n_mels : int > 0
    fmin : float >= 0
    fmax : float or None, ``fmin < fmax <= sr / 2``
    htk : bool
        Which mel scale (see :func:`hz_to_mel`).
    norm : "slaney" or None

    Returns
    -------
    fb : np.ndarray [shape=(n_mels, 1 + n_fft // 2)], float, >= 0

    Raises
    ------
    ValueError
        If ``n_mels < 1``, if ``fmax`` is above ``sr / 2`` or not above
        ``fmin``, or if ``norm`` is neither ``"slaney"`` nor None.
    """
    ### BEGIN SOLUTION
    if fmax is None:
        fmax = sr / 2
    if int(n_mels) != n_mels or n_mels < 1:
        raise ValueError(f"n_mels={n_mels!r} must be a positive integer")
    if not 0 <= fmin < fmax <= sr / 2:
        raise ValueError(f"need 0 <= fmin < fmax <= sr/2, got fmin={fmin}, fmax={fmax}, sr={sr}")
    if norm not in ("slaney", None):
        raise ValueError(f"norm={norm!r} must be 'slaney' or None")
    fft_freqs = np.arange(1 + n_fft // 2) * sr / n_fft
    mels = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), int(n_mels) + 2)
    edges = mel_to_hz(mels, htk=htk)  # (n_mels + 2,)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (fft_freqs[None, :] - lower) / (centre - lower)
    falling = (upper - fft_freqs[None, :]) / (upper - centre)
    fb = np.maximum(0.0, np.minimum(rising, falling))  # (n_mels, n_freq)
    if norm == "slaney":
        fb *= 2.0 / (upper - lower)
    return fb
    ### END SOLUTION


def mfcc_from_power(S, *, sr, n_mfcc=13, n_mels=40, fmin=0.0, fmax=None):
    """MFCCs from a power spectrogram: mel filterbank -> log (dB) -> DCT.

    1. ``M = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
       fmax=fmax)`` (Slaney scale and norm, the defaults) applied to ``S``:
       ``M = fb @ S``, with ``n_fft = 2 * (S.shape[0] - 1)``.
    2. Decibels: ``L = 10 * log10(maximum(M, 1e-10))``, then clip from below
       at ``L.max() - 80`` (librosa's ``top_db=80`` over the whole array).
    3. Orthonormal DCT-II along the mel axis, keeping the first ``n_mfcc`` rows::

           C[j, t] = w_j * sum_{m=0}^{n_mels-1} L[m, t] * cos(pi * j * (2m + 1) / (2 n_mels))

       with ``w_0 = sqrt(1 / n_mels)`` and ``w_j = sqrt(2 / n_mels)`` for ``j > 0``
       (this is ``scipy.fft.dct(L, type=2, norm="ortho", axis=0)``).

    Equals ``librosa.feature.mfcc(S=librosa.power_to_db(librosa.feature.melspectrogram(
    S=S, sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)), n_mfcc=n_mfcc)``.

    Parameters
    ----------
    S : np.ndarray [shape=(1 + n_fft // 2, n_frames)], real, >= 0
        Power spectrogram ``abs(stft(y)) ** 2``.
    sr : number > 0
    n_mfcc : int, ``1 <= n_mfcc <= n_mels``
    n_mels : int > 0
    fmin, fmax : as in :func:`mel_filterbank`

    Returns
    -------
    mfcc : np.ndarray [shape=(n_mfcc, n_frames)]

    Raises
    ------
    ValueError
        If ``S`` is not 2-D or has negative entries, or ``n_mfcc`` is not in ``1 .. n_mels``.
    """
    ### BEGIN SOLUTION
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] < 2:
        raise ValueError(f"S must be a 2-D power spectrogram (1 + n_fft // 2, n_frames), got shape {S.shape}")
    if np.any(S < 0):
        raise ValueError("S must be a power spectrogram (no negative entries)")
    if int(n_mfcc) != n_mfcc or not 1 <= n_mfcc <= n_mels:
        raise ValueError(f"n_mfcc={n_mfcc!r} must be an integer in 1 .. n_mels={n_mels}")
    n_fft = 2 * (S.shape[0] - 1)
    M = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax) @ S
    L = 10.0 * np.log10(np.maximum(M, 1e-10))
    L = np.maximum(L, L.max() - 80.0)
    m = np.arange(n_mels)
    j = np.arange(int(n_mfcc))[:, None]
    dct = np.sqrt(2.0 / n_mels) * np.cos(np.pi * j * (2 * m + 1) / (2 * n_mels))  # (n_mfcc, n_mels)
    dct[0] = np.sqrt(1.0 / n_mels)
    return dct @ L
    ### END SOLUTION


def cmvn(features):
    """Cepstral mean and variance normalisation of one utterance.

    Each row (coefficient) is shifted to mean 0 and scaled to standard
    deviation 1 over the frames (population std, ``ddof=0``). A row that is
    constant over time has no spread to normalise: it becomes all zeros.

    Equals ``(X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)``
    on rows with non-zero std (and ``sklearn.preprocessing.scale(X, axis=1)``).

    Parameters
    ----------
    features : np.ndarray [shape=(n_coefficients, n_frames)], ``n_frames >= 2``

    Returns
    -------
    normalised : np.ndarray [shape=(n_coefficients, n_frames)]

    Raises
    ------
    ValueError
        If ``features`` is not 2-D or has fewer than 2 frames.

    Examples
    --------
    >>> cmvn(np.array([[1.0, 3.0], [5.0, 5.0]]))
    array([[-1.,  1.],
           [ 0.,  0.]])
    """
    ### BEGIN SOLUTION
    X = np.asarray(features, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"features must be 2-D (n_coefficients, n_frames) with >= 2 frames, got shape {X.shape}")
    centred = X - X.mean(axis=1, keepdims=True)
    std = X.std(axis=1, keepdims=True)
    return np.where(std > 0, centred / np.where(std > 0, std, 1.0), 0.0)
    ### END SOLUTION
