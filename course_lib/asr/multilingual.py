"""Multilingual speech: one character set for six languages, spoken language ID, one CTC model for all.

Notebook: 15_multilingual.ipynb

The corpus speaks the ten digits in six languages (:func:`course_lib.data.multilingual_digits`:
en, de, fr, es, it, nl; 12 espeak-ng voice variants, speaker-disjoint splits). This module
builds on chapter 05's CTC recogniser and chapter 07's CNN:

- :class:`MultilingualTokenizer` — the union of the languages' characters, Unicode NFC
  (``"zéro"`` typed with a combining accent and with the precomposed ``é`` are one
  transcript), accents kept, the CTC blank at 0, and each language's own vocabulary
  (:meth:`~MultilingualTokenizer.language_mask` restricts a decoder to it);
- :func:`cer_per_language` — CER per language on NFC text (a decomposed accent would
  otherwise count as two characters);
- :class:`LanguageIdentifier` — spoken language ID: a pooled log-mel CNN embedding
  (chapter 07's :class:`~course_lib.classify.AudioCNN` inside a
  :class:`~course_lib.classify.KeywordSpotter` front end) classified into the six languages;
  raw audio at any sample rate in, ``.predict(y, sr=sr)`` → ``"de"``;
- :class:`MultilingualCTC` — chapter 05's :class:`~course_lib.asr.models.CTCRecognizer`
  with an optional learned *language embedding* added to every input frame, so one
  model covers the set-ups (a) no language information, (b) the language given,
  (c) one monolingual model per language (:func:`train_ctc`, :func:`evaluate_ctc`);
- :func:`few_shot_subset` — the "10 % of a language" of the transfer experiment.

>>> tok = MultilingualTokenizer.from_texts({"fr": ["zéro", "trois"], "de": ["fünf", "drei"]})
>>> tok.alphabet
' definorstzéü'
>>> tok.decode(tok.encode("ZE\\u0301RO"))          # 'E' + combining acute -> 'é' (NFC)
'zéro'
>>> sorted(tok.vocabularies["de"])
['d', 'e', 'f', 'i', 'n', 'r', 'ü']
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple

import numpy as np
import torch
from torch import nn

from ..classify import KeywordSpotter, KwsConfig
from ..errors import ParameterError
from .models import CTCConfig, CTCOutput, CTCRecognizer
from .text import CharTokenizer, normalize as _normalize

__all__ = ["LANGUAGES", "DIGIT_WORDS", "nfc", "spell_digits", "MultilingualTokenizer", "cer_per_language",
           "LangIdConfig", "LanguageIdentifier", "language_windows", "train_language_id",
           "evaluate_language_id", "MultilingualCTCConfig", "MultilingualCTC", "train_ctc", "evaluate_ctc",
           "few_shot_subset", "CTCResult"]

#: The corpus languages (ISO 639-1), in :data:`course_lib.data.LANGUAGES`' order.
LANGUAGES = ("en", "de", "fr", "es", "it", "nl")

#: The digit words 0..9 of each language, spelled as the corpus transcripts spell them
#: (tests check this table against :func:`course_lib.data.multilingual_digits`).
DIGIT_WORDS = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "de": ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
    "fr": ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"),
    "es": ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"),
    "it": ("zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"),
    "nl": ("nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"),
}


def _check_language(language, known=LANGUAGES, name="language") -> str:
    if language not in known:
        raise ParameterError(f"{name}={language!r} is not one of {list(known)}")
    return language


# --------------------------------------------------------------------------- text

def nfc(text: str) -> str:
    """``text`` in Unicode normal form C (composed: ``"e" + U+0301`` → ``"é"``).

    Notebook: 15_multilingual.ipynb

    >>> len("ze\\u0301ro"), len(nfc("ze\\u0301ro"))
    (5, 4)
    """
    if not isinstance(text, str):
        raise ParameterError(f"text must be a string, got {type(text).__name__}")
    return unicodedata.normalize("NFC", text)


def spell_digits(text: str, *, language: str) -> str:
    """Every digit of ``text`` replaced by its word in ``language`` (``"42"`` → ``"vier zwei"`` in German), whitespace collapsed.

    Notebook: 15_multilingual.ipynb

    Chapter 05's :func:`course_lib.asr.text.normalize` spells digits in English; a
    multilingual transcript must spell them in its own language.

    >>> spell_digits("Tel. 05", language="fr")
    'Tel. zéro cinq'
    """
    words = DIGIT_WORDS[_check_language(language)]
    return " ".join("".join(f" {words[int(c)]} " if c in "0123456789" else c for c in nfc(text)).split())


def _is_symbol(c: str) -> bool:
    """A character a transcript keeps: letters (any script), combining marks (accents, vowel signs), '."""
    return c == "'" or unicodedata.category(c)[0] in "LM"


class MultilingualTokenizer(CharTokenizer):
    """Characters of several languages ↔ ids: one shared output layer for a multilingual CTC model.

    Notebook: 15_multilingual.ipynb

    A :class:`~course_lib.asr.text.CharTokenizer` (blank 0, space 1, then the characters)
    whose alphabet is the union of the languages' characters after NFC and lower-casing;
    ``vocabularies[lang]`` is the set of characters ``lang``'s transcripts use. Unlike
    chapter 05's tokenizer it keeps every script's letters and combining marks (a Hindi
    vowel sign is not a letter but must not become a space), spells digits in the
    transcript's language, and with ``strict=True`` refuses a character it has no id for
    instead of turning it into a space.

    Parameters
    ----------
    alphabet : str
        Space first, then the symbols (each once, NFC).
    vocabularies : dict of str -> iterable of str, optional
        Each language's characters (all must be in ``alphabet``).
    strict : bool
        Raise :class:`~course_lib.errors.ParameterError` on characters outside the alphabet.
    """

    def __init__(self, alphabet: str, *, vocabularies: dict | None = None, strict: bool = True):
        if not isinstance(alphabet, str) or alphabet != nfc(alphabet):
            raise ParameterError("alphabet must be an NFC string (apply course_lib.asr.multilingual.nfc first)")
        super().__init__(alphabet)
        self.strict = bool(strict)
        self.vocabularies = {}
        for lang, chars in (vocabularies or {}).items():
            chars = frozenset(chars) - {" "}
            missing = sorted(chars - set(alphabet))
            if missing:
                raise ParameterError(f"vocabularies[{lang!r}] has {missing}, which the alphabet {alphabet!r} lacks")
            self.vocabularies[lang] = chars

    @staticmethod
    def clean(text: str, *, language: str | None = None) -> str:
        """NFC, lower case, digits spelled in ``language``, whitespace collapsed (no alphabet applied)."""
        text = nfc(text)
        if any(c in "0123456789" for c in text):
            if language is None:
                raise ParameterError(f"{text!r} has digits: say which language spells them (language='de', ...)")
            text = spell_digits(text, language=language)
        text = nfc(text.lower())                    # lower() may decompose (e.g. 'İ'): compose again
        return " ".join("".join(c if _is_symbol(c) else " " for c in text).split())

    @classmethod
    def from_texts(cls, texts_by_language, *, strict: bool = True) -> "MultilingualTokenizer":
        """The tokenizer of ``{language: [transcript, ...]}`` (e.g. the training clips' texts):
        space first, then the union of characters in code-point order."""
        if not isinstance(texts_by_language, dict) or not texts_by_language:
            raise ParameterError("texts_by_language must be a non-empty dict {language: [texts]}")
        vocab = {}
        for lang, texts in texts_by_language.items():
            if isinstance(texts, str):
                raise ParameterError(f"texts_by_language[{lang!r}] must be a list of transcripts, not one string")
            lang_code = lang if lang in DIGIT_WORDS else None
            vocab[lang] = set("".join(cls.clean(t, language=lang_code) for t in texts)) - {" "}
        union = sorted(set().union(*vocab.values()))
        return cls(" " + "".join(union), vocabularies=vocab, strict=strict)

    @classmethod
    def from_clips(cls, clips, *, strict: bool = True) -> "MultilingualTokenizer":
        """The tokenizer of corpus clips' transcripts (``clip.text`` by ``clip.language``)."""
        by_lang = defaultdict(list)
        for c in clips:
            by_lang[c.language].append(c.text)
        return cls.from_texts(dict(by_lang), strict=strict)

    def normalize(self, text: str, *, language: str | None = None) -> str:
        """:meth:`clean`, then (``strict=False``) characters outside the alphabet become spaces."""
        text = self.clean(text, language=language)
        unknown = sorted(set(text) - set(self.alphabet))
        if unknown and self.strict:
            names = ", ".join(f"{c!r} (U+{ord(c):04X} {unicodedata.name(c, '?')})" for c in unknown)
            raise ParameterError(f"{text!r} has characters this tokenizer has no id for: {names}; build the "
                                 "tokenizer from texts that include them, or pass strict=False to map them to spaces")
        return _normalize(text, alphabet=self.alphabet)

    def encode(self, text: str, *, language: str | None = None) -> list[int]:
        """Ids of the normalised ``text`` (never the blank).

        Returns
        -------
        list of int [shape=(n_chars,)]
        """
        return [self._ids[c] for c in self.normalize(text, language=language)]

    def language_mask(self, language: str) -> np.ndarray:
        """``(vocab_size,)`` bool: the blank, the space and ``language``'s characters."""
        if language not in self.vocabularies:
            raise ParameterError(f"language={language!r} has no vocabulary here; known: {sorted(self.vocabularies)}")
        keep = self.vocabularies[language] | {" "}
        return np.array([i == self.blank or s in keep for i, s in enumerate(self.symbols)])

    def __repr__(self) -> str:
        return f"MultilingualTokenizer(alphabet={self.alphabet!r}, languages={sorted(self.vocabularies)})"


def cer_per_language(references, hypotheses, languages) -> dict:
    """Corpus-level CER (:func:`course_lib.metrics.cer`) per language and overall, on NFC text.

    Notebook: 15_multilingual.ipynb

    Parameters
    ----------
    references, hypotheses, languages : sequences of str, one item per utterance

    Returns
    -------
    dict
        ``{language: cer, ..., "all": cer}``: summed edits over summed reference characters.

    >>> cer_per_language(["zéro", "drei"], ["ze\\u0301ro", "dre"], ["fr", "de"])
    {'de': 0.25, 'fr': 0.0, 'all': 0.125}
    """
    from .. import metrics

    references, hypotheses, languages = list(references), list(hypotheses), list(languages)
    if not (len(references) == len(hypotheses) == len(languages)) or not references:
        raise ParameterError(f"references, hypotheses and languages must be equally long and non-empty, got "
                             f"{len(references)}, {len(hypotheses)}, {len(languages)}")
    refs = [nfc(r) for r in references]
    hyps = [nfc(h) for h in hypotheses]
    out = {}
    for lang in sorted(set(languages)):
        idx = [i for i, g in enumerate(languages) if g == lang]
        out[lang] = float(metrics.cer([refs[i] for i in idx], [hyps[i] for i in idx]))
    out["all"] = float(metrics.cer(refs, hyps))
    return out


# --------------------------------------------------------------------------- language ID

@dataclass
class LangIdConfig(KwsConfig):
    """Settings of :class:`LanguageIdentifier`: chapter 07's :class:`~course_lib.classify.KwsConfig`
    (log-mel front end, CNN) with the languages as labels and a longer window.

    window_s : float
        Every clip is placed in a window this long (the corpus' digits last 0.4-1.55 s);
        longer clips are classified whole.
    """

    labels: tuple = LANGUAGES
    window_s: float = 1.6
    channels: tuple = (16, 32, 64)

    def __post_init__(self):
        super().__post_init__()
        if not 0.1 <= float(self.window_s) <= 30.0:
            raise ParameterError(f"window_s={self.window_s!r} must be in [0.1, 30] seconds")
        if self.arch != "cnn":
            raise ParameterError(f"arch={self.arch!r}: a LanguageIdentifier is a pooled CNN embedding, use 'cnn'")


def _place(y: np.ndarray, *, sr: int, window_s: float, rng: np.random.Generator) -> np.ndarray:
    """``y`` at a random offset in a ``window_s`` window over a -65 dB noise floor (training windows; at
    inference :meth:`KeywordSpotter.predict` centres instead); a longer ``y`` is returned whole."""
    from ..classify import place_in_window

    if len(y) >= int(round(window_s * sr)):
        return np.asarray(y, dtype=np.float32)
    return place_in_window(y, sr=sr, rng=rng, window_s=window_s)


class LanguageIdentifier(KeywordSpotter):
    """Spoken language identification: log-mel → CNN → time-pooled embedding → language.

    Notebook: 15_multilingual.ipynb

    Chapter 07's :class:`~course_lib.classify.KeywordSpotter` with the languages as
    labels: its :class:`~course_lib.classify.AudioCNN` ends in adaptive average pooling,
    so :meth:`embed` is one ``channels[-1]``-dimensional vector per utterance whatever its
    length. Raw audio in (any ``sr``; resampled, placed centred in a ``window_s`` window
    the way training placed it at random offsets): ``.predict(y, sr=sr)`` → ``"fr"``,
    ``.predict_proba`` → ``{language: probability}``.

    >>> m = LanguageIdentifier(LangIdConfig(channels=(4, 8)))
    >>> m.predict(np.zeros(8000, np.float32) + 1e-3, sr=8000) in LANGUAGES
    True
    >>> m.embed(np.zeros(16000, np.float32) + 1e-3, sr=16000).shape
    (8,)
    """

    Config = LangIdConfig
    _min_clip_s = 0.1
    _too_short = "language ID needs at least 100 ms of speech (a word or more)"

    def __init__(self, config: LangIdConfig | None = None):
        config = config if config is not None else LangIdConfig()
        if not isinstance(config, LangIdConfig):
            raise ParameterError(f"config must be a LangIdConfig, got {type(config).__name__}")
        super().__init__(config)

    @torch.no_grad()
    def embed(self, y, *, sr: int) -> np.ndarray:
        """The utterance embedding ``(channels[-1],)``: the CNN's time- and frequency-pooled features."""
        was = self.training
        self.eval()
        e = self.net.embed(self.features(self._prepare(y, sr)))[0].cpu().numpy()
        self.train(was)
        return e


def language_windows(clips, *, rng: np.random.Generator, copies: int = 1, window_s: float = 1.6,
                     noise: str | None = "train", chain: bool = True, snr_range=(0.0, 30.0),
                     p_noise: float = 0.6, speed_range=(0.9, 1.1), progress: bool = True):
    """Training (or evaluation) windows for language ID: each clip placed in ``window_s`` at a random offset.

    With ``chain``, each copy is sped up or slowed down (``speed_range``, as chapter 05's
    speed perturbation: a longer or shorter vocal tract) and goes through
    :func:`course_lib.augment.recording_chain` (room, microphone band, telephone, level);
    with ``noise`` ("train" / "test" takes) one of the corpus noises is mixed in at an SNR
    in ``snr_range`` with probability ``p_noise``.

    Returns
    -------
    waves : np.ndarray [shape=(n_items, round(window_s * sr)), dtype=float32]
    targets : np.ndarray [shape=(n_items,), dtype=int64]
        Indices into :data:`LANGUAGES`.
    speakers : list of str
    """
    from tqdm.auto import tqdm

    from .. import augment, data
    from .training import speed_perturb

    clips = list(clips)
    if not clips or copies < 1:
        raise ParameterError(f"need clips and copies >= 1, got {len(clips)} clips, copies={copies!r}")
    noises = [data.noise(k, split=noise, check=False).audio for k in data.NOISE_KINDS] if noise else []
    waves, targets, speakers = [], [], []
    for c in tqdm(clips * copies, desc="language windows", unit="clip", mininterval=2.0, disable=not progress):
        y = np.asarray(c.audio, dtype=np.float32)
        if chain:
            y = speed_perturb(y, sr=c.sr, factor=float(rng.uniform(*speed_range)))
            y = augment.recording_chain(y, sr=c.sr, rng=rng, p_noise=0.0, p_level=0.0)
        y = y[: int(round(window_s * c.sr))]
        w = _place(y, sr=c.sr, window_s=window_s, rng=rng)
        if noises and rng.random() < p_noise:
            w = augment.add_noise(w, sr=c.sr, rng=rng, snr_db=float(rng.uniform(*snr_range)),
                                  noise=noises[int(rng.integers(len(noises)))])
        w = w * np.float32(10 ** (rng.uniform(-30, 0) / 20) / max(float(np.abs(w).max()), 1e-6))
        waves.append(w.astype(np.float32))
        targets.append(LANGUAGES.index(c.language))
        speakers.append(c.speaker)
    return np.stack(waves), np.asarray(targets, dtype=np.int64), speakers


def train_language_id(config: LangIdConfig, train_windows, *, valid_windows=None, epochs: int = 30,
                      time_budget: float | None = None, spec_augment: bool = True, lr: float = 3e-3,
                      batch_size: int = 64, seed: int = 0, progress: bool = True):
    """Train a :class:`LanguageIdentifier` on ``(waves, targets)`` from :func:`language_windows`.

    Chapter 07's :func:`course_lib.classify.train_kws` does the work (features once,
    SpecAugment per batch, AdamW, the best epoch on ``valid_windows`` kept).

    Returns
    -------
    (LanguageIdentifier, course_lib.train.History)
    """
    from ..classify import train_kws

    if not isinstance(config, LangIdConfig):
        raise ParameterError(f"config must be a LangIdConfig, got {type(config).__name__}")
    W, T = train_windows[0], train_windows[1]
    valid = (valid_windows[0], valid_windows[1]) if valid_windows is not None else None
    kws, history = train_kws(config, W, T, valid=valid, epochs=epochs, time_budget=time_budget,
                             spec_augment=spec_augment, lr=lr, batch_size=batch_size, seed=seed, progress=progress,
                             desc="language id")
    model = LanguageIdentifier(config)
    model.load_state_dict(kws.state_dict())
    return model.eval(), history


def evaluate_language_id(model, clips, *, snr_db: float | None = None, noise_kind: str = "babble",
                         gain_db: float = 0.0, seed: int = 0, progress: bool = True) -> dict:
    """Accuracy of ``model.predict`` (raw audio) on ``clips``: overall, per language, per voice, confusions.

    Notebook: 15_multilingual.ipynb

    With ``snr_db`` the *test* take of ``noise_kind`` is mixed into each clip at that SNR;
    ``gain_db`` scales the clip (level robustness).

    Returns
    -------
    dict
        ``accuracy``, ``per_language`` / ``per_voice`` accuracies, ``confusion`` (rows true,
        columns predicted, in ``labels`` order, as lists), ``labels``, ``predictions``, ``n``.
    """
    from tqdm.auto import tqdm

    from .. import augment, data
    from ..classify import confusion_matrix

    rng = np.random.default_rng(seed)
    noise = data.noise(noise_kind, split="test", check=False).audio if snr_db is not None else None
    preds, truth, voices = [], [], []
    for c in tqdm(list(clips), desc="language ID", unit="clip", mininterval=2.0, disable=not progress):
        y = np.asarray(c.audio, dtype=np.float32) * np.float32(10 ** (gain_db / 20))
        if noise is not None:
            y = augment.add_noise(y, sr=c.sr, rng=rng, snr_db=snr_db, noise=noise)
        preds.append(model.predict(y, sr=c.sr))
        truth.append(c.language)
        voices.append(c.speaker)
    if not preds:
        raise ParameterError("clips is empty")
    labels = list(model.config.labels)
    hits = np.array([p == t for p, t in zip(preds, truth)])

    def group(keys):
        return {k: float(hits[[x == k for x in keys]].mean()) for k in sorted(set(keys))}

    return {"accuracy": float(hits.mean()), "per_language": group(truth), "per_voice": group(voices),
            "confusion": confusion_matrix(truth, preds, labels=labels).tolist(), "labels": labels,
            "predictions": preds, "n": len(preds)}


# --------------------------------------------------------------------------- multilingual CTC

@dataclass
class MultilingualCTCConfig(CTCConfig):
    """:class:`~course_lib.asr.models.CTCConfig` plus the language conditioning.

    Smaller defaults than chapter 05's (isolated words, not sentences): two stride-2
    convolutions (25 output frames a second; the longest digit word, "quattro", needs 8),
    a 2-layer BiGRU of 64 units, about 150 k parameters.

    languages : tuple of str
        With ``condition="embedding"``: the languages the model knows (embedding rows).
    condition : {"none", "embedding"}
        ``"none"``: set-ups (a) and (c), the model hears audio only; ``"embedding"``: set-up (b),
        a learned ``n_mels``-dimensional vector per language is added to every log-mel frame.
    """

    channels: int = 64
    n_conv: int = 2
    hidden: int = 64
    n_layers: int = 2
    dropout: float = 0.1
    languages: tuple = ()
    condition: str = "none"
    vocabularies: dict = field(default_factory=dict)

    def validate(self) -> None:
        super().validate()
        self.languages = tuple(self.languages)
        if self.condition not in ("none", "embedding"):
            raise ParameterError(f"MultilingualCTCConfig.condition={self.condition!r} must be 'none' or 'embedding'")
        if self.condition == "embedding" and (not self.languages or len(set(self.languages)) != len(self.languages)):
            raise ParameterError(f"condition='embedding' needs distinct languages, got languages={self.languages!r}")
        if self.alphabet != nfc(self.alphabet):
            raise ParameterError("MultilingualCTCConfig.alphabet must be NFC")
        self.vocabularies = {str(g): "".join(sorted(set(v) - {" "})) for g, v in dict(self.vocabularies).items()}


class MultilingualCTC(CTCRecognizer):
    """Chapter 05's CTC recogniser over a multilingual alphabet, optionally told the language.

    Notebook: 15_multilingual.ipynb

    ``forward(features (batch, frames, n_mels), lengths (batch,), language=None)``: with
    ``condition="embedding"`` ``language`` is ``(batch,)`` indices into ``config.languages``
    and ``embedding[language]`` ``(batch, 1, n_mels)`` is added to every valid frame before
    the convolution. :meth:`transcribe` takes raw audio (any ``sr``), the language where the
    model needs it, and ``restrict=True`` to decode only that language's characters.

    >>> m = MultilingualCTC(MultilingualCTCConfig(alphabet=" aé", vocab_size=4, hidden=8, channels=8,
    ...                                           n_layers=1, languages=("fr", "de"), condition="embedding"))
    >>> out = m(torch.zeros(2, 30, 40), torch.tensor([30, 20]), language=torch.tensor([0, 1]))
    >>> tuple(out.log_probs.shape), out.lengths.tolist()       # n_conv=2: 30 frames -> 8
    ((8, 2, 4), [8, 5])
    """

    Config = MultilingualCTCConfig

    def __init__(self, config: MultilingualCTCConfig | None = None):
        config = config if config is not None else MultilingualCTCConfig()
        if not isinstance(config, MultilingualCTCConfig):
            raise ParameterError(f"config must be a MultilingualCTCConfig, got {type(config).__name__}")
        super().__init__(config)
        self.tokenizer = MultilingualTokenizer(config.alphabet, vocabularies=config.vocabularies, strict=False)
        n = len(config.languages) if config.condition == "embedding" else 0
        self.language_embedding = nn.Embedding(n, config.n_mels) if n else None
        if n:
            nn.init.normal_(self.language_embedding.weight, std=0.5)

    def language_index(self, language) -> torch.Tensor:
        """``(batch,)`` int64 indices into ``config.languages`` of codes or indices."""
        langs = [language] if isinstance(language, (str, int)) else list(language)
        idx = []
        for g in langs:
            if isinstance(g, str):
                g = self.config.languages.index(_check_language(g, self.config.languages))
            idx.append(int(g))
        return torch.tensor(idx, dtype=torch.int64)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, language=None) -> CTCOutput:
        """features : (batch, frames, n_mels); lengths : (batch,); language : (batch,) or None."""
        if features.dim() != 3 or features.shape[-1] != self.config.n_mels:
            raise ParameterError(
                f"features must be (batch, frames, n_mels={self.config.n_mels}), got {tuple(features.shape)}")
        if self.language_embedding is not None:
            if language is None:
                raise ParameterError(f"this model was trained with the language given (condition='embedding'); "
                                     f"pass language= one of {list(self.config.languages)} (or a LanguageIdentifier's guess)")
            lang = torch.as_tensor(language, device=features.device).reshape(-1)
            if lang.shape[0] != features.shape[0]:
                raise ParameterError(f"language has {lang.shape[0]} entries for a batch of {features.shape[0]}")
            lengths_t = torch.as_tensor(lengths, device=features.device)
            valid = (torch.arange(features.shape[1], device=features.device)[None] < lengths_t[:, None])[..., None]
            features = features + self.language_embedding(lang)[:, None, :] * valid   # (B, 1, n_mels) over frames
        return super().forward(features, lengths)

    @torch.no_grad()
    def log_probs(self, y, *, sr: int, language=None) -> np.ndarray:
        """``(frames, vocab_size)`` float64 log-probabilities of one utterance (mono, any ``sr``)."""
        from .. import audio, validation

        y = np.asarray(y, dtype=np.float32)
        validation.valid_audio(y, mono=True, name="y")
        if sr != self.config.sample_rate:
            y = audio.resample(y, orig_sr=sr, target_sr=self.config.sample_rate)
        device = next(self.parameters()).device
        wav = torch.from_numpy(np.ascontiguousarray(y))[None].to(device)
        feats, lengths = self.frontend(wav, torch.tensor([wav.shape[1]], device=device))
        lang = self.language_index(language).to(device) if self.language_embedding is not None and \
            language is not None else language
        out = self(feats, lengths, language=lang)
        return out.log_probs[: int(out.lengths[0]), 0].double().cpu().numpy()

    @torch.no_grad()
    def transcribe(self, y, *, sr: int, language: str | None = None, restrict: bool = False,
                   beam_width: int = 1) -> str:
        """Text of one utterance (greedy CTC decoding, or prefix beam search with ``beam_width`` > 1).

        ``restrict=True`` (needs ``language`` and ``config.vocabularies``) removes the other
        languages' characters before decoding."""
        from . import ctc as _ctc

        lp = self.log_probs(y, sr=sr, language=language)
        if restrict:
            if language is None:
                raise ParameterError("restrict=True needs language=")
            lp = np.where(self.tokenizer.language_mask(language)[None], lp, -np.inf)
        if beam_width <= 1:
            ids = _ctc.greedy_decode(lp)
        else:
            ids = _ctc.prefix_beam_search(lp, beam_width=beam_width, space=self.tokenizer.space,
                                          symbols=self.tokenizer.symbols)
        return self.tokenizer.decode(ids).strip()


class _LangSpeech(torch.utils.data.Dataset):
    """``(waveform, token ids, language index)`` per clip, with chapter 05's augmentation
    (:class:`~course_lib.asr.training.SpeechDataset`: speed perturbation, recording chain, noise).

    Augmenting costs ~20-30 ms a clip on one CPU thread, more than the model's step on these
    short words, so each clip gets ``aug_copies`` augmented versions, made on first use and
    then drawn at random (a fixed pool of augmented data, as many toolkits precompute)."""

    def __init__(self, clips, tokenizer, languages, *, augment: bool, seed: int, aug_copies: int = 4):
        from .training import SpeechDataset

        self.base = SpeechDataset(clips, tokenizer, augment=augment, seed=seed)
        self.base.ids = [torch.tensor(tokenizer.encode(c.text, language=c.language), dtype=torch.int64)
                         for c in self.base.clips]
        self.lang = [languages.index(c.language) if c.language in languages else 0 for c in self.base.clips]
        self.augment, self.aug_copies = augment, int(aug_copies)
        self.rng = np.random.default_rng(seed + 1)
        self.cache = {}

    def __len__(self):
        return len(self.base)

    def lengths(self):
        return self.base.lengths()

    def __getitem__(self, i):
        if not self.augment:
            wav, ids = self.base[i]
            return wav, ids, self.lang[i]
        key = (i, int(self.rng.integers(self.aug_copies)))
        if key not in self.cache:
            self.cache[key] = self.base[i][0]
        return self.cache[key], self.base.ids[i], self.lang[i]


def _collate(items):
    from ..batching import pad

    wavs, ids, langs = zip(*items)
    return pad(wavs), pad(ids, pad_value=-100), torch.tensor(langs, dtype=torch.int64)


def _ctc_step(model, batch, *, generator):
    from .. import augment

    wav, tgt, lang = batch
    feats, flen = model.waveform_features(wav.x, wav.lengths)             # (B, frames, n_mels)
    if model.training:
        feats = augment.spec_augment(feats, flen, generator=generator, max_freq=6)
    out = model(feats, flen, language=lang)                                # (T', B, C), (B,)
    return torch.nn.functional.ctc_loss(out.log_probs, tgt.x.clamp(min=0), out.lengths, tgt.lengths,
                                        zero_infinity=True)


def train_ctc(clips, *, tokenizer: MultilingualTokenizer, condition: str = "none", valid_clips=None,
              init: MultilingualCTC | None = None, config: dict | None = None, epochs: int = 60,
              time_budget: float | None = None, lr: float = 3e-3, batch_size: int = 16, augment: bool = True,
              seed: int = 0, progress: bool = True, desc: str = "CTC"):
    """Train a :class:`MultilingualCTC` on ``clips`` (any mix of languages) with :func:`course_lib.train.fit`.

    Notebook: 15_multilingual.ipynb

    Parameters
    ----------
    clips : list of Clip
        Corpus clips with ``text`` and ``language``.
    tokenizer : MultilingualTokenizer
        Its alphabet is the model's output layer (use the union of all six languages so a
        model pretrained on five can be fine-tuned on the sixth).
    condition : {"none", "embedding"}
        Set-up (a)/(c) or (b) (the language embedding over ``tokenizer.vocabularies``' languages).
    init : MultilingualCTC, optional
        Start from these weights (fine-tuning); same alphabet and architecture.
    config : dict, optional
        Overrides of :class:`MultilingualCTCConfig` (e.g. ``{"hidden": 64}``).

    Returns
    -------
    (MultilingualCTC, course_lib.train.History)
        In eval mode on the CPU; the best epoch by valid CTC loss when ``valid_clips`` is given.
    """
    from .. import train
    from ..batching import BucketBatchSampler

    clips = list(clips)
    if not clips:
        raise ParameterError("clips is empty")
    languages = tuple(sorted(tokenizer.vocabularies, key=lambda g: LANGUAGES.index(g) if g in LANGUAGES else 99))
    cfg = MultilingualCTCConfig(alphabet=tokenizer.alphabet, vocab_size=tokenizer.vocab_size,
                                languages=languages if condition == "embedding" else (), condition=condition,
                                vocabularies={g: "".join(sorted(v)) for g, v in tokenizer.vocabularies.items()},
                                **(config or {}))
    torch.manual_seed(seed)
    model = MultilingualCTC(cfg)
    if init is not None:
        if init.config.alphabet != cfg.alphabet:
            raise ParameterError("init has another alphabet than tokenizer: fine-tuning needs the same output layer")
        model.load_state_dict(init.state_dict())
    train_set = _LangSpeech(clips, tokenizer, languages, augment=augment, seed=seed)
    valid_set = _LangSpeech(valid_clips, tokenizer, languages, augment=False, seed=seed) if valid_clips else None
    sampler = BucketBatchSampler(train_set.lengths(), batch_size=min(batch_size, len(clips)), seed=seed)
    gen = torch.Generator().manual_seed(seed)
    history = train.fit(model, train_set, step_fn=lambda m, b: _ctc_step(m, b, generator=gen),
                        valid_data=valid_set, collate_fn=_collate, batch_sampler=sampler,
                        batch_size=min(batch_size, len(clips)), lr=lr, epochs=epochs, time_budget=time_budget,
                        seed=seed, device="cpu", progress=progress, desc=desc)
    return model.cpu().eval(), history


class CTCResult(NamedTuple):
    """cer : overall; per_language / per_voice : {key: cer}; hypotheses : list of str (clip order)."""

    cer: float
    per_language: dict
    per_voice: dict
    hypotheses: list


def evaluate_ctc(model: MultilingualCTC, clips, *, language_given: bool = True, language_id=None,
                 restrict: bool = False, progress: bool = False) -> CTCResult:
    """Greedy CER of ``model.transcribe`` on ``clips``, per language and per voice (NFC text).

    Notebook: 15_multilingual.ipynb

    For a model with ``condition="embedding"``, the language comes from the clip
    (``language_given``) or from ``language_id`` (a :class:`LanguageIdentifier`: the
    realistic pipeline, where a wrong guess costs characters).
    """
    from tqdm.auto import tqdm

    clips = list(clips)
    if not clips:
        raise ParameterError("clips is empty")
    hyps = []
    for c in tqdm(clips, desc="decoding", unit="clip", mininterval=2.0, disable=not progress):
        lang = c.language if language_given or language_id is None else language_id.predict(c.audio, sr=c.sr)
        needs = model.language_embedding is not None or restrict
        hyps.append(model.transcribe(c.audio, sr=c.sr, language=lang if needs else None, restrict=restrict))
    per_lang = cer_per_language([c.text for c in clips], hyps, [c.language for c in clips])
    per_voice = {}
    for v in sorted({c.speaker for c in clips}):
        idx = [i for i, c in enumerate(clips) if c.speaker == v]
        per_voice[v] = cer_per_language([clips[i].text for i in idx], [hyps[i] for i in idx],
                                        [clips[i].language for i in idx])["all"]
    overall = per_lang.pop("all")
    return CTCResult(overall, per_lang, per_voice, hyps)


def few_shot_subset(clips, *, fraction: float, seed: int = 0) -> list:
    """``round(fraction * len(clips))`` clips (at least 1), spread over as many words as possible.

    Notebook: 15_multilingual.ipynb

    Round-robin over the labels (each label's clips in a seeded random order), so 8 clips
    of a ten-word language are 8 different words, each from a random voice.
    """
    clips = list(clips)
    if not 0 < fraction <= 1 or not clips:
        raise ParameterError(f"fraction={fraction!r} must be in (0, 1] and clips non-empty")
    n = max(1, int(round(fraction * len(clips))))
    rng = np.random.default_rng(seed)
    by_label = defaultdict(list)
    for c in clips:
        by_label[c.label].append(c)
    queues = [list(rng.permutation(len(v))) for v in by_label.values()]
    labels = list(by_label)
    order = [labels[i] for i in rng.permutation(len(labels))]
    out = []
    while len(out) < n:
        for lab in order:
            q = queues[labels.index(lab)]
            if q and len(out) < n:
                out.append(by_label[lab][q.pop()])
    return out
