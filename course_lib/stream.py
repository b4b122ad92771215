"""Block-wise (real-time) processing with state.

Notebook: 16_real_time.ipynb

A live audio system hands a program a **block** of samples at a time (a
sound card's callback: 64, 160, 1024 samples ...) and wants a block of the
same size back before the next one arrives. Anything that looks at more
than one sample — a filter, an STFT, a classifier — must keep **state**
between calls. Every processor here has the same small protocol:

``process(block) -> block of the same length``
    Consume ``len(block)`` new input samples, return as many output samples.
``reset()``
    Forget the state (start a new stream).
``latency`` : int
    The **algorithmic latency** in samples: ``output[n] = offline(x)[n - latency]``.

and one invariant, tested for every component: cutting a signal into blocks
of *any* sizes (1, 7, 160, 1024, random) gives the same output as
processing it whole (:func:`offline`), within float tolerance, after the
stated latency. :func:`run_blocks` is that test's harness.

Components
----------
- :class:`StreamingSTFT` (frames out) and :class:`StreamingISTFT` (overlap-add
  with a synthesis window satisfying the constant-overlap-add condition,
  :func:`synthesis_window`); :class:`STFTProcessor` chains them around a
  per-frame function (a mask, a gain) and returns samples;
- :class:`StreamingFilter` — ``scipy.signal.lfilter`` with its state ``zi``
  carried from block to block;
- :class:`RingBuffer` — the last ``capacity`` samples, without reallocating;
- :class:`SlidingDecision` — per-window scores smoothed by a causal moving
  average, a threshold and a refractory time: events out;
- :class:`StreamingEnhancer` — chapter 09's Wiener enhancer frame by frame;
- :class:`StreamingKeywordSpotter` — chapter 07's word classifier on a ring
  buffer, scored every hop, decided by :class:`SlidingDecision`.

Latency and speed: :func:`measure_latency` (an impulse in, where does it come
out), :func:`real_time_factor` per block size, :func:`simulate_deadlines`
(blocks arrive at the audio rate; how many answers are late).

Live audio: :func:`live` runs a processor on the microphone with
``sounddevice`` (optional: PortAudio and a device are needed, and a clear
:class:`AudioDeviceError` says so when they are missing); :func:`make_callback`
builds the sounddevice callback, and :func:`simulate_stream` drives that same
callback from an array, so everything but the sound card is tested.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable, NamedTuple

import numpy as np

from .errors import CourseLibError, ParameterError
from .validation import check_positive_int, check_signal, check_sr

__all__ = [
    "AudioDeviceError", "synthesis_window", "StreamingSTFT", "StreamingISTFT", "STFTProcessor",
    "StreamingFilter", "RingBuffer", "SlidingDecision", "Event", "StreamingEnhancer",
    "StreamingKeywordSpotter", "classifier_scorer", "endpointed_scorer", "block_sizes", "run_blocks", "offline",
    "measure_latency", "real_time_factor", "DeadlineReport", "schedule_deadlines",
    "simulate_deadlines", "make_callback", "simulate_stream", "import_sounddevice", "live",
    "keyword_stream", "score_detections", "KWSScore",
]


class AudioDeviceError(CourseLibError, OSError):
    """No usable audio device (no PortAudio library, no sound card, no ``sounddevice``)."""


# --------------------------------------------------------------------------- blocks

def block_sizes(n: int, sizes, *, rng=None) -> list[int]:
    """Cut ``n`` samples into consecutive block lengths.

    Notebook: 16_real_time.ipynb

    Parameters
    ----------
    n : int >= 0
        Total number of samples.
    sizes : int, sequence of int, or "random"
        One block size (the last block may be shorter), a cycle of sizes, or
        random sizes between 1 and 2048 drawn from ``rng``.
    rng : np.random.Generator or None
        For ``"random"`` (default ``np.random.default_rng(0)``).

    Returns
    -------
    list of int, summing to ``n``

    >>> block_sizes(10, 4)
    [4, 4, 2]
    >>> block_sizes(10, [1, 3])
    [1, 3, 1, 3, 1, 1]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ParameterError(f"n={n!r} must be a non-negative integer")
    if isinstance(sizes, str):
        if sizes != "random":
            raise ParameterError(f"sizes={sizes!r}: use an int, a list of ints or 'random'")
        rng = np.random.default_rng(0) if rng is None else rng
        cycle = [int(s) for s in rng.integers(1, 2049, size=max(1, n))]
    else:
        cycle = [sizes] if np.isscalar(sizes) else list(sizes)
        if not cycle:
            raise ParameterError("sizes=[] is empty; give at least one block size")
        cycle = [check_positive_int(s, "block size") for s in cycle]
    out, done, i = [], 0, 0
    while done < n:
        b = min(cycle[i % len(cycle)], n - done)
        out.append(b)
        done += b
        i += 1
    return out


def run_blocks(processor, x, sizes, *, rng=None) -> np.ndarray:
    """Feed ``x`` to ``processor.process`` in blocks and concatenate the outputs.

    Notebook: 16_real_time.ipynb

    The processor is :meth:`reset` first. ``sizes`` as in :func:`block_sizes`.

    Returns
    -------
    np.ndarray [shape=(len(x),)]
    """
    x = check_signal(np.asarray(x), name="x", mono=True)
    processor.reset()
    outs, start = [], 0
    for b in block_sizes(len(x), sizes, rng=rng):
        y = processor.process(x[start:start + b])
        if len(y) != b:
            raise CourseLibError(f"{type(processor).__name__}.process returned {len(y)} samples for a block of {b}")
        outs.append(y)
        start += b
    return np.concatenate(outs) if outs else np.zeros(0, dtype=x.dtype)


def offline(processor, x) -> np.ndarray:
    """Whole-signal output of ``processor`` *without* its latency: ``y[n] = f(x)[n]``.

    Notebook: 16_real_time.ipynb

    Feeds ``x`` followed by ``latency`` zeros in one block and drops the first
    ``latency`` output samples. The streaming invariant is
    ``run_blocks(p, x, sizes)[latency:] == offline(p, x)[:len(x) - latency]``
    for every ``sizes``.
    """
    x = check_signal(np.asarray(x), name="x", mono=True)
    L = int(processor.latency)
    processor.reset()
    y = processor.process(np.concatenate([x, np.zeros(L, dtype=x.dtype)]))
    processor.reset()
    return y[L:]


# --------------------------------------------------------------------------- STFT / ISTFT

def _window(window, n_fft: int) -> np.ndarray:
    from .spectral import get_window

    return get_window(window, n_fft, fftbins=True)


def synthesis_window(window="hann", *, n_fft: int, hop_length: int) -> np.ndarray:
    """The synthesis window ``g`` that makes weighted overlap-add exact.

    Notebook: 16_real_time.ipynb

    Analysis with ``w``, synthesis with ``g``, frames every ``hop_length``:
    the output is the input exactly when ``sum_k g[n - k H] w[n - k H] = 1``
    for every ``n`` (the constant-overlap-add condition of the product
    ``g w``). With ``S[m] = sum_j w[m + j H]^2`` (periodic in ``n`` with
    period ``H``), ``g = w / S[n mod H]`` satisfies it for any window with
    ``S > 0``; for a periodic Hann window at ``H = n_fft / 4``, ``S = 1.5``
    and ``g = w / 1.5``. This is also what ``librosa.istft`` divides by in the
    middle of a signal.

    Parameters
    ----------
    window : str or np.ndarray [shape=(n_fft,)]
        The analysis window (see :func:`course_lib.spectral.get_window`).
    n_fft : int > 0
    hop_length : int, 0 < hop_length <= n_fft

    Returns
    -------
    g : np.ndarray [shape=(n_fft,), dtype=float64]

    Raises
    ------
    ParameterError
        ``hop_length > n_fft`` or a window whose overlapped squares vanish
        somewhere (no synthesis window can restore those samples).

    >>> synthesis_window("boxcar", n_fft=4, hop_length=2)     # two frames overlap everywhere: 1/2
    array([0.5, 0.5, 0.5, 0.5])
    >>> from course_lib.spectral import get_window
    >>> np.allclose(synthesis_window("hann", n_fft=8, hop_length=2), get_window("hann", 8) / 1.5)
    True
    """
    n_fft = check_positive_int(n_fft, "n_fft")
    hop = check_positive_int(hop_length, "hop_length")
    if hop > n_fft:
        raise ParameterError(f"hop_length={hop} > n_fft={n_fft}: samples between frames would be lost; "
                             f"use hop_length <= n_fft (n_fft // 4 for a Hann window)")
    w = _window(window, n_fft)
    S = np.zeros(hop)
    for start in range(0, n_fft, hop):
        seg = w[start:start + hop] ** 2
        S[:len(seg)] += seg
    if np.any(S <= 1e-10 * max(S.max(), 1e-300)):
        raise ParameterError(f"window={window!r} with n_fft={n_fft}, hop_length={hop}: the overlapped squared "
                             f"windows vanish at some samples, so they cannot be reconstructed; use a smaller "
                             f"hop_length (e.g. n_fft // 4)")
    return w / S[np.arange(n_fft) % hop]


class StreamingSTFT:
    """STFT frames as soon as their samples have arrived.

    Notebook: 16_real_time.ipynb

    Frame ``t`` covers samples ``[t H, t H + n_fft)`` of the stream: exactly
    ``librosa.stft(x, n_fft=n_fft, hop_length=H, center=False)[:, t]``
    (``center=True`` would need ``n_fft / 2`` samples of the future). It is
    returned by the :meth:`push` call that delivers sample ``t H + n_fft - 1``.

    Parameters
    ----------
    n_fft : int
    hop_length : int (default ``n_fft // 4``)
    window : str or array (default periodic Hann)

    Examples
    --------
    >>> s = StreamingSTFT(n_fft=8, hop_length=2)
    >>> s.push(np.zeros(7)).shape, s.push(np.zeros(3)).shape
    ((5, 0), (5, 2))
    """

    def __init__(self, *, n_fft: int = 512, hop_length: int | None = None, window="hann"):
        self.n_fft = check_positive_int(n_fft, "n_fft")
        self.hop_length = check_positive_int(hop_length if hop_length is not None else n_fft // 4, "hop_length")
        if self.hop_length > self.n_fft:
            raise ParameterError(f"hop_length={self.hop_length} > n_fft={self.n_fft}; use hop_length <= n_fft")
        self.window = _window(window, self.n_fft)
        self.reset()

    def reset(self) -> None:
        self._buf = np.zeros(0)

    def push(self, block) -> np.ndarray:
        """Add samples; return the frames completed by them.

        Parameters
        ----------
        block : np.ndarray [shape=(b,)]

        Returns
        -------
        np.ndarray [shape=(1 + n_fft // 2, k), dtype=complex128]
            ``k >= 0`` new frames.
        """
        block = np.asarray(block, dtype=np.float64).reshape(-1)
        self._buf = np.concatenate([self._buf, block])
        n, H = self.n_fft, self.hop_length
        k = 0 if len(self._buf) < n else 1 + (len(self._buf) - n) // H
        if k == 0:
            return np.zeros((n // 2 + 1, 0), dtype=np.complex128)
        idx = np.arange(k)[:, None] * H + np.arange(n)[None, :]        # (k, n_fft)
        frames = self._buf[idx] * self.window
        self._buf = self._buf[k * H:]
        return np.fft.rfft(frames, axis=1).T                             # (k, n_freq) -> (n_freq, k)


class StreamingISTFT:
    """Weighted overlap-add of frames as they come, with a COLA synthesis window.

    Notebook: 16_real_time.ipynb

    Each :meth:`push` of ``k`` frames returns ``k * hop_length`` finished
    samples: frame ``t``'s first ``H`` samples can no longer change once
    frame ``t`` has been added (frame ``t + 1`` starts ``H`` later). The
    ``m``-th returned sample is ``sum_t g[m - t H] irfft(X_t)[m - t H]``
    with ``g`` = :func:`synthesis_window` — the analysis-synthesis pair
    reconstructs the input exactly where frames fully overlap.
    """

    def __init__(self, *, n_fft: int = 512, hop_length: int | None = None, window="hann"):
        self.n_fft = check_positive_int(n_fft, "n_fft")
        self.hop_length = check_positive_int(hop_length if hop_length is not None else n_fft // 4, "hop_length")
        self.synthesis = synthesis_window(window, n_fft=self.n_fft, hop_length=self.hop_length)
        self.reset()

    def reset(self) -> None:
        self._acc = np.zeros(self.n_fft)

    def push(self, frames) -> np.ndarray:
        """Overlap-add ``frames`` ``(1 + n_fft // 2, k)``; return ``k * hop_length`` finished samples."""
        frames = np.asarray(frames)
        n, H = self.n_fft, self.hop_length
        if frames.ndim != 2 or frames.shape[0] != n // 2 + 1:
            raise ParameterError(f"frames has shape {frames.shape}; expected ({n // 2 + 1}, k) for n_fft={n}")
        k = frames.shape[1]
        if k == 0:
            return np.zeros(0)
        y = np.fft.irfft(frames.T, n=n, axis=1) * self.synthesis            # (k, n_fft)
        acc = np.concatenate([self._acc, np.zeros(k * H)])
        # vectorised overlap-add of k frames shifted by H
        idx = np.arange(k)[:, None] * H + np.arange(n)[None, :]
        np.add.at(acc, idx, y)
        out = acc[:k * H].copy()
        self._acc = acc[k * H:k * H + n]
        return out


class STFTProcessor:
    """Samples in, STFT, a per-frame function, overlap-add, samples out.

    Notebook: 16_real_time.ipynb

    ``frame_fn(X, state) -> (Y, state)`` maps frames ``X`` of shape
    ``(1 + n_fft // 2, k)`` to frames of the same shape; ``state`` is
    carried between calls (``initial_state`` after :meth:`reset`); it must
    treat the ``k`` frames in order, each frame using only itself and the past,
    so the output does not depend on how the stream is cut. ``None`` is the
    identity (analysis + synthesis alone: a pure delay).

    Latency
    -------
    ``n_fft - 1`` samples. Frame ``t`` needs input up to ``t H + n_fft - 1``
    (the stream is preceded by ``n_fft - H`` zeros, so the first frame ends at
    sample ``H - 1``); its first ``H`` output samples are then final. To give
    back exactly as many samples as it receives in *every* call (blocks of any
    size, even 1), the output waits for the worst case, a sample that arrives
    just after a hop boundary: ``(n_fft - H) + (H - 1) = n_fft - 1``.
    At 16 kHz with ``n_fft = 512``: 511 samples, 31.9 ms.
    """

    def __init__(self, frame_fn: Callable | None = None, *, n_fft: int = 512, hop_length: int | None = None,
                 window="hann", initial_state=None):
        self.frame_fn = frame_fn
        self.initial_state = initial_state
        self.stft = StreamingSTFT(n_fft=n_fft, hop_length=hop_length, window=window)
        self.istft = StreamingISTFT(n_fft=n_fft, hop_length=self.stft.hop_length, window=window)
        self.n_fft, self.hop_length = self.stft.n_fft, self.stft.hop_length
        self.latency = self.n_fft - 1
        self.reset()

    def reset(self) -> None:
        self.stft.reset()
        self.istft.reset()
        self.state = self.initial_state() if callable(self.initial_state) else self.initial_state
        self.stft.push(np.zeros(self.n_fft - self.hop_length))       # the stream starts after silence
        self._out = deque()
        self._pending = np.zeros(self.hop_length - 1)                 # output FIFO head start (see Latency)

    def process(self, block) -> np.ndarray:
        """``len(block)`` samples in, as many out, ``latency`` samples late."""
        block = np.asarray(block)
        X = self.stft.push(block)
        if X.shape[1]:
            if self.frame_fn is not None:
                Y, self.state = self.frame_fn(X, self.state)
                if np.shape(Y) != X.shape:
                    raise CourseLibError(f"frame_fn returned shape {np.shape(Y)} for frames of shape {X.shape}")
            else:
                Y = X
            self._pending = np.concatenate([self._pending, self.istft.push(Y)])
        out, self._pending = self._pending[:len(block)], self._pending[len(block):]
        return out.astype(block.dtype if np.issubdtype(block.dtype, np.floating) else np.float64, copy=False)


# --------------------------------------------------------------------------- filters

class StreamingFilter:
    """``scipy.signal.lfilter(b, a, x)`` block by block, with the state ``zi`` carried.

    Notebook: 16_real_time.ipynb

    A direct-form II transposed filter keeps ``max(len(a), len(b)) - 1``
    numbers of state. Handing the final state of one block (``zf``) to the
    next as its initial state (``zi``) makes the blocks' outputs join into
    exactly the whole-signal output. Latency 0: ``y[n]`` uses ``x[:n + 1]``
    only (a filter's *group delay*, e.g. ``(numtaps - 1) / 2`` for a
    linear-phase FIR, is part of its response, not of the streaming).

    >>> f = StreamingFilter([0.5, 0.5], [1.0])
    >>> f.process(np.array([1.0, 0.0])), f.process(np.array([0.0]))
    (array([0.5, 0.5]), array([0.]))
    """

    latency = 0

    def __init__(self, b, a=(1.0,)):
        self.b = np.atleast_1d(np.asarray(b, dtype=np.float64))
        self.a = np.atleast_1d(np.asarray(a, dtype=np.float64))
        if self.b.ndim != 1 or self.a.ndim != 1 or len(self.b) == 0 or len(self.a) == 0:
            raise ParameterError(f"b and a must be non-empty 1-D coefficient arrays, got shapes {self.b.shape} and {self.a.shape}")
        if self.a[0] == 0:
            raise ParameterError("a[0]=0: the leading denominator coefficient must be non-zero")
        if not (np.all(np.isfinite(self.b)) and np.all(np.isfinite(self.a))):
            raise ParameterError("filter coefficients contain NaN or Inf")
        self.reset()

    def reset(self) -> None:
        self.zi = np.zeros(max(len(self.a), len(self.b)) - 1)

    def process(self, block) -> np.ndarray:
        from scipy.signal import lfilter

        block = np.asarray(block)
        if len(self.zi) == 0:
            return lfilter(self.b, self.a, block)
        y, self.zi = lfilter(self.b, self.a, block, zi=self.zi)
        return y


# --------------------------------------------------------------------------- ring buffer and decisions

class RingBuffer:
    """The most recent ``capacity`` samples of a stream, in a fixed array.

    Notebook: 16_real_time.ipynb

    :meth:`write` overwrites the oldest samples in place (no reallocation,
    which a real-time thread must avoid); :meth:`latest` returns the last
    ``n`` samples in time order, zeros before the stream began.

    >>> r = RingBuffer(4); r.write(np.arange(6.0)); r.latest(3)
    array([3., 4., 5.])
    """

    def __init__(self, capacity: int, *, dtype=np.float64):
        self.capacity = check_positive_int(capacity, "capacity")
        self._data = np.zeros(self.capacity, dtype=dtype)
        self.reset()

    def reset(self) -> None:
        self._data[:] = 0
        self.head = 0           # where the next sample goes
        self.count = 0          # samples written since reset

    def write(self, block) -> None:
        block = np.asarray(block).reshape(-1)
        if len(block) >= self.capacity:
            block = block[-self.capacity:]
            self._data[:] = block
            self.head = 0
            self.count += len(block)    # what counts is that the buffer is full
            return
        end = self.head + len(block)
        if end <= self.capacity:
            self._data[self.head:end] = block
        else:
            first = self.capacity - self.head
            self._data[self.head:] = block[:first]
            self._data[:end - self.capacity] = block[first:]
        self.head = end % self.capacity
        self.count += len(block)

    def latest(self, n: int | None = None) -> np.ndarray:
        """The last ``n`` samples (default ``capacity``), oldest first: ``(n,)``."""
        n = self.capacity if n is None else check_positive_int(n, "n")
        if n > self.capacity:
            raise ParameterError(f"n={n} > capacity={self.capacity}; make the ring buffer larger")
        idx = (self.head - n + np.arange(n)) % self.capacity
        return self._data[idx]

    @property
    def full(self) -> bool:
        return self.count >= self.capacity


class Event(NamedTuple):
    """One decision of :class:`SlidingDecision`."""

    index: int      # the score index (window number) at which the decision fired
    label: int      # the class that fired
    score: float    # its smoothed score at that moment


class SlidingDecision:
    """Scores per window → causal moving average → threshold → events with a refractory time.

    Notebook: 16_real_time.ipynb

    For each new score vector ``p_t`` (one per analysis window, e.g. class
    posteriors): ``s_t = mean(p_{t-smooth+1} .. p_t)`` (windows before the
    stream count as zeros); if ``max_c s_t[c] >= threshold`` for a class
    ``c`` in ``classes`` and at least ``refractory`` windows have passed
    since the last event, an :class:`Event` fires. Smoothing removes one-window
    blips; the refractory time stops one spoken word from firing on each of
    the several windows that contain it. Causal: the decision at ``t`` uses
    scores up to ``t`` only, so streaming and whole-signal decisions agree.

    Parameters
    ----------
    n_classes : int
    smooth : int >= 1
        Windows averaged.
    threshold : float
    refractory : int >= 0
        Windows to wait after an event.
    classes : sequence of int or None
        Which classes may fire (e.g. the keywords, not "silence"); all by default.
    """

    def __init__(self, n_classes: int, *, smooth: int = 3, threshold: float = 0.5, refractory: int = 5,
                 classes=None):
        self.n_classes = check_positive_int(n_classes, "n_classes")
        self.smooth = check_positive_int(smooth, "smooth")
        if isinstance(refractory, bool) or int(refractory) != refractory or refractory < 0:
            raise ParameterError(f"refractory={refractory!r} must be a non-negative integer (windows)")
        self.refractory = int(refractory)
        self.threshold = float(threshold)
        mask = np.zeros(self.n_classes, dtype=bool)
        mask[list(range(self.n_classes)) if classes is None else list(classes)] = True
        self.classes = mask
        self.reset()

    def reset(self) -> None:
        self._hist = np.zeros((self.smooth, self.n_classes))
        self._n = 0
        self._last = -(10 ** 12)
        self.smoothed = []

    def update(self, scores) -> Event | None:
        """Add one window's scores ``(n_classes,)``; return an :class:`Event` or ``None``."""
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (self.n_classes,):
            raise ParameterError(f"scores has shape {scores.shape}; expected ({self.n_classes},)")
        self._hist[self._n % self.smooth] = scores
        t = self._n
        self._n += 1
        s = self._hist.sum(axis=0) / self.smooth
        self.smoothed.append(s)
        masked = np.where(self.classes, s, -np.inf)
        c = int(np.argmax(masked))
        if masked[c] >= self.threshold and t - self._last > self.refractory:
            self._last = t
            return Event(t, c, float(s[c]))
        return None

    def run(self, score_matrix) -> list[Event]:
        """All events of a whole score matrix ``(n_windows, n_classes)`` (after :meth:`reset`)."""
        self.reset()
        return [e for e in (self.update(p) for p in np.asarray(score_matrix)) if e is not None]


# --------------------------------------------------------------------------- chapter 09: enhancement

class StreamingEnhancer(STFTProcessor):
    """Chapter 09's Wiener enhancer, frame by frame.

    Notebook: 16_real_time.ipynb

    Wraps :mod:`course_lib.enhance` (see :meth:`from_enhance`): the STFT, the
    per-frame gain and the overlap-add are done here; the gain rule and its
    noise tracking come from chapter 09, so the streaming output equals the
    offline :func:`offline` output of the same processor, ``n_fft - 1``
    samples later (31.9 ms at 16 kHz, ``n_fft = 512``).

    Parameters
    ----------
    gain_fn : callable ``(power (n_freq, k), state) -> (gain (n_freq, k), state)``
        Causal per-frame gain from the noisy power spectrum.
    n_fft, hop_length, window, initial_state : as :class:`STFTProcessor`.
    """

    def __init__(self, gain_fn: Callable, *, n_fft: int = 512, hop_length: int | None = None, window="hann",
                 initial_state=None):
        def frame_fn(X, state):
            G, state = gain_fn(np.abs(X) ** 2, state)
            return G * X, state

        super().__init__(frame_fn, n_fft=n_fft, hop_length=hop_length, window=window, initial_state=initial_state)

    @classmethod
    def wiener(cls, *, sr: int = 16000, **overrides) -> "StreamingEnhancer":
        """The streaming twin of ``enhance.wiener(y, sr=sr, noise="track")``.

        Notebook: 16_real_time.ipynb

        Same frames (``enhance``'s 32 ms / 8 ms), same minimum-statistics noise
        tracker (:func:`course_lib.enhance.minimum_statistics`: recursive
        smoothing, a running minimum, its bias factor, smoothing across
        frequency), same decision-directed gain
        (:func:`course_lib.enhance.decision_directed`), computed one frame at a
        time with the state carried. The settings are read from those
        functions' defaults (``overrides`` may change ``alpha``, ``xi_min_db``,
        ``noise_factor``, ``window``, ``smoothing``, ``freq_smoothing``). Both are
        causal, so the output equals the offline one ``n_fft - 1`` samples
        later, except within one frame of the start and the end (the offline
        STFT is centred and normalises the edges differently).
        """
        import inspect

        from . import enhance

        sr = check_sr(sr)
        defaults = {}
        for fn in (enhance.minimum_statistics, enhance.decision_directed, enhance.wiener):
            defaults.update({k: v.default for k, v in inspect.signature(fn).parameters.items()
                             if v.default is not inspect.Parameter.empty})
        unknown = set(overrides) - {"alpha", "xi_min_db", "noise_factor", "window", "smoothing", "freq_smoothing"}
        if unknown:
            raise ParameterError(f"unknown settings {sorted(unknown)} for the streaming Wiener enhancer")
        opt = {**defaults, **overrides}
        alpha, smoothing = float(opt["alpha"]), float(opt["smoothing"])
        noise_factor = float(opt.get("noise_factor", 1.0))
        freq_smoothing = int(opt.get("freq_smoothing", 1))
        n_fft, hop = enhance._frame_sizes(sr, None, None)
        if hop * 4 != n_fft:
            raise ParameterError(f"enhance uses n_fft={n_fft}, hop_length={hop}; the streaming twin needs hop = n_fft / 4")
        d = max(2, int(round(float(opt["window"]) * sr / hop)))
        bias = enhance._min_stats_bias(d, smoothing)
        xi_min = 10 ** (float(opt["xi_min_db"]) / 10)

        def noise_from_min(m):
            lam = bias * m
            if freq_smoothing > 1:
                from scipy.ndimage import uniform_filter1d

                lam = uniform_filter1d(lam, freq_smoothing, mode="nearest")
            return np.maximum(noise_factor * lam, 1e-20)

        def gain_fn(P, state):
            G = np.ones_like(P)
            for j in range(P.shape[1]):
                p = P[:, j]
                t = state["t"]
                state["t"] = t + 1
                if t == 0:
                    # the stream's first frame ends one hop into the signal; the centred offline STFT has
                    # no such frame, so it does not enter the noise tracker (it only shapes output before 0)
                    continue
                if t == 1:                                     # offline frame 0: initialise like enhance does
                    state["s"] = p.copy()
                    state["hist"] = np.repeat(p[:, None], d, axis=1)
                else:
                    state["s"] = smoothing * state["s"] + (1 - smoothing) * p
                    state["hist"][:, t % d] = state["s"]
                lam = noise_from_min(state["hist"].min(axis=1))       # minimum statistics, causal
                gamma = p / lam
                if t == 1:
                    state["prev"] = np.maximum(gamma - 1, 0) * lam
                xi = np.maximum(alpha * state["prev"] / lam + (1 - alpha) * np.maximum(gamma - 1, 0), xi_min)
                g = xi / (1 + xi)
                state["prev"] = g ** 2 * p
                G[:, j] = g
            return G, state

        return cls(gain_fn, n_fft=n_fft, hop_length=hop, initial_state=lambda: {"t": 0})


# --------------------------------------------------------------------------- chapter 07: keyword spotting

def classifier_scorer(model, *, sr: int) -> tuple[Callable, tuple]:
    """``(score(window) -> class probabilities, labels)`` for a shipped word classifier.

    Notebook: 16_real_time.ipynb

    Works with models that have ``predict_proba(y, *, sr)`` (an array in
    label order, or a ``{label: probability}`` dict like chapter 07's
    ``classify.KeywordSpotter``, whose ``_silence_`` / ``_unknown_`` classes
    make it a window classifier that needs no :func:`endpointed_scorer`), or
    ``features`` + ``forward`` (e.g. ``pretrained.load("words_mfcc_logreg")``):
    softmax of the logits.
    """
    import torch

    sr = check_sr(sr)
    labels = tuple(getattr(getattr(model, "config", None), "labels", None) or getattr(model, "labels"))
    if hasattr(model, "predict_proba"):
        def proba(w):
            p = model.predict_proba(w, sr=sr)
            if isinstance(p, dict):                      # {label: probability} (chapter 07's KeywordSpotter)
                return np.array([p[k] for k in labels], dtype=np.float64)
            return np.asarray(p, dtype=np.float64)

        return proba, labels

    @torch.no_grad()
    def score(w):
        x = torch.from_numpy(np.asarray(model.features(w, sr=sr)))[None]      # (1, n_features)
        return torch.softmax(model(x), dim=-1)[0].double().numpy()             # (n_labels,)

    return score, labels


def endpointed_scorer(score: Callable, n_labels: int, *, sr: int, frame_s: float = 0.02, margin_db: float = 10.0,
                      tail_s: float = 0.15, merge_s: float = 0.12, pad_s: float = 0.05) -> Callable:
    """Wrap a whole-word classifier so it scores only a *finished* word inside the window.

    Notebook: 16_real_time.ipynb

    A classifier trained on isolated words expects one word, start to end.
    In a sliding window it sees half words and two words at once. This
    wrapper finds speech by energy (frames of ``frame_s`` more than
    ``margin_db`` above the window's 10th-percentile frame energy, gaps
    shorter than ``merge_s`` bridged) and returns ``score(segment)`` only when
    the last speech segment is complete: it started after the window's first
    frame and the last ``tail_s`` are quiet. Otherwise zeros (no opinion). So
    each word is scored on the few hops between its end and its leaving the
    window, which :class:`SlidingDecision` smooths into one event.

    Returns
    -------
    callable ``(window (n,)) -> scores (n_labels,)``
    """
    sr = check_sr(sr)
    fl = check_positive_int(int(round(frame_s * sr)), "frame_s * sr")
    tail = max(1, int(round(tail_s / frame_s)))
    gap = max(1, int(round(merge_s / frame_s)))
    pad = int(round(pad_s * sr))

    def scored(w):
        w = np.asarray(w)
        n = len(w) // fl
        e = 10 * np.log10(np.mean(w[:n * fl].reshape(n, fl).astype(np.float64) ** 2, axis=1) + 1e-12)   # (n,) dB
        speech = e > np.percentile(e, 10) + margin_db
        if not speech.any() or speech[-tail:].any():
            return np.zeros(n_labels)          # silence, or a word still being spoken
        idx = np.flatnonzero(speech)
        j = len(idx) - 1
        while j > 0 and idx[j] - idx[j - 1] <= gap:
            j -= 1
        start, end = idx[j], idx[-1]
        if start == 0:
            return np.zeros(n_labels)          # the word began before the window: not all of it is here
        return score(w[max(0, start * fl - pad):min(len(w), (end + 1) * fl + pad)])

    return scored


class StreamingKeywordSpotter:
    """Keyword spotting on a continuous stream: ring buffer, a score every hop, a sliding decision.

    Notebook: 16_real_time.ipynb

    Every ``hop`` samples the last ``window`` samples (a :class:`RingBuffer`)
    are scored by ``score`` (class probabilities), unless they are quieter than
    ``min_dbfs`` (no speech: the scores are zeros and the classifier is not
    even run, which saves most of the CPU on a quiet stream). The scores go
    through a :class:`SlidingDecision`; each event is a detection at the end
    of its hop. Windows are aligned to the stream (the ``t``-th ends at sample
    ``(t + 1) hop - 1``), so detections do not depend on the block sizes.

    Attributes
    ----------
    detections : list of (sample, label, score)
        Every event so far, ``sample`` = the stream position of the decision.
    latency : int
        ``hop - 1``: the longest a sample waits for the next scoring
        (plus the time the classifier itself takes). A keyword is decided
        only when enough of it is in the window; the measured detection delay
        after the word's end is reported by :func:`score_detections`.
    """

    def __init__(self, score: Callable, labels, *, sr: int, window_s: float = 1.0, hop_s: float = 0.1,
                 keywords=None, smooth: int = 3, threshold: float = 0.6, refractory_s: float = 0.8,
                 min_dbfs: float = -45.0):
        self.sr = check_sr(sr)
        self.score = score
        self.labels = tuple(labels)
        self.window = check_positive_int(int(round(window_s * sr)), "window_s * sr")
        self.hop = check_positive_int(int(round(hop_s * sr)), "hop_s * sr")
        if keywords is None:
            keywords = self.labels
        unknown = [k for k in keywords if k not in self.labels]
        if unknown:
            raise ParameterError(f"keywords {unknown} are not among the classifier's labels {list(self.labels)}")
        self.keywords = tuple(keywords)
        self.min_dbfs = float(min_dbfs)
        self.ring = RingBuffer(self.window)
        self.decision = SlidingDecision(len(self.labels), smooth=smooth, threshold=threshold,
                                        refractory=int(round(refractory_s / hop_s)),
                                        classes=[self.labels.index(k) for k in self.keywords])
        self.latency = self.hop - 1
        self.reset()

    def reset(self) -> None:
        self.ring.reset()
        self.decision.reset()
        self._since = 0
        self._pos = 0
        self.detections = []
        self.n_scored = 0

    def _score_now(self) -> None:
        w = self.ring.latest()
        rms = np.sqrt(np.mean(w.astype(np.float64) ** 2))
        if 20 * np.log10(max(rms, 1e-10)) < self.min_dbfs:
            p = np.zeros(len(self.labels))
        else:
            p = np.asarray(self.score(w.astype(np.float32)), dtype=np.float64)
            self.n_scored += 1
        e = self.decision.update(p)
        if e is not None:
            self.detections.append((self._pos - 1, self.labels[e.label], e.score))

    def process(self, block) -> np.ndarray:
        """Consume a block; returns it unchanged (a pass-through), detections go to :attr:`detections`."""
        block = np.asarray(block)
        i = 0
        while i < len(block):
            take = min(self.hop - self._since, len(block) - i)
            self.ring.write(block[i:i + take])
            i += take
            self._since += take
            self._pos += take
            if self._since == self.hop:
                self._since = 0
                self._score_now()
        return block


def keyword_stream(words, noise, *, sr: int, gap_s=(0.6, 1.6), snr_db: float = 20.0, rng=None):
    """A continuous test stream: words separated by gaps, in noise.

    Notebook: 16_real_time.ipynb

    Parameters
    ----------
    words : list of (audio (n,), label)
        At ``sr``.
    noise : np.ndarray [shape=(m,)]
        Background, looped to the stream's length, scaled to ``snr_db``
        below the words' mean power.
    gap_s : (low, high)
        Uniform gap before each word, seconds.

    Returns
    -------
    (stream (n,) float32, truth: list of (start_sample, end_sample, label))
    """
    sr = check_sr(sr)
    rng = np.random.default_rng(0) if rng is None else rng
    pieces, truth, pos = [], [], 0
    for y, label in words:
        gap = int(rng.uniform(*gap_s) * sr)
        pieces += [np.zeros(gap, np.float32), np.asarray(y, np.float32)]
        truth.append((pos + gap, pos + gap + len(y), label))
        pos += gap + len(y)
    tail = int(gap_s[1] * sr)
    pieces.append(np.zeros(tail, np.float32))
    s = np.concatenate(pieces)
    speech_power = np.mean(np.concatenate([np.asarray(y, np.float64) for y, _ in words]) ** 2)
    noise = np.asarray(noise, np.float64)
    reps = int(np.ceil(len(s) / len(noise)))
    n = np.tile(noise, reps)[:len(s)]
    n *= np.sqrt(speech_power / np.mean(n ** 2) / 10 ** (snr_db / 10))
    return (s + n).astype(np.float32), truth


class KWSScore(NamedTuple):
    """What :func:`score_detections` measured."""

    detection_rate: float           # keywords detected with the right label / keywords
    false_alarms: int               # detections that match no keyword (or the wrong label)
    false_alarms_per_hour: float
    hours: float
    delays_s: np.ndarray            # decision time - word end, for the detected keywords


def score_detections(detections, truth, *, sr: int, n_samples: int, keywords=None, tolerance_s: float = 1.0) -> KWSScore:
    """Match detections to spoken keywords.

    Notebook: 16_real_time.ipynb

    A detection ``(sample, label, score)`` hits a keyword occurrence
    ``(start, end, label)`` if the labels agree and
    ``start <= sample <= end + tolerance_s * sr``; each occurrence is counted
    once. Every other detection is a false alarm. Occurrences whose label is
    not in ``keywords`` are not counted as misses (a non-keyword word is part
    of the background; a detection on it is a false alarm).
    """
    sr = check_sr(sr)
    keywords = None if keywords is None else set(keywords)
    targets = [(s, e, lab) for s, e, lab in truth if keywords is None or lab in keywords]
    used = [False] * len(targets)
    fa, delays = 0, []
    for sample, label, _ in detections:
        hit = None
        for i, (s, e, lab) in enumerate(targets):
            if not used[i] and lab == label and s <= sample <= e + tolerance_s * sr:
                hit = i
                break
        if hit is None:
            fa += 1
        else:
            used[hit] = True
            delays.append((sample - targets[hit][1]) / sr)
    hours = n_samples / sr / 3600
    return KWSScore(sum(used) / max(len(targets), 1), fa, fa / hours if hours > 0 else float("nan"), hours,
                    np.asarray(delays))


# --------------------------------------------------------------------------- latency and speed

def measure_latency(processor, *, n: int = 4096, at: int = 1000, sizes=1) -> int:
    """Where an impulse comes out: feed ``delta[n - at]``, return ``argmax |y|`` − ``at``.

    Notebook: 16_real_time.ipynb

    For a processor that passes a flat spectrum unchanged (an identity STFT
    chain, a gain of 1) this equals the algorithmic latency; fed in blocks of
    ``sizes`` (default 1, the hardest case).
    """
    x = np.zeros(check_positive_int(n, "n"))
    x[at] = 1.0
    y = run_blocks(processor, x, sizes)
    return int(np.argmax(np.abs(y))) - at


def real_time_factor(processor, x, *, sr: int, block_size, repeats: int = 1) -> float:
    """Processing time / audio duration, feeding ``x`` in blocks of ``block_size``.

    Notebook: 16_real_time.ipynb

    Below 1 the processor keeps up with the audio on this machine; a live
    system needs margin (other programs, the OS), so aim for well under 1.
    The best of ``repeats`` runs (the least disturbed by other processes).
    """
    sr = check_sr(sr)
    x = check_signal(np.asarray(x), name="x", mono=True)
    best = np.inf
    for _ in range(check_positive_int(repeats, "repeats")):
        processor.reset()
        t0 = time.perf_counter()
        start = 0
        for b in block_sizes(len(x), block_size):
            processor.process(x[start:start + b])
            start += b
        best = min(best, time.perf_counter() - t0)
    return best / (len(x) / sr)


class DeadlineReport(NamedTuple):
    """What :func:`schedule_deadlines` / :func:`simulate_deadlines` found."""

    n_blocks: int
    missed: int                 # answers finished after their deadline
    block_s: float              # one block's duration (the period)
    proc_s: np.ndarray          # processing time of each block
    lateness_s: np.ndarray      # finish - deadline of each block (> 0: missed)


def schedule_deadlines(proc_s, *, block_s: float, buffer_blocks: int = 1) -> DeadlineReport:
    """Which answers are late when blocks arrive every ``block_s`` seconds.

    Notebook: 16_real_time.ipynb

    Block ``k`` arrives (is complete) at ``(k + 1) block_s``; one worker
    processes blocks in order, starting each at
    ``max(arrival_k, finish_{k-1})``; its answer is due ``buffer_blocks``
    periods after arrival (the output buffer the sound card plays from). A
    late block is a click or a gap in the sound. Note the queue: one slow
    block can make the next ones late too.
    """
    proc_s = np.asarray(proc_s, dtype=np.float64)
    if not block_s > 0:
        raise ParameterError(f"block_s={block_s!r} must be a positive duration in seconds")
    buffer_blocks = check_positive_int(buffer_blocks, "buffer_blocks")
    finish = 0.0
    late = np.empty(len(proc_s))
    for k, p in enumerate(proc_s):
        arrival = (k + 1) * block_s
        finish = max(arrival, finish) + p
        late[k] = finish - (arrival + buffer_blocks * block_s)
    return DeadlineReport(len(proc_s), int(np.sum(late > 0)), float(block_s), proc_s, late)


def simulate_deadlines(processor, x, *, sr: int, block_size: int, buffer_blocks: int = 1,
                       extra_s: Callable | None = None) -> DeadlineReport:
    """Time ``processor`` on every block of ``x`` and schedule the answers (:func:`schedule_deadlines`).

    Notebook: 16_real_time.ipynb

    ``extra_s(k)`` adds a simulated cost in seconds to block ``k`` (another
    program, a garbage collection, a slower machine), to see what margin a
    real-time factor leaves.
    """
    sr = check_sr(sr)
    block_size = check_positive_int(block_size, "block_size")
    x = check_signal(np.asarray(x), name="x", mono=True)
    processor.reset()
    times = []
    for k, start in enumerate(range(0, len(x) - block_size + 1, block_size)):
        t0 = time.perf_counter()
        processor.process(x[start:start + block_size])
        times.append(time.perf_counter() - t0 + (extra_s(k) if extra_s is not None else 0.0))
    return schedule_deadlines(times, block_s=block_size / sr, buffer_blocks=buffer_blocks)


# --------------------------------------------------------------------------- live audio (sounddevice)

_NO_DEVICE = ("live audio needs the optional `sounddevice` package, the PortAudio library and a sound card; "
              "{why}. On a laptop: `pip install sounddevice` (and on Linux `sudo apt install libportaudio2`). "
              "On a server or in CI there is no sound card: record in the browser with "
              "course_lib.widgets.record() and feed the array block by block with stream.simulate_stream.")


def import_sounddevice():
    """Import ``sounddevice``, or raise :class:`AudioDeviceError` saying what is missing and what to do.

    Notebook: 16_real_time.ipynb

    ``import sounddevice`` raises ``OSError`` when the PortAudio library is
    missing (a server, a minimal container), ``ImportError`` when the package
    is not installed.
    """
    try:
        import sounddevice as sd
    except ImportError as e:
        raise AudioDeviceError(_NO_DEVICE.format(why=f"the package is not installed ({e})")) from e
    except OSError as e:
        raise AudioDeviceError(_NO_DEVICE.format(why=f"the PortAudio library could not be loaded ({e})")) from e
    return sd


def make_callback(processor, *, channel: int = 0, on_block: Callable | None = None):
    """A ``sounddevice.Stream`` callback that runs ``processor`` on each block.

    Notebook: 16_real_time.ipynb

    ``callback(indata, outdata, frames, time, status)``: ``indata`` is
    ``(frames, channels)`` float32 from the microphone; the processed
    ``channel`` is written to every output channel; ``on_block(x, y)`` (if
    given) sees each input and output block (for a level meter or a plot;
    keep it quick: it runs in the audio thread). Status flags (input
    overflow, output underflow: a missed deadline) are counted in
    ``callback.status_count``.
    """

    def callback(indata, outdata, frames, time_info, status):
        if status:
            callback.status_count += 1
        x = np.asarray(indata)[:, channel]
        y = processor.process(x)
        outdata[:] = np.asarray(y, dtype=outdata.dtype)[:, None]
        if on_block is not None:
            on_block(x, y)

    callback.status_count = 0
    return callback


def simulate_stream(callback, x, *, block_size: int, channels: int = 1, out_channels: int = 1) -> np.ndarray:
    """Drive a sounddevice-style ``callback`` from an array, as the sound card would.

    Notebook: 16_real_time.ipynb

    Each call gets ``indata`` of shape ``(block_size, channels)`` (float32;
    the signal in every channel) and a fresh ``outdata`` of shape
    ``(block_size, out_channels)``; the trailing partial block is dropped, as
    a card only delivers whole blocks. Returns the output's first channel.
    """
    block_size = check_positive_int(block_size, "block_size")
    x = check_signal(np.asarray(x, dtype=np.float32), name="x", mono=True)
    outs = []
    for start in range(0, len(x) - block_size + 1, block_size):
        indata = np.repeat(x[start:start + block_size, None], channels, axis=1)
        outdata = np.zeros((block_size, out_channels), dtype=np.float32)
        callback(indata, outdata, block_size, None, None)
        outs.append(outdata[:, 0].copy())
    return np.concatenate(outs) if outs else np.zeros(0, np.float32)


def live(processor, *, sr: int = 16000, block_size: int = 256, seconds: float = 5.0, device=None,
         on_block: Callable | None = None) -> int:
    """Run ``processor`` on the microphone and play the result, for ``seconds``.

    Notebook: 16_real_time.ipynb

    Needs ``sounddevice`` and a sound card (:func:`import_sounddevice` says
    what is missing). Use headphones: speaker output feeds back into the
    microphone. Returns the number of blocks with a status flag (over/underflow).
    """
    sd = import_sounddevice()
    sr = check_sr(sr)
    processor.reset()
    cb = make_callback(processor, on_block=on_block)
    try:
        with sd.Stream(samplerate=sr, blocksize=check_positive_int(block_size, "block_size"), channels=1,
                       dtype="float32", callback=cb, device=device):
            sd.sleep(int(seconds * 1000))
    except sd.PortAudioError as e:
        raise AudioDeviceError(_NO_DEVICE.format(why=f"no usable audio device ({e})")) from e
    return cb.status_count
