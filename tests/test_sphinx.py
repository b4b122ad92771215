"""course_lib.sphinx: PocketSphinx with a one-word grammar, the course's independent judge.

Reference: SpeechRecognition's own ``Recognizer.recognize_sphinx`` (a fresh decoder
and grammar per call). The reused decoder must give the *same* hypothesis on every
clip: same model files, same grammar, same language weight, same 16 kHz conversion.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

pytest.importorskip("pocketsphinx")
pytest.importorskip("speech_recognition")

from course_lib import data, sphinx  # noqa: E402
from course_lib.errors import ParameterError  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return sphinx.SphinxRecognizer(data.DIGITS)


@pytest.fixture(scope="module")
def clips():
    # two voices, four digits each: one PocketSphinx understands (flite_awb, a recorded human voice)
    # and one it mostly does not (espeak m8): both kinds of answer must agree between the two paths
    test = data.spoken_words(split="test", words=data.DIGITS)
    return [c for c in test if c.speaker == "flite_awb"][::8] + [c for c in test if c.speaker == "espeak_en-029_m8"][::8]


def test_reused_decoder_equals_recognize_sphinx(digits, clips):
    reference = sphinx.SphinxRecognizer(data.DIGITS, reuse_decoder=False)
    ours = [digits.predict(c.audio, sr=c.sr) for c in clips]
    theirs = [reference.predict(c.audio, sr=c.sr) for c in clips]
    assert ours == theirs


def test_grammar_restricts_answers_to_the_vocabulary(digits, clips):
    answers = {digits.predict(c.audio, sr=c.sr) for c in clips}
    assert answers <= set(data.DIGITS) | {""}


def test_recognises_a_recorded_human_voice():
    # flite's awb voice is built from recordings of a person: PocketSphinx should know it
    clips = [c for c in data.spoken_words(split="test", words=data.DIGITS) if c.speaker == "flite_awb"]
    rec = sphinx.SphinxRecognizer(data.DIGITS)
    acc = np.mean([rec.predict(c.audio, sr=c.sr) == c.label for c in clips])
    assert acc >= 0.8


def test_any_sample_rate_in(digits):
    from course_lib import audio

    c = [c for c in data.spoken_words(split="test", words=["seven"]) if c.speaker == "flite_awb"][0]
    y8 = audio.resample(c.audio, orig_sr=c.sr, target_sr=8000)
    assert digits.predict(c.audio, sr=c.sr) == digits.predict(y8, sr=8000) == "seven"


def test_silence_gives_nothing_or_a_word(digits):
    out = digits.predict(np.zeros(16000, dtype=np.float32), sr=16000)
    assert out in set(data.DIGITS) | {""}


def test_jsgf_names_the_rule_like_the_grammar():
    g = sphinx.jsgf(["yes", "no"], name="yn")
    assert "grammar yn;" in g and "public <yn> = yes | no ;" in g


def test_bad_input_is_refused(digits):
    with pytest.raises(ParameterError, match="dictionary"):
        sphinx.SphinxRecognizer(["zero", "xqzzyv"])
    with pytest.raises(ParameterError, match="lower-case"):
        sphinx.jsgf(["Zero"])
    with pytest.raises(ParameterError, match="empty"):
        sphinx.SphinxRecognizer([])
    with pytest.raises(ParameterError, match="sr="):
        digits.predict(np.zeros(100), sr=100)
    with pytest.raises(ParameterError):
        digits.predict(np.zeros((2, 100)), sr=16000)


def test_pickles_without_the_decoder(digits, clips):
    digits.predict(clips[0].audio, sr=clips[0].sr)
    again = pickle.loads(pickle.dumps(digits))
    assert again.predict(clips[0].audio, sr=clips[0].sr) == digits.predict(clips[0].audio, sr=clips[0].sr)
