# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex03`.
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
    raise NotImplementedError()


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
    raise NotImplementedError()


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
    raise NotImplementedError()


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
    raise NotImplementedError()


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
    raise NotImplementedError()
