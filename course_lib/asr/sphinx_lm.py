"""PocketSphinx with its own US-English language model: open-vocabulary transcription beside ours.

Notebook: 05_ctc_asr.ipynb

``SpeechRecognition``'s ``Recognizer().recognize_sphinx(audio)`` with no grammar
decodes with the en-US model in its wheel (see :mod:`course_lib.sphinx` for what
that acoustic model was trained on: real recorded US-English speech, CMU): a
trigram language model over a general English vocabulary (open vocabulary:
it knows nothing of the corpus's sentences) and the CMU pronouncing dictionary.
:class:`SphinxTranscriber` gives it the course's ``transcribe(y, *, sr)``;
``reuse_decoder=True`` builds the same ``pocketsphinx.Decoder`` once (same
files, same settings) instead of reloading it for every clip.
"""

from __future__ import annotations

import os

from .. import sphinx as _sphinx

__all__ = ["SphinxTranscriber"]


class SphinxTranscriber:
    """Open-vocabulary PocketSphinx (its en-US acoustic model, trigram LM and dictionary)."""

    def __init__(self, *, reuse_decoder: bool = True):
        _sphinx._require()
        self.reuse_decoder = bool(reuse_decoder)
        self._decoder = None

    def __repr__(self) -> str:
        return f"SphinxTranscriber(reuse_decoder={self.reuse_decoder})"

    def _build(self):
        from pocketsphinx import pocketsphinx

        hmm_dir, lm, dic = _sphinx.model_paths()
        config = pocketsphinx.Config()
        config.set_string("-hmm", hmm_dir)
        config.set_string("-lm", lm)
        config.set_string("-dict", dic)
        config.set_string("-logfn", os.devnull)
        return pocketsphinx.Decoder(config)

    def transcribe(self, y, *, sr: int) -> str:
        """Lower-case words PocketSphinx hears in ``y`` (mono, any ``sr``); ``""`` if none."""
        audio = _sphinx.SphinxRecognizer._audio_data(y, sr)
        if not self.reuse_decoder:
            import speech_recognition as srec

            try:
                return srec.Recognizer().recognize_sphinx(audio).strip().lower()
            except srec.UnknownValueError:
                return ""
        if self._decoder is None:
            self._decoder = self._build()
        d = self._decoder
        d.start_utt()
        d.process_raw(audio.get_raw_data(convert_rate=16000, convert_width=2), False, True)
        d.end_utt()
        hyp = d.hyp()
        return "" if hyp is None else hyp.hypstr.strip().lower()

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_decoder"] = None
        return state
