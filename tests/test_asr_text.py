"""Tokenizer, normalisation and the word language model of course_lib.asr."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from course_lib import metrics
from course_lib.asr.lm import EOS, WordNgramLM
from course_lib.asr.text import CharTokenizer, normalize
from course_lib.errors import ParameterError


@pytest.mark.parametrize("raw,expected", [
    ("Stop the FAN!", "stop the fan"),
    ("  call   911 ", "call nine one one"),
    ("it's\tdone.", "it's done"),
    ("Café", "caf"),                       # é is not in the default alphabet
    ("", ""),
])
def test_normalize_known_answers(raw, expected):
    assert normalize(raw) == expected


@given(st.text(max_size=40))
def test_normalize_is_idempotent_and_round_trips(text):
    tok = CharTokenizer()
    norm = normalize(text)
    assert normalize(norm) == norm
    assert tok.decode(tok.encode(text)) == norm
    assert tok.blank not in tok.encode(text)


@given(st.text(alphabet="abc '.!\n\t", max_size=30), st.text(alphabet="abc '.!\n\t", max_size=30))
def test_scoring_normalised_text_agrees_with_metrics(ref, hyp):
    """What the tokenizer produces is what the scorer sees: metrics.wer's own whitespace
    normalisation does nothing more to a normalised transcript."""
    r, h = normalize(ref), normalize(hyp)
    if r:
        assert metrics.wer(r, h) == metrics.wer(" ".join(r.split()), " ".join(h.split()))


def test_from_texts_and_vocabulary():
    tok = CharTokenizer.from_texts(["Élan vital", "über"])
    assert tok.alphabet == " abeilnrtvéü"
    assert tok.symbols[0] == "<blank>" and tok.vocab_size == len(tok.alphabet) + 1
    assert tok.decode(tok.encode("Über élan")) == "über élan"


@pytest.mark.parametrize("alphabet,match", [("ab", "space"), ("a  b", "repeated"), ("", "non-empty")])
def test_bad_alphabet(alphabet, match):
    with pytest.raises(ParameterError, match=match):
        CharTokenizer(alphabet)


def test_decode_rejects_foreign_ids():
    with pytest.raises(ParameterError, match="outside"):
        CharTokenizer(" ab").decode([1, 7])


# ------------------------------------------------------------------ language model

TRAIN = ["turn on the light", "turn off the light", "turn on the radio", "open the door"]


def test_lm_distributions_sum_to_one():
    lm = WordNgramLM.from_texts(TRAIN)
    for context in ["<s>", "turn", "the", "light", "never-seen"]:
        total = sum(lm.prob(w, context) for w in lm.vocabulary + [EOS])
        assert math.isclose(total, 1.0, rel_tol=1e-12), context


def test_lm_known_answer_by_hand():
    lm = WordNgramLM.from_texts(TRAIN, discount=0.5)
    # c(turn, on) = 2, c(turn) = 3, N1+(turn •) = 2 (on, off); N1+(• on) = 1, N1+(• •) = 13
    n_types = len({(a, b) for t in TRAIN for a, b in zip(["<s>", *t.split()], [*t.split(), "</s>"])})
    assert n_types == 13
    expected = (2 - 0.5) / 3 + 0.5 * 2 / 3 * (1 / 13)
    assert math.isclose(lm.prob("on", "turn"), expected, rel_tol=1e-12)


def test_lm_prefers_seen_word_orders_and_scores_unknowns():
    lm = WordNgramLM.from_texts(TRAIN)
    assert lm.log_prob_sentence("turn on the light".split()) > lm.log_prob_sentence("light the on turn".split())
    assert lm.log_prob("zebra", "the") == lm.unk_log_prob
    assert lm.perplexity([t.split() for t in TRAIN]) < lm.perplexity([["door", "open", "turn"]])


def test_lm_bad_arguments():
    with pytest.raises(ParameterError, match="discount"):
        WordNgramLM([["a"]], discount=1.5)
    with pytest.raises(ParameterError, match="at least one"):
        WordNgramLM([])
    with pytest.raises(ParameterError, match="from_texts"):
        WordNgramLM(["a b"])
