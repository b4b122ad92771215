"""torchaudio's ctc_decoder (Flashlight) beside our prefix beam search, on the same log-probabilities.

Reference for both: brute-force enumeration of every path (4 classes, 6 frames: 4096 paths), summed
per normalised transcript. Our search is exact there (tests/test_ctc.py); Flashlight, with no LM,
merges hypotheses that end in the same token (a zero LM cannot tell their histories apart), so its
score is not one transcript's probability and its best transcript can differ: we measured 18 of 20
equal to brute force on these seeds, and require at least 16.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest

pytest.importorskip("flashlight.lib.text")

from course_lib.asr import ctc, flashlight as fl  # noqa: E402
from course_lib.asr.lm import WordNgramLM  # noqa: E402
from course_lib.asr.text import CharTokenizer  # noqa: E402

SYM = ["<blank>", " ", "a", "b"]


def _brute_best(lp):
    T, C = lp.shape
    total = defaultdict(lambda: -np.inf)
    for p in itertools.product(range(C), repeat=T):
        text = " ".join("".join(SYM[i] for i in ctc.collapse(p)).split())
        total[text] = np.logaddexp(total[text], lp[np.arange(T), p].sum())
    return max(total, key=total.get), total


def test_lexicon_free_best_transcript_against_brute_force():
    fl_hits = ours_hits = 0
    for seed in range(20):
        x = np.random.default_rng(seed).normal(scale=2.0, size=(6, 4))
        lp = x - np.log(np.exp(x).sum(1, keepdims=True))
        best, total = _brute_best(lp)
        text, score = fl.flashlight_decode(fl.flashlight_decoder(SYM, beam_size=500), lp)
        fl_hits += text == best
        # its score is at most the best transcript's total probability (it sums some, not all, paths)
        assert score <= total[best] + 1e-4
        hyps = ctc.prefix_beam_search(lp, beam_width=500, n_best=500, prune_logp=-np.inf)
        merged = defaultdict(lambda: -np.inf)          # our labellings, merged per normalised text
        for h in hyps:
            t = " ".join("".join(SYM[i] for i in h.labels).split())
            merged[t] = np.logaddexp(merged[t], h.log_prob)
        ours = max(merged, key=merged.get)
        ours_hits += ours == best
        np.testing.assert_allclose(merged[ours], total[best], rtol=1e-9)
    assert ours_hits == 20
    assert fl_hits >= 16, fl_hits


def test_lexicon_and_our_bigram_lm_fix_the_same_word():
    """The notebook's constructed case: acoustics prefer 'tab bab', the LM (through Flashlight's LM
    interface, the same WordNgramLM) prefers 'tab tab' — in both decoders, with the same weights."""
    small = CharTokenizer(" abt")

    def frame(ch, p=0.9):
        row = np.full(small.vocab_size, (1 - p) / (small.vocab_size - 1))
        row[small.symbols.index(ch)] = p
        return row

    rows = [frame(c) for c in "tab tab"]
    rows[4] = np.array([0.02, 0.02, 0.02, 0.5, 0.42])
    rows[4] /= rows[4].sum()
    toy = np.log(np.stack(rows))
    lm = WordNgramLM.from_texts(["tab tab", "tab tab tab"])
    lexicon = {"tab", "bab"}
    plain = fl.flashlight_decode(fl.flashlight_decoder(small.symbols, lexicon=lexicon, beam_size=8), toy)[0]
    fused = fl.flashlight_decode(fl.flashlight_decoder(small.symbols, lexicon=lexicon, lm=lm, lm_weight=1.0,
                                                       beam_size=8), toy)[0]
    ours = small.decode(ctc.prefix_beam_search(toy, beam_width=8, lm=lm, lm_weight=1.0, space=small.space,
                                               symbols=small.symbols, lexicon=lexicon))
    assert plain == "tab bab"
    assert fused == ours.strip() == "tab tab"


def test_a_word_lm_without_lexicon_is_refused():
    from course_lib.errors import ParameterError

    with pytest.raises(ParameterError, match="lexicon"):
        fl.flashlight_decoder(SYM, lm=WordNgramLM.from_texts(["a b"]))
