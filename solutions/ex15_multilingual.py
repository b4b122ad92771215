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
    ### BEGIN SOLUTION
    if len(texts) == 0:
        raise ValueError("texts is empty: give at least one transcript")
    chars = set()
    for t in texts:
        chars |= set(unicodedata.normalize("NFC", t).lower())
    chars.discard(" ")
    return ["<blank>", " ", *sorted(chars)]
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    index = {s: i for i, s in enumerate(vocabulary) if i > 0}
    out = []
    for c in unicodedata.normalize("NFC", text).lower():
        if c not in index:
            raise ValueError(f"{c!r} (U+{ord(c):04X}) is not in the vocabulary")
        out.append(index[c])
    return out
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if len(true_languages) != len(predicted_languages):
        raise ValueError(f"{len(true_languages)} true and {len(predicted_languages)} predicted languages")
    if len(true_languages) == 0:
        raise ValueError("no utterances")
    index = {g: i for i, g in enumerate(languages)}
    C = np.zeros((len(languages), len(languages)), dtype=np.int64)
    for t, p in zip(true_languages, predicted_languages):
        if t not in index or p not in index:
            raise ValueError(f"{t!r} or {p!r} is not one of {list(languages)}")
        C[index[t], index[p]] += 1
    return C, float(np.trace(C) / C.sum())
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    if not (len(references) == len(hypotheses) == len(languages)):
        raise ValueError(f"{len(references)} references, {len(hypotheses)} hypotheses, {len(languages)} languages")

    def distance(a, b):
        prev = list(range(len(b) + 1))
        for i, ca in enumerate(a, start=1):
            cur = [i]
            for j, cb in enumerate(b, start=1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
            prev = cur
        return prev[-1]

    edits, chars = {}, {}
    for r, h, g in zip(references, hypotheses, languages):
        r, h = unicodedata.normalize("NFC", r), unicodedata.normalize("NFC", h)
        for key in (g, "all"):
            edits[key] = edits.get(key, 0) + distance(r, h)
            chars[key] = chars.get(key, 0) + len(r)
    out = {}
    for key in sorted(k for k in edits if k != "all") + ["all"]:
        if chars[key] == 0:
            raise ValueError(f"the references of {key!r} are empty: a CER needs reference characters")
        out[key] = edits[key] / chars[key]
    return out
    ### END SOLUTION
