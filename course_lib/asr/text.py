"""Text for recognisers: normalisation and a character tokenizer with a CTC blank.

Notebook: 05_ctc_asr.ipynb

A recogniser is scored with :func:`course_lib.metrics.wer` / ``cer``, which
collapse runs of whitespace and strip the ends (as jiwer does). A tokenizer
that kept characters the scorer treats differently would teach the model to
produce errors it is then charged for, so :func:`normalize` is the one place
that decides what a transcript looks like:

- Unicode NFC, then lower case;
- digits spelled out one by one (``"42"`` → ``"four two"``), the way the
  corpus speaks digit strings;
- every character outside the alphabet (punctuation, symbols) becomes a space;
- runs of whitespace collapse to one space and the ends are stripped.

>>> tok = CharTokenizer()
>>> ids = tok.encode("Stop the fan!")
>>> ids[:4], tok.decode(ids)
([21, 22, 17, 18], 'stop the fan')
>>> tok.blank, tok.vocab_size
(0, 29)
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Sequence

from ..errors import ParameterError

__all__ = ["BLANK", "DEFAULT_ALPHABET", "normalize", "CharTokenizer"]

BLANK = "<blank>"
DEFAULT_ALPHABET = " '" + "abcdefghijklmnopqrstuvwxyz"

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_SPACES = re.compile(r"\s+")


def normalize(text: str, *, alphabet: str = DEFAULT_ALPHABET) -> str:
    """A transcript as the recogniser sees it (see the module docstring).

    Parameters
    ----------
    text : str
        Any text.
    alphabet : str
        The characters to keep (after lower-casing); everything else becomes a
        space. Must contain the space.

    Returns
    -------
    str
        Lower case, only ``alphabet`` characters, single spaces, no leading or
        trailing space; a fixed point: ``normalize(normalize(t)) == normalize(t)``.

    >>> normalize("  Call 911,  NOW! ")
    'call nine one one now'
    """
    if not isinstance(text, str):
        raise ParameterError(f"text must be a string, got {type(text).__name__}")
    if " " not in alphabet:
        raise ParameterError("alphabet must contain the space character ' ' (it separates words)")
    text = unicodedata.normalize("NFC", text).lower()
    # spell digits one by one, with spaces so "42" becomes two words
    text = "".join(f" {_DIGIT_WORDS[int(c)]} " if c in "0123456789" else c for c in text)
    keep = set(alphabet)
    text = "".join(c if c in keep else " " for c in text)
    return _SPACES.sub(" ", text).strip()


class CharTokenizer:
    """Characters ↔ integer ids, with the CTC blank at id 0.

    Parameters
    ----------
    alphabet : str
        The symbols, one character each, in id order starting at 1; must
        contain the space and no character twice.

    Attributes
    ----------
    blank : int
        Always 0 (``torch.nn.CTCLoss``'s default ``blank=0``).
    vocab_size : int
        ``len(alphabet) + 1``: the number of output classes a CTC model needs.
    symbols : list of str
        ``["<blank>", *alphabet]``: ``symbols[i]`` is the text of id ``i``.
    """

    blank = 0

    def __init__(self, alphabet: str = DEFAULT_ALPHABET):
        if not isinstance(alphabet, str) or not alphabet:
            raise ParameterError(f"alphabet must be a non-empty string, got {alphabet!r}")
        if len(set(alphabet)) != len(alphabet):
            dup = sorted({c for c in alphabet if alphabet.count(c) > 1})
            raise ParameterError(f"alphabet has repeated characters {dup}; each symbol needs one id")
        if " " not in alphabet:
            raise ParameterError("alphabet must contain the space character ' ' (it separates words)")
        self.alphabet = alphabet
        self.symbols = [BLANK, *alphabet]
        self._ids = {c: i for i, c in enumerate(alphabet, start=1)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "CharTokenizer":
        """The tokenizer whose alphabet is every character of the normalised ``texts``
        (space first, then sorted), e.g. the training transcripts."""
        chars = set()
        for t in texts:
            chars |= set(normalize(t, alphabet=_everything_but_controls(t)))
        chars.discard(" ")
        return cls(" " + "".join(sorted(chars)))

    @property
    def vocab_size(self) -> int:
        return len(self.symbols)

    @property
    def space(self) -> int:
        """The id of the word separator."""
        return self._ids[" "]

    def normalize(self, text: str) -> str:
        """:func:`normalize` with this tokenizer's alphabet."""
        return normalize(text, alphabet=self.alphabet)

    def encode(self, text: str) -> list[int]:
        """Ids of the normalised ``text`` (never the blank).

        Returns
        -------
        list of int [shape=(n_chars,)]
        """
        return [self._ids[c] for c in self.normalize(text)]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of ``ids``; blanks are skipped (no collapsing of repeats: that is
        :func:`course_lib.asr.ctc.greedy_decode`'s job)."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < self.vocab_size:
                raise ParameterError(
                    f"id {i} is outside this tokenizer's vocabulary 0..{self.vocab_size - 1}; "
                    "was the model trained with another tokenizer?"
                )
            if i != self.blank:
                out.append(self.symbols[i])
        return "".join(out)

    def __repr__(self) -> str:
        return f"CharTokenizer(alphabet={self.alphabet!r})"


def _everything_but_controls(text: str) -> str:
    """Every printable character of ``text`` (for building an alphabet from data)."""
    return " " + "".join(sorted({c for c in unicodedata.normalize("NFC", text).lower()
                                 if c.isalpha() or c == "'"}))
