# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex16`.
"""Exercise 16 — real-time processing: overlap-add, a COLA synthesis window, a filter with state, deadlines.

Notebook: 16_real_time.ipynb

Fill in the four functions below with NumPy (and ``scipy.signal.lfilter``
where it says so; no ``course_lib.stream``). Check your work with::

    course check ex16

Conventions (``course_lib.stream``'s):

- a frame is ``n_fft`` samples; frames start every ``hop_length`` samples;
- windows are *periodic* (``scipy.signal.get_window("hann", n_fft)``);
- a block is a 1-D array of new samples; state carries what a block needs
  from the blocks before it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["overlap_add", "synthesis_window", "filter_blocks", "missed_deadlines"]


def overlap_add(frames, *, hop_length):
    """Sum frames placed every ``hop_length`` samples.

    ``y[t * hop_length + m] += frames[t, m]`` for every frame ``t`` and
    sample ``m``.

    Parameters
    ----------
    frames : np.ndarray [shape=(n_frames, frame_length)]
    hop_length : int >= 1

    Returns
    -------
    y : np.ndarray [shape=((n_frames - 1) * hop_length + frame_length,)]

    Raises
    ------
    ValueError
        ``frames`` is not 2-D, or ``hop_length < 1``.

    Examples
    --------
    >>> overlap_add(np.ones((3, 4)), hop_length=2)
    array([1., 1., 2., 2., 2., 2., 1., 1.])
    """
    raise NotImplementedError()


def synthesis_window(window, *, hop_length):
    """The synthesis window that makes analysis-with-``window`` + overlap-add exact.

    With ``S[m] = sum_j window[m + j * hop_length] ** 2`` for ``m = 0 .. hop_length - 1``
    (the squared window folded onto one hop; indices past the end count as 0),
    return ``g[n] = window[n] / S[n % hop_length]``. Then
    ``sum_t g[n - t H] window[n - t H] = 1`` wherever frames fully overlap.

    Parameters
    ----------
    window : np.ndarray [shape=(n_fft,)]
    hop_length : int, 1 <= hop_length <= n_fft

    Returns
    -------
    g : np.ndarray [shape=(n_fft,)]

    Raises
    ------
    ValueError
        ``hop_length`` out of range, or some ``S[m] == 0`` (those samples can
        never be reconstructed).

    Examples
    --------
    >>> synthesis_window(np.array([0.0, 0.5, 1.0, 0.5]), hop_length=2)   # S = [0 + 1, 0.25 + 0.25]
    array([0., 1., 1., 1.])
    """
    raise NotImplementedError()


def filter_blocks(b, a, blocks):
    """Filter a stream that arrives in blocks, as ``scipy.signal.lfilter(b, a, whole)`` would.

    Call ``scipy.signal.lfilter`` once per block, handing each call's final
    state to the next (``zi=`` in, ``zf`` out; the state starts at zeros of
    length ``max(len(a), len(b)) - 1``).

    Parameters
    ----------
    b, a : sequences of float (``a[0] != 0``)
    blocks : list of np.ndarray [shape=(n_k,)]

    Returns
    -------
    list of np.ndarray
        One output block per input block, same lengths.

    Examples
    --------
    >>> [y.tolist() for y in filter_blocks([1.0], [1.0, -0.5], [np.array([1.0]), np.array([0.0, 0.0])])]
    [[1.0], [0.5, 0.25]]
    """
    raise NotImplementedError()


def missed_deadlines(proc_s, *, block_s, buffer_blocks=1):
    """How many blocks are answered too late.

    Block ``k`` (0-based) is complete at ``arrival_k = (k + 1) * block_s``.
    One worker takes the blocks in order: it starts block ``k`` at
    ``max(arrival_k, finish_{k-1})`` and finishes ``proc_s[k]`` seconds
    later. The answer is due at ``arrival_k + buffer_blocks * block_s``;
    count the blocks that finish strictly after their due time.

    Parameters
    ----------
    proc_s : sequence of float
        Processing time of each block, seconds.
    block_s : float > 0
        Duration of one block (the period).
    buffer_blocks : int >= 1

    Returns
    -------
    int

    Examples
    --------
    >>> missed_deadlines([0.005, 0.025, 0.005, 0.005, 0.005], block_s=0.01)   # the queue needs 3 blocks to catch up
    3
    """
    raise NotImplementedError()
