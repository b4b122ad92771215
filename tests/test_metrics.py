"""course_lib.metrics against jiwer (WER/CER) and known answers (SNR)."""

from __future__ import annotations

import itertools
import os

import jiwer
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import metrics
from course_lib.errors import ParameterError

# sentences over a tiny vocabulary (so words repeat and alignments are non-trivial),
# with messy whitespace: single/multiple spaces, leading/trailing blanks, tabs
WORDS = st.sampled_from(["a", "the", "cat", "sat", "on", "mat", "dog", "é"])
SEPS = st.sampled_from([" ", "  ", " \t ", "   "])


@st.composite
def sentences(draw, min_words=1):
    words = draw(st.lists(WORDS, min_size=min_words, max_size=8))
    seps = draw(st.lists(SEPS, min_size=len(words), max_size=len(words)))
    pad = draw(st.sampled_from(["", " ", "  "]))
    return pad + "".join(w + s for w, s in zip(words, seps)).rstrip() + pad


@settings(max_examples=int(os.environ.get("COURSE_HYPOTHESIS_EXAMPLES", 200)))
@given(sentences(), sentences(min_words=0))
def test_wer_cer_equal_jiwer_on_strings(ref, hyp):
    assert metrics.wer(ref, hyp) == pytest.approx(jiwer.wer(ref, hyp), rel=1e-12)
    assert metrics.cer(ref, hyp) == pytest.approx(jiwer.cer(ref, hyp), rel=1e-12)


@settings(max_examples=int(os.environ.get("COURSE_HYPOTHESIS_EXAMPLES", 100)))
@given(st.lists(st.tuples(sentences(), sentences(min_words=0)), min_size=1, max_size=5))
def test_wer_cer_equal_jiwer_on_corpora(pairs):
    refs, hyps = [r for r, _ in pairs], [h for _, h in pairs]
    assert metrics.wer(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps), rel=1e-12)
    assert metrics.cer(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps), rel=1e-12)


def test_corpus_level_pools_errors_not_rates():
    refs, hyps = ["a b", "c d e f"], ["a x", "c d e f"]
    # 1 error over 6 words, not the mean of 1/2 and 0/4
    assert metrics.wer(refs, hyps) == pytest.approx(1 / 6)


@pytest.mark.parametrize("ref, hyp", [("", ""), ("", "a b"), (["", ""], ["x", ""])])
def test_empty_references_follow_jiwer(ref, hyp):
    assert metrics.wer(ref, hyp) == jiwer.wer(ref, hyp)


def test_edit_distance_brute_force_agreement():
    """Against an exhaustive recursion on every pair of short strings over {a, b}."""
    def brute(r, h):
        if not r:
            return len(h)
        if not h:
            return len(r)
        return min(brute(r[1:], h) + 1, brute(r, h[1:]) + 1, brute(r[1:], h[1:]) + (r[0] != h[0]))

    strings = ["".join(p) for n in range(4) for p in itertools.product("ab", repeat=n)]
    for r in strings:
        for h in strings:
            assert metrics.edit_distance(r, h) == brute(r, h), (r, h)


@pytest.mark.parametrize("ref, hyp, match", [
    (["a"], ["a", "b"], "1 sentences but hypothesis has 2"),
    ([], [], "empty list"),
    (3, "a", "reference must be a string"),
])
def test_error_rate_bad_input(ref, hyp, match):
    with pytest.raises(ParameterError, match=match):
        metrics.wer(ref, hyp)


def test_snr_known_answers():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(10_000)
    noise = rng.standard_normal(10_000)
    noise *= np.linalg.norm(ref) / np.linalg.norm(noise) / 10.0  # noise energy 1/100 of signal
    assert metrics.snr(ref, ref + noise) == pytest.approx(20.0, abs=1e-9)
    assert metrics.snr(ref, ref) == np.inf
    assert metrics.snr(ref, np.zeros_like(ref)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("ref, est, match", [
    (np.ones(3), np.ones(4), "shape"),
    (np.zeros(3), np.ones(3), "silent"),
    (np.ones(3), np.array([1.0, np.nan, 1.0]), "finite"),
    (np.ones(0), np.ones(0), "empty"),
])
def test_snr_bad_input(ref, est, match):
    with pytest.raises(ParameterError, match=match):
        metrics.snr(ref, est)
