"""Open-vocabulary PocketSphinx: the reused decoder equals recognize_sphinx, and it understands a test voice."""

from __future__ import annotations

import pytest

from course_lib import data, metrics, sphinx

pytestmark = pytest.mark.skipif(not sphinx.available(), reason="pocketsphinx / SpeechRecognition not installed")


def test_reused_decoder_equals_recognize_sphinx_and_hears_words():
    from course_lib.asr.sphinx_lm import SphinxTranscriber

    clips = [c for c in data.sentences(split="test", speaker="flite_awb", check=False)][:2]
    fast, slow = SphinxTranscriber(), SphinxTranscriber(reuse_decoder=False)
    hyps = [fast.transcribe(c.audio, sr=c.sr) for c in clips]
    assert hyps == [slow.transcribe(c.audio, sr=c.sr) for c in clips]
    # flite_awb is a diphone voice built from a person's recordings: PocketSphinx's real-speech model
    # gets most of its words (measured WER 0.18 on these two clips); a deaf model would be near 1.0
    assert metrics.wer([c.text for c in clips], hyps) < 0.5
    assert fast.transcribe(clips[0].audio[::2], sr=clips[0].sr // 2) != ""          # any sample rate
