"""Text front end of Tacotron 2 (course_lib.tts.text): normalisation, numbers, the symbol table."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from course_lib import data
from course_lib.errors import ParameterError
from course_lib.tts import text


@pytest.mark.parametrize("n,words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (21, "twenty one"), (100, "one hundred"),
    (101, "one hundred one"), (999, "nine hundred ninety nine"), (1000, "one thousand"),
    (1999, "one thousand nine hundred ninety nine"), (2026, "two thousand twenty six"),
    (1_000_001, "one million one"), (40_500_012, "forty million five hundred thousand twelve"),
])
def test_number_to_words_known_answers(n, words):
    assert text.number_to_words(n) == words


@pytest.mark.parametrize("bad", [-1, 10**9, 2.5, True, "3"])
def test_number_to_words_rejects(bad):
    with pytest.raises(ParameterError, match="n="):
        text.number_to_words(bad)


@pytest.mark.parametrize("raw,expected", [
    ("Dr. Smith bought 21 lamps & 3 ducks!", "doctor smith bought twenty one lamps and three ducks!"),
    ("Go LEFT   two steps.", "go left two steps."),
    ("It's 100% done", "it's one hundred percent done"),
    ("the 1st, 2nd, 3rd and 40th", "the first, second, third and fortieth"),
    ("pay $5", "pay five dollars"),
    ("pi is 3.14", "pi is three point one four"),
    ("1,234 ducks", "one thousand two hundred thirty four ducks"),
    ("(hello) world; ok", "hello world ok"),
    ("Café", "caf"),
])
def test_normalize_known_answers(raw, expected):
    assert text.normalize(raw) == expected


def test_corpus_transcripts_are_already_normal():
    """The training transcripts need no change: what the model trained on is what normalize gives."""
    for c in data.tts_sentences(check=False):
        assert text.normalize(c.text) == c.text


@given(st.text(max_size=40))
def test_round_trip_and_idempotent(s):
    norm = text.normalize(s)
    assert text.normalize(norm) == norm
    if any(c.isalpha() for c in norm):
        ids = text.text_to_ids(s)
        assert ids[-1] == text.EOS_ID and text.PAD_ID not in ids
        assert text.ids_to_text(ids) == norm
        assert all(0 <= i < len(text.SYMBOLS) for i in ids)


def test_symbol_table():
    assert len(set(text.SYMBOLS)) == len(text.SYMBOLS)
    assert text.SYMBOLS[text.PAD_ID] == text.PAD and text.SYMBOLS[text.EOS_ID] == text.EOS
    assert text.text_to_ids("ab", eos=False) == [text.SYMBOLS.index("a"), text.SYMBOLS.index("b")]


def test_bad_input():
    with pytest.raises(ParameterError, match="nothing to say"):
        text.text_to_ids("?? ;;")
    with pytest.raises(ParameterError, match="outside the symbol table"):
        text.ids_to_text([3, 99])
    with pytest.raises(ParameterError, match="must be a str"):
        text.normalize(42)
