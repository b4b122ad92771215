"""course_lib.asr.multilingual: the Unicode tokenizer, CER per language, language ID, the multilingual CTC model.

References: the corpus manifest (digit words), jiwer (CER on non-ASCII text), Python's
unicodedata (NFC), brute force (confusion counts, masked decoding), and the shipped
``langid_cnn`` checkpoint's own training record (measured on the test voices).
"""

from __future__ import annotations

import unicodedata

import jiwer
import numpy as np
import pytest
import torch

from course_lib import data, metrics, pretrained
from course_lib.asr import multilingual as ml
from course_lib.errors import ParameterError

NON_LATIN = {
    "el": ["ένα", "δύο", "τρία"],                 # Greek, precomposed accents (tonos)
    "ru": ["один", "два", "три"],                 # Cyrillic
    "hi": ["एक", "दो", "तीन"],                    # Devanagari: vowel signs are combining marks, not letters
    "ja": ["いち", "に", "さん"],                  # Hiragana
    "de": ["fünf", "Straße"],
}


@pytest.fixture(scope="module")
def train_clips():
    return data.multilingual_digits(split="train")


# --------------------------------------------------------------------------- text

def test_digit_words_are_the_corpus_transcripts():
    # reference: the manifest's text field, clip by clip
    clips = data.multilingual_digits()
    assert len(clips) == 720
    for c in clips:
        assert ml.DIGIT_WORDS[c.language][data.DIGITS.index(c.label)] == c.text, c


def test_splits_are_speaker_disjoint_and_variant_disjoint():
    clips = data.multilingual_digits()
    by_split = {s: {c.speaker for c in clips if c.split == s} for s in ("train", "valid", "test")}
    variant = {s: {v.rsplit("_", 1)[1] for v in vs} for s, vs in by_split.items()}
    assert not (by_split["train"] & by_split["test"]) and not (by_split["train"] & by_split["valid"])
    # a variant (f5, m8, ...) is in one split in every language: the voice cannot give the language away
    assert not (variant["train"] & variant["test"]) and not (variant["valid"] & variant["test"])


def test_tokenizer_nfc_decomposed_input_gives_the_same_ids():
    tok = ml.MultilingualTokenizer.from_texts({"fr": ["zéro", "trois"], "de": ["fünf"]})
    nfd = unicodedata.normalize("NFD", "Zéro")
    assert len(nfd) == 5 and nfd != "Zéro"
    assert tok.encode(nfd) == tok.encode("zéro") == tok.encode("ZÉRO")
    assert tok.decode(tok.encode(nfd)) == "zéro"
    assert tok.blank == 0 and tok.symbols[0] == "<blank>" and tok.space == 1
    assert 0 not in tok.encode("zéro trois")


@pytest.mark.parametrize("lang", sorted(NON_LATIN))
def test_tokenizer_round_trips_every_script(lang):
    tok = ml.MultilingualTokenizer.from_texts(NON_LATIN)
    for t in NON_LATIN[lang]:
        ids = tok.encode(t)
        assert tok.decode(ids) == unicodedata.normalize("NFC", t.lower())
        assert len(ids) == len(unicodedata.normalize("NFC", t))      # one id per code point, none dropped


def test_tokenizer_keeps_combining_vowel_signs():
    # "दो" is DA + the vowel sign O (category Mc); a letters-only filter would split the word in two
    assert unicodedata.category("दो"[1]).startswith("M")
    tok = ml.MultilingualTokenizer.from_texts({"hi": ["दो"]})
    assert tok.normalize("दो") == "दो" and "ो" in tok.alphabet


def test_tokenizer_vocabularies_of_the_corpus(train_clips):
    tok = ml.MultilingualTokenizer.from_clips(train_clips)
    assert sorted(tok.vocabularies) == sorted(ml.LANGUAGES)
    assert {g for g, v in tok.vocabularies.items() if "ü" in v} == {"de"}
    assert {g for g, v in tok.vocabularies.items() if "é" in v} == {"fr"}
    union = set().union(*tok.vocabularies.values())
    assert set(tok.alphabet) == union | {" "} and tok.vocab_size == len(union) + 2
    for g in ml.LANGUAGES:        # brute force: the characters of that language's transcripts
        assert tok.vocabularies[g] == set("".join(c.text for c in train_clips if c.language == g))
        mask = tok.language_mask(g)
        assert mask.shape == (tok.vocab_size,) and mask[0] and mask[tok.space]
        assert {tok.symbols[i] for i in np.flatnonzero(mask)} == tok.vocabularies[g] | {"<blank>", " "}


def test_tokenizer_strict_names_the_unknown_character():
    tok = ml.MultilingualTokenizer.from_texts({"de": ["drei"]})
    with pytest.raises(ParameterError, match=r"U\+00FC LATIN SMALL LETTER U WITH DIAERESIS"):
        tok.encode("fünf")
    loose = ml.MultilingualTokenizer(tok.alphabet, strict=False)
    assert loose.normalize("dreü") == "dre"


def test_digits_are_spelled_in_the_language():
    tok = ml.MultilingualTokenizer.from_texts({"de": ["vier zwei"], "fr": ["quatre deux"]})
    assert tok.normalize("42", language="de") == "vier zwei"
    assert tok.normalize("42", language="fr") == "quatre deux"
    with pytest.raises(ParameterError, match="language"):
        tok.encode("42")
    with pytest.raises(ParameterError, match="language='xx'"):
        ml.spell_digits("1", language="xx")


def test_lower_case_then_nfc():
    # 'İ'.lower() is 'i' + U+0307; the result must still be NFC and keep the dot
    t = ml.MultilingualTokenizer.clean("İSTANBUL")
    assert t == unicodedata.normalize("NFC", t) and t.startswith("i\u0307")
    assert ml.MultilingualTokenizer.clean("STRASSE  Straße") == "strasse straße"   # lower, not casefold


def test_bad_tokenizer_input():
    with pytest.raises(ParameterError, match="NFC"):
        ml.MultilingualTokenizer(" e\u0301")
    with pytest.raises(ParameterError, match="lacks"):
        ml.MultilingualTokenizer(" ab", vocabularies={"x": "abc"})
    with pytest.raises(ParameterError, match="list of transcripts"):
        ml.MultilingualTokenizer.from_texts({"de": "drei"})
    with pytest.raises(ParameterError, match="no vocabulary"):
        ml.MultilingualTokenizer.from_texts({"de": ["drei"]}).language_mask("fr")


# --------------------------------------------------------------------------- CER on non-ASCII text

def _random_words(rng, alphabet, n):
    return [" ".join("".join(rng.choice(list(alphabet), size=rng.integers(1, 7))) for _ in range(rng.integers(1, 4)))
            for _ in range(n)]


@pytest.mark.parametrize("alphabet", ["zéroünfäöß", "ενατρίαδύο", "одиндватри", "いちにさん", "एकदोतीन"])
def test_metrics_cer_equals_jiwer_on_non_ascii(alphabet):
    rng = np.random.default_rng(len(alphabet))
    refs, hyps = _random_words(rng, alphabet, 20), _random_words(rng, alphabet, 20)
    # float sums of integer edit counts: equal to rounding
    np.testing.assert_allclose(metrics.cer(refs, hyps), jiwer.cer(refs, hyps), rtol=1e-12)
    for r, h in zip(refs[:5], hyps[:5]):
        np.testing.assert_allclose(metrics.cer(r, h), jiwer.cer(r, h), rtol=1e-12)


def test_cer_per_language_equals_jiwer_per_subset():
    rng = np.random.default_rng(0)
    langs = list(rng.choice(["fr", "de", "el"], size=30))
    alph = {"fr": "zéroun", "de": "fünfdrei", "el": "ένατρία"}
    refs = [_random_words(rng, alph[g], 1)[0] for g in langs]
    hyps = [_random_words(rng, alph[g], 1)[0] for g in langs]
    got = ml.cer_per_language(refs, hyps, langs)
    for g in ("fr", "de", "el"):
        idx = [i for i, x in enumerate(langs) if x == g]
        np.testing.assert_allclose(got[g], jiwer.cer([refs[i] for i in idx], [hyps[i] for i in idx]), rtol=1e-12)
    np.testing.assert_allclose(got["all"], jiwer.cer(refs, hyps), rtol=1e-12)


def test_cer_per_language_normalises_to_nfc():
    nfd = unicodedata.normalize("NFD", "zéro")
    assert jiwer.cer("zéro", nfd) > 0                     # code points differ: 'é' vs 'e' + U+0301
    assert ml.cer_per_language(["zéro"], [nfd], ["fr"]) == {"fr": 0.0, "all": 0.0}
    with pytest.raises(ParameterError, match="equally long"):
        ml.cer_per_language(["a"], ["a", "b"], ["fr"])


# --------------------------------------------------------------------------- the CTC model

def _tiny(condition="embedding", alphabet=" aéü"):
    return ml.MultilingualCTC(ml.MultilingualCTCConfig(
        alphabet=alphabet, vocab_size=len(alphabet) + 1, hidden=8, channels=8, n_layers=1, dropout=0.0,
        languages=("fr", "de") if condition == "embedding" else (), condition=condition,
        vocabularies={"fr": "aé", "de": "aü"}))


def test_language_embedding_changes_the_output_and_none_ignores_it():
    torch.manual_seed(0)
    m = _tiny().eval()
    x, n = torch.randn(1, 40, 40), torch.tensor([40])
    a = m(x, n, language=torch.tensor([0])).log_probs
    b = m(x, n, language=torch.tensor([1])).log_probs
    assert not torch.allclose(a, b)
    m0 = _tiny("none").eval()
    torch.testing.assert_close(m0(x, n, language=torch.tensor([0])).log_probs,
                               m0(x, n, language=torch.tensor([1])).log_probs)
    with pytest.raises(ParameterError, match="pass language="):
        m(x, n)
    with pytest.raises(ParameterError, match="not one of"):
        m.language_index("nl")


def test_output_does_not_depend_on_batch_padding():
    # the embedding is added to valid frames only: an utterance alone and padded in a batch agree
    torch.manual_seed(1)
    m = _tiny().eval()
    x = torch.randn(2, 50, 40)
    out = m(x, torch.tensor([50, 31]), language=torch.tensor([1, 0]))
    alone = m(x[1:, :31], torch.tensor([31]), language=torch.tensor([0]))
    T = int(alone.lengths[0])
    assert int(out.lengths[1]) == T
    torch.testing.assert_close(out.log_probs[:T, 1], alone.log_probs[:T, 0], atol=1e-5, rtol=1e-5)


def test_restrict_decodes_only_the_language_characters(monkeypatch):
    m = _tiny()
    # frames whose best class is 'ü' (id 4) then blank; 'é' (id 3) is second best
    lp = np.log(np.array([[0.05, 0.05, 0.05, 0.35, 0.5], [0.9, 0.025, 0.025, 0.025, 0.025]]))
    monkeypatch.setattr(m, "log_probs", lambda y, sr, language=None: lp)
    y = np.zeros(1600, np.float32)
    assert m.transcribe(y, sr=16000, language="fr") == "ü"
    assert m.transcribe(y, sr=16000, language="fr", restrict=True) == "é"      # 'ü' is not French
    assert m.transcribe(y, sr=16000, language="de", restrict=True) == "ü"
    with pytest.raises(ParameterError, match="restrict=True needs language"):
        m.transcribe(y, sr=16000, restrict=True)


def test_config_validation():
    with pytest.raises(ParameterError, match="condition"):
        ml.MultilingualCTCConfig(condition="token").validate()
    with pytest.raises(ParameterError, match="distinct languages"):
        ml.MultilingualCTCConfig(condition="embedding").validate()
    with pytest.raises(ParameterError, match="vocab_size"):
        ml.MultilingualCTC(ml.MultilingualCTCConfig(alphabet=" ab", vocab_size=9))


def test_train_ctc_learns_and_transcribes_raw_audio(train_clips):
    clips = [c for c in train_clips if c.speaker.endswith("_f1") and c.label in ("five", "zero")]
    tok = ml.MultilingualTokenizer.from_clips(clips)
    model, hist = ml.train_ctc(clips, tokenizer=tok, condition="embedding", epochs=12, augment=False,
                               config={"hidden": 32, "channels": 16, "n_layers": 1}, lr=1e-2, progress=False)
    losses = [e["train_loss"] for e in hist.epochs]
    assert losses[-1] < 0.6 * losses[0]
    assert model.config.vocabularies["de"] == "flnuü"          # fünf, null
    c = clips[0]
    text = model.transcribe(c.audio[::2].copy(), sr=8000, language=c.language)   # any rate in
    assert isinstance(text, str) and set(text) <= set(tok.alphabet)
    res = ml.evaluate_ctc(model, clips[:4])
    assert set(res.per_language) == {c.language for c in clips[:4]} and 0 <= res.cer
    with pytest.raises(ParameterError, match="same output layer"):
        ml.train_ctc(clips, tokenizer=ml.MultilingualTokenizer.from_clips(clips[:2]), init=model, epochs=1,
                     progress=False)


def test_few_shot_subset_spreads_over_words(train_clips):
    nl = [c for c in train_clips if c.language == "nl"]
    few = ml.few_shot_subset(nl, fraction=0.1, seed=0)
    assert len(few) == 8 and len({c.label for c in few}) == 8
    assert [c.path for c in few] == [c.path for c in ml.few_shot_subset(nl, fraction=0.1, seed=0)]
    assert len(ml.few_shot_subset(nl, fraction=0.2, seed=0)) == 16
    assert len({c.label for c in ml.few_shot_subset(nl, fraction=0.2, seed=0)}) == 10
    with pytest.raises(ParameterError, match="fraction"):
        ml.few_shot_subset(nl, fraction=0.0)


# --------------------------------------------------------------------------- language ID

def test_language_identifier_raw_audio_any_rate():
    torch.manual_seed(0)
    m = ml.LanguageIdentifier(ml.LangIdConfig(channels=(4, 8))).eval()
    y = np.random.default_rng(0).standard_normal(12000).astype(np.float32) * 0.1
    p = m.predict_proba(y, sr=16000)
    assert set(p) == set(ml.LANGUAGES) and abs(sum(p.values()) - 1) < 1e-5
    assert m.predict(y, sr=16000) == max(p, key=p.get)
    assert m.predict(y[::2].copy(), sr=8000) in ml.LANGUAGES
    assert m.embed(y, sr=16000).shape == (8,)
    # a clip shorter than the window is centred in it: the same features as placing it by hand
    w = m._prepare(y, 16000)[0].numpy()
    assert w.shape == (int(1.6 * 16000),)
    off = (len(w) - len(y)) // 2
    # plus place_in_window's noise floor 65 dB below the clip's RMS (0.1 * 10**(-65/20) = 5.6e-5 std)
    np.testing.assert_allclose(w[off:off + len(y)], y, atol=5e-4)
    assert np.abs(w[:off]).max() < 5e-4
    with pytest.raises(ParameterError, match="100 ms"):
        m.predict(y[:800], sr=16000)
    with pytest.raises(ParameterError, match="window_s"):
        ml.LangIdConfig(window_s=0.0)
    with pytest.raises(ParameterError, match="cnn"):
        ml.LangIdConfig(arch="crnn")


class _Fixed:
    """A stand-in model answering from a table (brute-force check of the bookkeeping)."""

    def __init__(self, answers):
        self.answers = answers
        self.config = ml.LangIdConfig()

    def predict(self, y, *, sr):
        return self.answers[round(float(y[0]) * 1000)]


def test_evaluate_language_id_counts():
    from types import SimpleNamespace

    truth = ["de", "de", "nl", "nl", "nl", "fr"]
    answers = ["de", "nl", "nl", "nl", "de", "fr"]
    clips = [SimpleNamespace(audio=np.full(1600, i / 1000, np.float32), sr=16000, language=t, speaker=f"v{i % 2}")
             for i, t in enumerate(truth)]
    r = ml.evaluate_language_id(_Fixed(answers), clips, progress=False)
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["per_language"] == {"de": 0.5, "fr": 1.0, "nl": pytest.approx(2 / 3)}
    assert r["per_voice"] == {"v0": pytest.approx(2 / 3), "v1": pytest.approx(2 / 3)}
    C = np.array(r["confusion"])
    i = {g: k for k, g in enumerate(r["labels"])}
    assert C[i["de"], i["nl"]] == 1 and C[i["nl"], i["de"]] == 1 and C.sum() == 6 and np.trace(C) == 4


# --------------------------------------------------------------------------- the shipped checkpoint

LID = "langid_cnn"


@pytest.mark.slow
@pytest.mark.skipif(LID not in pretrained.available(), reason=f"{LID} is not shipped")
def test_langid_checkpoint_on_the_test_voices():
    model = pretrained.load(LID, device="cpu")
    rec = model.record["metrics"]["test"]
    r = ml.evaluate_language_id(model, data.multilingual_digits(split="test"), progress=False)
    # deterministic: the same clips, the same weights -> the recorded figures exactly
    assert r["accuracy"] == pytest.approx(rec["accuracy"], abs=1e-9)
    assert r["per_voice"] == pytest.approx(rec["per_voice_accuracy"], abs=1e-9)
    # the chapter's target (95 % on the test voices), and floors just below the measured level
    assert r["accuracy"] >= 0.95
    assert r["accuracy"] >= LID_FLOOR and min(r["per_voice"].values()) >= LID_WORST_VOICE_FLOOR


#: the shipped checkpoint's measured test accuracy (record: 0.983 overall, worst voices espeak_es_f5 and
#: espeak_it_m8 0.9; LANGID_CHANNELS=32,64,128 LANGID_COPIES=4 LANGID_TIME_BUDGET=1500
#: python tools/train_models.py langid_cnn), minus one clip's worth (1/120 overall, 1/10 per voice)
LID_FLOOR = 0.975
LID_WORST_VOICE_FLOOR = 0.80
