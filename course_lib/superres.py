"""Audio super-resolution (bandwidth extension): interpolation baselines and a learned model.

Notebook: 10_super_resolution.ipynb

A signal sampled at ``sr / factor`` holds nothing above ``sr / (2 factor)``.
Upsampling it back to ``sr`` can either leave the new band empty (band-limited,
"sinc" interpolation — the best any interpolator can do without knowledge of
speech), fill it with images of the low band (zero-order hold, linear, cubic), or
*predict* it from what speech usually looks like (:class:`BandwidthExtender`).

Conventions
-----------
- :func:`low_resolution` makes the low-rate input: an anti-aliasing low-pass
  (a Kaiser-windowed sinc: 90 dB down from the new Nyquist frequency up) then decimation, with zero delay,
  so low-rate sample ``n`` sits at high-rate sample ``n * factor``.
- :func:`upsample` keeps that alignment and returns exactly ``len(y) * factor``
  samples for every method.
- The learned model works on magnitudes: it reads the log-magnitude STFT of the
  band-limited upsampled signal below the cut-off and predicts the log
  magnitude above it; the phase of the new band is borrowed from the low band
  (spectral translation), and the low band is passed through untouched. So it
  never makes the low band worse, and what it adds is a guess a listener hears
  as "brightness" — which LSD rewards and SNR (which needs the true phase)
  cannot.

>>> import numpy as np
>>> y = np.sin(2 * np.pi * 440 * np.arange(1600) / 16000).astype(np.float32)
>>> low = low_resolution(y, factor=2)
>>> [len(upsample(low, factor=2, method=m)) for m in METHODS]
[1600, 1600, 1600, 1600]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from .errors import ParameterError
from .validation import check_positive_int, check_signal, check_sr

__all__ = ["METHODS", "low_resolution", "upsample", "BandwidthExtenderConfig", "BandwidthExtender",
           "extension_features", "training_pairs", "segments", "evaluate", "choose_energy", "energy_ceiling_gains",
           "high_band_db",
           "train_extender",
           "full_band_speakers"]

#: The interpolation baselines of :func:`upsample`.
METHODS = ("zoh", "linear", "cubic", "sinc")

# The anti-aliasing / anti-imaging filter, shared by decimation and band-limited
# interpolation: a linear-phase Kaiser-windowed sinc whose stop band starts at the
# low rate's Nyquist frequency (90 dB down there and above) and whose pass band ends
# at 90 % of it. scipy.signal.resample_poly's own default (cut-off *at* the Nyquist
# frequency, 21 taps per phase, Kaiser beta 5) lets a tone just above the new Nyquist
# frequency through at about -6 dB, where it folds back into the band: aliasing.
_STOP_DB = 90.0


@lru_cache(maxsize=16)
def _lowpass(factor: int) -> np.ndarray:
    from scipy.signal import firwin, kaiserord

    width = 0.1 / factor                               # transition band, relative to the high rate's Nyquist
    numtaps, beta = kaiserord(_STOP_DB, width)
    numtaps |= 1                                       # odd: a whole-sample delay that resample_poly removes
    return firwin(numtaps, 0.95 / factor, window=("kaiser", beta))


def _factor(factor) -> int:
    factor = check_positive_int(factor, "factor")
    if factor < 2:
        raise ParameterError(f"factor={factor} must be at least 2 (1 changes nothing)")
    return factor


def _signal(y, name="y"):
    y = check_signal(y, name=name, mono=True)
    if y.size < 2:
        raise ParameterError(f"{name} has {y.size} sample(s); super-resolution needs at least 2")
    return y


def low_resolution(y, *, factor: int) -> np.ndarray:
    """Low-pass then decimate by ``factor`` (the model's input, made the same way in training and test).

    Notebook: 10_super_resolution.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        The full-band signal.
    factor : int ≥ 2
        Decimation factor (2: 16 -> 8 kHz; 4: 16 -> 4 kHz).

    Returns
    -------
    np.ndarray [shape=(ceil(n / factor),)]
        Same dtype as ``y``. Sample ``k`` corresponds to ``y[k * factor]`` (zero delay).
        Energy above the new Nyquist frequency is removed before it can alias
        (90 dB attenuation from the new Nyquist frequency up; the pass band is flat
        to 90 % of it).
    """
    from scipy.signal import resample_poly

    factor = _factor(factor)
    y = _signal(y)
    return resample_poly(y, 1, factor, window=_lowpass(factor)).astype(y.dtype, copy=False)


def upsample(y, *, factor: int, method: str = "sinc") -> np.ndarray:
    """Interpolate ``y`` by an integer ``factor``: exactly ``len(y) * factor`` samples.

    Notebook: 10_super_resolution.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        The low-rate signal.
    factor : int ≥ 2
    method : {"zoh", "linear", "cubic", "sinc"}
        - ``"zoh"``: zero-order hold, each sample repeated ``factor`` times
          (a staircase; its spectrum holds images of the low band, sinc-weighted);
        - ``"linear"``: straight lines between samples (a triangle filter: weaker images);
        - ``"cubic"``: a not-a-knot cubic spline through the samples (scipy's ``CubicSpline``);
        - ``"sinc"``: band-limited interpolation (the polyphase Kaiser-windowed sinc of
          :func:`low_resolution`): no images, an empty band above the old Nyquist.
        Output sample ``j`` lies at input position ``j / factor``; past the last
        input sample, zoh / linear hold it, the cubic extrapolates its last piece.

    Returns
    -------
    np.ndarray [shape=(n * factor,)]
        Same dtype as ``y``.
    """
    factor = _factor(factor)
    y = _signal(y)
    if method not in METHODS:
        raise ParameterError(f"method={method!r} is not one of {METHODS}")
    n = len(y)
    t = np.arange(n * factor) / factor
    if method == "zoh":
        out = np.repeat(y, factor)
    elif method == "linear":
        out = np.interp(t, np.arange(n), y)
    elif method == "cubic":
        from scipy.interpolate import CubicSpline

        if n < 4:
            raise ParameterError(f"method='cubic' needs at least 4 samples, got {n}")
        out = CubicSpline(np.arange(n), y.astype(np.float64), bc_type="not-a-knot")(t)
    else:
        from scipy.signal import resample_poly

        out = resample_poly(y, factor, 1, window=_lowpass(factor))
    return np.asarray(out, dtype=y.dtype)


# --------------------------------------------------------------------------- the learned model

@dataclass
class BandwidthExtenderConfig:
    """Architecture and STFT of :class:`BandwidthExtender`.

    The STFT is of the *output* rate ``sr``; the cut-off bin is ``n_fft / (2 factor)``.
    ``keep`` (≤ 1) says which fraction of the bins below the cut-off the model trusts
    as input: the anti-aliasing filter's transition band just below the cut-off is
    attenuated, so the model predicts it too.
    """

    factor: int = 2
    sr: int = 16000
    n_fft: int = 512
    hop_length: int = 128
    keep: float = 0.9
    context: int = 4            # frames of context on each side (first layer's kernel: 2 context + 1)
    hidden: int = 192
    n_layers: int = 3
    high_band_energy: float = 1.0    # fraction of the predicted high band's energy kept at synthesis (chosen on valid)
    floor: float = 1e-5         # magnitude floor before the log

    def __post_init__(self):
        _factor(self.factor)
        check_sr(self.sr)
        for name in ("n_fft", "hop_length", "context", "hidden", "n_layers"):
            check_positive_int(getattr(self, name), name)
        if self.n_fft % (2 * self.factor):
            raise ParameterError(f"n_fft={self.n_fft} must be a multiple of 2 * factor = {2 * self.factor}")
        if not 0.25 <= self.keep <= 1.0:
            raise ParameterError(f"keep={self.keep} must lie in [0.25, 1]")
        if not self.floor > 0:
            raise ParameterError(f"floor={self.floor} must be positive")
        if not 0 < self.high_band_energy <= 1:
            raise ParameterError(f"high_band_energy={self.high_band_energy} must lie in (0, 1]")

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def n_in(self) -> int:
        """Input bins: ``0 .. n_in - 1`` (below the cut-off, minus the transition band)."""
        return int(round(self.keep * self.n_fft / (2 * self.factor)))

    @property
    def n_out(self) -> int:
        """Predicted bins: ``n_in .. n_fft / 2``."""
        return self.n_bins - self.n_in


class BandwidthExtender(nn.Module):
    """Predicts the missing high band's log magnitude from the low band's (a 1-D CNN over frames).

    Notebook: 10_super_resolution.ipynb

    ``forward(x)``: ``x`` ``(batch, n_in, frames)`` normalised log magnitudes of the
    band-limited upsampled signal (see :func:`extension_features`) ->
    ``(batch, n_out, frames)`` predicted normalised log magnitudes of the bins above.
    The first layer sees ``2 context + 1`` frames; the rest are ``3``-frame
    convolutions, so the receptive field is ``2 context + 1 + 2 (n_layers - 1)`` frames.

    ``.extend(y_low, *, sr)``: raw audio in (any rate; the model's low rate is ``config.sr / factor``),
    ``config.sr`` audio out.
    """

    Config = BandwidthExtenderConfig

    def __init__(self, config: BandwidthExtenderConfig | None = None):
        super().__init__()
        self.config = config = config or BandwidthExtenderConfig()
        layers = [nn.Conv1d(config.n_in, config.hidden, 2 * config.context + 1, padding=config.context), nn.GELU()]
        for _ in range(config.n_layers - 1):
            layers += [nn.Conv1d(config.hidden, config.hidden, 3, padding=1), nn.GELU()]
        layers += [nn.Conv1d(config.hidden, config.n_out, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[1] != self.config.n_in:
            raise ParameterError(f"expected input of shape (batch, {self.config.n_in}, frames), got {tuple(x.shape)}")
        return self.net(x)                                           # (B, n_out, T)

    @torch.no_grad()
    def extend(self, y_low, *, sr: int) -> np.ndarray:
        """Bandwidth-extend raw audio: ``config.sr`` Hz out, ``factor`` samples per sample at ``config.sr / factor``.

        Audio at another rate ``sr`` is first resampled to ``config.sr / factor`` (the
        rate the model extends), as every shipped model takes any rate.
        """
        from .spectral import istft

        from .audio import resample

        cfg = self.config
        sr = check_sr(sr)
        y_low = _signal(y_low, "y_low")
        low_sr = cfg.sr // cfg.factor
        if sr != low_sr:            # any rate in (DESIGN's contract): brought to the rate the model extends
            y_low = resample(np.asarray(y_low, dtype=np.float32), orig_sr=sr, target_sr=low_sr)
        if not np.any(y_low):
            raise ParameterError("y_low is silent (all zeros): there is no low band to extend")
        up = upsample(y_low.astype(np.float32), factor=cfg.factor, method="sinc")
        x, X, offset = extension_features(up, config=cfg)
        self.eval()
        p = next(self.parameters())
        pred = self(torch.from_numpy(x[None]).to(p.device, p.dtype))[0].cpu().numpy().astype(np.float64)
        mag = np.exp(pred + offset)                      # (n_out, frames): bins n_in .. n_fft/2
        k = np.arange(cfg.n_in, cfg.n_bins)
        # Below the cut-off (the anti-aliasing filter's transition band) the input still holds
        # the true signal, attenuated: keep its phase, correct its magnitude. Above, nothing is
        # left: borrow the low band's phase by spectral translation, and spend only a budget
        # of energy there (see energy_ceiling_gains).
        cut = cfg.n_fft // (2 * cfg.factor)
        above = k >= cut
        mag[above] *= np.sqrt(energy_ceiling_gains(mag[above] ** 2, keep=cfg.high_band_energy))
        phase = np.where(above[:, None], np.angle(X[k % cfg.n_in]), np.angle(X[k]))
        Y = X.copy()
        Y[cfg.n_in:] = mag * np.exp(1j * phase)
        out = istft(Y, hop_length=cfg.hop_length, length=len(up))
        return out.astype(np.float32)


def energy_ceiling_gains(power, *, keep: float) -> np.ndarray:
    """Power gains that keep a fraction ``keep`` of ``power``'s total by capping its loudest values.

    Notebook: 10_super_resolution.ipynb

    The predicted band has the right magnitudes but not the true phase, so every bit
    of its energy adds error energy (SNR falls); LSD, a mean of *log* errors, cares
    about every bin equally. Minimising the summed log error for a given energy
    budget ``Σ g P = keep · Σ P`` gives ``g = min(1, c / P)``: a ceiling ``c`` on the
    power (water-filling). Quiet bins, which cost little energy, stay as predicted;
    the loud ones, which cost most, are capped.

    Parameters
    ----------
    power : np.ndarray, non-negative
    keep : float in (0, 1]

    Returns
    -------
    np.ndarray, same shape: gains in (0, 1].

    >>> energy_ceiling_gains(np.array([1.0, 1.0, 8.0]), keep=0.5)   # 10 -> 5: the 8 is capped at 3
    array([1.   , 1.   , 0.375])
    """
    P = np.asarray(power, dtype=np.float64)
    if not 0 < keep <= 1:
        raise ParameterError(f"keep={keep} must lie in (0, 1]")
    if np.any(P < 0) or not np.all(np.isfinite(P)):
        raise ParameterError("power must be finite and non-negative")
    total = P.sum()
    if keep == 1 or total == 0:
        return np.ones_like(P)
    target = keep * total
    v = np.sort(P.ravel())[::-1]                         # descending
    csum = np.cumsum(v)
    # with the m largest values capped at c: c * m + (total - csum[m - 1]) = target, and v[m] <= c <= v[m - 1]
    m = np.arange(1, len(v) + 1)
    c = (target - (total - csum)) / m
    ok = (c <= v) & (c >= np.append(v[1:], 0.0))
    c = float(c[np.argmax(ok)])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(P > c, c / np.where(P > 0, P, 1.0), 1.0)


def extension_features(y_up, *, config: BandwidthExtenderConfig):
    """The model's input for a band-limited upsampled signal.

    Notebook: 10_super_resolution.ipynb

    Returns
    -------
    x : np.ndarray [shape=(n_in, frames), float32]
        ``log(|STFT| + floor)`` of bins ``0 .. n_in - 1`` minus ``offset``.
    X : np.ndarray [shape=(n_fft/2 + 1, frames), complex]
        The full STFT (Hann window, centred).
    offset : float
        ``log`` of the signal's RMS: subtracting it makes the features, and adding it
        back makes the output, follow the input level (scaling the input by ``g``
        scales the extended signal by ``g``).
    """
    from .spectral import stft

    y_up = np.asarray(y_up, dtype=np.float64)
    X = stft(y_up, n_fft=config.n_fft, hop_length=config.hop_length)
    rms = float(np.sqrt(np.mean(y_up ** 2)))
    if rms == 0:
        raise ParameterError("the signal is silent (all zeros): nothing to extend")
    offset = float(np.log(rms))
    x = (np.log(np.abs(X[: config.n_in]) + config.floor) - offset).astype(np.float32)
    return x, X, offset


def training_pairs(y, *, config: BandwidthExtenderConfig):
    """``(x, target)`` for one full-band training signal: input and target log magnitudes (both offset).

    Notebook: 10_super_resolution.ipynb

    The input is made exactly as at test time (:func:`low_resolution` then
    :func:`upsample` ``"sinc"``); the target is the original's STFT above bin ``n_in``.
    """
    from .spectral import stft

    y = _signal(y)
    low = low_resolution(y.astype(np.float64), factor=config.factor)
    up = upsample(low, factor=config.factor, method="sinc")[: len(y)]
    x, _, offset = extension_features(up, config=config)
    T = stft(y.astype(np.float64), n_fft=config.n_fft, hop_length=config.hop_length)
    target = (np.log(np.abs(T[config.n_in:]) + config.floor) - offset).astype(np.float32)
    return x, target


def evaluate(clips, *, factor: int, model: BandwidthExtender | None = None, methods=METHODS,
             progress: bool = True) -> dict:
    """LSD and SNR of each baseline (and the model) per speaker on full-band ``clips``.

    Notebook: 10_super_resolution.ipynb

    Each clip is decimated with :func:`low_resolution` and brought back with each
    method; LSD is :func:`course_lib.metrics.lsd` (n_fft 2048, hop 512 as in
    Kuleshov et al. 2017) and SNR :func:`course_lib.metrics.snr`, both against the
    original.

    Returns
    -------
    dict
        ``{method: {"lsd": mean, "snr": mean, "per_speaker": {speaker: {"lsd", "snr"}}}}``
        with ``"model"`` among the methods when ``model`` is given.
    """
    from collections import defaultdict

    from tqdm.auto import tqdm

    from .metrics import lsd, snr

    factor = _factor(factor)
    scores = defaultdict(lambda: defaultdict(list))
    names = list(methods) + (["model"] if model is not None else [])
    for c in tqdm(clips, desc=f"x{factor}", unit="clip", disable=not progress, mininterval=1.0):
        y = np.asarray(c.audio, dtype=np.float64)
        low = low_resolution(y, factor=factor)
        for name in names:
            if name == "model":
                est = model.extend(low.astype(np.float32), sr=c.sr // factor).astype(np.float64)
            else:
                est = upsample(low, factor=factor, method=name)
            est = est[: len(y)]
            scores[name][c.speaker].append((lsd(y, est), snr(y, est)))
    out = {}
    for name in names:
        per = {s: {"lsd": float(np.mean([a for a, _ in v])), "snr": float(np.mean([b for _, b in v]))}
               for s, v in sorted(scores[name].items())}
        allv = [x for v in scores[name].values() for x in v]
        out[name] = {"lsd": float(np.mean([a for a, _ in allv])), "snr": float(np.mean([b for _, b in allv])),
                     "per_speaker": per}
    return out


def high_band_db(y, *, sr: int, above_hz: float) -> float:
    """Energy above ``above_hz`` relative to the whole signal's, in dB (−∞ for none).

    Notebook: 10_super_resolution.ipynb

    A training voice whose synthesiser (or its pseudo-speaker warp) left the top of
    the spectrum empty teaches a bandwidth extender to leave it empty:
    :func:`full_band_speakers` drops those voices.
    """
    y = _signal(y)
    sr = check_sr(sr)
    X = np.abs(np.fft.rfft(np.asarray(y, dtype=np.float64))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / sr)
    total = X.sum()
    if total == 0:
        raise ParameterError("the signal is silent (all zeros)")
    hi = X[f > above_hz].sum()
    return float(10 * np.log10(hi / total)) if hi > 0 else float("-inf")


def full_band_speakers(clips, *, above_hz: float = 7000.0, min_db: float = -50.0) -> list[str]:
    """Speakers whose clips keep, on average, more than ``min_db`` of their energy above ``above_hz``.

    Notebook: 10_super_resolution.ipynb
    """
    from collections import defaultdict

    per = defaultdict(list)
    for c in clips:
        per[c.speaker].append(high_band_db(c.audio, sr=c.sr, above_hz=above_hz))
    return sorted(s for s, v in per.items() if np.mean(np.maximum(v, -300.0)) > min_db)


def segments(clips, *, config: BandwidthExtenderConfig, frames: int = 64):
    """Training tensors ``(X (N, n_in, frames), Y (N, n_out, frames))`` from full-band clips.

    Notebook: 10_super_resolution.ipynb

    Each clip becomes :func:`training_pairs`, cut into non-overlapping blocks of
    ``frames`` STFT frames (the tail shorter than a block is dropped). Clips must be
    at ``config.sr``.
    """
    from tqdm.auto import tqdm

    frames = check_positive_int(frames, "frames")
    xs, ys = [], []
    for c in tqdm(clips, desc="features", unit="clip", mininterval=1.0):
        if c.sr != config.sr:
            raise ParameterError(f"clip {getattr(c, 'path', '?')} is at {c.sr} Hz; the model is for {config.sr} Hz")
        x, t = training_pairs(np.asarray(c.audio, dtype=np.float64), config=config)
        for i in range(0, x.shape[1] - frames + 1, frames):
            xs.append(x[:, i:i + frames])
            ys.append(t[:, i:i + frames])
    if not xs:
        raise ParameterError(f"no clip is longer than {frames} frames; use fewer frames or longer clips")
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def choose_energy(model: BandwidthExtender, clips, *, keeps=(1.0, 0.7, 0.5, 0.35, 0.25, 0.18, 0.12),
                  max_snr_loss_db: float = 0.75) -> tuple[float, list[dict]]:
    """Pick the kept high-band energy with the lowest LSD that costs every voice at most ``max_snr_loss_db`` of SNR.

    Notebook: 10_super_resolution.ipynb

    SNR rewards a quiet guess (the true phase is unknowable), LSD a faithful one: see
    :func:`energy_ceiling_gains`. Run on the *validation* voices; the SNR cost is
    measured per voice against band-limited ("sinc") interpolation and the worst voice
    decides (0.75 dB leaves a quarter of a dB of margin, for voices never seen, under the
    chapter's 1 dB target). Sets ``model.config.high_band_energy`` and returns
    ``(keep, table)``, one row per value tried.
    """
    factor = model.config.factor
    base = evaluate(clips, factor=factor, methods=("sinc",), progress=False)["sinc"]
    table, best = [], None
    for keep in keeps:
        model.config.high_band_energy = float(keep)
        r = evaluate(clips, factor=factor, model=model, methods=(), progress=False)["model"]
        worst = min(r["per_speaker"][v]["snr"] - base["per_speaker"][v]["snr"] for v in r["per_speaker"])
        ok = worst >= -max_snr_loss_db
        table.append({"keep": float(keep), "lsd": r["lsd"], "snr": r["snr"], "sinc_snr": base["snr"],
                      "worst_voice_snr_change": worst, "ok": ok})
        if ok and (best is None or r["lsd"] < best["lsd"]):
            best = table[-1]
    if best is None:
        best = max(table, key=lambda r: r["worst_voice_snr_change"])
    model.config.high_band_energy = best["keep"]
    return best["keep"], table


def train_extender(*, factor: int, time_budget: float, epochs: int = 1000, seed: int = 0, train_clips=None,
                   valid_clips=None, progress: bool = True, **config):
    """Train a :class:`BandwidthExtender` on full-band corpus speech; returns ``(model, history, table)``.

    Notebook: 10_super_resolution.ipynb

    Training clips default to the corpus's training sentences of the voices that
    keep a full band (:func:`full_band_speakers`); the loss is the L1 distance of
    log magnitudes (what LSD measures, in natural-log units, on the model's own
    512-point STFT). Afterwards the kept high-band energy is chosen on
    ``valid_clips`` (default: every 2nd validation sentence) with :func:`choose_energy`.
    """
    from . import data, train

    if train_clips is None:
        train_clips = data.sentences(split="train")
        keep = set(full_band_speakers(train_clips))
        train_clips = [c for c in train_clips if c.speaker in keep]
    if valid_clips is None:
        valid_clips = data.sentences(split="valid")[::2]
    cfg = BandwidthExtenderConfig(factor=factor, **config)
    X, Y = segments(train_clips, config=cfg)
    torch.manual_seed(seed)
    model = BandwidthExtender(cfg)
    history = train.fit(model, (X, Y), loss_fn=lambda out, target: (out - target).abs().mean(),
                        time_budget=time_budget, epochs=epochs, batch_size=32, lr=2e-3, seed=seed,
                        progress=progress, desc=f"bandwidth x{factor}")
    model.cpu().eval()
    _, table = choose_energy(model, valid_clips)
    return model, history, table


def config_dict(model: BandwidthExtender) -> dict:
    """The model's config as a plain dict (for records)."""
    return asdict(model.config)
