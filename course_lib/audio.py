"""Digital audio basics: load, save, resample, mono, int16 <-> float, statistics.

Notebook: 01_digital_audio.ipynb

Conventions (the same in every chapter):

- A signal ``y`` is a float NumPy array in [-1, 1]: shape ``(n,)`` for mono,
  ``(channels, n)`` for multichannel (librosa's layout, channels first).
- The sample rate ``sr`` is always passed explicitly, in Hz.
- Files are read and written with soundfile (libsndfile); resampling uses
  soxr's high-quality mode.

Errors name the culprit: :class:`~course_lib.errors.AudioFileError` names
the path, :class:`~course_lib.errors.ParameterError` names the argument.
The argument checks (:func:`valid_audio`, :func:`check_sr`) live in
:mod:`course_lib.validation` and are re-exported here.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .errors import AudioFileError, ParameterError
from .validation import check_sr, valid_audio  # re-exported: audio.valid_audio is public API

__all__ = [
    "load", "save", "resample", "to_mono", "float_to_int16", "int16_to_float",
    "peak", "rms", "peak_dbfs", "rms_dbfs", "duration", "stats", "AudioStats",
    "valid_audio", "check_sr", "SUPPORTED_SUFFIXES",
]

#: File suffixes :func:`save` writes, with the soundfile format for each.
SUPPORTED_SUFFIXES = {".wav": "WAV", ".flac": "FLAC"}
_INT16_SCALE = 32768.0


# --------------------------------------------------------------------------- I/O

def load(path, *, sr: int | None = None, mono: bool = True):
    """Read an audio file as float32 in [-1, 1].

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    path : str or Path
        A file soundfile can read (WAV, FLAC, OGG, ...).
    sr : int or None
        Resample to this rate (soxr, high quality); ``None`` keeps the file's rate.
    mono : bool
        Average the channels to one (shape ``(n,)``); otherwise a
        multichannel file gives ``(channels, n)`` and a mono file ``(n,)``.

    Returns
    -------
    y : np.ndarray [shape=(n,) or (channels, n)], float32
    sr : int
        The sample rate of ``y``.

    Raises
    ------
    AudioFileError
        The path is missing, a folder, empty, truncated or not audio; the
        message names the path.
    """
    import soundfile as sf

    path = Path(path)
    if sr is not None:
        sr = check_sr(sr)
    if not path.exists():
        raise AudioFileError(f"{path}: no such file; check the path (cwd is {Path.cwd()})")
    if path.is_dir():
        raise AudioFileError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioFileError(f"{path}: the file is empty (0 bytes); re-create or restore it")
    try:
        with sf.SoundFile(str(path)) as f:
            file_sr = f.samplerate
            expected = f.frames
            data = f.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioFileError(
            f"{path}: cannot be decoded ({exc}): not an audio file, or corrupt or truncated; restore or re-create it"
        ) from exc
    if data.shape[0] == 0:
        raise AudioFileError(f"{path}: holds no audio samples")
    if expected > 0 and data.shape[0] < expected:
        raise AudioFileError(
            f"{path}: truncated: the header promises {expected} frames, "
            f"only {data.shape[0]} could be read; restore the file"
        )
    missing = _wav_bytes_missing(path)
    if missing:
        raise AudioFileError(
            f"{path}: truncated: the WAV header promises {missing} more bytes of audio "
            "than the file holds; restore or re-create the file"
        )
    if not np.all(np.isfinite(data)):
        raise AudioFileError(f"{path}: contains NaN or Inf samples")
    y = data.T  # (n, channels) -> (channels, n): librosa's layout, channels first
    y = y.mean(axis=0) if mono or y.shape[0] == 1 else y
    y = np.ascontiguousarray(y, dtype=np.float32)
    if sr is not None and sr != file_sr:
        y = resample(y, orig_sr=file_sr, target_sr=sr)
        file_sr = sr
    return y, int(file_sr)


def _wav_bytes_missing(path: Path) -> int:
    """Bytes the RIFF/WAVE ``data`` chunk declares beyond the end of the file (0 if fine).

    libsndfile quietly shortens a truncated WAV to what is there, so the
    header's promise is checked here. Other formats (FLAC) fail to decode
    on their own when truncated.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        if f.read(4) != b"RIFF":
            return 0
        f.seek(12)
        while True:
            header = f.read(8)
            if len(header) < 8:
                return 0
            chunk_id, chunk_size = header[:4], int.from_bytes(header[4:], "little")
            if chunk_id == b"data":
                if chunk_size == 0xFFFFFFFF:  # streamed WAV with unknown length
                    return 0
                return max(0, f.tell() + chunk_size - size)
            f.seek(chunk_size + (chunk_size & 1), 1)  # chunks are padded to even sizes


def save(path, y, *, sr: int, subtype: str = "PCM_16") -> Path:
    """Write ``y`` to a WAV or FLAC file (chosen by the suffix), atomically.

    Notebook: 01_digital_audio.ipynb

    The file is written to a temporary name in the same folder and renamed
    only when complete, so a failure never leaves a half-written file.

    Parameters
    ----------
    path : str or Path
        Destination ending in ``.wav`` or ``.flac``.
    y : np.ndarray [shape=(n,) or (channels, n)], float
        Samples in [-1, 1]; values outside are clipped by the integer
        subtypes (a warning says how many).
    sr : int
        Sample rate in Hz.
    subtype : str
        soundfile subtype: ``"PCM_16"`` (default), ``"PCM_24"``, ``"FLOAT"``...

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ParameterError
        Unsupported suffix, bad ``sr``, NaN/Inf or otherwise invalid ``y``,
        or a subtype the format cannot hold.
    AudioFileError
        The folder does not exist or cannot be written.
    """
    import soundfile as sf
    import warnings

    path = Path(path)
    sr = check_sr(sr)
    valid_audio(y)
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ParameterError(
            f"path={str(path)!r}: unsupported suffix {path.suffix!r}; use one of "
            f"{sorted(SUPPORTED_SUFFIXES)}"
        )
    if not sf.check_format(fmt, subtype):
        raise ParameterError(
            f"subtype={subtype!r} cannot be written as {fmt}; "
            f"choose one of {sorted(sf.available_subtypes(fmt))}"
        )
    if not path.parent.is_dir():
        raise AudioFileError(f"{path}: folder {path.parent} does not exist; create it first")
    if subtype.startswith("PCM"):
        n_clip = int(np.count_nonzero(np.abs(y) > 1.0))
        if n_clip:
            warnings.warn(
                f"{n_clip} sample(s) outside [-1, 1] will clip in {path.name}; "
                "scale y down (e.g. y / np.abs(y).max())",
                stacklevel=2,
            )
    if subtype == "PCM_16":
        # Convert here rather than in libsndfile, which scales by 32767 on write but
        # 1/32768 on read; float_to_int16 uses 32768 both ways, so a 16-bit file
        # read back with load() is within half a step of y (and exact for int16 data).
        y = float_to_int16(np.clip(y, -1.0, 1.0))
    data = y.T if y.ndim == 2 else y  # soundfile wants (n, channels)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        sf.write(tmp, data, sr, subtype=subtype, format=fmt)
        os.replace(tmp, path)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, AudioFileError):
            raise AudioFileError(f"{path}: could not write ({exc})") from exc
        raise
    return path


# --------------------------------------------------------------------------- conversions

def resample(y, *, orig_sr: int, target_sr: int):
    """Change the sample rate with soxr's high-quality resampler.

    Notebook: 01_digital_audio.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], float
    orig_sr, target_sr : int
        Rates in Hz.

    Returns
    -------
    np.ndarray [shape=(m,) or (channels, m)], same dtype as ``y``
        ``m = ceil(n * target_sr / orig_sr)``, as librosa's soxr_hq gives.
    """
    import soxr

    orig_sr = check_sr(orig_sr, name="orig_sr")
    target_sr = check_sr(target_sr, name="target_sr")
    valid_audio(y)
    if orig_sr == target_sr:
        return y.copy()
    dtype = y.dtype if y.dtype in (np.float32, np.float64) else np.float64
    x = np.asarray(y, dtype=dtype)
    # soxr works on (n, channels): transpose, resample, transpose back
    out = soxr.resample(x.T, orig_sr, target_sr, quality="HQ")
    return np.ascontiguousarray(out.T, dtype=dtype)


def to_mono(y):
    """Average channels: ``(channels, n) -> (n,)``; a mono signal is returned as is.

    >>> to_mono(np.array([[1.0, 0.0], [0.0, 1.0]]))
    array([0.5, 0.5])
    """
    valid_audio(y)
    return y if y.ndim == 1 else y.mean(axis=0)


def float_to_int16(y):
    """Float in [-1, 1] -> int16, scaling by 32768, rounding and clipping to [-32768, 32767].

    >>> float_to_int16(np.array([-1.0, 0.0, 0.5, 1.0]))
    array([-32768,      0,  16384,  32767], dtype=int16)
    """
    valid_audio(y)
    scaled = np.round(np.asarray(y, dtype=np.float64) * _INT16_SCALE)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def int16_to_float(x):
    """int16 -> float32 in [-1, 1), dividing by 32768 (the convention of soundfile).

    >>> int16_to_float(np.array([-32768, 16384], dtype=np.int16))
    array([-1. ,  0.5], dtype=float32)
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.int16:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise ParameterError(f"x must be an int16 numpy array, got {got}")
    return (x.astype(np.float32) / np.float32(_INT16_SCALE))


# --------------------------------------------------------------------------- statistics

def peak(y) -> float:
    """Largest absolute sample value."""
    valid_audio(y)
    return float(np.max(np.abs(y)))


def rms(y) -> float:
    """Root mean square over all samples (computed in float64)."""
    valid_audio(y)
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))


def _to_db(value: float) -> float:
    return float(20.0 * np.log10(value)) if value > 0 else float("-inf")


def peak_dbfs(y) -> float:
    """Peak level in dB relative to full scale (amplitude 1.0): ``20·log10(peak)``; -inf for silence."""
    return _to_db(peak(y))


def rms_dbfs(y) -> float:
    """RMS level in dB relative to full-scale amplitude 1.0: ``20·log10(rms)``.

    A full-scale sine has RMS 1/√2, i.e. -3.01 dBFS by this definition
    (some meters add 3.01 dB so that such a sine reads 0 dBFS; we do not).
    Silence gives -inf.
    """
    return _to_db(rms(y))


def duration(y, *, sr: int) -> float:
    """Length in seconds: ``n_samples / sr``."""
    valid_audio(y)
    return y.shape[-1] / check_sr(sr)


class AudioStats(NamedTuple):
    """Summary of a signal, as :func:`stats` returns it."""

    duration: float
    n_channels: int
    peak: float
    rms: float
    peak_dbfs: float
    rms_dbfs: float
    crest_factor_db: float


def stats(y, *, sr: int) -> AudioStats:
    """Duration, channels, peak, RMS, their dBFS and the crest factor (peak/RMS in dB)."""
    p, r = peak(y), rms(y)
    crest = _to_db(p / r) if r > 0 else float("nan")
    return AudioStats(
        duration=duration(y, sr=sr),
        n_channels=1 if y.ndim == 1 else y.shape[0],
        peak=p, rms=r, peak_dbfs=_to_db(p), rms_dbfs=_to_db(r), crest_factor_db=crest,
    )
