"""A word bigram language model with interpolated Kneser–Ney smoothing.

Notebook: 05_ctc_asr.ipynb

Used for shallow fusion in :func:`course_lib.asr.ctc.prefix_beam_search`:
the recogniser's acoustic log-probability plus ``lm_weight`` times the LM's.
Kneser–Ney (Chen & Goodman 1998) discounts every seen bigram by ``d`` and gives
the mass saved to a *continuation* unigram: how many different words a word
follows, not how often it occurs, so "francisco" (frequent, but only after
"san") is not a likely guess after "the".

    P(w | v) = max(c(v, w) − d, 0) / c(v) + d · N₁₊(v •) / c(v) · P_cont(w),
    P_cont(w) = N₁₊(• w) / N₁₊(• •).

A context never seen in training falls back to ``P_cont``. A word never seen at
all gets ``unk_log_prob``.

>>> lm = WordNgramLM.from_texts(["call one two", "call two one"])
>>> lm.log_prob("two", "call") > lm.log_prob("call", "call")
True
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Iterable, Sequence

from ..errors import ParameterError

__all__ = ["WordNgramLM", "BOS", "EOS"]

BOS, EOS = "<s>", "</s>"


class WordNgramLM:
    """Bigram LM with interpolated Kneser–Ney smoothing (see the module docstring).

    Parameters
    ----------
    sentences : iterable of sequence of str
        Tokenised training sentences (lists of words).
    discount : float
        ``d`` in (0, 1); 0.75 is the usual choice.
    unk_log_prob : float
        Log-probability of a word the LM never saw.
    """

    def __init__(self, sentences: Iterable[Sequence[str]], *, discount: float = 0.75,
                 unk_log_prob: float = math.log(1e-6)):
        if not 0.0 < discount < 1.0:
            raise ParameterError(f"discount={discount!r} must be in (0, 1)")
        self.discount = float(discount)
        self.unk_log_prob = float(unk_log_prob)
        bigrams: Counter = Counter()
        for words in sentences:
            if isinstance(words, str):
                raise ParameterError("sentences must be lists of words; use WordNgramLM.from_texts for strings")
            seq = [BOS, *words, EOS]
            bigrams.update(zip(seq[:-1], seq[1:]))
        if not bigrams:
            raise ParameterError("the language model needs at least one training sentence")
        self._bigrams = bigrams
        self._context_count: Counter = Counter()
        self._followers: dict = defaultdict(int)      # N1+(v •)
        preceders: dict = defaultdict(int)            # N1+(• w)
        for (v, w), c in bigrams.items():
            self._context_count[v] += c
            self._followers[v] += 1
            preceders[w] += 1
        n_types = len(bigrams)                        # N1+(• •)
        self._p_cont = {w: n / n_types for w, n in preceders.items()}
        self.vocabulary = sorted(w for w in self._p_cont if w != EOS)

    @classmethod
    def from_texts(cls, texts: Iterable[str], **kwargs) -> "WordNgramLM":
        """Train on plain strings, split on whitespace."""
        return cls([t.split() for t in texts], **kwargs)

    def prob(self, word: str, context: str = BOS) -> float:
        """``P(word | context)``; ``word`` may be ``EOS``."""
        p_cont = self._p_cont.get(word)
        if p_cont is None:
            return math.exp(self.unk_log_prob)
        c_v = self._context_count.get(context, 0)
        if c_v == 0:
            return p_cont
        d = self.discount
        c_vw = self._bigrams.get((context, word), 0)
        return max(c_vw - d, 0.0) / c_v + d * self._followers[context] / c_v * p_cont

    def log_prob(self, word: str, context: str = BOS) -> float:
        """``log P(word | context)`` (natural log)."""
        return math.log(self.prob(word, context))

    def log_prob_sentence(self, words: Sequence[str], *, eos: bool = True) -> float:
        """``Σ log P(w_i | w_{i-1})`` from ``<s>``, plus ``log P(</s> | last)`` if ``eos``."""
        total, prev = 0.0, BOS
        for w in words:
            total += self.log_prob(w, prev)
            prev = w
        if eos:
            total += self.log_prob(EOS, prev)
        return total

    def perplexity(self, sentences: Iterable[Sequence[str]]) -> float:
        """``exp(−(1/N) Σ log P)`` over every predicted token (words and ``</s>``)."""
        total, n = 0.0, 0
        for words in sentences:
            total += self.log_prob_sentence(words)
            n += len(words) + 1
        if n == 0:
            raise ParameterError("perplexity needs at least one sentence")
        return math.exp(-total / n)
