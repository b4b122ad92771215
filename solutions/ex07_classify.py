"""Exercise 07 — audio classification: conv/pool shapes, a SpecAugment mask, mixup, a confusion matrix.

Notebook: 07_audio_classification.ipynb

Fill in the four functions below with NumPy only (no ``course_lib``, no torch).
Check your work with::

    course check ex07

Conventions: a log-mel spectrogram is ``(n_mels, n_frames)``; class labels are
integers ``0 .. n_classes - 1``. Raise ``ValueError`` (with a message that says
what is wrong) for input the docstring rules out.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conv_output_length", "spec_mask", "mixup_pair", "confusion_matrix"]


def conv_output_length(n, *, kernel_size, stride=1, padding=0, dilation=1):
    """Length of one axis after a convolution or pooling layer (as ``torch.nn.Conv2d`` / ``MaxPool2d``).

    ``floor((n + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1``

    Parameters
    ----------
    n : int
        Input length (frames or mel bands), >= 1.
    kernel_size, stride, dilation : int >= 1
    padding : int >= 0

    Returns
    -------
    int

    Raises
    ------
    ValueError
        A non-positive size or stride, or a kernel longer than the padded input.

    Examples
    --------
    >>> conv_output_length(101, kernel_size=3, padding=1)      # a "same" 3x3 convolution
    101
    >>> conv_output_length(101, kernel_size=2, stride=2)       # 2x2 max-pooling
    50
    """
    ### BEGIN SOLUTION
    if n < 1 or kernel_size < 1 or stride < 1 or dilation < 1 or padding < 0:
        raise ValueError("n, kernel_size, stride and dilation must be >= 1 and padding >= 0")
    span = dilation * (kernel_size - 1) + 1
    if n + 2 * padding < span:
        raise ValueError(f"a kernel spanning {span} does not fit an input of {n} (+ 2 x {padding} padding)")
    return (n + 2 * padding - span) // stride + 1
    ### END SOLUTION


def spec_mask(n_mels, n_frames, *, freq_start, freq_width, time_start, time_width):
    """The SpecAugment keep-mask of one frequency band and one time span.

    ``mask[f, t]`` is ``False`` (masked) when ``freq_start <= f < freq_start + freq_width``
    or ``time_start <= t < time_start + time_width``, ``True`` otherwise. A band or span
    running past the edge is cut at the edge; a width of 0 masks nothing.

    Parameters
    ----------
    n_mels, n_frames : int >= 1
    freq_start, time_start : int >= 0
    freq_width, time_width : int >= 0

    Returns
    -------
    np.ndarray [shape=(n_mels, n_frames), dtype=bool]

    Raises
    ------
    ValueError
        A negative start or width, or a start beyond the axis.

    Examples
    --------
    >>> spec_mask(3, 4, freq_start=1, freq_width=1, time_start=3, time_width=5).astype(int)
    array([[1, 1, 1, 0],
           [0, 0, 0, 0],
           [1, 1, 1, 0]])
    """
    ### BEGIN SOLUTION
    if min(freq_start, freq_width, time_start, time_width) < 0:
        raise ValueError("starts and widths must be >= 0")
    if n_mels < 1 or n_frames < 1:
        raise ValueError("n_mels and n_frames must be >= 1")
    if freq_start >= n_mels or time_start >= n_frames:
        raise ValueError(f"freq_start={freq_start} / time_start={time_start} lie beyond the "
                         f"{n_mels} x {n_frames} spectrogram")
    f = np.arange(n_mels)[:, None]
    t = np.arange(n_frames)[None, :]
    band = (f >= freq_start) & (f < freq_start + freq_width)
    span = (t >= time_start) & (t < time_start + time_width)
    return ~(band | span)
    ### END SOLUTION


def mixup_pair(x1, x2, y1, y2, *, lam, n_classes):
    """Mixup of two examples: ``lam·x1 + (1 − lam)·x2`` and the same mix of their one-hot targets.

    Parameters
    ----------
    x1, x2 : np.ndarray
        Same shape (e.g. two log-mel spectrograms).
    y1, y2 : int
        Their classes, in ``0 .. n_classes - 1``.
    lam : float
        In [0, 1].
    n_classes : int

    Returns
    -------
    (x, target)
        ``x`` shaped like ``x1``; ``target`` a float array ``(n_classes,)`` that sums to 1.

    Raises
    ------
    ValueError
        Shapes differ, ``lam`` outside [0, 1], or a class out of range.

    Examples
    --------
    >>> x, t = mixup_pair(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0, 2, lam=0.75, n_classes=3)
    >>> x, t
    (array([0.75, 0.25]), array([0.75, 0.  , 0.25]))
    """
    ### BEGIN SOLUTION
    x1 = np.asarray(x1, dtype=np.float64)
    x2 = np.asarray(x2, dtype=np.float64)
    if x1.shape != x2.shape:
        raise ValueError(f"x1 {x1.shape} and x2 {x2.shape} must have the same shape")
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam={lam} must be in [0, 1]")
    if not (0 <= y1 < n_classes and 0 <= y2 < n_classes):
        raise ValueError(f"classes {y1}, {y2} must be in 0 .. {n_classes - 1}")
    target = np.zeros(n_classes)
    target[y1] += lam
    target[y2] += 1.0 - lam
    return lam * x1 + (1.0 - lam) * x2, target
    ### END SOLUTION


def confusion_matrix(y_true, y_pred, *, n_classes):
    """Counts ``C[i, j]`` of examples of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred : sequence of int
        Same length, values in ``0 .. n_classes - 1``.
    n_classes : int

    Returns
    -------
    np.ndarray [shape=(n_classes, n_classes), dtype=int]
        Rows are the true classes (they sum to each class's count), columns the predictions.

    Raises
    ------
    ValueError
        Different lengths or a label out of range.

    Examples
    --------
    >>> confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1], n_classes=3)
    array([[1, 1, 0],
           [0, 1, 0],
           [0, 1, 0]])
    """
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must have the same length")
    if y_true.size and (min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= n_classes):
        raise ValueError(f"labels must be in 0 .. {n_classes - 1}")
    C = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(C, (y_true, y_pred), 1)
    return C
    ### END SOLUTION
