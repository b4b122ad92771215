"""Recording-chain augmentation: make clean (synthetic) speech sound recorded.

Notebook: 04_hmm_word_recognition.ipynb

A model trained on clean synthetic voices meets, at test time, a room, a
microphone, a telephone line, a level and some noise. Each function here
simulates one link of that chain, shared by chapters 04-07. Every function takes
the signal positionally and ``sr`` and ``rng`` (a ``numpy.random.Generator``) as
keywords, so a pipeline can call them alike; a parameter left at ``None`` is
drawn from ``rng`` within a documented range, a given one is used as is::

    rng = np.random.default_rng(0)
    y = reverberate(y, sr=sr, rng=rng)            # a room (RT60 0.2-0.8 s)
    y = band_limit(y, sr=sr, rng=rng)             # a microphone's response
    y = telephone(y, sr=sr, rng=rng)              # 8 kHz, 300-3400 Hz, G.711 mu-law
    y = change_level(y, sr=sr, rng=rng)           # -20..+6 dB
    y = add_noise(y, sr=sr, rng=rng, snr_db=10)   # background at 10 dB SNR
    y = recording_chain(y, sr=sr, rng=rng)        # a random subset of the above

The room impulse response is the statistical (Polack) model: a direct sound and
Gaussian noise under an exponential envelope that falls 60 dB in RT60 seconds;
:func:`rt60` measures a response's reverberation time by Schroeder's backward
integration, so the model can be checked against its own definition.

All outputs are float32 with the input's length (and sample rate).
"""

from __future__ import annotations

import numpy as np

from .errors import ParameterError
from .validation import check_positive, check_sr, valid_audio

__all__ = ["room_impulse_response", "rt60", "reverberate", "band_limit", "telephone", "change_level",
           "add_noise", "recording_chain", "spec_augment", "time_shift", "phase_vocoder", "time_stretch",
           "pitch_shift", "mixup", "change_voice", "median_pitch", "log_uniform"]


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(f"rng={rng!r} must be a numpy.random.Generator, e.g. np.random.default_rng(0)")


def _check(y, sr, rng):
    valid_audio(y, mono=True)
    sr = check_sr(sr)
    _check_rng(rng)
    return sr


def _draw(rng, value, lo_hi, name):
    if value is None:
        return float(rng.uniform(*lo_hi))
    if not np.isfinite(value):
        raise ParameterError(f"{name}={value!r} must be a finite number")
    return float(value)


def _rms(y):
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))


# --------------------------------------------------------------------------- rooms

def room_impulse_response(*, sr: int, rng: np.random.Generator, rt60: float | None = None,
                          drr_db: float | None = None, predelay: float = 0.003) -> np.ndarray:
    """A simulated room impulse response (statistical model: direct sound + exponential tail).

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    rng : numpy.random.Generator
    rt60 : float, optional
        Reverberation time in seconds (the tail's energy falls 60 dB in ``rt60``);
        drawn from 0.2-0.8 s if None.
    drr_db : float, optional
        Direct-to-reverberant energy ratio in dB; drawn from -3..+6 dB if None.
    predelay : float
        Seconds between the direct sound and the start of the tail.

    Returns
    -------
    h : np.ndarray [shape=(n,), dtype=float32]
        ``n = predelay + 1.5 rt60`` seconds (the tail ends 90 dB down); ``h[0]`` is the direct sound.

    Examples
    --------
    >>> h = room_impulse_response(sr=16000, rng=np.random.default_rng(0), rt60=0.5)
    >>> round(rt60(h, sr=16000), 1)
    0.5
    """
    sr = check_sr(sr)
    t60 = _draw(rng, rt60, (0.2, 0.8), "rt60")
    check_positive(t60, "rt60")
    drr = _draw(rng, drr_db, (-3.0, 6.0), "drr_db")
    start = int(round(predelay * sr))
    n_tail = int(round(1.5 * t60 * sr))
    t = np.arange(n_tail) / sr
    # amplitude envelope exp(-3 ln(10) t / rt60): energy 10^(-6 t / rt60), i.e. -60 dB at rt60
    tail = rng.standard_normal(n_tail) * np.exp(-3 * np.log(10) * t / t60)
    tail *= np.sqrt(10 ** (-drr / 10) / np.sum(tail ** 2))      # direct energy is 1
    h = np.zeros(start + n_tail)
    h[0] = 1.0
    h[start:] += tail
    return h.astype(np.float32)


def rt60(h, *, sr: int, db_range: tuple[float, float] = (-5.0, -25.0)) -> float:
    """Reverberation time of an impulse response by Schroeder's backward integration.

    The energy decay curve ``EDC(t) = sum_{tau >= t} h(tau)^2`` (in dB re its start)
    is fitted by a line between ``db_range`` (-5 to -25 dB: "T20"); RT60 is the time
    that line takes to fall 60 dB (ISO 3382).

    Parameters
    ----------
    h : np.ndarray [shape=(n,)]
        Impulse response.
    sr : int
    db_range : (float, float)
        Start and end of the fitted part of the decay, in dB (negative, start > end).

    Returns
    -------
    float
        Seconds.
    """
    valid_audio(h, mono=True, name="h")
    sr = check_sr(sr)
    hi, lo = db_range
    if not (0 > hi > lo):
        raise ParameterError(f"db_range={db_range!r} must be two negative dB values, the first larger, e.g. (-5, -25)")
    e = np.cumsum(np.square(h[::-1], dtype=np.float64))[::-1]
    if e[0] == 0:
        raise ParameterError("h is all zeros: a silent impulse response has no reverberation time")
    edc = 10 * np.log10(np.maximum(e / e[0], 1e-300))
    fit = (edc <= hi) & (edc >= lo)
    if fit.sum() < 2:
        raise ParameterError(f"the decay of h does not reach {lo} dB; pass a longer response or a smaller db_range")
    t = np.arange(len(h)) / sr
    slope = np.polyfit(t[fit], edc[fit], 1)[0]                 # dB per second (negative)
    return float(-60.0 / slope)


def reverberate(y, *, sr: int, rng: np.random.Generator, rt60: float | None = None,
                drr_db: float | None = None) -> np.ndarray:
    """``y`` played in a simulated room (see :func:`room_impulse_response`), same length and RMS.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int
    rng : numpy.random.Generator
    rt60, drr_db : float, optional
        Reverberation time (s) and direct-to-reverberant ratio (dB); drawn if None.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    sr = _check(y, sr, rng)
    from scipy.signal import fftconvolve

    h = room_impulse_response(sr=sr, rng=rng, rt60=rt60, drr_db=drr_db)
    wet = fftconvolve(y.astype(np.float64), h.astype(np.float64))[: len(y)]
    r_in, r_out = _rms(y), _rms(wet)
    return (wet * (r_in / r_out if r_out > 0 else 1.0)).astype(np.float32)


# --------------------------------------------------------------------------- microphones and lines

def band_limit(y, *, sr: int, rng: np.random.Generator, low_hz: float | None = None,
               high_hz: float | None = None, order: int = 4) -> np.ndarray:
    """A microphone / small loudspeaker response: Butterworth high-pass at ``low_hz`` and
    low-pass at ``high_hz``, plus a gentle presence peak (+-4 dB at 2-5 kHz, drawn from ``rng``).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int
    rng : numpy.random.Generator
    low_hz : float, optional
        High-pass corner; drawn from 50-300 Hz if None.
    high_hz : float, optional
        Low-pass corner; drawn from 3.4-7 kHz if None (must be below ``sr / 2``).
    order : int
        Butterworth order of each filter (attenuation 6·order dB per octave).

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    sr = _check(y, sr, rng)
    from scipy.signal import sosfilt, butter

    lo = _draw(rng, low_hz, (50.0, 300.0), "low_hz")
    hi = _draw(rng, high_hz, (3400.0, min(7000.0, 0.45 * sr)), "high_hz")
    if not 0 < lo < hi < sr / 2:
        raise ParameterError(f"need 0 < low_hz={lo:g} < high_hz={hi:g} < sr/2={sr / 2:g}")
    sos = np.vstack([butter(order, lo, "highpass", fs=sr, output="sos"),
                     butter(order, hi, "lowpass", fs=sr, output="sos")])
    out = sosfilt(sos, y.astype(np.float64))
    # presence peak: a peaking EQ biquad (RBJ cookbook), only where it fits below the low-pass
    f0 = float(rng.uniform(2000.0, 5000.0))
    if f0 < 0.8 * hi:
        out = _peaking(out, sr=sr, f0=f0, gain_db=float(rng.uniform(-4.0, 4.0)), q=1.0)
    return out.astype(np.float32)


def _peaking(y, *, sr, f0, gain_db, q):
    from scipy.signal import lfilter

    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / sr
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * a, -2 * np.cos(w0), 1 - alpha * a])
    den = np.array([1 + alpha / a, -2 * np.cos(w0), 1 - alpha / a])
    return lfilter(b / den[0], den / den[0], y)


def telephone(y, *, sr: int, rng: np.random.Generator, mu_law: bool = True) -> np.ndarray:
    """A narrowband telephone line: resampled to 8 kHz, band-passed to 300-3400 Hz,
    optionally G.711 mu-law coded (8 bits), and resampled back to ``sr``.

    ``rng`` is accepted for a uniform signature (the line is deterministic).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int
        Must be at least 8000.
    rng : numpy.random.Generator
    mu_law : bool
        Quantise with mu = 255 companding (about 38 dB SNR on speech).

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
        Nothing above 4 kHz survives; 300-3400 Hz passes within about 1 dB.
    """
    sr = _check(y, sr, rng)
    if sr < 8000:
        raise ParameterError(f"sr={sr} is below the telephone's 8000 Hz; resample up first")
    import soxr
    from scipy.signal import sosfilt, butter

    x = soxr.resample(y.astype(np.float64), sr, 8000, quality="HQ") if sr != 8000 else y.astype(np.float64)
    sos = np.vstack([butter(4, 300, "highpass", fs=8000, output="sos"),
                     butter(8, 3400, "lowpass", fs=8000, output="sos")])
    x = sosfilt(sos, x)
    if mu_law:
        mu = 255.0
        peak = max(float(np.max(np.abs(x))), 1e-12)
        c = np.sign(x / peak) * np.log1p(mu * np.abs(x / peak)) / np.log1p(mu)
        c = np.round((c + 1) / 2 * mu) / mu * 2 - 1                     # 256 levels
        x = np.sign(c) * np.expm1(np.abs(c) * np.log1p(mu)) / mu * peak
    out = soxr.resample(x, 8000, sr, quality="HQ") if sr != 8000 else x
    out = np.pad(out, (0, max(0, len(y) - len(out))))[: len(y)]
    return out.astype(np.float32)


# --------------------------------------------------------------------------- level and noise

def change_level(y, *, sr: int, rng: np.random.Generator, gain_db: float | None = None,
                 clip: bool = True) -> np.ndarray:
    """``y`` made ``gain_db`` louder (drawn from -20..+6 dB if None), clipped to [-1, 1] if ``clip``.

    A far or quiet talker and a hot microphone; clipping is what a recorder does
    to a level it cannot hold.
    """
    _check(y, sr, rng)
    g = _draw(rng, gain_db, (-20.0, 6.0), "gain_db")
    out = y.astype(np.float64) * 10 ** (g / 20)
    if clip:
        out = np.clip(out, -1.0, 1.0)
    return out.astype(np.float32)


def add_noise(y, *, sr: int, rng: np.random.Generator, snr_db: float | None = None, noise=None) -> np.ndarray:
    """``y`` plus background noise scaled to ``snr_db`` (drawn from 0-30 dB if None).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int
    rng : numpy.random.Generator
    snr_db : float, optional
        ``10 log10(sum y^2 / sum n^2)`` of the result, exactly.
    noise : np.ndarray [shape=(m,)], optional
        A noise recording at ``sr`` (e.g. ``data.noise("babble").audio``); a random
        excerpt is used, looped if shorter than ``y``. White noise if None.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
        ``y + n`` (not clipped: float audio may exceed 1 before it is saved).
    """
    _check(y, sr, rng)
    snr = _draw(rng, snr_db, (0.0, 30.0), "snr_db")
    if noise is None:
        n = rng.standard_normal(len(y))
    else:
        valid_audio(noise, mono=True, name="noise")
        reps = int(np.ceil((len(y) + len(noise)) / len(noise)))
        start = int(rng.integers(len(noise)))
        n = np.tile(noise.astype(np.float64), reps)[start:start + len(y)]
    p_y, p_n = np.sum(np.square(y, dtype=np.float64)), np.sum(n ** 2)
    if p_y == 0:
        raise ParameterError("y is silent: a signal-to-noise ratio needs some signal")
    if p_n == 0:
        raise ParameterError("noise is silent: pass a noise with some energy")
    n *= np.sqrt(p_y / (p_n * 10 ** (snr / 10)))
    return (y.astype(np.float64) + n).astype(np.float32)


def recording_chain(y, *, sr: int, rng: np.random.Generator, noise=None, p_reverb: float = 0.5,
                    p_band: float = 0.5, p_telephone: float = 0.2, p_noise: float = 0.5,
                    p_level: float = 0.5) -> np.ndarray:
    """A random recording chain: each link (room, microphone, telephone line, noise, level)
    is applied with its probability, in that physical order, with parameters drawn from ``rng``.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    sr = _check(y, sr, rng)
    for name, p in (("p_reverb", p_reverb), ("p_band", p_band), ("p_telephone", p_telephone),
                    ("p_noise", p_noise), ("p_level", p_level)):
        if not 0 <= p <= 1:
            raise ParameterError(f"{name}={p!r} must be a probability in [0, 1]")
    out = y.astype(np.float32)
    if rng.random() < p_reverb:
        out = reverberate(out, sr=sr, rng=rng)
    if rng.random() < p_band:
        out = band_limit(out, sr=sr, rng=rng)
    if rng.random() < p_telephone:
        out = telephone(out, sr=sr, rng=rng)
    if rng.random() < p_noise:
        out = add_noise(out, sr=sr, rng=rng, snr_db=float(rng.uniform(5.0, 30.0)), noise=noise)
    if rng.random() < p_level:
        out = change_level(out, sr=sr, rng=rng, gain_db=float(rng.uniform(-20.0, 3.0)))
    return out


def spec_augment(features, lengths, *, generator, n_freq_masks: int = 2, max_freq: int = 8,
                 n_time_masks: int = 2, max_time_fraction: float = 0.1):
    """SpecAugment (Park et al. 2019) on a batch of features: zero random bands and spans.

    Notebook: 05_ctc_asr.ipynb

    Parameters
    ----------
    features : torch.Tensor [shape=(batch, time, n_features)]
        Normalised features (zero is the mean after CMVN, so a mask reads as "nothing here").
    lengths : torch.Tensor [shape=(batch,)]
        Valid frames; time masks fall inside them.
    generator : torch.Generator
        The only source of randomness (seed it for reproducible training).
    n_freq_masks, max_freq : int
        How many frequency masks, each up to ``max_freq`` bands wide.
    n_time_masks : int
    max_time_fraction : float
        Each time mask is up to this fraction of the utterance's length.

    Returns
    -------
    torch.Tensor [shape=(batch, time, n_features)]
        A masked copy (the input is not changed).
    """
    import torch

    if features.dim() != 3:
        raise ParameterError(f"features must be (batch, time, n_features), got shape {tuple(features.shape)}")
    if not 0.0 <= max_time_fraction <= 1.0:
        raise ParameterError(f"max_time_fraction={max_time_fraction!r} must be in [0, 1]")
    B, T, F = features.shape
    keep = torch.ones(B, T, F, dtype=torch.bool)
    frames = torch.arange(T)[None, :]
    bands = torch.arange(F)[None, :]
    lengths = torch.as_tensor(lengths).cpu()
    for _ in range(n_freq_masks):
        width = torch.randint(0, max_freq + 1, (B, 1), generator=generator)
        start = (torch.rand(B, 1, generator=generator) * (F - width + 1)).long()
        keep &= ~((bands >= start) & (bands < start + width))[:, None, :]
    for _ in range(n_time_masks):
        limit = (lengths.float() * max_time_fraction).long()[:, None]
        width = (torch.rand(B, 1, generator=generator) * (limit + 1)).long()
        start = (torch.rand(B, 1, generator=generator) * (lengths[:, None] - width + 1).clamp(min=1)).long()
        keep &= ~((frames >= start) & (frames < start + width))[:, :, None]
    return features * keep.to(features.device, features.dtype)


# --------------------------------------------------------------------------- chapter 07: shift, pitch, tempo, mixup

def time_shift(y, *, sr: int, rng: np.random.Generator, shift_s: float | None = None,
               max_shift_s: float = 0.2) -> np.ndarray:
    """``y`` moved later (``shift_s`` > 0) or earlier by ``shift_s`` seconds, zero-filled, same length.

    Notebook: 07_audio_classification.ipynb

    ``shift_s`` is drawn uniformly from ``[-max_shift_s, max_shift_s]`` if None; the
    shift is rounded to whole samples: ``out[n] = y[n - round(shift_s * sr)]``.
    """
    sr = _check(y, sr, rng)
    s = _draw(rng, shift_s, (-max_shift_s, max_shift_s), "shift_s")
    k = int(round(s * sr))
    out = np.zeros(len(y), dtype=np.float32)
    if k >= 0:
        out[k:] = y[:len(y) - k] if k < len(y) else []
    else:
        out[:k] = y[-k:]
    return out


def phase_vocoder(D, *, rate: float, hop_length: int) -> np.ndarray:
    """Stretch an STFT ``D`` (1 + n_fft/2, frames) in time by ``1/rate`` (as librosa.phase_vocoder).

    Notebook: 07_audio_classification.ipynb

    Output frame ``t`` reads the input at the fractional frame ``t * rate``: its magnitude
    interpolates the two neighbouring frames, its phase advances by each bin's
    expected advance plus the measured deviation (wrapped to +-pi), so partials stay
    coherent.
    """
    n_fft = 2 * (D.shape[0] - 1)
    steps = np.arange(0, D.shape[1], rate, dtype=np.float64)
    out = np.zeros((D.shape[0], len(steps)), dtype=D.dtype)
    advance = hop_length * np.linspace(0, np.pi, D.shape[0])          # expected phase advance per bin
    phase = np.angle(D[:, 0])
    Dp = np.pad(D, [(0, 0), (0, 2)])
    for t, step in enumerate(steps):
        cols = Dp[:, int(step):int(step) + 2]
        a = step % 1.0
        mag = (1.0 - a) * np.abs(cols[:, 0]) + a * np.abs(cols[:, 1])
        out[:, t] = mag * np.exp(1j * phase)
        dphase = np.angle(cols[:, 1]) - np.angle(cols[:, 0]) - advance
        dphase -= 2.0 * np.pi * np.round(dphase / (2.0 * np.pi))
        phase += advance + dphase                   # in place: the accumulator keeps D's precision
    return out


def time_stretch(y, *, sr: int, rng: np.random.Generator, rate: float | None = None,
                 rate_range: tuple[float, float] = (0.85, 1.15), n_fft: int = 512) -> np.ndarray:
    """Faster (``rate`` > 1) or slower speech at the same pitch: STFT, :func:`phase_vocoder`, inverse STFT.

    Notebook: 07_audio_classification.ipynb

    Equals ``librosa.effects.time_stretch(y, rate=rate, n_fft=n_fft)``; the result has
    ``round(len(y) / rate)`` samples. ``rate`` is drawn from ``rate_range`` if None.
    """
    from .spectral import istft, stft

    _check(y, sr, rng)
    r = _draw(rng, rate, rate_range, "rate")
    if r <= 0:
        raise ParameterError(f"rate={r!r} must be positive (1.2 = 20 % faster)")
    hop = n_fft // 4
    D = stft(np.asarray(y, dtype=np.float64), n_fft=n_fft, hop_length=hop)          # float64 inside
    out = istft(phase_vocoder(D, rate=r, hop_length=hop), hop_length=hop, length=int(round(len(y) / r)))
    return out.astype(np.float32)


def pitch_shift(y, *, sr: int, rng: np.random.Generator, n_steps: float | None = None,
                steps_range: tuple[float, float] = (-2.0, 2.0), n_fft: int = 512) -> np.ndarray:
    """``y`` shifted by ``n_steps`` semitones at the same duration (as librosa.effects.pitch_shift).

    Notebook: 07_audio_classification.ipynb

    Time-stretch by ``rate = 2 ** (-n_steps / 12)``, then resample from ``sr / rate`` to
    ``sr`` (soxr, high quality), then cut or zero-pad to ``len(y)``. ``n_steps`` is drawn
    from ``steps_range`` if None.
    """
    import soxr

    sr = _check(y, sr, rng)
    k = _draw(rng, n_steps, steps_range, "n_steps")
    rate = 2.0 ** (-k / 12)
    from .spectral import istft, stft

    hop = n_fft // 4
    D = stft(np.asarray(y, dtype=np.float64), n_fft=n_fft, hop_length=hop)
    z = istft(phase_vocoder(D, rate=rate, hop_length=hop), hop_length=hop, length=int(round(len(y) / rate)))
    z = soxr.resample(z, float(sr) / rate, sr, quality="HQ")
    out = np.zeros(len(y), dtype=np.float32)
    out[:min(len(y), len(z))] = z[:len(y)]
    return out


def mixup(x, targets, *, alpha: float = 0.2, generator):
    """Mixup (Zhang et al. 2018): ``lam * x + (1 - lam) * x[perm]`` with ``lam ~ Beta(alpha, alpha)``.

    Notebook: 07_audio_classification.ipynb

    Parameters
    ----------
    x : torch.Tensor [shape=(batch, ...)]
    targets : torch.Tensor [shape=(batch,)]
        Class indices.
    alpha : float
        > 0.
    generator : torch.Generator
        The only source of randomness (the permutation and ``lam``).

    Returns
    -------
    (mixed, targets_a, targets_b, lam)
        The loss is ``lam * CE(out, targets_a) + (1 - lam) * CE(out, targets_b)``.
    """
    import torch

    if not alpha > 0:
        raise ParameterError(f"alpha={alpha!r} must be > 0 (0.2 is usual)")
    # lam ~ Beta(alpha, alpha), drawn by numpy from a seed taken from the generator (torch.distributions
    # takes no generator)
    seed = int(torch.randint(0, 2 ** 31 - 1, (1,), generator=generator))
    lam = float(np.random.default_rng(seed).beta(alpha, alpha))
    perm = torch.randperm(x.shape[0], generator=generator)
    return lam * x + (1 - lam) * x[perm], targets, targets[perm], lam


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A draw between ``low`` and ``high`` (both > 0), uniform in the logarithm: a ratio and its
    inverse (x 1.2 and / 1.2) are equally likely, as fits formant ratios and pitch medians."""
    _check_rng(rng)
    check_positive(low, "low")
    check_positive(high, "high")
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def change_voice(y, *, sr: int, formant_ratio: float = 1.0, pitch_median: float | None = None,
                 pitch_floor: float = 75.0, pitch_ceiling: float = 600.0, seed: int | None = None) -> np.ndarray:
    """Another voice from the same speech: Praat's "Change gender" (through ``praat-parselmouth``).

    Notebook: 13_speaker_recognition.ipynb

    Speed perturbation (resampling) scales the formants and the pitch by one factor; this
    moves them independently, as two speakers differ: the formants by ``formant_ratio``
    (a shorter vocal tract: > 1), and the pitch contour so that its median becomes
    ``pitch_median`` Hz (None: unchanged), by pitch-synchronous overlap-add on Praat's pitch
    analysis between ``pitch_floor`` and ``pitch_ceiling`` Hz. Same duration. Praat's overlap-add draws
    from Praat's own random generator (two calls on one input differ by up to a third of its peak):
    ``seed`` (an int) seeds it for this call (Praat's ``random_initializeWithSeedUnsafelyButPredictably``,
    then back to an unpredictable seed), so the same seed gives the same samples; None leaves it unseeded.

    Returns
    -------
    np.ndarray [shape=(n,)], float32, the input's length.
    """
    import parselmouth
    from parselmouth.praat import call

    valid_audio(y, mono=True)
    sr = check_sr(sr)
    check_positive(formant_ratio, "formant_ratio")
    if not 0.5 <= formant_ratio <= 2.0:
        raise ParameterError(f"formant_ratio={formant_ratio!r} is outside 0.5-2 (1.1 raises the formants 10 %)")
    if pitch_median is not None and not pitch_floor <= pitch_median <= pitch_ceiling:
        raise ParameterError(f"pitch_median={pitch_median!r} Hz is outside pitch_floor-pitch_ceiling "
                             f"({pitch_floor}-{pitch_ceiling} Hz); give None to keep the pitch")
    if seed is not None and not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2 ** 31):
        raise ParameterError(f"seed={seed!r} must be an int from 0 to 2**31 - 1 (or None)")
    snd = parselmouth.Sound(np.asarray(y, dtype=np.float64), sampling_frequency=float(sr))
    if seed is not None:
        parselmouth.praat.run(f"random_initializeWithSeedUnsafelyButPredictably ({int(seed)})")
    try:
        z = call(snd, "Change gender", float(pitch_floor), float(pitch_ceiling), float(formant_ratio),
                 float(pitch_median or 0.0), 1.0, 1.0).values[0]
    finally:
        if seed is not None:
            parselmouth.praat.run("random_initializeSafelyAndUnpredictably ()")
    out = np.zeros(len(y), dtype=np.float32)
    out[:min(len(y), len(z))] = z[:len(y)]
    return out


def median_pitch(y, *, sr: int, pitch_floor: float = 75.0, pitch_ceiling: float = 600.0) -> float | None:
    """Median F0 in Hz of the voiced frames (Praat's autocorrelation pitch, :func:`course_lib.prosody.praat_pitch`),
    None if nothing is voiced.

    Notebook: 13_speaker_recognition.ipynb
    """
    from .prosody import praat_pitch

    valid_audio(y, mono=True)
    f0 = praat_pitch(y, sr=check_sr(sr), fmin=pitch_floor, fmax=pitch_ceiling).f0
    f0 = f0[np.isfinite(f0)]
    return float(np.median(f0)) if len(f0) else None
