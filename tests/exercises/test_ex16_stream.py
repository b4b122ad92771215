"""Checks for exercise 16 (overlap-add, a COLA synthesis window, a filter with carried state, deadlines).

Notebook: 16_real_time.ipynb

Expected values: overlap-add by ``np.add.at`` (an independent scatter),
the synthesis window from ``course_lib.stream.synthesis_window`` on
``scipy.signal.get_window`` windows (and its defining property, checked here
once), the filter from ``scipy.signal.lfilter`` on the *whole* signal cut
into the learner's block sizes, the deadlines from
``course_lib.stream.schedule_deadlines``. All float64: ``rtol=1e-9``.
"""

from __future__ import annotations

import numpy as np
import scipy.signal as ss

from course_lib import stream
from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex16_stream"

_rng = np.random.default_rng(16)


def _ola(frames, hop):
    n_frames, n = frames.shape
    y = np.zeros((n_frames - 1) * hop + n)
    idx = np.arange(n_frames)[:, None] * hop + np.arange(n)[None, :]
    np.add.at(y, idx, frames)
    return y


_F1 = np.round(_rng.standard_normal((5, 8)), 3)
_F2 = np.round(_rng.standard_normal((7, 6)), 3)


def _sw(name, n, hop):
    return stream.synthesis_window(name, n_fft=n, hop_length=hop)


def _win(name, n):
    return ss.get_window(name, n)


# a property check, once: the reference window really is COLA
_g, _w = _sw("hann", 64, 16), _win("hann", 64)
assert np.allclose(_ola(np.tile(_g * _w, (12, 1)), 16)[64:-64], 1.0)

_B, _A = ss.butter(3, 0.25)
_X = np.round(_rng.standard_normal(300), 3)
_SIZES = [1, 7, 160, 100, 32]
_BLOCKS = np.split(_X, np.cumsum(_SIZES)[:-1])
_FIR = ss.firwin(15, 0.4)
_BLOCKS2 = np.split(_X[:120], [50, 51, 90])


def _split_like(y, blocks):
    return list(np.split(y, np.cumsum([len(b) for b in blocks])[:-1]))


_P1 = [0.005, 0.025, 0.005, 0.005, 0.005]
_P2 = list(np.round(_rng.exponential(0.008, 60), 4))


def _missed(p, block_s, buf=1):
    return int(stream.schedule_deadlines(p, block_s=block_s, buffer_blocks=buf).missed)


CHECKS = [
    # ---------------------------------------------------------------- overlap_add
    Check("overlap_add", args=(np.ones((3, 4)),), kwargs={"hop_length": 2},
          expected=np.array([1.0, 1, 2, 2, 2, 2, 1, 1]), name="three frames of ones, hop 2 (the docstring example)"),
    Check("overlap_add", args=(_F1,), kwargs={"hop_length": 3}, expected=_ola(_F1, 3), rtol=1e-9,
          name="5 random frames of 8 samples, hop 3: length (5 - 1) * 3 + 8 = 20"),
    Check("overlap_add", args=(_F2,), kwargs={"hop_length": 6}, expected=_ola(_F2, 6), rtol=1e-9,
          name="hop = frame length: the frames are concatenated"),
    Check("overlap_add", args=(_F2,), kwargs={"hop_length": 1}, expected=_ola(_F2, 1), rtol=1e-9,
          name="hop 1: every sample is covered by up to 6 frames"),
    Check("overlap_add", args=(_F1[0],), kwargs={"hop_length": 2}, raises=ValueError,
          name="a 1-D array is not a stack of frames"),
    # ---------------------------------------------------------------- synthesis_window
    Check("synthesis_window", args=(_win("hann", 64),), kwargs={"hop_length": 16},
          expected=_sw("hann", 64, 16), rtol=1e-9, name="Hann 64 at hop 16: the window divided by 1.5"),
    Check("synthesis_window", args=(_win("hamming", 100),), kwargs={"hop_length": 50},
          expected=_sw("hamming", 100, 50), rtol=1e-9, name="Hamming 100 at hop 50: the fold is not constant"),
    Check("synthesis_window", args=(_win("hann", 48),), kwargs={"hop_length": 20},
          expected=_sw("hann", 48, 20), rtol=1e-9,
          name="Hann 48 at hop 20 (48 is not a multiple of 20: the last fold is partial)"),
    Check("synthesis_window", args=(_win("boxcar", 32),), kwargs={"hop_length": 8},
          expected=_sw("boxcar", 32, 8), rtol=1e-9, name="rectangular 32 at hop 8: 1/4 everywhere"),
    Check("synthesis_window", args=(_win("hann", 64),), kwargs={"hop_length": 64}, raises=ValueError,
          name="Hann at hop = n_fft: the fold has a zero (sample 0 is never reconstructed)"),
    # ---------------------------------------------------------------- filter_blocks
    Check("filter_blocks", args=(list(_B), list(_A), _BLOCKS),
          expected=_split_like(ss.lfilter(_B, _A, _X), _BLOCKS), rtol=1e-9, atol=1e-12,
          name="3rd-order Butterworth, blocks of 1, 7, 160, 100, 32 samples = lfilter on the whole signal"),
    Check("filter_blocks", args=(list(_FIR), [1.0], _BLOCKS2),
          expected=_split_like(ss.lfilter(_FIR, [1.0], _X[:120]), _BLOCKS2), rtol=1e-9, atol=1e-12,
          name="15-tap FIR, blocks of 50, 1, 39, 30: the state spans block boundaries"),
    Check("filter_blocks", args=([1.0], [1.0, -0.5], [np.array([1.0]), np.array([0.0, 0.0])]),
          expected=[np.array([1.0]), np.array([0.5, 0.25])], rtol=1e-9, name="the docstring example"),
    Check("filter_blocks", args=([0.5], [1.0], [np.array([2.0, 4.0]), np.array([6.0])]),
          expected=[np.array([1.0, 2.0]), np.array([3.0])], rtol=1e-9, name="a pure gain has no state"),
    # ---------------------------------------------------------------- missed_deadlines
    Check("missed_deadlines", args=(_P1,), kwargs={"block_s": 0.01}, expected=_missed(_P1, 0.01),
          name="one slow block (25 ms of a 10 ms period): the queue needs three blocks to catch up"),
    Check("missed_deadlines", args=(_P1,), kwargs={"block_s": 0.01, "buffer_blocks": 3},
          expected=_missed(_P1, 0.01, 3), name="the same with a three-block output buffer: nothing is late"),
    Check("missed_deadlines", args=(_P2,), kwargs={"block_s": 0.01}, expected=_missed(_P2, 0.01),
          name="60 blocks with random (exponential, mean 8 ms) processing times, 10 ms period"),
    Check("missed_deadlines", args=(_P2,), kwargs={"block_s": 0.01, "buffer_blocks": 2},
          expected=_missed(_P2, 0.01, 2), name="the same with a two-block buffer"),
]

assert CHECKS[-4].expected == 3 and CHECKS[-3].expected == 0 and CHECKS[-2].expected > CHECKS[-1].expected > 0

test_checks = pytest_checks(EXERCISE, CHECKS)
