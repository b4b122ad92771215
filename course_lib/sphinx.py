"""PocketSphinx, a production HMM recogniser, as an independent judge beside the course's own.

Notebook: 04_hmm_word_recognition.ipynb

CMU PocketSphinx (``pocketsphinx`` 5, through ``SpeechRecognition``'s
``Recognizer.recognize_sphinx``) decodes with the US-English model that ships
inside the SpeechRecognition wheel (``speech_recognition/pocketsphinx-data/en-US``):

- **acoustic model**: the generic en-US continuous model of sphinxtrain, a
  phonetically-tied-mixture HMM over context-dependent triphones, trained by CMU
  on real recorded US-English speech (16 kHz, 130-6800 Hz, 13 MFCC + deltas +
  delta-deltas with CMN: see ``acoustic-model/feat.params``);
- **dictionary**: the CMU pronouncing dictionary (``zero`` is ``Z IH R OW`` or ``Z IY R OW``);
- **search**: either the shipped trigram language model (open vocabulary: a lone
  "four" may come back as "for" or "hey") or, as here, a **JSGF grammar**
  ``public <words> = zero | one | ... ;`` that allows exactly one word of the
  vocabulary -- the same closed-vocabulary task the course's word recogniser solves.

Nothing of the course's corpus went into that model, so its accuracy per voice is
a *naturalness screen*: a voice that a recogniser trained on people cannot understand
teaches our models something people do not sound like.

Two ways to run it, with the same result (``tests/test_sphinx.py`` checks them equal):

- ``SphinxRecognizer(words, reuse_decoder=False)`` calls ``recognize_sphinx`` for
  every clip, exactly as the SpeechRecognition documentation shows (about 0.5 s a
  clip, most of it loading the acoustic model again);
- ``reuse_decoder=True`` (the default) builds the same ``pocketsphinx.Decoder``
  (same model files, same grammar, same language weight 7.5) once and feeds it every
  clip, ten times faster for the evaluation tables.

A slip in SpeechRecognition 3.17 with pocketsphinx 5, worked around here: the second
``recognize_sphinx`` call with the same JSGF file finds the ``.fsg`` file the first
call wrote next to it and crashes on ``FsgModel(path, logmath, 7.5)`` (pocketsphinx 5
wants four arguments), and a grammar whose rule is not named like the grammar crashes
the interpreter (segmentation fault); so each call gets a fresh folder, and the rule is
always named like the grammar.
"""

from __future__ import annotations

import os
import re
import tempfile

import numpy as np

from .errors import ParameterError

__all__ = ["SphinxRecognizer", "available", "model_paths", "jsgf"]

_WORD = re.compile(r"^[a-z][a-z']*$")


def available() -> bool:
    """True when ``pocketsphinx`` and ``speech_recognition`` import (both are course dependencies)."""
    try:
        import pocketsphinx  # noqa: F401
        import speech_recognition  # noqa: F401
    except ImportError:
        return False
    return True


def _require():
    if not available():
        raise ParameterError("PocketSphinx needs the packages pocketsphinx and SpeechRecognition: "
                             "pip install pocketsphinx SpeechRecognition (both are in the course's pins)")


def model_paths() -> tuple[str, str, str]:
    """``(acoustic model folder, language model file, dictionary file)`` that ``recognize_sphinx`` uses."""
    _require()
    import speech_recognition

    root = os.path.join(os.path.dirname(os.path.realpath(speech_recognition.__file__)), "pocketsphinx-data", "en-US")
    return (os.path.join(root, "acoustic-model"), os.path.join(root, "language-model.lm.bin"),
            os.path.join(root, "pronounciation-dictionary.dict"))


def _dictionary_words() -> set:
    path = model_paths()[2]
    with open(path, encoding="utf-8", errors="replace") as f:
        return {line.split(None, 1)[0].split("(")[0] for line in f if line.strip()}


def jsgf(words, *, name: str = "words") -> str:
    """A JSGF grammar that accepts exactly one of ``words``.

    >>> print(jsgf(["yes", "no"]), end="")
    #JSGF V1.0;
    grammar words;
    public <words> = yes | no ;
    """
    words = list(words)
    if not words:
        raise ParameterError("words is empty: give the vocabulary, e.g. data.DIGITS")
    bad = [w for w in words if not isinstance(w, str) or not _WORD.match(w)]
    if bad:
        raise ParameterError(f"words {bad} must be lower-case words (letters and apostrophes)")
    return f"#JSGF V1.0;\ngrammar {name};\npublic <{name}> = " + " | ".join(words) + " ;\n"


class SphinxRecognizer:
    """Closed-vocabulary word recognition with PocketSphinx and a one-word grammar.

    Notebook: 04_hmm_word_recognition.ipynb

    Parameters
    ----------
    words : iterable of str
        The vocabulary (every word must be in the CMU dictionary), e.g. ``data.DIGITS``.
    reuse_decoder : bool
        ``True``: one ``pocketsphinx.Decoder`` configured exactly as ``recognize_sphinx``
        configures it, reused for every clip. ``False``: ``recognize_sphinx`` for every clip.

    ``predict(y, *, sr)`` returns the recognised word, or ``""`` when PocketSphinx
    finds none (SpeechRecognition's ``UnknownValueError``). Any sample rate in: the
    audio goes through SpeechRecognition's ``AudioData`` and is converted to 16 kHz
    16-bit there, in both modes.
    """

    def __init__(self, words, *, reuse_decoder: bool = True):
        _require()
        self.words = list(words)
        jsgf(self.words)                                    # validates
        missing = [w for w in self.words if w not in _dictionary_words()]
        if missing:
            raise ParameterError(f"words {missing} are not in PocketSphinx's dictionary ({model_paths()[2]}); "
                                 "pick words it can pronounce")
        self.reuse_decoder = bool(reuse_decoder)
        self._decoder = None

    def __repr__(self) -> str:
        return f"SphinxRecognizer({len(self.words)} words, reuse_decoder={self.reuse_decoder})"

    @staticmethod
    def _audio_data(y, sr):
        import speech_recognition as srec

        from .validation import valid_audio

        y = np.asarray(y)
        valid_audio(y, mono=True)
        if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr < 4000:
            raise ParameterError(f"sr={sr!r} must be an integer sample rate >= 4000 Hz")
        pcm = (np.clip(np.asarray(y, dtype=np.float64), -1.0, 1.0) * 32767).astype("<i2")
        return srec.AudioData(pcm.tobytes(), int(sr), 2)

    def _build_decoder(self, folder):
        """The decoder ``recognize_sphinx`` builds (same Config, same FSG from the same JSGF)."""
        from pocketsphinx import Jsgf, pocketsphinx

        hmm_dir, lm, dic = model_paths()
        config = pocketsphinx.Config()
        config.set_string("-hmm", hmm_dir)
        config.set_string("-lm", lm)
        config.set_string("-dict", dic)
        config.set_string("-logfn", os.devnull)
        decoder = pocketsphinx.Decoder(config)
        path = os.path.join(folder, "words.jsgf")
        with open(path, "w") as f:
            f.write(jsgf(self.words))
        grammar = Jsgf(path)
        fsg = grammar.build_fsg(grammar.get_rule("words.words"), decoder.get_logmath(), 7.5)
        decoder.set_fsg("words", fsg)
        decoder.activate_search("words")
        return decoder

    def predict(self, y: np.ndarray, *, sr: int) -> str:
        """The vocabulary word PocketSphinx hears in ``y`` (mono, any ``sr``), or ``""``."""
        audio = self._audio_data(y, sr)
        if not self.reuse_decoder:
            import speech_recognition as srec

            with tempfile.TemporaryDirectory() as folder:     # fresh folder: see the module docstring
                path = os.path.join(folder, "words.jsgf")
                with open(path, "w") as f:
                    f.write(jsgf(self.words))
                try:
                    return srec.Recognizer().recognize_sphinx(audio, grammar=path).strip()
                except srec.UnknownValueError:
                    return ""
        if self._decoder is None:
            with tempfile.TemporaryDirectory() as folder:
                self._decoder = self._build_decoder(folder)
        d = self._decoder
        d.start_utt()
        d.process_raw(audio.get_raw_data(convert_rate=16000, convert_width=2), False, True)
        d.end_utt()
        hyp = d.hyp()
        return "" if hyp is None else hyp.hypstr.strip()

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_decoder"] = None
        return state
