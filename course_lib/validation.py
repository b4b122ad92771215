"""Argument checks shared by every module: one place, one message per mistake.

Notebook: 01_digital_audio.ipynb (``valid_audio``); used by every chapter.

Every check raises :class:`~course_lib.errors.ParameterError` whose message
quotes the bad value *and* says what to do, and returns the checked value
(converted where that is harmless), so a function starts with lines like::

    y = check_signal(y)
    sr = check_sr(sr)
    n_fft = check_positive_int(n_fft, name="n_fft")

This module sits on the ground floor beside :mod:`course_lib.errors`: it
imports only NumPy and the errors, so every other module can import it.
Never write a check inline (or with ``assert``, which ``python -O``
removes); add it here if it is missing.

Sample rates are integers (:func:`check_sr`)
--------------------------------------------
One meaning everywhere: a sample rate is a positive whole number of samples
per second. WAV and FLAC headers store it as an integer, soundfile writes
only integers, and a rate like ``22050.5`` is nearly always a bug upstream
(``sr * 0.5`` of an odd rate, a rate read from the wrong field). A float
that *is* whole (``16000.0``, e.g. from a JSON file) is accepted and
returned as ``int``; anything else raises. Functions that compute with the
rate (``sr / 2``, ``k * sr / n_fft``) get exact results from an int.
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import ParameterError

__all__ = [
    "check_signal", "valid_audio", "check_sr", "check_positive_int", "check_positive",
    "check_shape", "check_finite",
]


def check_signal(y, *, name: str = "y", mono: bool = False, max_ndim: int | None = None) -> np.ndarray:
    """Check a floating-point signal of shape ``(..., n)`` and return it unchanged.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)], floating point
        The signal; the last axis is time.
    name : str
        The argument's name, used in error messages.
    mono : bool
        Require a one-dimensional signal ``(n,)``.
    max_ndim : int or None
        At most this many dimensions (``None``: any number >= 1).

    Returns
    -------
    y : np.ndarray
        The same object (no copy).

    Raises
    ------
    ParameterError
        Not an ndarray, not floating point, 0-d, too many dimensions, not
        mono when ``mono``, empty, or containing NaN / Inf.

    Examples
    --------
    >>> check_signal(np.zeros((2, 3), dtype=np.float32)).shape
    (2, 3)
    """
    if not isinstance(y, np.ndarray):
        raise ParameterError(
            f"{name} must be a numpy array, got {type(y).__name__}; "
            f"convert with np.asarray({name}, dtype=np.float32)"
        )
    if not np.issubdtype(y.dtype, np.floating):
        hint = (" (int16 audio: use course_lib.audio.int16_to_float, i.e. divide by 32768)"
                if y.dtype == np.int16 else "")
        raise ParameterError(
            f"{name} must be floating point, got dtype={y.dtype}; "
            f"convert with {name}.astype(np.float32){hint}"
        )
    if mono and y.ndim != 1:
        raise ParameterError(
            f"{name} must be mono with shape (n,), got shape={y.shape} (ndim={y.ndim}); "
            f"mix down with course_lib.audio.to_mono({name})"
        )
    if y.ndim == 0:
        raise ParameterError(f"{name} must have shape (..., n), got a 0-d array (ndim=0)")
    if max_ndim is not None and y.ndim > max_ndim:
        expected = "(n,) or (channels, n)" if max_ndim == 2 else f"at most {max_ndim} dimensions"
        raise ParameterError(
            f"{name} must have shape {expected}, got shape={y.shape} with ndim={y.ndim}"
        )
    if y.size == 0 or y.shape[-1] == 0:
        raise ParameterError(f"{name} is empty (shape={y.shape}); a signal needs at least one sample")
    check_finite(y, name=name)
    return y


def valid_audio(y, *, mono: bool = False, name: str = "y") -> bool:
    """Check that ``y`` is a usable audio signal, or raise :class:`ParameterError`.

    Notebook: 01_digital_audio.ipynb

    Audio in ``course_lib`` is float, finite, non-empty, of shape ``(n,)``
    (mono) or ``(channels, n)`` (librosa's layout, channels first).

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], floating point
        The signal.
    mono : bool
        Require a one-dimensional signal.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    True (so it can be used in a condition); every failure raises.

    Raises
    ------
    ParameterError
        Not an ndarray, not floating point, empty, more than 2 dimensions
        (or more than 1 when ``mono``), or containing NaN / Inf.

    Examples
    --------
    >>> valid_audio(np.zeros(4, dtype=np.float32))
    True
    """
    check_signal(y, name=name, mono=mono, max_ndim=2)
    return True


def check_sr(sr, name: str = "sr") -> int:
    """Return ``sr`` as an ``int`` if it is a positive whole number of Hz, else raise.

    Integer-valued floats (``16000.0``) are accepted; ``22050.5``, ``0``,
    ``-8000``, ``True`` and strings are not (see the module docstring for why
    sample rates are integers).

    >>> check_sr(16000), check_sr(16000.0)
    (16000, 16000)
    """
    if isinstance(sr, (bool, np.bool_)) or not isinstance(sr, numbers.Real):
        raise ParameterError(
            f"{name}={sr!r} must be a positive integer sample rate in Hz (e.g. 16000)"
        )
    if not (np.isfinite(sr) and float(sr).is_integer() and sr > 0):
        raise ParameterError(
            f"{name}={sr!r} must be a positive integer sample rate in Hz (e.g. 16000); "
            f"round it with int(round({name})) if it was computed"
        )
    return int(sr)


def check_positive_int(value, name: str = "value") -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise.

    Floats are refused even when whole (``n_fft=512.0`` usually means a
    division went wrong upstream); ``bool`` is refused too.

    >>> check_positive_int(512, name="n_fft")
    512
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive integer")
    return int(value)


def check_positive(value, name: str = "value") -> float:
    """Return ``value`` as a ``float`` if it is a finite number > 0, else raise.

    >>> check_positive(2.0, name="power")
    2.0
    """
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
            or not np.isfinite(value) or not value > 0):
        raise ParameterError(f"{name}={value!r} must be a finite number > 0")
    return float(value)


def check_finite(x, *, name: str = "x") -> np.ndarray:
    """Return ``x`` as an array if it holds no NaN or Inf, else raise (saying how many).

    >>> check_finite([1.0, 2.0]).shape
    (2,)
    """
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.inexact) and not np.isfinite(x).all():
        n_bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        raise ParameterError(
            f"{name} contains {n_bad} NaN or Inf value(s); it must be finite "
            f"(find them with np.flatnonzero(~np.isfinite({name})))"
        )
    return x


def _format_shape(shape) -> str:
    parts = ["..." if d is Ellipsis else ("?" if d is None else str(d)) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_shape(x, shape, *, name: str = "x") -> np.ndarray:
    """Return ``x`` as an array if its shape matches ``shape``, else raise.

    ``shape`` is a tuple whose entries are an ``int`` (that exact size),
    ``None`` (any size) or a ``str`` naming a dimension (any size, but every
    entry with the same name must have the same size, e.g. ``("n", "n")``
    for a square matrix). A leading ``...`` allows any number of leading
    axes, so ``(..., "n_freq", "n_frames")`` accepts a spectrogram with or
    without channels.

    Parameters
    ----------
    x : array_like
    shape : tuple of int, None, str, with an optional leading Ellipsis
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    x : np.ndarray

    Raises
    ------
    ParameterError
        The number of axes or a size differs; the message shows both shapes.

    Examples
    --------
    >>> check_shape(np.zeros((3, 3)), ("n", "n"), name="A").shape
    (3, 3)
    >>> check_shape(np.zeros((2, 40, 7)), (..., 40, "n_frames"), name="M").shape
    (2, 40, 7)
    """
    x = np.asarray(x)
    shape = tuple(shape)
    leading = bool(shape) and shape[0] is Ellipsis
    tail = shape[1:] if leading else shape
    if any(d is Ellipsis for d in tail):
        raise ParameterError(f"shape={shape!r}: '...' may only come first")
    want = _format_shape(shape)
    if (x.ndim < len(tail)) if leading else (x.ndim != len(tail)):
        raise ParameterError(
            f"{name} must have shape {want} ({'at least ' if leading else ''}{len(tail)} axes), "
            f"got shape={x.shape} with ndim={x.ndim}"
        )
    got = x.shape[x.ndim - len(tail):]
    sizes: dict[str, int] = {}
    for axis, (expected, actual) in enumerate(zip(tail, got)):
        if isinstance(expected, str):
            if sizes.setdefault(expected, actual) != actual:
                raise ParameterError(
                    f"{name} must have shape {want}: the axes named {expected!r} differ "
                    f"({sizes[expected]} vs {actual}) in shape={x.shape}"
                )
        elif expected is not None and actual != expected:
            raise ParameterError(
                f"{name} must have shape {want}, got shape={x.shape} "
                f"(axis {axis - len(tail)} has size {actual}, expected {expected})"
            )
    return x
