"""Text front end of Tacotron 2: normalisation and the symbol table.

Notebook: 12_tacotron2.ipynb

A character-level TTS model reads symbols, not text: "Dr. Smith paid $5" must
first become "doctor smith paid five dollars". :func:`normalize` lower-cases,
expands numbers (cardinals up to 999 999 999, decimals digit by digit, ordinals
"1st", "2nd"), a few symbols and abbreviations, keeps the punctuation the model
knows (``, . ? ! ' -``, where prosody pauses) and drops the rest.
:func:`text_to_ids` maps characters to integer ids and appends the end-of-sentence
symbol; :func:`ids_to_text` inverts it.

>>> normalize("Dr. Smith bought 21 lamps & 3 ducks!")
'doctor smith bought twenty one lamps and three ducks!'
>>> ids = text_to_ids("go left")
>>> ids[-1] == EOS_ID, ids_to_text(ids)
(True, 'go left')
"""

from __future__ import annotations

import re

from ..errors import ParameterError

__all__ = ["PAD", "EOS", "SYMBOLS", "PAD_ID", "EOS_ID", "normalize", "number_to_words", "text_to_ids",
           "ids_to_text"]

PAD = "_"
EOS = "~"
_PUNCT = " ,.?!'-"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: The symbol table: padding (id 0), end of sentence (id 1), punctuation and space, letters.
SYMBOLS = (PAD, EOS, *_PUNCT, *_LETTERS)
PAD_ID = 0
EOS_ID = 1
_ID = {s: i for i, s in enumerate(SYMBOLS)}

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}
_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "prof": "professor",
                  "etc": "et cetera", "vs": "versus"}
_SYMBOL_WORDS = {"&": " and ", "%": " percent ", "+": " plus ", "=": " equals ", "@": " at "}


def _below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
        if n == 0:
            return words
    if n < 20:
        words.append(_ONES[n])
    else:
        words.append(_TENS[n // 10])
        if n % 10:
            words.append(_ONES[n % 10])
    return words


def number_to_words(n: int) -> str:
    """English words of a whole number 0 <= n < 10**9 ("twenty one", no "and", no hyphen).

    Notebook: 12_tacotron2.ipynb

    >>> number_to_words(1999)
    'one thousand nine hundred ninety nine'
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 10**9:
        raise ParameterError(f"n={n!r} must be an integer in [0, 10**9); larger numbers are read digit by digit "
                             "by normalize")
    if n == 0:
        return "zero"
    words = []
    for value, name in ((10**6, "million"), (10**3, "thousand"), (1, "")):
        if n >= value:
            words += _below_thousand(n // value) + ([name] if name else [])
            n %= value
    return " ".join(words)


def _ordinal(words: str) -> str:
    *head, last = words.split()
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def _digits(s: str) -> str:
    return " ".join(_ONES[int(d)] for d in s)


def _expand_number(match: re.Match) -> str:
    whole, frac, suffix = match.group(1).replace(",", ""), match.group(2), match.group(3)
    n = int(whole)
    words = number_to_words(n) if n < 10**9 else _digits(whole)
    if suffix:
        words = _ordinal(words)
    if frac:
        words += " point " + _digits(frac)
    return f" {words} "


def normalize(text: str) -> str:
    """The text as the model reads it: lower case, numbers and symbols in words, known punctuation.

    Notebook: 12_tacotron2.ipynb

    Steps: lower case; ``$5`` -> "five dollars"; numbers (``1,234``, ``3.5``, ``21st``) in
    words; ``& % + = @`` in words; abbreviations (``dr.``, ``mr.``, ``st.``); every
    character outside :data:`SYMBOLS` becomes a space; runs of spaces collapse.
    The result maps to ids without loss (:func:`text_to_ids`).
    """
    if not isinstance(text, str):
        raise ParameterError(f"text must be a str, got {type(text).__name__}")
    s = text.lower()
    s = re.sub(r"\$(\d[\d,]*)(?:\.(\d+))?", lambda m: f" {m.group(1)} dollars " if not m.group(2)
               else f" {m.group(1)} dollars {m.group(2)} cents ", s)
    s = re.sub(r"(\d[\d,]*\d|\d)(?:\.(\d+))?(st|nd|rd|th)?\b", _expand_number, s)
    for sym, word in _SYMBOL_WORDS.items():
        s = s.replace(sym, word)
    s = re.sub(r"\b(" + "|".join(_ABBREVIATIONS) + r")\.", lambda m: _ABBREVIATIONS[m.group(1)], s)
    s = "".join(c if c in _ID and c not in (PAD, EOS) else " " for c in s)
    s = re.sub(r"\s+([,.?!])", r"\1", s)          # no space before punctuation
    return re.sub(r" +", " ", s).strip()


def text_to_ids(text: str, *, eos: bool = True) -> list[int]:
    """Symbol ids of ``normalize(text)``, ending with :data:`EOS_ID` (``eos=True``).

    Notebook: 12_tacotron2.ipynb
    """
    s = normalize(text)
    if not any(c in _LETTERS for c in s):
        raise ParameterError(f"text={text!r} has nothing to say after normalisation (no letters or numbers)")
    return [_ID[c] for c in s] + ([EOS_ID] if eos else [])


def ids_to_text(ids) -> str:
    """The text of symbol ids (padding and end-of-sentence dropped): ``ids_to_text(text_to_ids(t)) == normalize(t)``.

    Notebook: 12_tacotron2.ipynb
    """
    out = []
    for i in ids:
        i = int(i)
        if not 0 <= i < len(SYMBOLS):
            raise ParameterError(f"id {i} is outside the symbol table (0..{len(SYMBOLS) - 1})")
        if i not in (PAD_ID, EOS_ID):
            out.append(SYMBOLS[i])
    return "".join(out)
