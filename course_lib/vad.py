"""Voice activity detection (endpointing): our energy detector beside WebRTC VAD and Silero VAD.

Notebook: 04_hmm_word_recognition.ipynb

A voice activity detector (VAD) labels each short frame (10, 20 or 30 ms, the
frame sizes of WebRTC's VAD) as speech or not. Endpointing is the use a word
recogniser makes of it: the first and last speech frame say where the word is.
Three detectors, one interface ``detector(y, *, sr, frame_ms) -> (n_frames,) bool``:

- :func:`energy_vad` — ours: frame energy in dB against a threshold set from the
  clip itself (within ``top_db`` of the loudest frame and ``margin_db`` above the
  noise floor), then a hangover that bridges short pauses and drops short bursts;
- :func:`webrtc_vad` — Google's WebRTC VAD (``webrtcvad``: a GMM on six sub-band
  energies, the detector in every browser's audio stack);
- :func:`silero_vad` — Silero VAD (``silero-vad``: a small neural network on
  32 ms chunks at 16 kHz, its weights inside the wheel);
- :class:`FrameVAD` — ours, learned: logistic regression on log-mel frames with
  context, trained in seconds on corpus clips with noise mixed in.

They are judged (:func:`evaluate`) against the speech boundaries the corpus
manifest records for each clip (``speech_start`` / ``speech_end``) with
:func:`frame_f1` (per-frame precision, recall, F1) and :func:`boundary_error`
(the detected start and end minus the true ones, in ms), and timed per frame.
``benchmarks/bench_vad.py`` prints the comparison.

Frames are consecutive and do not overlap: frame ``k`` covers samples
``[k L, (k + 1) L)`` with ``L = sr * frame_ms / 1000``; a trailing part frame is
dropped. A frame is speech in the reference when its centre lies in
``[speech_start, speech_end)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .errors import ParameterError
from .validation import check_sr, valid_audio

__all__ = [
    "FRAME_MS", "frame_length", "n_frames", "intervals_to_frames", "frames_to_intervals", "FrameScores",
    "frame_f1", "BoundaryError", "boundary_error", "smooth", "frame_energy_db", "energy_vad", "webrtc_vad",
    "silero_vad", "DETECTORS", "FrameVADConfig", "FrameVAD", "mix_at_snr", "endpointing_clips", "ClipScore",
    "evaluate", "summarize",
]

#: The frame sizes WebRTC's VAD accepts (ms).
FRAME_MS = (10, 20, 30)


# --------------------------------------------------------------------------- frames

def frame_length(*, sr: int, frame_ms: float) -> int:
    """Samples in one frame of ``frame_ms`` at ``sr`` (must be a whole number)."""
    sr = check_sr(sr)
    if not (isinstance(frame_ms, (int, float, np.integer, np.floating)) and frame_ms > 0):
        raise ParameterError(f"frame_ms={frame_ms!r} must be a positive number of milliseconds, e.g. 10, 20 or 30")
    length = sr * frame_ms / 1000
    if abs(length - round(length)) > 1e-9:
        raise ParameterError(f"frame_ms={frame_ms!r} at sr={sr} Hz is {length:g} samples; choose a frame that is "
                             "a whole number of samples (10, 20 or 30 ms at 8/16/32/48 kHz)")
    return int(round(length))


def n_frames(n_samples: int, *, sr: int, frame_ms: float) -> int:
    """Whole frames in ``n_samples`` samples (a trailing part frame is dropped)."""
    return int(n_samples) // frame_length(sr=sr, frame_ms=frame_ms)


def intervals_to_frames(intervals, n: int, *, frame_ms: float) -> np.ndarray:
    """Speech intervals (seconds) → ``(n,)`` bool: frame ``k`` is speech if its centre is in one of them.

    Parameters
    ----------
    intervals : iterable of (start, end), seconds, ``start <= end``
    n : int >= 0
        Number of frames.
    frame_ms : float > 0

    Returns
    -------
    np.ndarray [shape=(n,)], bool

    Examples
    --------
    >>> intervals_to_frames([(0.015, 0.04)], 6, frame_ms=10).astype(int)
    array([0, 1, 1, 1, 0, 0])
    """
    if not frame_ms > 0:
        raise ParameterError(f"frame_ms={frame_ms!r} must be > 0")
    centres = (np.arange(int(n)) + 0.5) * frame_ms / 1000          # (n,) seconds
    out = np.zeros(int(n), dtype=bool)
    for start, end in intervals:
        if not end >= start:
            raise ParameterError(f"interval ({start!r}, {end!r}) ends before it starts")
        out |= (centres >= start) & (centres < end)
    return out


def frames_to_intervals(frames, *, frame_ms: float) -> list[tuple[float, float]]:
    """``(n,)`` bool → speech intervals in seconds, each from a run's first frame start to its last frame end.

    >>> frames_to_intervals(np.array([0, 1, 1, 0, 1], bool), frame_ms=10)
    [(0.01, 0.03), (0.04, 0.05)]
    """
    f = np.asarray(frames, dtype=bool)
    edges = np.diff(np.r_[0, f.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    step = frame_ms / 1000
    return [(round(float(a * step), 9), round(float(b * step), 9)) for a, b in zip(starts, ends)]


# --------------------------------------------------------------------------- metrics

class FrameScores(NamedTuple):
    """Per-frame detection scores of a VAD against a reference (speech is the positive class)."""

    precision: float   # tp / (tp + fp); 1.0 when nothing was detected
    recall: float      # tp / (tp + fn); 1.0 when the reference has no speech
    f1: float          # 2 tp / (2 tp + fp + fn); 1.0 when both have no speech
    tp: int
    fp: int
    fn: int


def frame_f1(reference, detected) -> FrameScores:
    """Frame-level precision, recall and F1 of ``detected`` speech frames against ``reference``.

    Notebook: 04_hmm_word_recognition.ipynb

    Parameters
    ----------
    reference, detected : np.ndarray [shape=(n,)], bool
        Same length; True is speech.

    Returns
    -------
    FrameScores

    Examples
    --------
    >>> frame_f1(np.array([0, 1, 1, 1, 0], bool), np.array([0, 0, 1, 1, 1], bool)).f1
    0.6666666666666666
    """
    ref, det = np.asarray(reference), np.asarray(detected)
    if ref.ndim != 1 or ref.shape != det.shape:
        raise ParameterError(f"reference and detected must be 1-D frame labels of one length, got shapes "
                             f"{ref.shape} and {det.shape}; compute both with the same frame_ms")
    ref, det = ref.astype(bool), det.astype(bool)
    tp = int(np.count_nonzero(ref & det))
    fp = int(np.count_nonzero(~ref & det))
    fn = int(np.count_nonzero(ref & ~det))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return FrameScores(precision, recall, f1, tp, fp, fn)


class BoundaryError(NamedTuple):
    """Detected minus true speech boundary, in ms (NaN when nothing was detected)."""

    start_ms: float    # < 0: the detector starts early (keeps some silence), > 0: it cuts the onset
    end_ms: float      # > 0: it ends late, < 0: it cuts the word's end


def boundary_error(detected, *, frame_ms: float, start: float, end: float) -> BoundaryError:
    """Where the detected speech starts and ends (first / last speech frame) against the true ``start`` / ``end``.

    Notebook: 04_hmm_word_recognition.ipynb

    Parameters
    ----------
    detected : np.ndarray [shape=(n,)], bool
    frame_ms : float
    start, end : float, seconds
        The reference (the manifest's ``speech_start`` / ``speech_end``).

    Returns
    -------
    BoundaryError
        Signed errors in ms: the detected start is the first speech frame's start,
        the detected end the last speech frame's end.

    Examples
    --------
    >>> boundary_error(np.array([0, 0, 1, 1, 1, 0], bool), frame_ms=10, start=0.015, end=0.045)
    BoundaryError(start_ms=5.0, end_ms=5.0)
    """
    det = np.asarray(detected, dtype=bool)
    on = np.flatnonzero(det)
    if on.size == 0:
        return BoundaryError(float("nan"), float("nan"))
    first, last = on[0] * frame_ms / 1000, (on[-1] + 1) * frame_ms / 1000
    return BoundaryError(round(float(first - start) * 1000, 6), round(float(last - end) * 1000, 6))


# --------------------------------------------------------------------------- our detector

def smooth(frames, *, frame_ms: float, min_silence_ms: float = 0.0, min_speech_ms: float = 0.0) -> np.ndarray:
    """Hangover: fill pauses shorter than ``min_silence_ms`` between speech, then drop bursts
    shorter than ``min_speech_ms``.

    Notebook: 04_hmm_word_recognition.ipynb

    A stop consonant's closure ("si_x", "ei_ght") is a short silence inside a
    word; a click is a short burst outside one.

    >>> smooth(np.array([1, 0, 1, 0, 0, 0, 1], bool), frame_ms=10, min_silence_ms=20, min_speech_ms=20).astype(int)
    array([1, 1, 1, 0, 0, 0, 0])
    """
    f = np.array(frames, dtype=bool)
    for value, limit in ((False, min_silence_ms), (True, min_speech_ms)):
        if limit < 0:
            raise ParameterError(f"min_{'speech' if value else 'silence'}_ms={limit!r} must be >= 0")
        shortest = int(np.ceil(limit / frame_ms - 1e-9))
        if shortest <= 1:
            continue
        edges = np.diff(np.r_[False, f == value, False].astype(np.int8))
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            inner = value or (a > 0 and b < len(f))      # only pauses *between* speech are filled
            if b - a < shortest and inner:
                f[a:b] = not value
    return f


def frame_energy_db(y, *, sr: int, frame_ms: float = 10) -> np.ndarray:
    """Mean power of each frame in dB (re full scale 1.0), ``(n_frames,)``; -200 dB for digital silence."""
    L = frame_length(sr=sr, frame_ms=frame_ms)
    y = np.asarray(y, dtype=np.float64)
    n = len(y) // L
    power = np.mean(np.square(y[: n * L].reshape(n, L)), axis=1)                   # (n_frames,)
    return 10 * np.log10(np.maximum(power, 1e-20))


def energy_vad(y, *, sr: int, frame_ms: float = 10, top_db: float = 40.0, margin_db: float = 10.0,
               min_silence_ms: float = 120.0, min_speech_ms: float = 40.0) -> np.ndarray:
    """Our energy-based VAD: a frame is speech when its energy is within ``top_db`` of the loudest
    frame and ``margin_db`` above the noise floor; then :func:`smooth`.

    Notebook: 04_hmm_word_recognition.ipynb

    The noise floor is the 10th percentile of the frame energies (a clip is
    mostly not speech at its edges; for a clip that is all speech the
    ``top_db`` rule decides). Both thresholds adapt to the clip, so the
    recording level does not matter; a noise as loud as the speech does.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int
    frame_ms : float
        Frame length (10, 20 or 30 ms).
    top_db, margin_db : float > 0
    min_silence_ms, min_speech_ms : float >= 0
        Hangover, see :func:`smooth`.

    Returns
    -------
    np.ndarray [shape=(n_frames,)], bool

    Examples
    --------
    >>> sr = 16000
    >>> y = np.r_[np.zeros(1600), 0.3 * np.sin(np.arange(3200) / 3), np.zeros(1600)]
    >>> frames_to_intervals(energy_vad(y, sr=sr), frame_ms=10)
    [(0.1, 0.3)]
    """
    valid_audio(y, mono=True)
    for name, value in (("top_db", top_db), ("margin_db", margin_db)):
        if not value > 0:
            raise ParameterError(f"{name}={value!r} must be a positive number of dB")
    e = frame_energy_db(y, sr=sr, frame_ms=frame_ms)
    if e.size == 0:
        return np.zeros(0, dtype=bool)
    floor = np.percentile(e, 10)
    speech = (e > e.max() - top_db) & (e > floor + margin_db)
    if not speech.any() and e.max() - floor <= margin_db:
        speech[:] = e.max() > -60.0 and e.min() > -60.0   # all one level: all speech if loud, else none
    return smooth(speech, frame_ms=frame_ms, min_silence_ms=min_silence_ms, min_speech_ms=min_speech_ms)


# --------------------------------------------------------------------------- the field's detectors

_WEBRTC_RATES = (8000, 16000, 32000, 48000)


def _resample_to(y, sr, target):
    from .audio import resample

    return np.asarray(resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=target), dtype=np.float32)


def webrtc_vad(y, *, sr: int, frame_ms: int = 10, mode: int = 3) -> np.ndarray:
    """WebRTC's VAD (``webrtcvad``) on each frame: ``(n_frames,)`` bool.

    Notebook: 04_hmm_word_recognition.ipynb

    It takes 16-bit PCM at 8, 16, 32 or 48 kHz in frames of 10, 20 or 30 ms;
    other rates are resampled to 16 kHz first (frames keep their duration).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], float in [-1, 1]
    sr : int
    frame_ms : {10, 20, 30}
    mode : {0, 1, 2, 3}
        Aggressiveness: 0 keeps the most frames as speech, 3 the fewest.
    """
    import webrtcvad

    valid_audio(y, mono=True)
    sr = check_sr(sr)
    if frame_ms not in FRAME_MS:
        raise ParameterError(f"frame_ms={frame_ms!r}: WebRTC's VAD takes frames of 10, 20 or 30 ms")
    if mode not in (0, 1, 2, 3):
        raise ParameterError(f"mode={mode!r} must be 0, 1, 2 or 3 (WebRTC's aggressiveness)")
    if sr not in _WEBRTC_RATES:
        y, sr = _resample_to(y, sr, 16000), 16000
    pcm = (np.clip(np.asarray(y, dtype=np.float64), -1.0, 1.0) * 32767).astype("<i2").tobytes()
    L = frame_length(sr=sr, frame_ms=frame_ms)
    vad = webrtcvad.Vad(mode)
    return np.array([vad.is_speech(pcm[2 * k * L: 2 * (k + 1) * L], sr) for k in range(len(y) // L)], dtype=bool)


_SILERO = None


def _silero_model():
    """Silero's JIT model from its wheel (offline); importing silero_vad sets torch to one thread: undone."""
    global _SILERO
    if _SILERO is None:
        import torch

        import warnings

        threads = torch.get_num_threads()
        try:
            from silero_vad import load_silero_vad
        finally:
            torch.set_num_threads(threads)
        with warnings.catch_warnings():   # the wheel's own torch.jit.load / importlib.resources deprecations
            warnings.simplefilter("ignore", (FutureWarning, DeprecationWarning))
            _SILERO = load_silero_vad()
    return _SILERO


def silero_probabilities(y, *, sr: int) -> tuple[np.ndarray, float]:
    """Silero's speech probability for each 32 ms chunk (512 samples at 16 kHz): ``(probs, chunk_seconds)``."""
    import torch

    valid_audio(y, mono=True)
    sr = check_sr(sr)
    if sr != 16000:
        y = _resample_to(y, sr, 16000)
    model = _silero_model()
    model.reset_states()
    x = torch.from_numpy(np.asarray(y, dtype=np.float32))
    n = (len(x) + 511) // 512
    x = torch.nn.functional.pad(x, (0, n * 512 - len(x)))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)     # a small recurrent network on 512-sample chunks: more threads only wait
    try:
        with torch.no_grad():
            probs = model.audio_forward(x[None], 16000)[0].numpy()      # (n_chunks,)
    finally:
        torch.set_num_threads(threads)
    return probs[:n], 512 / 16000


def silero_vad(y, *, sr: int, frame_ms: float = 10, threshold: float = 0.5, min_speech_ms: float = 100,
               min_silence_ms: float = 100, speech_pad_ms: float = 30) -> np.ndarray:
    """Silero VAD (``silero-vad``) as frame labels: ``(n_frames,)`` bool.

    Notebook: 04_hmm_word_recognition.ipynb

    Silero's network gives a speech probability every 32 ms (at 16 kHz; other
    rates are resampled); its own post-processing (``get_speech_timestamps``:
    threshold with hysteresis, minimum speech and silence, padding) turns them
    into speech intervals, which :func:`intervals_to_frames` labels frame by frame.
    Its defaults, except ``min_speech_ms`` (Silero's 250 ms would drop a short word).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int
    frame_ms : float
    threshold : float in (0, 1)
    min_speech_ms, min_silence_ms, speech_pad_ms : float >= 0
    """
    from silero_vad import get_speech_timestamps_from_probs

    if not 0 < threshold < 1:
        raise ParameterError(f"threshold={threshold!r} must be a probability in (0, 1)")
    sr = check_sr(sr)
    n = n_frames(len(y), sr=sr, frame_ms=frame_ms)
    probs, _ = silero_probabilities(y, sr=sr)
    n16 = int(round(len(y) * 16000 / sr))
    stamps = get_speech_timestamps_from_probs(
        list(map(float, probs)), sampling_rate=16000, threshold=threshold, min_speech_duration_ms=min_speech_ms,
        min_silence_duration_ms=min_silence_ms, speech_pad_ms=speech_pad_ms, audio_length_samples=n16)
    return intervals_to_frames([(s["start"] / 16000, s["end"] / 16000) for s in stamps], n, frame_ms=frame_ms)


#: name → detector(y, *, sr, frame_ms) -> (n_frames,) bool
DETECTORS = {"energy": energy_vad, "webrtc": webrtc_vad, "silero": silero_vad}


# --------------------------------------------------------------------------- our learned detector

@dataclass
class FrameVADConfig:
    """Settings of :class:`FrameVAD` (validated on creation)."""

    n_mels: int = 24          # log-mel bands per frame (16 kHz, 100-7600 Hz)
    context: int = 2          # frames on each side stacked with the frame (5 frames in all)
    threshold: float = 0.5    # speech probability above which a frame is speech
    min_silence_ms: float = 120.0
    min_speech_ms: float = 40.0

    def __post_init__(self):
        if not (isinstance(self.n_mels, int) and 4 <= self.n_mels <= 64):
            raise ParameterError(f"n_mels={self.n_mels!r} must be an integer in 4..64")
        if not (isinstance(self.context, int) and 0 <= self.context <= 10):
            raise ParameterError(f"context={self.context!r} must be an integer in 0..10 frames")
        if not 0 < self.threshold < 1:
            raise ParameterError(f"threshold={self.threshold!r} must be a probability in (0, 1)")

    @property
    def n_features(self) -> int:
        return (self.n_mels + 2) * (2 * self.context + 1)


def _frame_features(y, *, sr: int, frame_ms: float, n_mels: int, context: int) -> np.ndarray:
    """Per frame: log-mel energies above the clip's noise floor, and the frame's level against the
    clip's loudest and quietest; with ``context`` neighbours each side. ``(n_frames, n_features)``."""
    from .features import mel_filterbank

    valid_audio(y, mono=True)
    sr = check_sr(sr)
    if sr != 16000:
        y = _resample_to(y, sr, 16000)
    y = np.asarray(y, dtype=np.float64)
    peak = np.max(np.abs(y)) if y.size else 0.0
    y = y / peak if peak > 0 else y                # the level of the recording says nothing
    L = frame_length(sr=16000, frame_ms=frame_ms)
    n = len(y) // L
    frames = y[: n * L].reshape(n, L)                                                  # (n, L)
    n_fft = 1 << int(np.ceil(np.log2(max(L, 2))))
    power = np.abs(np.fft.rfft(frames * np.hanning(L), n=n_fft, axis=1)) ** 2 / L    # (n, 1 + n_fft // 2)
    fb = mel_filterbank(sr=16000, n_fft=n_fft, n_mels=n_mels, fmin=100.0, fmax=7600.0, dtype=np.float64)
    logmel = np.log10(power @ fb.T + 1e-12)                                            # (n, n_mels)
    level = frame_energy_db(y[: n * L], sr=16000, frame_ms=frame_ms)[:, None] / 10   # (n, 1), in bels
    if n:
        logmel = logmel - np.percentile(logmel, 10, axis=0)        # above each band's noise floor
        level = np.hstack([level - level.max(), level - np.percentile(level, 10)])
    else:
        level = np.zeros((0, 2))
    X = np.hstack([logmel, level])                                                     # (n, n_mels + 2)
    padded = np.pad(X, ((context, context), (0, 0)), mode="edge")
    return np.hstack([padded[k: k + n] for k in range(2 * context + 1)]).astype(np.float32)


def mix_at_snr(y, noise, *, snr_db: float, speech=slice(None), offset: int = 0) -> np.ndarray:
    """``y`` plus ``noise`` (from ``offset``, looped) scaled to ``snr_db`` against the power of ``y[speech]``."""
    y = np.asarray(y, dtype=np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    if noise.size == 0 or not np.any(noise):
        raise ParameterError("noise is empty or all zeros; give a noise recording (e.g. data.noise('white'))")
    n = np.resize(np.roll(noise, -int(offset)), len(y))
    p_speech = np.mean(np.square(y[speech])) if np.any(y[speech]) else np.mean(np.square(y))
    gain = np.sqrt(p_speech / np.mean(np.square(n)) / 10 ** (snr_db / 10))
    return (y + gain * n).astype(np.float32)


class FrameVAD:
    """Our learned VAD: logistic regression on per-frame log-mel energies with context.

    Notebook: 04_hmm_word_recognition.ipynb

    A linear model of ``P(speech | frame and its neighbours)`` over
    :func:`_frame_features` (log-mel bands measured from the clip's own noise
    floor, so the recording level does not matter), trained (:meth:`fit`) on
    clips whose speech boundaries are known, with noise mixed in, then the same
    hangover as :func:`energy_vad`. Seconds to train on a few hundred clips.

    >>> det = FrameVAD()
    >>> det.config.n_features
    130
    """

    def __init__(self, config: FrameVADConfig | None = None):
        self.config = FrameVADConfig() if config is None else config
        if not isinstance(self.config, FrameVADConfig):
            raise ParameterError(f"config must be a FrameVADConfig, got {type(config).__name__}")
        self.weights: np.ndarray | None = None     # (n_features,)
        self.bias = 0.0
        self.mean: np.ndarray | None = None        # feature standardisation, (n_features,)
        self.std: np.ndarray | None = None

    def features(self, y, *, sr: int, frame_ms: float = 10) -> np.ndarray:
        """``(n_frames, n_features)``, see :func:`_frame_features`."""
        return _frame_features(y, sr=sr, frame_ms=frame_ms, n_mels=self.config.n_mels, context=self.config.context)

    def fit(self, clips, *, noises=(), snr_db=(0.0, 20.0), frame_ms=FRAME_MS, seed: int = 0,
            iterations: int = 30) -> "FrameVAD":
        """Train on ``clips`` (with ``speech_start`` / ``speech_end``): each clip clean and once with
        each of ``noises`` at an SNR drawn from ``snr_db``, at each of ``frame_ms``.

        Parameters
        ----------
        clips : list of data.Clip
        noises : sequence of np.ndarray
            16 kHz noise recordings (e.g. the *train* takes of ``data.noise``).
        snr_db : (low, high)
        frame_ms : sequence of float
        seed : int
            Draws the SNRs and where in each noise recording a mix starts.
        iterations : int
            At most this many Newton steps (full batch; the loss is convex).
        """
        rng = np.random.default_rng(seed)
        X, t = [], []
        for clip in clips:
            ann = clip.annotations
            if ann.get("speech_start") is None:
                raise ParameterError(f"{clip!r} has no speech_start / speech_end annotation")
            s0, s1 = int(ann["speech_start"] * clip.sr), int(ann["speech_end"] * clip.sr)
            versions = [clip.audio] + [mix_at_snr(clip.audio, nz, snr_db=rng.uniform(*snr_db), speech=slice(s0, s1),
                                                  offset=int(rng.integers(len(nz)))) for nz in noises]
            for y in versions:
                for fm in frame_ms:
                    F = self.features(y, sr=clip.sr, frame_ms=fm)
                    X.append(F)
                    t.append(intervals_to_frames([(ann["speech_start"], ann["speech_end"])], len(F), frame_ms=fm))
        if not X:
            raise ParameterError("clips is empty: give FrameVAD.fit some annotated clips")
        X, t = np.concatenate(X).astype(np.float64), np.concatenate(t).astype(np.float64)
        self.mean, self.std = X.mean(axis=0), X.std(axis=0) + 1e-6
        Xb = np.hstack([(X - self.mean) / self.std, np.ones((len(X), 1))])   # (n_frames, n_features + 1)
        w = np.zeros(Xb.shape[1])
        ridge = np.full(Xb.shape[1], 1e-4)
        ridge[-1] = 0.0                                                        # the bias is not shrunk
        for _ in range(iterations):
            # Newton's method (IRLS) on the mean cross-entropy + ridge: the loss is convex, so a
            # few steps reach the optimum; no random start, so the fit is deterministic
            p = 1 / (1 + np.exp(-(Xb @ w)))
            grad = Xb.T @ (p - t) / len(t) + ridge * w
            hess = (Xb.T * (p * (1 - p))) @ Xb / len(t) + np.diag(ridge + 1e-9)
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.max(np.abs(step)) < 1e-6:
                break
        self.weights, self.bias = w[:-1].copy(), float(w[-1])
        return self

    def speech_probability(self, y, *, sr: int, frame_ms: float = 10) -> np.ndarray:
        """``P(speech)`` of each frame: ``(n_frames,)`` float."""
        if self.weights is None:
            raise ParameterError("this FrameVAD is not trained yet: call .fit(clips) first")
        z = ((self.features(y, sr=sr, frame_ms=frame_ms) - self.mean) / self.std) @ self.weights + self.bias
        return 1 / (1 + np.exp(-z))

    def __call__(self, y, *, sr: int, frame_ms: float = 10) -> np.ndarray:
        """Frame labels, ``(n_frames,)`` bool: probability above the threshold, then the hangover."""
        p = self.speech_probability(y, sr=sr, frame_ms=frame_ms)
        return smooth(p > self.config.threshold, frame_ms=frame_ms, min_silence_ms=self.config.min_silence_ms,
                      min_speech_ms=self.config.min_speech_ms)



# --------------------------------------------------------------------------- evaluation

def endpointing_clips(n: int | None = None, *, half: int | None = None, seed: int = 0, data_dir=None) -> list:
    """Corpus-v2 word clips for endpointing: 50-400 ms of room tone around each word, boundaries known.

    Notebook: 04_hmm_word_recognition.ipynb

    The words of corpus v2's voices (the first corpus's clips are trimmed to 40 ms
    before the word, so they are left out). Only the chosen files are read.

    Parameters
    ----------
    n : int or None
        Draw this many clips (seeded; None: all).
    half : {0, 1} or None
        Alternate voices in sorted order: 0 and 1 are voice-disjoint halves (train a
        detector on one, judge it on the other); None: all voices.
    seed : int
    data_dir : path, optional

    Returns
    -------
    list of data.Clip
        With ``annotations["speech_start"]`` / ``["speech_end"]`` in seconds.
    """
    from . import data

    root = data._data_dir(data_dir)
    rows = [r for r in data._rows(data_dir) if r["kind"] == "word" and (r["speech_start"] or 0) > 0.045]
    if half is not None:
        if half not in (0, 1):
            raise ParameterError(f"half={half!r} must be 0, 1 or None")
        voices = sorted({r["speaker"] for r in rows})[half::2]
        rows = [r for r in rows if r["speaker"] in set(voices)]
    if n is not None:
        if not (isinstance(n, (int, np.integer)) and 0 < n <= len(rows)):
            raise ParameterError(f"n={n!r} must be an integer in 1..{len(rows)}")
        rows = [rows[i] for i in np.random.default_rng(seed).choice(len(rows), int(n), replace=False)]
    return [data._clip(r, root, check=True) for r in rows]


class ClipScore(NamedTuple):
    """One detector on one clip (what :func:`evaluate` returns per clip)."""

    detector: str
    frame_ms: float
    speaker: str | None
    f1: float
    start_ms: float     # signed boundary errors (BoundaryError)
    end_ms: float
    seconds: float      # compute time for the clip
    n_frames: int


def evaluate(clips, *, detectors=None, frame_ms: float = 10, noise=None) -> list[ClipScore]:
    """Run each detector on each clip and score it against the clip's ``speech_start`` / ``speech_end``.

    Notebook: 04_hmm_word_recognition.ipynb

    Parameters
    ----------
    clips : iterable of data.Clip
        With ``annotations["speech_start"]`` / ``["speech_end"]`` (corpus v2 speech).
    detectors : dict name → callable, or None
        Default :data:`DETECTORS`.
    frame_ms : float
    noise : callable or None
        ``noise(y, sr, k) -> y_noisy`` applied to clip ``k`` first (e.g. to add noise at an SNR).

    Returns
    -------
    list of ClipScore
        One per clip and detector.
    """
    detectors = DETECTORS if detectors is None else dict(detectors)
    rows = []
    for k, clip in enumerate(clips):
        ann = clip.annotations
        if ann.get("speech_start") is None or ann.get("speech_end") is None:
            raise ParameterError(f"{clip!r} has no speech_start / speech_end annotation; use corpus v2 speech "
                                 "(e.g. data.spoken_words(...) clips with room tone)")
        y = clip.audio if noise is None else noise(clip.audio, clip.sr, k)
        n = n_frames(len(y), sr=clip.sr, frame_ms=frame_ms)
        ref = intervals_to_frames([(ann["speech_start"], ann["speech_end"])], n, frame_ms=frame_ms)
        for name, detect in detectors.items():
            t0 = time.perf_counter()
            det = detect(y, sr=clip.sr, frame_ms=frame_ms)
            seconds = time.perf_counter() - t0
            if det.shape != ref.shape:
                raise ParameterError(f"detector {name!r} returned {det.shape[0]} frames for {n}")
            b = boundary_error(det, frame_ms=frame_ms, start=ann["speech_start"], end=ann["speech_end"])
            rows.append(ClipScore(name, frame_ms, clip.speaker, frame_f1(ref, det).f1, b.start_ms, b.end_ms,
                                  seconds, n))
    return rows


def summarize(rows) -> dict:
    """Per detector: mean F1, median |start| and |end| error (ms), misses, and µs per frame."""
    out = {}
    for name in dict.fromkeys(r.detector for r in rows):
        mine = [r for r in rows if r.detector == name]
        start = np.array([r.start_ms for r in mine])
        end = np.array([r.end_ms for r in mine])
        found = np.isfinite(start)
        out[name] = {
            "f1": float(np.mean([r.f1 for r in mine])),
            "start_ms": float(np.median(np.abs(start[found]))) if found.any() else float("nan"),
            "end_ms": float(np.median(np.abs(end[found]))) if found.any() else float("nan"),
            "missed": int(np.count_nonzero(~found)),
            "us_per_frame": 1e6 * sum(r.seconds for r in mine) / max(1, sum(r.n_frames for r in mine)),
            "clips": len(mine),
        }
    return out
