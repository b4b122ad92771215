"""Checks for exercise 07 (conv/pool output length, a SpecAugment mask, mixup, a confusion matrix).

Notebook: 07_audio_classification.ipynb

Expected values come from references, not from the solution: the output length of a
real ``torch.nn.Conv2d`` / ``MaxPool2d`` run on a zero tensor, a mask built by
brute-force loops over every (band, frame), mixup written out element by element,
and ``sklearn.metrics.confusion_matrix``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import confusion_matrix as sk_confusion

from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex07_classify"


def _torch_len(n, kernel_size, stride=1, padding=0, dilation=1, pool=False):
    if pool:
        layer = torch.nn.MaxPool1d(kernel_size, stride=stride, padding=padding, dilation=dilation)
    else:
        layer = torch.nn.Conv1d(1, 1, kernel_size, stride=stride, padding=padding, dilation=dilation)
    with torch.no_grad():
        return int(layer(torch.zeros(1, 1, n)).shape[-1])


def _loop_mask(n_mels, n_frames, fs, fw, ts, tw):
    m = np.ones((n_mels, n_frames), dtype=bool)
    for f in range(n_mels):
        for t in range(n_frames):
            if fs <= f < fs + fw or ts <= t < ts + tw:
                m[f, t] = False
    return m


def _mix_compare(got, expected, args, kwargs):
    x, t = got
    np.testing.assert_allclose(np.asarray(x, dtype=np.float64), expected[0], rtol=1e-12, atol=1e-12)
    t = np.asarray(t, dtype=np.float64)
    if t.shape != expected[1].shape:
        raise AssertionError(f"the target has shape {t.shape}, expected {expected[1].shape} (one entry per class)")
    np.testing.assert_allclose(t, expected[1], rtol=1e-12, atol=1e-12)


def _mix_expected(x1, x2, y1, y2, lam, n):
    x = np.array([lam * a + (1 - lam) * b for a, b in zip(x1.ravel(), x2.ravel())]).reshape(x1.shape)
    t = np.zeros(n)
    t[y1] += lam
    t[y2] += 1 - lam
    return x, t


def _mask_compare(got, expected, args, kwargs):
    got = np.asarray(got)
    if got.shape != expected.shape:
        raise AssertionError(f"shape {got.shape}, expected {expected.shape} (n_mels, n_frames)")
    if got.dtype != bool:
        raise AssertionError(f"dtype {got.dtype}: the mask must be boolean (True = keep)")
    bad = np.argwhere(got != expected)
    if len(bad):
        f, t = bad[0]
        raise AssertionError(f"{len(bad)} cells wrong, e.g. band {f}, frame {t}: got {got[f, t]}, "
                             f"expected {expected[f, t]}")


_rng = np.random.default_rng(7)
_A = np.round(_rng.standard_normal((4, 6)), 3)
_B = np.round(_rng.standard_normal((4, 6)), 3)
_YT = _rng.integers(0, 5, 60)
_YP = np.where(_rng.random(60) < 0.6, _YT, _rng.integers(0, 5, 60))

CHECKS = [
    # ---------------------------------------------------------------- conv_output_length
    Check("conv_output_length", args=(101,), kwargs={"kernel_size": 3, "padding": 1},
          expected=_torch_len(101, 3, padding=1), name="a 'same' 3x3 convolution keeps 101 frames"),
    Check("conv_output_length", args=(101,), kwargs={"kernel_size": 2, "stride": 2},
          expected=_torch_len(101, 2, stride=2, pool=True), name="2x2 max-pooling of 101 frames (floor)"),
    Check("conv_output_length", args=(40,), kwargs={"kernel_size": 5, "stride": 3, "padding": 2},
          expected=_torch_len(40, 5, stride=3, padding=2), name="kernel 5, stride 3, padding 2 on 40 bands"),
    Check("conv_output_length", args=(50,), kwargs={"kernel_size": 3, "dilation": 4},
          expected=_torch_len(50, 3, dilation=4), name="a dilated kernel (dilation 4 spans 9 frames)"),
    Check("conv_output_length", args=(3,), kwargs={"kernel_size": 5}, raises=ValueError,
          name="a kernel longer than the input is rejected"),
    Check("conv_output_length", args=(10,), kwargs={"kernel_size": 3, "stride": 0}, raises=ValueError,
          name="stride 0 is rejected"),
    # ---------------------------------------------------------------- spec_mask
    Check("spec_mask", args=(3, 4), kwargs={"freq_start": 1, "freq_width": 1, "time_start": 3, "time_width": 5},
          expected=_loop_mask(3, 4, 1, 1, 3, 5), compare=_mask_compare,
          name="the docstring example: band 1 and the last frame (span cut at the edge)"),
    Check("spec_mask", args=(40, 101), kwargs={"freq_start": 10, "freq_width": 7, "time_start": 30, "time_width": 12},
          expected=_loop_mask(40, 101, 10, 7, 30, 12), compare=_mask_compare, name="40 bands x 101 frames"),
    Check("spec_mask", args=(8, 9), kwargs={"freq_start": 0, "freq_width": 0, "time_start": 0, "time_width": 2},
          expected=_loop_mask(8, 9, 0, 0, 0, 2), compare=_mask_compare,
          name="a zero-width band masks nothing; two frames at the start"),
    Check("spec_mask", args=(8, 9), kwargs={"freq_start": 8, "freq_width": 1, "time_start": 0, "time_width": 1},
          raises=ValueError, name="a band starting beyond the last mel band is rejected"),
    # ---------------------------------------------------------------- mixup_pair
    Check("mixup_pair", args=(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0, 2), kwargs={"lam": 0.75, "n_classes": 3},
          expected=_mix_expected(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0, 2, 0.75, 3), compare=_mix_compare,
          name="the docstring example"),
    Check("mixup_pair", args=(_A, _B, 3, 1), kwargs={"lam": 0.3, "n_classes": 5},
          expected=_mix_expected(_A, _B, 3, 1, 0.3, 5), compare=_mix_compare, name="two 4 x 6 spectrograms, lam 0.3"),
    Check("mixup_pair", args=(_A, _B, 2, 2), kwargs={"lam": 0.6, "n_classes": 4},
          expected=_mix_expected(_A, _B, 2, 2, 0.6, 4), compare=_mix_compare,
          name="two examples of one class: the target is that class with weight 1"),
    Check("mixup_pair", args=(_A, _B[:, :5], 0, 1), kwargs={"lam": 0.5, "n_classes": 2}, raises=ValueError,
          name="different shapes are rejected"),
    Check("mixup_pair", args=(_A, _B, 0, 1), kwargs={"lam": 1.5, "n_classes": 2}, raises=ValueError,
          name="lam outside [0, 1] is rejected"),
    # ---------------------------------------------------------------- confusion_matrix
    Check("confusion_matrix", args=([0, 0, 1, 2], [0, 1, 1, 1]), kwargs={"n_classes": 3},
          expected=sk_confusion([0, 0, 1, 2], [0, 1, 1, 1], labels=range(3)), name="the docstring example"),
    Check("confusion_matrix", args=(_YT, _YP), kwargs={"n_classes": 5},
          expected=sk_confusion(_YT, _YP, labels=range(5)), name="60 predictions over 5 classes"),
    Check("confusion_matrix", args=(_YT[:10], _YP[:10]), kwargs={"n_classes": 7},
          expected=sk_confusion(_YT[:10], _YP[:10], labels=range(7)), name="classes never seen get zero rows"),
    Check("confusion_matrix", args=([0, 1], [0]), kwargs={"n_classes": 2}, raises=ValueError,
          name="different lengths are rejected"),
    Check("confusion_matrix", args=([0, 3], [0, 1]), kwargs={"n_classes": 3}, raises=ValueError,
          name="a label out of range is rejected"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
