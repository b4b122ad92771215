# Exercise file generated from solutions/ by `course stubs`.
# Replace each `raise NotImplementedError()` with your code, then run `course check ex15`.
"""Exercise 15 — multilingual speech: a Unicode character vocabulary, encoding, language-ID confusions, CER per language.

Notebook: 15_multilingual.ipynb

Fill in the four functions below with the standard library and NumPy only (no ``course_lib``,
no jiwer). Check your work with::

    course check ex15

Conventions: text is compared in Unicode normal form C (``unicodedata.normalize("NFC", s)``),
so ``"e" + U+0301`` (a combining acute accent) and the single character ``"é"`` are the same
letter. Raise ``ValueError`` (with a message that says what is wrong) for input the docstring
rules out.
"""

from __future__ import annotations

import unicodedata

import numpy as np

__all__ = ["char_vocabulary", "encode", "language_confusion", "cer_per_language"]


def char_vocabulary(texts):
    """The CTC output symbols of a set of transcripts: ``["<blank>", " ", c1, c2, ...]``.

    Every text is put in NFC and lower-cased; the characters other than the space are
    listed once each, sorted by code point, after the blank (id 0) and the space (id 1).
    Accents are kept (``"é"`` is its own symbol, not ``"e"``).

    Parameters
    ----------
    texts : list of str

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        ``texts`` is empty.

    Examples
    --------
    >>> char_vocabulary(["Zéro", "ze\\u0301ro", "un"])
    ['<blank>', ' ', 'n', 'o', 'r', 'u', 'z', 'é']
    """
    raise NotImplementedError()


def encode(text, vocabulary):
    """The ids of ``text`` (NFC, lower case) in ``vocabulary`` (a list from :func:`char_vocabulary`).

    Parameters
    ----------
    text : str
    vocabulary : list of str

    Returns
    -------
    list of int
        One id per character of the normalised text; never 0 (the blank).

    Raises
    ------
    ValueError
        A character of ``text`` is not in ``vocabulary`` (say which).

    Examples
    --------
    >>> encode("ZE\\u0301RO", ['<blank>', ' ', 'n', 'o', 'r', 'u', 'z', 'é'])
    [6, 7, 4, 3]
    """
    raise NotImplementedError()


def language_confusion(true_languages, predicted_languages, *, languages):
    """Confusion matrix and accuracy of a language identifier.

    ``C[i, j]`` counts the utterances of ``languages[i]`` that were identified as
    ``languages[j]`` (rows true, columns predicted).

    Parameters
    ----------
    true_languages, predicted_languages : list of str
        Equally long, every entry one of ``languages``.
    languages : list of str

    Returns
    -------
    (C, accuracy)
        ``C`` : np.ndarray [shape=(len(languages), len(languages)), dtype=int];
        ``accuracy`` : float, the fraction of utterances on the diagonal.

    Raises
    ------
    ValueError
        Different lengths, no utterances, or a code not in ``languages``.

    Examples
    --------
    >>> C, acc = language_confusion(["de", "nl", "nl"], ["de", "de", "nl"], languages=["de", "nl"])
    >>> C.tolist(), round(acc, 3)
    ([[1, 0], [1, 1]], 0.667)
    """
    raise NotImplementedError()


def cer_per_language(references, hypotheses, languages):
    """Character error rate per language: summed edit distances over summed reference lengths.

    Both sides are put in NFC first. The edit distance is Levenshtein's (substitutions,
    deletions and insertions of one character each cost 1); spaces are characters.

    Parameters
    ----------
    references, hypotheses, languages : list of str
        One entry per utterance, equally long.

    Returns
    -------
    dict
        ``{language: cer}`` for every language present, plus ``"all"`` over every utterance.

    Raises
    ------
    ValueError
        Different lengths, or a language whose references have no characters at all.

    Examples
    --------
    >>> cer_per_language(["drei", "zéro"], ["dre", "ze\\u0301ro"], ["de", "fr"])
    {'de': 0.25, 'fr': 0.0, 'all': 0.125}
    """
    raise NotImplementedError()
