"""Checks for exercise 15 (a Unicode character vocabulary, encoding, language-ID confusions, CER per language).

Notebook: 15_multilingual.ipynb

Expected values come from references, not from the solution: vocabularies and ids from
``course_lib.asr.multilingual.MultilingualTokenizer`` (the chapter's library tokenizer, whose
NFC handling is itself tested against ``unicodedata``), hand-worked examples,
``sklearn.metrics.confusion_matrix`` / ``accuracy_score``, and ``jiwer.cer`` on NFC text per language.
"""

from __future__ import annotations

import unicodedata

import jiwer
import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.metrics import confusion_matrix as sk_confusion

from course_lib.asr.multilingual import DIGIT_WORDS, MultilingualTokenizer
from course_lib.grading.checks import Check, pytest_checks

EXERCISE = "ex15_multilingual"

_NFD = lambda s: unicodedata.normalize("NFD", s)                     # noqa: E731
_NFC = lambda s: unicodedata.normalize("NFC", s)                     # noqa: E731

_DIGITS = [w for g in ("de", "fr", "nl", "es") for w in DIGIT_WORDS[g]]
_GREEK = ["Ένα", "δύο", "τρία", "ΤΈΣΣΕΡΑ"]


def _vocab(texts):
    tok = MultilingualTokenizer.from_texts({"x": list(texts)})
    return list(tok.symbols)


def _ids(text, vocab):
    return MultilingualTokenizer("".join(vocab[1:])).encode(text)


def _list_compare(got, expected, args, kwargs):
    got = list(got) if isinstance(got, (list, tuple)) else got
    if got != expected:
        raise AssertionError(f"got {got!r}, expected {expected!r}")


_LANGS = ["en", "de", "fr", "es", "it", "nl"]
_rng = np.random.default_rng(15)
_T = [str(g) for g in _rng.choice(_LANGS, 90)]
_P = [t if _rng.random() < 0.8 else str(_rng.choice(_LANGS)) for t in _T]


def _conf_expected(t, p, languages):
    return sk_confusion(t, p, labels=languages), accuracy_score(t, p)


def _conf_compare(got, expected, args, kwargs):
    try:
        C, acc = got
    except (TypeError, ValueError):
        raise AssertionError("return a pair (C, accuracy)") from None
    C = np.asarray(C)
    if C.shape != expected[0].shape:
        raise AssertionError(f"C has shape {C.shape}, expected {expected[0].shape} (one row and column per language)")
    bad = np.argwhere(C != expected[0])
    if len(bad):
        i, j = bad[0]
        L = kwargs["languages"]
        raise AssertionError(f"{len(bad)} cells wrong, e.g. true {L[i]!r} predicted {L[j]!r}: got {C[i, j]}, "
                             f"expected {expected[0][i, j]} (rows are the true languages)")
    np.testing.assert_allclose(float(acc), expected[1], rtol=1e-12, err_msg="accuracy")


def _cer_expected(refs, hyps, langs):
    refs, hyps = [_NFC(r) for r in refs], [_NFC(h) for h in hyps]
    out = {}
    for g in sorted(set(langs)):
        idx = [i for i, x in enumerate(langs) if x == g]
        out[g] = float(jiwer.cer([refs[i] for i in idx], [hyps[i] for i in idx]))
    out["all"] = float(jiwer.cer(refs, hyps))
    return out


def _dict_compare(got, expected, args, kwargs):
    if not isinstance(got, dict):
        raise AssertionError(f"return a dict {{language: cer, ..., 'all': cer}}, got {type(got).__name__}")
    if set(got) != set(expected):
        raise AssertionError(f"keys {sorted(got)}, expected {sorted(expected)}")
    for k, v in expected.items():
        np.testing.assert_allclose(float(got[k]), v, rtol=1e-9, err_msg=f"CER of {k!r}")


_R = ["zéro", "drei", "vier", "un deux", "één twee", "fünf"]
_H = [_NFD("zéro"), "drie", "vir", "un de", "een twee", "funf"]
_L = ["fr", "de", "de", "fr", "nl", "de"]

CHECKS = [
    # ---------------------------------------------------------------- char_vocabulary
    Check("char_vocabulary", args=(["Zéro", "ze\u0301ro", "un"],),
          expected=["<blank>", " ", "n", "o", "r", "u", "z", "é"], compare=_list_compare,
          name="the docstring example: a decomposed accent is the same 'é'"),
    Check("char_vocabulary", args=(_DIGITS,), expected=_vocab(_DIGITS), compare=_list_compare,
          name="the digit words of four languages (ü and é kept, sorted by code point)"),
    Check("char_vocabulary", args=(_GREEK,), expected=_vocab(_GREEK), compare=_list_compare,
          name="Greek, upper-case with tonos: lower-cased, accents kept"),
    Check("char_vocabulary", args=(["zwei drei", "vier"],), expected=_vocab(["zwei drei", "vier"]),
          compare=_list_compare, name="the space is id 1 and listed once"),
    Check("char_vocabulary", args=([],), raises=ValueError, name="no texts are rejected"),
    # ---------------------------------------------------------------- encode
    Check("encode", args=("ZE\u0301RO", ["<blank>", " ", "n", "o", "r", "u", "z", "é"]), expected=[6, 7, 4, 3],
          compare=_list_compare, name="the docstring example (upper case, decomposed accent)"),
    Check("encode", args=("Fünf Zéro", _vocab(_DIGITS)), expected=_ids("fünf zéro", _vocab(_DIGITS)),
          compare=_list_compare, name="two words: the space is id 1, accents are their own ids"),
    Check("encode", args=(_NFD("ΤΈΣΣΕΡΑ δύο"), _vocab(_GREEK)), expected=_ids("τέσσερα δύο", _vocab(_GREEK)),
          compare=_list_compare, name="Greek typed with combining accents (NFD)"),
    Check("encode", args=("drei", ["<blank>", " ", "d", "e", "r"]), raises=ValueError,
          name="a character outside the vocabulary is rejected"),
    Check("encode", args=("<blank>", ["<blank>", " ", "<", ">", "a", "b", "k", "l", "n"]),
          expected=[2, 5, 7, 4, 8, 6, 3], compare=_list_compare,
          name="the blank symbol is never produced by a character"),
    # ---------------------------------------------------------------- language_confusion
    Check("language_confusion", args=(["de", "nl", "nl"], ["de", "de", "nl"]), kwargs={"languages": ["de", "nl"]},
          expected=_conf_expected(["de", "nl", "nl"], ["de", "de", "nl"], ["de", "nl"]), compare=_conf_compare,
          name="the docstring example"),
    Check("language_confusion", args=(_T, _P), kwargs={"languages": _LANGS},
          expected=_conf_expected(_T, _P, _LANGS), compare=_conf_compare, name="90 utterances in six languages"),
    Check("language_confusion", args=(_T[:7], _P[:7]), kwargs={"languages": _LANGS[::-1]},
          expected=_conf_expected(_T[:7], _P[:7], _LANGS[::-1]), compare=_conf_compare,
          name="rows and columns follow the given order; unseen languages are zero"),
    Check("language_confusion", args=(["de"], ["de", "nl"]), kwargs={"languages": ["de", "nl"]}, raises=ValueError,
          name="different lengths are rejected"),
    Check("language_confusion", args=(["de", "xx"], ["de", "nl"]), kwargs={"languages": ["de", "nl"]},
          raises=ValueError, name="an unknown language is rejected"),
    # ---------------------------------------------------------------- cer_per_language
    Check("cer_per_language", args=(["drei", "zéro"], ["dre", "ze\u0301ro"], ["de", "fr"]),
          expected=_cer_expected(["drei", "zéro"], ["dre", "ze\u0301ro"], ["de", "fr"]), compare=_dict_compare,
          name="the docstring example (a decomposed accent is no error)"),
    Check("cer_per_language", args=(_R, _H, _L), expected=_cer_expected(_R, _H, _L), compare=_dict_compare,
          name="three languages: corpus level (summed edits / summed characters), not a mean of ratios"),
    Check("cer_per_language", args=(["acht"], ["achtzehn"], ["nl"]), expected=_cer_expected(["acht"], ["achtzehn"], ["nl"]),
          compare=_dict_compare, name="insertions count: CER can exceed 1"),
    Check("cer_per_language", args=(["ab", "ba"], ["ba", "ab"], ["en", "en"]),
          expected=_cer_expected(["ab", "ba"], ["ba", "ab"], ["en", "en"]), compare=_dict_compare,
          name="a transposition is two edits (Levenshtein, not Damerau)"),
    Check("cer_per_language", args=(["a"], ["a", "b"], ["en"]), raises=ValueError, name="different lengths are rejected"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
