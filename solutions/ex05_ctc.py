"""Exercise 05 — CTC from first principles, in NumPy.

Notebook: 05_ctc_asr.ipynb

Fill in the three functions below (each between 3 and 25 lines). Use NumPy
only: no torch, no ``course_lib.asr``. Each docstring says what your answer
must equal, so you can compare while you work::

    course check ex05

Conventions (the same as ``torch.nn.CTCLoss`` and ``course_lib.asr.ctc``):

- ``log_probs`` has shape ``(n_frames, n_classes)``: row ``t`` is the
  log-probability of every class at frame ``t`` (each row's ``exp`` sums to 1);
- label ids are integers, and the *blank* is a class like the others (id 0
  unless ``blank=`` says otherwise); a transcript never contains the blank.
"""

from __future__ import annotations

import numpy as np

__all__ = ["extend_with_blanks", "collapse", "ctc_log_likelihood"]


def extend_with_blanks(targets, *, blank=0):
    """The states of the CTC trellis: a blank before, between and after the labels.

    ``(l1, l2, …, lU)`` becomes ``(blank, l1, blank, l2, …, blank, lU, blank)``,
    of length ``2 U + 1``; an empty transcript becomes ``(blank,)``.

    Parameters
    ----------
    targets : sequence of int [shape=(U,)]
    blank : int

    Returns
    -------
    np.ndarray [shape=(2 U + 1,)], int

    Examples
    --------
    >>> extend_with_blanks([3, 3, 5]).tolist()
    [0, 3, 0, 3, 0, 5, 0]
    """
    ### BEGIN SOLUTION
    targets = np.asarray(targets, dtype=np.int64).reshape(-1)
    ext = np.full(2 * len(targets) + 1, blank, dtype=np.int64)
    ext[1::2] = targets
    return ext
    ### END SOLUTION


def collapse(path, *, blank=0):
    """CTC's many-to-one map: first merge runs of the same id, then drop the blanks.

    The order matters: ``a a - a`` is two ``a``'s (the blank separates them),
    while ``a a a`` is one.

    Parameters
    ----------
    path : sequence of int [shape=(n_frames,)]
        One class per frame (e.g. the argmax of every row of ``log_probs``).
    blank : int

    Returns
    -------
    list of int

    Examples
    --------
    >>> collapse([1, 1, 0, 1, 2, 2, 0])
    [1, 1, 2]
    """
    ### BEGIN SOLUTION
    out, prev = [], None
    for p in path:
        p = int(p)
        if p != prev and p != blank:
            out.append(p)
        prev = p
    return out
    ### END SOLUTION


def ctc_log_likelihood(log_probs, targets, *, blank=0):
    """``log p(targets | x)``: the α recursion in log space.

    Over the extended sequence ``l' = extend_with_blanks(targets)`` (length S):

    - ``α_0(0) = y_0(blank)``, ``α_0(1) = y_0(l'_1)``, every other ``α_0(s)`` is 0;
    - ``α_t(s) = (α_{t-1}(s) + α_{t-1}(s-1) + α_{t-1}(s-2)) · y_t(l'_s)``, where the
      ``s-2`` term counts only when ``l'_s`` is not the blank *and* differs from
      ``l'_{s-2}`` (you may skip a blank only between two different labels);
    - ``p = α_{T-1}(S-1) + α_{T-1}(S-2)`` (end on the last blank or the last label).

    Work with logarithms throughout (``np.logaddexp`` adds probabilities given
    as logs): a product of a thousand probabilities underflows to 0.

    Equals ``-torch.nn.functional.ctc_loss(..., reduction="sum")``; ``-inf`` when
    the input has too few frames for the transcript.

    Parameters
    ----------
    log_probs : np.ndarray [shape=(n_frames, n_classes)]
    targets : sequence of int [shape=(U,)]
    blank : int

    Returns
    -------
    float

    Examples
    --------
    >>> lp = np.log(np.full((2, 2), 0.5))    # paths "1 1", "- 1", "1 -" -> 3/4
    >>> round(float(np.exp(ctc_log_likelihood(lp, [1]))), 4)
    0.75
    """
    ### BEGIN SOLUTION
    log_probs = np.asarray(log_probs, dtype=np.float64)
    ext = extend_with_blanks(targets, blank=blank)
    T, S = log_probs.shape[0], len(ext)
    skip = np.zeros(S, dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.full(S, -np.inf)
    alpha[0] = log_probs[0, ext[0]]
    if S > 1:
        alpha[1] = log_probs[0, ext[1]]
    for t in range(1, T):
        step = np.full(S, -np.inf)
        step[1:] = alpha[:-1]
        jump = np.full(S, -np.inf)
        jump[2:] = np.where(skip[2:], alpha[:-2], -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, step), jump) + log_probs[t, ext]
    return float(np.logaddexp.reduce(alpha[-2:] if S > 1 else alpha[-1:]))
    ### END SOLUTION
