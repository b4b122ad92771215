"""Speech enhancement: spectral subtraction, Wiener filtering, a learned ratio mask.

Notebook: 09_enhancement.ipynb

Every enhancer works on the STFT of the noisy signal ``Y = S + N`` (32 ms Hann
frames, 8 ms hop at 16 kHz), applies a real gain ``0 <= G <= 1`` per bin and
resynthesises with the noisy phase::

    y -> Y = stft(y) -> |Y|, noise power λ_N -> G -> istft(G · Y, length=len(y))

They differ in how they get ``λ_N`` and ``G``:

- :func:`spectral_subtraction` — subtract ``α`` times the noise estimate from
  ``|Y|`` (``power=1``) or ``|Y|²`` (``power=2``) and keep at least ``β`` times
  the noise (Berouti et al. 1979). :func:`spectral_subtraction_seed` is the
  seed document's version (no floor, mean noise magnitude, the output's length
  not kept): its isolated leftover peaks are *musical noise*, measured by
  :func:`kurtosis_ratio`.
- :func:`wiener` — ``G = ξ / (1 + ξ)`` with the a-priori SNR ``ξ`` from the
  decision-directed rule (Ephraim & Malah 1984), the noise from a noise-only
  clip or tracked without one by :func:`minimum_statistics` (Martin 2001).
- :class:`MaskNet` — a small causal convolutional network that predicts the
  gain (a ratio mask) from the log spectrum, trained on corpus speech mixed
  with the training takes of the noise kinds (:func:`train_mask`).

All of them take the signal positionally and ``sr`` as a keyword, return
float32 of the input's length, and raise :class:`~course_lib.errors.ParameterError`
for NaN, silence or a shape other than ``(n,)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from .errors import ParameterError
from .spectral import istft, stft
from .validation import check_positive, check_positive_int, check_sr, valid_audio

__all__ = ["N_FFT", "HOP_LENGTH", "noise_psd", "quietest_frames_psd", "minimum_statistics",
           "spectral_subtraction", "subtraction_gain", "spectral_subtraction_seed", "kurtosis_ratio",
           "decision_directed", "wiener", "MaskNetConfig", "MaskNet", "MixtureDataset", "train_mask",
           "TrainedMask", "ENHANCERS", "QualityRow", "quality_table", "summarize", "neg_si_sdr",
           "neg_compressed_spectral_snr", "MASK_LOSSES",
           "DecisionDirected"]

#: STFT size and hop at 16 kHz (32 ms frames, 8 ms hop); scaled with ``sr`` at other rates.
N_FFT, HOP_LENGTH = 512, 128


# --------------------------------------------------------------------------- checks and STFT

def _check_input(y, sr, name="y", why="there is nothing to enhance") -> int:
    valid_audio(y, mono=True, name=name)
    sr = check_sr(sr)
    if not np.any(y):
        raise ParameterError(f"{name} is silent (all zeros): {why}")
    return sr


def _frame_sizes(sr: int, n_fft, hop_length) -> tuple[int, int]:
    """32 ms / 8 ms at any rate unless given (512 / 128 at 16 kHz)."""
    if n_fft is None:
        n_fft = int(2 ** round(np.log2(0.032 * sr)))
    if hop_length is None:
        hop_length = n_fft // 4
    return check_positive_int(n_fft, "n_fft"), check_positive_int(hop_length, "hop_length")


def _stft(y, n_fft, hop_length):
    return stft(np.asarray(y, dtype=np.float64), n_fft=n_fft, hop_length=hop_length)


def _istft(D, n_fft, hop_length, length):
    return istft(D, n_fft=n_fft, hop_length=hop_length, length=length).astype(np.float32)


# --------------------------------------------------------------------------- noise estimates

def noise_psd(noise, *, sr: int, n_fft: int | None = None, hop_length: int | None = None) -> np.ndarray:
    """Noise power spectrum ``λ_N(k)``: the mean ``|N(k, t)|²`` over a noise-only clip.

    Notebook: 09_enhancement.ipynb

    Parameters
    ----------
    noise : np.ndarray [shape=(n,)]
        Noise alone (a pause, a recording before the talker starts).
    sr : int

    Returns
    -------
    np.ndarray [shape=(1 + n_fft // 2, 1)]
        A column, to broadcast over frames.
    """
    sr = _check_input(noise, sr, name="noise", why="pass a noise-only clip with some noise in it")
    n_fft, hop_length = _frame_sizes(sr, n_fft, hop_length)
    return np.mean(np.abs(_stft(noise, n_fft, hop_length)) ** 2, axis=1, keepdims=True)


def quietest_frames_psd(power, *, fraction: float = 0.1) -> np.ndarray:
    """Noise power spectrum from the quietest frames of a noisy power spectrogram.

    Notebook: 09_enhancement.ipynb

    The ``fraction`` of frames with the least total energy are taken to be noise
    alone and averaged. Works when the recording has pauses; in continuous speech
    it overestimates the noise (those frames still hold weak speech).

    Parameters
    ----------
    power : np.ndarray [shape=(n_freq, n_frames)]
        ``|Y|²``.
    fraction : float in (0, 1]

    Returns
    -------
    np.ndarray [shape=(n_freq, 1)]
    """
    if not 0 < fraction <= 1:
        raise ParameterError(f"fraction={fraction!r} must be in (0, 1], e.g. 0.1 (the quietest 10 % of frames)")
    energy = power.sum(axis=0)
    k = max(1, int(round(fraction * power.shape[1])))
    quiet = np.argsort(energy, kind="stable")[:k]
    return power[:, quiet].mean(axis=1, keepdims=True)


@functools.lru_cache(maxsize=32)
def _min_stats_bias(window: int, smoothing: float) -> float:
    """E[|N|²] / E[running minimum of the smoothed periodogram] for Gaussian noise.

    Measured (seeded, so always the same number) on 4000 frames x 64 bins of
    exponential periodogram values, the distribution of ``|N(k, t)|²`` for
    Gaussian noise: the factor that undoes the minimum's downward bias.
    """
    p = np.random.default_rng(0).exponential(size=(64, 4000))
    s = _smooth(p, smoothing)
    m = _running_min(s, window)[:, window:]
    return float(1.0 / m.mean())


def _smooth(power, a):
    """First-order recursive average over time, ``S(t) = a S(t-1) + (1-a) P(t)``, ``S(0) = P(0)``."""
    from scipy.signal import lfilter

    zi = (a * power[:, :1])                                # so that S(0) = P(0)
    out, _ = lfilter([1 - a], [1, -a], power, axis=1, zi=zi)
    return out


def _running_min(s, window):
    """Causal running minimum over the last ``window`` frames (frame t sees t-window+1 .. t)."""
    from numpy.lib.stride_tricks import sliding_window_view

    pad = np.concatenate([np.repeat(s[:, :1], window - 1, axis=1), s], axis=1)   # the first frame repeated
    return sliding_window_view(pad, window, axis=1).min(axis=-1)


def minimum_statistics(power, *, sr: int, hop_length: int, window: float = 1.5,
                       smoothing: float = 0.85, freq_smoothing: int = 5) -> np.ndarray:
    """Track the noise power without a noise-only clip (minimum statistics, after Martin 2001).

    Notebook: 09_enhancement.ipynb

    Speech comes and goes but noise is always there, so within any ``window``
    seconds (longer than a word) each frequency's *smoothed* power drops to the
    noise level at some point. The estimate is that running minimum, times a bias
    factor (the minimum of a fluctuating quantity lies below its mean). It is
    causal — frame ``t`` uses frames up to ``t`` only — so it runs in a stream, and
    it follows noise that changes more slowly than ``window``.

    Simplified from Martin (2001): a fixed smoothing constant instead of his
    optimal time-varying one, and the bias factor measured for Gaussian noise
    (:func:`_min_stats_bias`) instead of his closed-form approximation. The
    minimum of one bin is a noisy estimate (it rests on few independent values);
    averaging it over ``freq_smoothing`` neighbouring bins steadies it (tuned on the
    valid voices with the train noise takes: +0.05 PESQ for the Wiener filter).

    Parameters
    ----------
    power : np.ndarray [shape=(n_freq, n_frames)]
        ``|Y|²`` of the noisy signal.
    sr, hop_length : int
        To convert ``window`` to frames.
    window : float
        Seconds over which the minimum is taken (Martin: about 1.5 s).
    smoothing : float in [0, 1)
        ``a`` of the recursive average ``S(t) = a S(t-1) + (1-a) |Y(t)|²``.
    freq_smoothing : int >= 1
        Width in bins of the moving average over frequency applied to the tracked
        minimum (1: none).

    Returns
    -------
    np.ndarray [shape=(n_freq, n_frames)]
        ``λ_N(k, t)``.
    """
    sr = check_sr(sr)
    hop_length = check_positive_int(hop_length, "hop_length")
    window = check_positive(window, "window")
    if not 0 <= smoothing < 1:
        raise ParameterError(f"smoothing={smoothing!r} must be in [0, 1), e.g. 0.85")
    power = np.asarray(power, dtype=np.float64)
    if power.ndim != 2:
        raise ParameterError(f"power must have shape (n_freq, n_frames), got {power.shape}")
    freq_smoothing = check_positive_int(freq_smoothing, "freq_smoothing")
    d = max(2, int(round(window * sr / hop_length)))
    s = _smooth(power, smoothing)
    lam = _min_stats_bias(d, smoothing) * _running_min(s, d)
    if freq_smoothing > 1:
        from scipy.ndimage import uniform_filter1d

        lam = uniform_filter1d(lam, freq_smoothing, axis=0, mode="nearest")
    return lam


def _noise_estimate(power, noise, *, sr, n_fft, hop_length, fraction):
    """λ_N from a noise clip (array), the quietest frames ("quietest") or minimum statistics ("track")."""
    if isinstance(noise, str):
        if noise == "quietest":
            return quietest_frames_psd(power, fraction=fraction)
        if noise == "track":
            return minimum_statistics(power, sr=sr, hop_length=hop_length)
        raise ParameterError(f"noise={noise!r} must be a noise-only clip (np.ndarray), 'quietest' or 'track'")
    return noise_psd(noise, sr=sr, n_fft=n_fft, hop_length=hop_length)


# --------------------------------------------------------------------------- spectral subtraction

def subtraction_gain(power, noise_power, *, alpha: float = 2.0, beta: float = 0.02, exponent: int = 2) -> np.ndarray:
    """The spectral-subtraction gain with over-subtraction and a spectral floor (Berouti et al. 1979).

    Notebook: 09_enhancement.ipynb

    With ``p = exponent`` (1: magnitude, 2: power) and ``|Ŝ|^p = max(|Y|^p − α λ^{p/2}, β λ^{p/2})``,
    the gain is ``G = |Ŝ| / |Y|``, so ``Ŝ = G · Y`` keeps the noisy phase.

    Parameters
    ----------
    power : np.ndarray [shape=(n_freq, n_frames)]
        ``|Y|²``.
    noise_power : np.ndarray [shape=(n_freq, 1) or (n_freq, n_frames)]
        ``λ_N = E|N|²``.
    alpha : float >= 0
        Over-subtraction: > 1 removes more noise (and more speech).
    beta : float >= 0
        Floor, as a fraction of the noise's ``p``-th power: 0 is half-wave rectification
        (musical noise); larger leaves a smooth residual noise.
    exponent : {1, 2}

    Returns
    -------
    np.ndarray [shape=(n_freq, n_frames)]
        In [0, 1] wherever ``β <= 1`` (a floor above the noisy level is capped at 1).
    """
    if exponent not in (1, 2):
        raise ParameterError(f"exponent={exponent!r} must be 1 (magnitude) or 2 (power subtraction)")
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ParameterError(f"alpha={alpha!r} (over-subtraction) must be a finite number >= 0, e.g. 2")
    if not (np.isfinite(beta) and beta >= 0):
        raise ParameterError(f"beta={beta!r} (spectral floor) must be a finite number >= 0, e.g. 0.02")
    p = exponent / 2.0
    y_p = power ** p                                        # |Y|^exponent
    n_p = np.broadcast_to(noise_power, power.shape) ** p    # λ^(exponent/2)
    s_p = np.maximum(y_p - alpha * n_p, beta * n_p)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(y_p > 0, (s_p / y_p) ** (1.0 / exponent), 0.0)
    return np.minimum(g, 1.0)


def spectral_subtraction(y, *, sr: int, noise="quietest", exponent: int = 1, alpha: float = 2.0,
                         beta: float = 0.05, n_fft: int | None = None, hop_length: int | None = None,
                         fraction: float = 0.1) -> np.ndarray:
    """Spectral subtraction (Boll 1979) with over-subtraction and a floor (Berouti et al. 1979).

    Notebook: 09_enhancement.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Noisy speech.
    sr : int
    noise : np.ndarray [shape=(m,)] or {"quietest", "track"}
        A noise-only clip at ``sr``; or estimate the noise from the quietest
        ``fraction`` of frames; or track it (:func:`minimum_statistics`).
    exponent : {1, 2}
        Magnitude (1) or power (2) subtraction.
    alpha, beta : float
        Over-subtraction factor and spectral floor (:func:`subtraction_gain`). The
        defaults (magnitude, α = 2, β = 0.05) scored best in PESQ among α ∈ {1, 2, 4},
        β ∈ {0.01, 0.05}, both domains, on the valid voices with the train noise takes.
    n_fft, hop_length : int, optional
        Default 32 ms and 8 ms (512 and 128 at 16 kHz).
    fraction : float
        For ``noise="quietest"``.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    sr = _check_input(y, sr)
    n_fft, hop_length = _frame_sizes(sr, n_fft, hop_length)
    Y = _stft(y, n_fft, hop_length)
    power = np.abs(Y) ** 2
    lam = _noise_estimate(power, noise, sr=sr, n_fft=n_fft, hop_length=hop_length, fraction=fraction)
    G = subtraction_gain(power, lam, alpha=alpha, beta=beta, exponent=exponent)
    return _istft(G * Y, n_fft, hop_length, len(y))


def spectral_subtraction_seed(y, noise, sr):
    """The seed document's spectral subtraction, reproduced for comparison only (do not use).

    Notebook: 09_enhancement.ipynb

    It subtracts the noise clip's mean *magnitude* from every frame and clips at zero
    (half-wave rectification, no floor, no over-subtraction), with librosa's default
    2048-point frames. Two problems, both shown in the notebook:

    - **musical noise**: where the noise's magnitude fluctuates above its mean, isolated
      bins survive the subtraction and ring as short tones (:func:`kurtosis_ratio`
      measures it); a floor ``β > 0`` (:func:`spectral_subtraction`) masks them;
    - **the length changes**: ``istft`` without ``length`` returns whole frames, not
      ``len(y)`` samples, so the output no longer lines up with the input (metrics
      that compare the two then fail).

    Returns
    -------
    np.ndarray [shape=(hop * (n_frames - 1),)], float32
        Note: not ``len(y)``.
    """
    n_fft, hop = 2048, 512
    D = _stft(y, n_fft, hop)
    noise_mag = np.mean(np.abs(_stft(noise, n_fft, hop)), axis=1, keepdims=True)
    mag = np.maximum(np.abs(D) - noise_mag, 0.0)
    return istft(mag * np.exp(1j * np.angle(D)), n_fft=n_fft, hop_length=hop).astype(np.float32)


def kurtosis_ratio(noise_before, noise_after, *, sr: int, n_fft: int | None = None,
                   hop_length: int | None = None) -> float:
    """How much musical noise a processor made: the kurtosis of the power spectrogram after / before.

    Notebook: 09_enhancement.ipynb

    Musical noise is isolated loud time-frequency bins in a residual that is
    otherwise quiet: a heavy-tailed power distribution. Uemura et al. (2012) showed
    the growth of the power spectrum's kurtosis predicts how much musical noise
    listeners hear; 1 means the residual is as smooth as the noise was, larger is
    worse. Feed it the same noise-only passage unprocessed and processed.

    Parameters
    ----------
    noise_before, noise_after : np.ndarray [shape=(n,)]
        Noise alone, before and after processing (same processing as the speech got).
    sr : int

    Returns
    -------
    float
    """
    from scipy.stats import kurtosis

    why = "its spectrum has no kurtosis; pass a processor that leaves some residual (a floor beta > 0)"
    sr = _check_input(noise_before, sr, name="noise_before", why=why)
    _check_input(noise_after, sr, name="noise_after", why=why)
    n_fft, hop_length = _frame_sizes(sr, n_fft, hop_length)

    def kurt(x):
        p = np.abs(_stft(x, n_fft, hop_length))[1:-1, 2:-2] ** 2     # drop DC/Nyquist and the padded edges
        return kurtosis(p.ravel(), fisher=False)

    return float(kurt(noise_after) / kurt(noise_before))


# --------------------------------------------------------------------------- Wiener filter

class DecisionDirected(NamedTuple):
    """Output of :func:`decision_directed`: the gains and the a-priori SNR per bin."""

    gain: np.ndarray      #: (n_freq, n_frames), Wiener gain ξ / (1 + ξ)
    xi: np.ndarray        #: (n_freq, n_frames), a-priori SNR (linear)
    gamma: np.ndarray     #: (n_freq, n_frames), a-posteriori SNR |Y|² / λ_N


def decision_directed(power, noise_power, *, alpha: float = 0.98, xi_min_db: float = -25.0) -> DecisionDirected:
    """Wiener gains with the decision-directed a-priori SNR (Ephraim & Malah 1984).

    Notebook: 09_enhancement.ipynb

    For frame ``t``, with ``γ = |Y|² / λ_N`` (a-posteriori SNR),

    ``ξ(t) = max(α |Ŝ(t−1)|² / λ_N(t) + (1 − α) max(γ(t) − 1, 0), ξ_min)``,
    ``G(t) = ξ(t) / (1 + ξ(t))``, ``|Ŝ(t)|² = G(t)² |Y(t)|²``.

    The first term remembers the last clean estimate, so ``ξ`` moves smoothly
    (``α = 0.98``) and the gain does not flicker from bin to bin: the reason the
    Wiener filter's residual sounds like quieter noise rather than musical tones.
    In the first frame the previous estimate is taken as ``max(γ − 1, 0) λ_N``.

    Parameters
    ----------
    power : np.ndarray [shape=(n_freq, n_frames)]
        ``|Y|²``.
    noise_power : np.ndarray [shape=(n_freq, 1) or (n_freq, n_frames)]
    alpha : float in [0, 1)
    xi_min_db : float
        Floor of ``ξ`` in dB (limits the attenuation to about ``xi_min_db``).

    Returns
    -------
    DecisionDirected
    """
    if not 0 <= alpha < 1:
        raise ParameterError(f"alpha={alpha!r} must be in [0, 1), e.g. 0.98")
    power = np.asarray(power, dtype=np.float64)
    lam = np.maximum(np.broadcast_to(np.asarray(noise_power, dtype=np.float64), power.shape), 1e-20)
    gamma = power / lam
    xi_min = 10 ** (xi_min_db / 10)
    xi = np.empty_like(power)
    gain = np.empty_like(power)
    prev_clean = np.maximum(gamma[:, 0] - 1, 0) * lam[:, 0]          # |Ŝ(t-1)|² before the first frame
    for t in range(power.shape[1]):
        xi[:, t] = np.maximum(alpha * prev_clean / lam[:, t] + (1 - alpha) * np.maximum(gamma[:, t] - 1, 0), xi_min)
        gain[:, t] = xi[:, t] / (1 + xi[:, t])
        prev_clean = gain[:, t] ** 2 * power[:, t]
    return DecisionDirected(gain=gain, xi=xi, gamma=gamma)


def wiener(y, *, sr: int, noise="track", alpha: float = 0.98, xi_min_db: float = -25.0, noise_factor: float = 1.0,
           n_fft: int | None = None, hop_length: int | None = None, fraction: float = 0.1) -> np.ndarray:
    """Wiener filtering with the decision-directed a-priori SNR.

    Notebook: 09_enhancement.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Noisy speech.
    sr : int
    noise : {"track", "quietest"} or np.ndarray [shape=(m,)]
        Track the noise with :func:`minimum_statistics` (default: no noise-only clip
        needed, and it follows slowly changing noise), take the quietest frames, or
        give a noise-only clip.
    alpha, xi_min_db : float
        See :func:`decision_directed`.
    noise_factor : float > 0
        Multiplies the noise estimate (> 1 over-estimates it: more suppression, as
        over-subtraction does in :func:`spectral_subtraction`).
    n_fft, hop_length : int, optional
        Default 32 ms and 8 ms.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    sr = _check_input(y, sr)
    noise_factor = check_positive(noise_factor, "noise_factor")
    n_fft, hop_length = _frame_sizes(sr, n_fft, hop_length)
    Y = _stft(y, n_fft, hop_length)
    power = np.abs(Y) ** 2
    lam = _noise_estimate(power, noise, sr=sr, n_fft=n_fft, hop_length=hop_length, fraction=fraction)
    G = decision_directed(power, noise_factor * lam, alpha=alpha, xi_min_db=xi_min_db).gain
    return _istft(G * Y, n_fft, hop_length, len(y))


# --------------------------------------------------------------------------- learned mask

@dataclass
class MaskNetConfig:
    """Configuration of :class:`MaskNet`.

    Attributes
    ----------
    sr : int
        The rate it works at (inputs at other rates are resampled).
    n_fft, hop_length : int
        STFT (32 ms / 8 ms at 16 kHz).
    channels : int
        Width of the hidden 1-d convolutions.
    dilations : tuple of int
        One causal residual block (kernel 3) per entry; the receptive field is
        ``1 + 2 · sum(dilations)`` frames.
    lookahead : tuple of int
        One *centred* residual block (kernel 3, padded on both sides) per entry, after
        the causal ones: each output frame then also sees ``sum(lookahead)`` future frames
        (``lookahead_frames``; a fixed latency of that many hops on a stream). Default ``()``:
        strictly causal.
    mask_max : float
        The largest gain (default 1: a ratio mask in [0, 1]). With the noisy phase, the gain that
        best rebuilds the clean bin exceeds 1 wherever speech and noise partly cancel, so a mask
        bounded at 2 can reach a higher SI-SDR. The output is ``mask_max · σ(z − ln mask_max)``:
        for small gains it is ``≈ e^z`` whatever ``mask_max`` is, so a checkpoint trained at 1
        is a warm start for a larger bound (:meth:`MaskNet.with_mask_max`).
    shifts : int
        Passes that :meth:`MaskNet.enhance` averages (default 1: one). Pass ``k`` frames the signal
        ``k · hop_length / shifts`` samples later, so every pass sees the speech cut into frames at
        other places; the mask's errors differ from one framing to the next and partly cancel in the
        average (test-time shift averaging, as in the "shift trick" of waveform separation networks).
        Costs ``shifts`` forward passes; training (:meth:`MaskNet.infer`) always makes one.
    """

    sr: int = 16000
    n_fft: int = N_FFT
    hop_length: int = 2 * HOP_LENGTH      # 16 ms: half the frames of the classical enhancers, half the training time
    channels: int = 96
    dilations: tuple = (1, 2, 4, 8, 1, 2, 4, 8)
    lookahead: tuple = ()
    mask_max: float = 1.0
    shifts: int = 1

    def __post_init__(self):
        self.sr = check_sr(self.sr)
        if not (isinstance(self.mask_max, (int, float)) and math.isfinite(self.mask_max) and self.mask_max >= 1):
            raise ParameterError(f"mask_max={self.mask_max!r} must be a finite number >= 1 (1: a ratio mask in [0, 1])")
        self.mask_max = float(self.mask_max)
        for name in ("n_fft", "hop_length", "channels"):
            check_positive_int(getattr(self, name), name)
        if self.hop_length > self.n_fft:
            raise ParameterError(f"hop_length={self.hop_length} must not exceed n_fft={self.n_fft}")
        _check_shifts(self.shifts, self.hop_length)
        self.dilations = tuple(self.dilations)
        if not self.dilations or not all(isinstance(d, int) and d >= 1 for d in self.dilations):
            raise ParameterError(f"dilations={self.dilations!r} must be a non-empty list of positive integers")
        self.lookahead = tuple(self.lookahead)
        if not all(isinstance(d, int) and d >= 1 for d in self.lookahead):
            raise ParameterError(f"lookahead={self.lookahead!r} must be a list of positive integers (or empty)")

    @property
    def n_freq(self) -> int:
        return 1 + self.n_fft // 2

    @property
    def receptive_field(self) -> int:
        """Frames of the past (including the current one) that one output frame sees."""
        return 1 + 2 * sum(self.dilations) + sum(self.lookahead)

    @property
    def lookahead_frames(self) -> int:
        """Frames of the future that one output frame sees (0: causal)."""
        return sum(self.lookahead)


def _check_shifts(shifts, hop_length: int) -> int:
    if isinstance(shifts, bool) or not isinstance(shifts, (int, np.integer)) or not 1 <= shifts <= hop_length:
        raise ParameterError(f"shifts={shifts!r} must be a whole number of passes from 1 to hop_length={hop_length} "
                             f"(1: one pass, no averaging)")
    return int(shifts)


class _CausalBlock(torch.nn.Module):
    """Residual block: LayerNorm per frame -> causal dilated conv (kernel 3) -> PReLU -> 1x1 conv.

    ``centred=True``: the convolution is padded on both sides (one frame ``dilation`` ahead)."""

    def __init__(self, channels: int, dilation: int, centred: bool = False):
        super().__init__()
        self.pad = (dilation, dilation) if centred else (2 * dilation, 0)    # causal: left padding only
        self.norm = torch.nn.LayerNorm(channels)
        self.conv = torch.nn.Conv1d(channels, channels, 3, dilation=dilation)
        self.act = torch.nn.PReLU(channels)
        self.mix = torch.nn.Conv1d(channels, channels, 1)

    def forward(self, h):                                      # (B, C, T)
        z = self.norm(h.transpose(1, 2)).transpose(1, 2)       # normalise each frame over channels (causal)
        z = self.conv(torch.nn.functional.pad(z, self.pad))
        return h + self.mix(self.act(z))


class MaskNet(torch.nn.Module):
    """A causal ratio-mask estimator: log power spectrum in, a gain in [0, mask_max] per bin out.

    Notebook: 09_enhancement.ipynb

    ``|Y|`` -> ``log(|Y|² + ε)``, normalised per frequency (statistics of the
    training mixtures) -> 1x1 conv to ``channels`` -> causal dilated residual
    blocks -> 1x1 conv to ``n_freq`` -> sigmoid (scaled to ``mask_max``). Every layer sees only the current
    and past frames (the convolutions are padded on the left), so it can run on a
    stream with ``receptive_field`` frames of history (61 frames, about 1 s); 0.35 M parameters.

    ``forward`` maps a batch of noisy waveforms to masks (training);
    ``infer`` returns the enhanced waveform; :meth:`enhance` takes raw audio at any rate.

    >>> net = MaskNet(MaskNetConfig())
    >>> net(torch.zeros(2, 16000)).shape          # (batch, n_freq, n_frames)
    torch.Size([2, 257, 63])
    """

    Config = MaskNetConfig

    def __init__(self, config: MaskNetConfig):
        super().__init__()
        if not isinstance(config, MaskNetConfig):
            raise ParameterError(f"config must be a MaskNetConfig, got {type(config).__name__}")
        self.config = config
        f, c = config.n_freq, config.channels
        self.register_buffer("window", torch.hann_window(config.n_fft), persistent=False)
        self.register_buffer("feat_mean", torch.zeros(f))
        self.register_buffer("feat_std", torch.ones(f))
        self.inp = torch.nn.Conv1d(f, c, 1)
        self.blocks = torch.nn.ModuleList([*(_CausalBlock(c, d) for d in config.dilations),
                                           *(_CausalBlock(c, d, centred=True) for d in config.lookahead)])
        self.out = torch.nn.Conv1d(c, f, 1)

    def spectrum(self, y: torch.Tensor) -> torch.Tensor:
        """Complex STFT ``(batch, n_freq, n_frames)`` of ``y (batch, n)`` (centred, like :func:`stft`)."""
        return torch.stft(y, self.config.n_fft, self.config.hop_length, window=self.window, center=True,
                          pad_mode="constant", return_complex=True)

    def features(self, Y: torch.Tensor) -> torch.Tensor:
        """Normalised log power ``(batch, n_freq, n_frames)``."""
        logp = torch.log(Y.real ** 2 + Y.imag ** 2 + 1e-10)
        return (logp - self.feat_mean[:, None]) / self.feat_std[:, None]

    def set_normalisation(self, y: torch.Tensor) -> None:
        """Per-frequency mean and std of the log power of noisy training audio ``y (batch, n)``."""
        with torch.no_grad():
            logp = torch.log(self.spectrum(y).abs() ** 2 + 1e-10)      # (B, F, T)
            self.feat_mean.copy_(logp.mean(dim=(0, 2)))
            self.feat_std.copy_(logp.std(dim=(0, 2)).clamp_min(1e-3))

    def mask_from_spectrum(self, Y: torch.Tensor) -> torch.Tensor:
        h = self.inp(self.features(Y))                         # (B, C, T)
        for block in self.blocks:
            h = block(h)
        m = self.config.mask_max                               # at 1 exactly the sigmoid (ln 1 = 0)
        return m * torch.sigmoid(self.out(h) - math.log(m))    # (B, F, T); ≈ e^z for small gains, whatever m is

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """Masks ``(batch, n_freq, n_frames)`` for noisy waveforms ``y (batch, n)``."""
        return self.mask_from_spectrum(self.spectrum(y))

    def infer(self, y: torch.Tensor) -> torch.Tensor:
        """Enhanced waveforms ``(batch, n)`` for noisy ``y (batch, n)`` (noisy phase, same length)."""
        Y = self.spectrum(y)
        S = self.mask_from_spectrum(Y) * Y
        return torch.istft(S, self.config.n_fft, self.config.hop_length, window=self.window, center=True,
                           length=y.shape[-1])

    def infer_shifted(self, y: torch.Tensor, shifts: int) -> torch.Tensor:
        """The average of ``shifts`` :meth:`infer` passes over ``y (batch, n)``, pass ``k`` delayed by
        ``k · hop_length // shifts`` samples (zeros in front, removed from its output): the same length."""
        shifts = _check_shifts(shifts, self.config.hop_length)
        out = self.infer(y)
        for k in range(1, shifts):
            s = k * self.config.hop_length // shifts
            out = out + self.infer(torch.nn.functional.pad(y, (s, 0)))[..., s:]
        return out / shifts

    @torch.no_grad()
    def enhance(self, y, *, sr: int, shifts: int | None = None) -> np.ndarray:
        """Enhance raw audio at any sample rate: ``(n,)`` float32 of the same length and rate.

        ``shifts``: passes averaged (:meth:`infer_shifted`); default the config's ``shifts``."""
        from .audio import resample

        sr = _check_input(y, sr)
        shifts = self.config.shifts if shifts is None else _check_shifts(shifts, self.config.hop_length)
        x = y if sr == self.config.sr else resample(y, orig_sr=sr, target_sr=self.config.sr)
        dev = self.feat_mean.device
        x = torch.as_tensor(np.asarray(x, dtype=np.float32), device=dev)[None]
        out = self.infer_shifted(x, shifts)[0].cpu().numpy()
        if sr != self.config.sr:
            out = resample(out, orig_sr=self.config.sr, target_sr=sr)
        out = out[:len(y)]
        return np.pad(out, (0, len(y) - len(out))).astype(np.float32)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def with_lookahead(self, lookahead) -> "MaskNet":
        """A copy of this (causal) model with centred blocks ``lookahead`` appended, computing the
        same masks until trained: the new blocks' output convolutions start at zero, so each is
        the identity (its residual adds nothing). A warm start for a model that may look ahead.
        """
        import dataclasses

        if self.config.lookahead:
            raise ParameterError(f"this model already looks ahead (lookahead={self.config.lookahead})")
        cfg = dataclasses.replace(self.config, lookahead=tuple(lookahead))
        if not cfg.lookahead:
            raise ParameterError("lookahead=() adds nothing: give one dilation per new block, e.g. (1, 2)")
        new = MaskNet(cfg).to(self.feat_mean.device)
        missing, unexpected = new.load_state_dict(self.state_dict(), strict=False)
        assert not unexpected and all(k.startswith("blocks.") for k in missing), (missing, unexpected)
        with torch.no_grad():
            for block in new.blocks[len(cfg.dilations):]:
                block.mix.weight.zero_()
                block.mix.bias.zero_()
        return new

    def with_mask_max(self, mask_max: float) -> "MaskNet":
        """A copy of this model whose gain may reach ``mask_max`` (> its own bound): the same
        weights, so the same small gains (``m · σ(z − ln m) ≈ e^z``) and larger ones where the
        old model was close to its bound. A warm start for a mask allowed above 1."""
        import dataclasses

        cfg = dataclasses.replace(self.config, mask_max=mask_max)
        if cfg.mask_max <= self.config.mask_max:
            raise ParameterError(f"mask_max={mask_max} must exceed this model's bound ({self.config.mask_max})")
        new = MaskNet(cfg).to(self.feat_mean.device)
        new.load_state_dict(self.state_dict())
        return new


class MixtureDataset(torch.utils.data.Dataset):
    """Noisy / clean pairs made on the fly: a clean clip, a noise take, an SNR, a level.

    Notebook: 09_enhancement.ipynb

    Item ``i`` takes clean clip ``i mod len(clean)``, a random ``seconds``-long crop
    (zero-padded if shorter), a noise kind at random (a random excerpt of its take,
    mixed by :func:`course_lib.augment.add_noise` at an SNR drawn from ``snr_range``),
    and a gain drawn from ``gain_db`` applied to both. Draws come from
    ``numpy.random.default_rng((seed, i, d))`` with ``d`` drawn from torch's generator (which
    ``fit`` seeds per epoch: new mixtures every epoch, the same in every run), or
    ``default_rng((seed, i))`` with ``fixed=True`` (a validation set that never changes).

    Returns ``(noisy (n,), clean (n,))`` float32 tensors.
    """

    def __init__(self, clean, noises, *, sr: int = 16000, seconds: float = 1.5, snr_range=(-7.5, 12.5),
                 gain_db=(-15.0, 5.0), length: int | None = None, seed: int = 0, fixed: bool = False):
        self.clean = [np.asarray(c, dtype=np.float32) for c in clean]
        self.noises = [np.asarray(n, dtype=np.float32) for n in noises]
        if not self.clean or not self.noises:
            raise ParameterError("MixtureDataset needs at least one clean clip and one noise")
        self.sr = check_sr(sr)
        self.n = int(round(check_positive(seconds, "seconds") * sr))
        self.snr_range, self.gain_db = snr_range, gain_db
        self.length = length or len(self.clean)
        self.seed = seed
        self.fixed = fixed

    def __len__(self):
        return self.length

    def __getitem__(self, i):
        from .augment import add_noise

        # fit seeds torch per epoch: drawing the generator's seed from torch makes every epoch new but
        # repeatable; a fixed set (validation) depends on (seed, i) only
        extra = () if self.fixed else (int(torch.randint(2 ** 31 - 1, ()).item()),)
        rng = np.random.default_rng((self.seed, i, *extra))
        c = self.clean[i % len(self.clean)]
        if len(c) > self.n:
            start = int(rng.integers(len(c) - self.n + 1))
            c = c[start:start + self.n]
        else:
            c = np.pad(c, (0, self.n - len(c)))
        if not np.any(c):
            c = self.clean[i % len(self.clean)][: self.n]
            c = np.pad(c, (0, self.n - len(c)))
        noise = self.noises[int(rng.integers(len(self.noises)))]
        noisy = add_noise(c, sr=self.sr, rng=rng, snr_db=float(rng.uniform(*self.snr_range)), noise=noise)
        g = np.float32(10 ** (rng.uniform(*self.gain_db) / 20))
        return torch.from_numpy(noisy * g), torch.from_numpy(c * g)


def neg_si_sdr(estimate: torch.Tensor, clean: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Mean negative SI-SDR (dB) of a batch ``(batch, n)``: the training loss of :class:`MaskNet`."""
    alpha = (estimate * clean).sum(-1, keepdim=True) / ((clean ** 2).sum(-1, keepdim=True) + eps)
    target = alpha * clean
    err = estimate - target
    return -(10 * torch.log10((target ** 2).sum(-1) / ((err ** 2).sum(-1) + eps) + eps)).mean()


def neg_compressed_spectral_snr(estimate: torch.Tensor, clean: torch.Tensor, *, n_fft: int = N_FFT,
                                hop_length: int = HOP_LENGTH, power: float = 0.3, eps: float = 1e-8) -> torch.Tensor:
    """Mean negative "compressed spectral SNR" (dB) of a batch ``(batch, n)``.

    ``-10 log10( sum |C|^(2p) / sum (|E|^p - |C|^p)^2 )`` with ``E``, ``C`` the STFTs of
    the estimate and the clean signal and ``p = power`` (0.3: the power-law compression of
    many enhancement losses). Compression lifts the quiet bins - residual noise between
    words, musical noise - which SI-SDR barely weighs but listeners and PESQ do. Invariant to
    scaling both signals together (the ratio is), in dB like :func:`neg_si_sdr`, so the two add.
    """
    window = torch.hann_window(n_fft, device=estimate.device)

    def mag(x):
        return torch.stft(x, n_fft, hop_length, window=window, center=True, pad_mode="constant",
                          return_complex=True).abs().clamp_min(eps) ** power
    E, C = mag(estimate), mag(clean)
    err = ((E - C) ** 2).sum(dim=(-2, -1))
    return -(10 * torch.log10((C ** 2).sum(dim=(-2, -1)) / (err + eps) + eps)).mean()


MASK_LOSSES = ("si_sdr", "si_sdr+spectral")


class TrainedMask(NamedTuple):
    """Output of :func:`train_mask`."""

    model: MaskNet
    history: object       #: course_lib.train.History


def train_mask(*, config: MaskNetConfig | None = None, model: MaskNet | None = None, time_budget: float = 300.0,
               epochs: int = 1000, n_clean: int | None = None, batch_size: int = 16, lr: float = 2e-3,
               seed: int = 0, loss: str = "si_sdr", progress: bool = True) -> TrainedMask:
    """Train a :class:`MaskNet` on corpus speech mixed with the training takes of every noise kind.

    Notebook: 09_enhancement.ipynb

    Speech: ``data.sentences(split="train")`` (training voices only); noise: the
    ``train`` take of each kind in ``data.noise`` (the ``test`` takes are kept for
    evaluation); validation: the valid voices with the train takes. The loss is
    the negative SI-SDR of the masked, resynthesised waveform (``loss="si_sdr"``), or
    that plus :func:`neg_compressed_spectral_snr` (``loss="si_sdr+spectral"``, both in dB).

    Parameters
    ----------
    config : MaskNetConfig, optional
    model : MaskNet, optional
        Continue training this model (its normalisation kept), e.g. a second stage at a lower ``lr``.
    time_budget : float
        Seconds of training (``course_lib.train.fit``'s budget).
    epochs : int
        Upper bound on passes over the training clips.
    n_clean : int, optional
        Use only the first ``n_clean`` training clips (fast mode).
    batch_size, lr, seed : as in ``fit``.
    loss : {"si_sdr", "si_sdr+spectral"}
        The training (and validation) loss, see above.

    Returns
    -------
    TrainedMask
        ``(model, history)``; the model in eval mode on the CPU.
    """
    from . import data, train

    if loss not in MASK_LOSSES:
        raise ParameterError(f"loss={loss!r} is not one of {MASK_LOSSES}")
    fresh = model is None
    if fresh:
        model = MaskNet(config or MaskNetConfig())
    config = model.config
    noises = [data.noise(k, split="train").audio for k in data.NOISE_KINDS]
    clean_train = [c.audio for c in data.sentences(split="train")][: n_clean]
    clean_valid = [c.audio for c in data.sentences(split="valid")][: max(16, (n_clean or 64) // 4)]
    train_set = MixtureDataset(clean_train, noises, sr=config.sr, seed=seed)
    valid_set = MixtureDataset(clean_valid, noises, sr=config.sr, seed=seed + 1, fixed=True)
    if fresh:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            sample = torch.stack([train_set[i][0] for i in range(min(64, len(train_set)))])
        model.set_normalisation(sample)
    model.train()

    def step(m, batch):
        noisy, clean = batch
        est = m.infer(noisy)
        if loss == "si_sdr":
            return neg_si_sdr(est, clean)
        return neg_si_sdr(est, clean) + neg_compressed_spectral_snr(est, clean)

    history = train.fit(model, train_set, step_fn=step, valid_data=valid_set, lr=lr, epochs=epochs,
                        time_budget=time_budget, batch_size=batch_size, seed=seed, device="cpu",
                        progress=progress, desc="mask")
    return TrainedMask(model.cpu().eval(), history)


# --------------------------------------------------------------------------- evaluation

class QualityRow(NamedTuple):
    """One line of :func:`quality_table`: one clip, one noise, one SNR, one enhancer."""

    voice: str
    clip: str
    noise: str
    snr_db: float
    method: str
    pesq: float
    estoi: float
    si_sdr: float


def quality_table(enhancers: dict, clips, *, kinds=("white", "babble", "fan", "hum"), snrs=(-5, 0, 5, 10),
                  split: str = "test", seed: int = 0, progress: bool = True) -> list[QualityRow]:
    """PESQ (wb), ESTOI and SI-SDR of each enhancer on each clip x noise kind x SNR.

    Notebook: 09_enhancement.ipynb

    Each clean clip is mixed with the ``split`` take of each noise kind by
    :func:`course_lib.augment.add_noise` at each SNR (the excerpt drawn from
    ``numpy.random.default_rng((seed, clip index, kind index, snr index))``, so every
    enhancer sees the same mixture); ``"noisy"`` (the unprocessed mixture) is always scored.

    Parameters
    ----------
    enhancers : dict of name -> callable ``(y, *, sr) -> np.ndarray``
    clips : list of course_lib.data.Clip
        Clean speech at 16 kHz (wide-band PESQ), e.g. ``data.sentences(split="test")``.
    kinds, snrs : sequences
        Noise kinds (:data:`course_lib.data.NOISE_KINDS`) and input SNRs in dB.

    Returns
    -------
    list of QualityRow
    """
    from tqdm.auto import tqdm

    from . import augment, data
    from .metrics import pesq, si_sdr, stoi

    methods = {"noisy": lambda y, *, sr: y, **enhancers}
    noises = {k: data.noise(k, split=split).audio for k in kinds}
    rows = []
    jobs = [(i, c, ki, k, si, snr) for i, c in enumerate(clips) for ki, k in enumerate(kinds)
            for si, snr in enumerate(snrs)]
    for i, c, ki, k, si, snr in tqdm(jobs, desc="quality", unit="mix", disable=not progress, mininterval=1.0):
        if c.sr != 16000:
            raise ParameterError(f"clip {c.path} is at {c.sr} Hz; wide-band PESQ needs 16 kHz clips")
        rng = np.random.default_rng((seed, i, ki, si))
        noisy = augment.add_noise(c.audio, sr=c.sr, rng=rng, snr_db=float(snr), noise=noises[k])
        for name, f in methods.items():
            out = f(noisy, sr=c.sr)
            rows.append(QualityRow(c.speaker, c.path.name, k, float(snr), name,
                                   pesq(c.audio, out, sr=c.sr), stoi(c.audio, out, sr=c.sr, extended=True),
                                   si_sdr(c.audio, out)))
    return rows


def summarize(rows, *, by=("method",)) -> dict:
    """Mean PESQ, ESTOI and SI-SDR of :func:`quality_table` rows grouped by the ``by`` fields.

    Returns
    -------
    dict
        ``key tuple -> {"pesq": ..., "estoi": ..., "si_sdr": ..., "n": ...}``, keys in first-seen order.
    """
    groups: dict = {}
    for r in rows:
        groups.setdefault(tuple(getattr(r, b) for b in by), []).append(r)
    return {k: {"pesq": float(np.mean([r.pesq for r in v])), "estoi": float(np.mean([r.estoi for r in v])),
                "si_sdr": float(np.mean([r.si_sdr for r in v])), "n": len(v)} for k, v in groups.items()}


#: Name -> callable ``(y, *, sr) -> enhanced``, the classical enhancers at their defaults
#: (no noise-only clip: spectral subtraction from the quietest frames, Wiener with the tracker).
ENHANCERS = {
    "spectral subtraction": spectral_subtraction,
    "wiener": wiener,
}
