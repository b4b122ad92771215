"""Evaluation measures: word and character error rate, signal-to-noise ratio.

Notebook: 05_ctc_asr.ipynb (WER, CER), 09_enhancement.ipynb (SNR)

The error rates follow jiwer 4 exactly (same text normalisation, same
corpus-level pooling), so a learner's numbers match the reference tool:

- words: runs of 2+ whitespace characters become one space, the ends are
  stripped, and the text is split on spaces;
- characters: the ends are stripped and every character counts, spaces
  included;
- over a list of sentence pairs the errors and the reference lengths are
  summed first: ``WER = (S + D + I) / N`` over the whole corpus, not a mean
  of per-sentence rates.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from .errors import ParameterError

__all__ = ["edit_distance", "wer", "cer", "snr"]

_MULTI_SPACE = re.compile(r"\s\s+")


def edit_distance(reference: Sequence, hypothesis: Sequence) -> int:
    """Levenshtein distance: the fewest substitutions, deletions and insertions
    turning ``reference`` into ``hypothesis`` (unit costs).

    >>> edit_distance("kitten".split("t"), "sitting".split("t"))
    2
    >>> edit_distance(list("kitten"), list("sitting"))
    3
    """
    ref, hyp = list(reference), list(hypothesis)
    # one row of the dynamic-programming table at a time: prev[j] = d(ref[:i-1], hyp[:j])
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1,             # deletion of r
                         cur[j - 1] + 1,          # insertion of h
                         prev[j - 1] + (r != h))  # substitution (free if equal)
        prev = cur
    return prev[-1]


def _as_list(text, name: str) -> list[str]:
    if isinstance(text, str):
        return [text]
    if isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
        return list(text)
    raise ParameterError(f"{name} must be a string or a list of strings, got {type(text).__name__}")


def _error_rate(reference, hypothesis, tokenize) -> float:
    refs, hyps = _as_list(reference, "reference"), _as_list(hypothesis, "hypothesis")
    if len(refs) != len(hyps):
        raise ParameterError(
            f"reference has {len(refs)} sentences but hypothesis has {len(hyps)}; pass them in pairs"
        )
    if not refs:
        raise ParameterError("reference is an empty list; pass at least one sentence")
    errors = n_ref = 0
    for r, h in zip(refs, hyps):
        r_tok, h_tok = tokenize(r), tokenize(h)
        errors += edit_distance(r_tok, h_tok)
        n_ref += len(r_tok)
    if n_ref == 0:
        # jiwer's convention for an all-empty reference: the number of insertions
        return float(errors)
    return errors / n_ref


def _words(text: str) -> list[str]:
    return [w for w in _MULTI_SPACE.sub(" ", text).strip().split(" ") if w]


def _chars(text: str) -> list[str]:
    return list(text.strip())


def wer(reference, hypothesis) -> float:
    """Word error rate ``(S + D + I) / N``, equal to ``jiwer.wer``.

    Notebook: 05_ctc_asr.ipynb

    Parameters
    ----------
    reference, hypothesis : str or list of str
        One sentence each, or equally long lists (corpus level: errors and
        reference words are summed over all pairs before dividing).

    Returns
    -------
    float
        Can exceed 1 (many insertions). If every reference is empty it is the
        number of inserted words, as in jiwer.

    >>> wer("the cat sat", "the cat sat down")
    0.3333333333333333
    """
    return _error_rate(reference, hypothesis, _words)


def cer(reference, hypothesis) -> float:
    """Character error rate, equal to ``jiwer.cer`` (spaces count as characters).

    Notebook: 05_ctc_asr.ipynb

    >>> cer("speech", "speach")
    0.16666666666666666
    """
    return _error_rate(reference, hypothesis, _chars)


def snr(reference, estimate) -> float:
    """Signal-to-noise ratio in dB: ``10·log10(‖ref‖² / ‖ref − est‖²)``.

    Notebook: 09_enhancement.ipynb

    Parameters
    ----------
    reference : np.ndarray [shape=(n,) or (channels, n)]
        The clean signal.
    estimate : np.ndarray, same shape
        The signal to judge (noisy or enhanced).

    Returns
    -------
    float
        dB; ``inf`` when ``estimate`` equals ``reference``.

    >>> round(snr(np.ones(4), np.full(4, 1.1)), 6)  # noise amplitude 1/10 of the signal
    20.0
    """
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)
    if ref.shape != est.shape:
        raise ParameterError(f"reference shape {ref.shape} and estimate shape {est.shape} must match")
    if ref.size == 0:
        raise ParameterError("reference is empty")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(est))):
        raise ParameterError("reference and estimate must be finite (found NaN or Inf)")
    signal = np.sum(ref**2)
    if signal == 0:
        raise ParameterError("reference is silent (all zeros): SNR is undefined")
    noise = np.sum((ref - est) ** 2)
    return float("inf") if noise == 0 else float(10.0 * np.log10(signal / noise))
