"""The words, speakers and sentence grammar of the shipped corpus.

Used only by ``tools/make_corpus.py``. Everything here is plain data or a
function of an explicit ``numpy.random.Generator``, so the corpus is a pure
function of the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
COMMANDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
WORDS = DIGITS + COMMANDS


@dataclass(frozen=True)
class Speaker:
    """One synthetic voice: an engine, a voice, and its own pitch and rate.

    espeak-ng: ``voice`` is the language/accent, ``variant`` the voice
    variant (formants, pitch range), ``pitch`` is espeak's 0-99 scale and
    ``rate`` words per minute. flite: ``voice`` is the flite voice,
    ``pitch`` the target mean F0 in Hz and ``rate`` the duration stretch
    (> 1 is slower).
    """
    id: str
    engine: str
    voice: str
    variant: str
    gender: str
    accent: str
    pitch: float
    rate: float
    split: str
    warp: float = 1.0       # vocal-tract-length warp of a pseudo-speaker (formants and F0 x warp)
    tempo: float = 1.0      # sox tempo factor applied after the warp (> 1 is faster)
    base: str = ""          # the voice a pseudo-speaker was made from

    @property
    def transform(self) -> str:
        """Provenance of a pseudo-speaker ("" for a voice as the engine speaks it)."""
        if not self.base:
            return ""
        return f"base={self.base};vtln_warp={self.warp:.3f};sox_tempo={self.tempo:.3f}"


def _es(voice, variant, gender, accent, pitch, rate, split):
    return Speaker(f"espeak_{voice}_{variant.lower()}", "espeak-ng", voice, variant, gender,
                   accent, pitch, rate, split)


def _fl(voice, gender, accent, f0, stretch, split):
    name = voice.replace("16", "")
    return Speaker(f"flite_{name}", "flite", voice, "", gender, accent, f0, stretch, split)


# Every espeak-ng variant is used by exactly one speaker, so a test voice's
# timbre is never heard in training; flite voices are spread over the splits.
SPEAKERS = [
    # train (16)
    _es("en-us", "m1", "M", "American", 40, 160, "train"),
    _es("en-us", "f1", "F", "American", 60, 170, "train"),
    _es("en-gb", "m2", "M", "British", 35, 150, "train"),
    _es("en-gb", "f2", "F", "British", 65, 165, "train"),
    _es("en-gb-scotland", "m3", "M", "Scottish", 45, 155, "train"),
    _es("en-gb-x-rp", "f3", "F", "British RP", 55, 160, "train"),
    _es("en-gb-x-gbclan", "m4", "M", "Lancastrian", 30, 170, "train"),
    _es("en-029", "f4", "F", "Caribbean", 62, 150, "train"),
    _es("en-us-nyc", "m5", "M", "New York", 50, 175, "train"),
    _es("en-gb-x-gbcwmd", "anika", "F", "West Midlands", 55, 155, "train"),
    _es("en-us", "klatt2", "M", "American", 45, 160, "train"),
    _es("en-gb", "iven", "M", "British", 40, 145, "train"),
    _es("en-gb-scotland", "steph", "F", "Scottish", 58, 165, "train"),
    _es("en-029", "m6", "M", "Caribbean", 38, 160, "train"),
    _fl("rms", "M", "American", 100, 1.0, "train"),
    _fl("slt", "F", "American", 170, 1.0, "train"),
    # valid (4)
    _es("en-us", "linda", "F", "American", 60, 160, "valid"),
    _es("en-gb-x-rp", "m7", "M", "British RP", 42, 150, "valid"),
    _es("en-gb-x-gbcwmd", "klatt3", "M", "West Midlands", 48, 165, "valid"),
    _fl("kal16", "M", "American", 105, 1.0, "valid"),
    # test (4)
    _es("en-us-nyc", "f5", "F", "New York", 62, 155, "test"),
    _es("en-gb-x-gbclan", "Alicia", "F", "Lancastrian", 55, 160, "test"),
    _es("en-029", "m8", "M", "Caribbean", 40, 170, "test"),
    _fl("awb", "M", "Scottish", 110, 1.0, "test"),
]

#: the single voice of the TTS subset (Tacotron 2 chapter)
TTS_SPEAKER = Speaker("flite_slt", "flite", "slt", "", "F", "American", 170, 1.0, "train")


# --------------------------------------------------------------------------- corpus v2: more training voices

def _fe(voice, gender, accent, stretch):
    """A Festival voice; ``rate`` is Festival's Duration_Stretch (> 1 is slower)."""
    name = voice.replace("_diphone", "").replace("cmu_us_", "").replace("_arctic_hts", "_hts")
    return Speaker(f"festival_{name}", "festival", voice, "", gender, accent, 0.0, stretch, "train")


def _warped(base: Speaker, warp: float, tempo: float, pitch: float, rate: float) -> Speaker:
    """A seeded pseudo-speaker: ``base`` re-synthesised (own pitch/rate), then its spectrum
    warped by ``warp`` (formants and F0 scaled, as a longer/shorter vocal tract would) and its
    speed changed by sox ``tempo``; the id says where it came from."""
    return Speaker(f"{base.id}_w{round(warp * 100):03d}", base.engine, base.voice, base.variant,
                   base.gender, base.accent, pitch, rate, "train", warp, tempo, base.id)


# Training voices added by corpus v2 (the 24 voices above, and every valid and test
# file, are unchanged). Every espeak-ng variant is still used by one speaker only.
# flite's kal (8 kHz diphone) and Festival's kal_diphone are the *same recorded
# speaker* as the valid voice flite_kal16 (different engines and signal chains);
# no voice shares a speaker with a *test* voice.
_ES_V2 = [
    # accent, variants (gender, pitch, rate)
    ("en-us", [("Andy", "M", 42, 165), ("Annie", "F", 62, 160), ("klatt", "M", 45, 150), ("john", "M", 38, 170)]),
    ("en-gb", [("aunty", "F", 60, 150), ("benjamin", "M", 40, 160), ("klatt4", "M", 48, 165),
               ("Andrea", "F", 64, 170)]),
    ("en-gb-scotland", [("belinda", "F", 58, 155), ("boris", "M", 35, 150), ("david", "M", 44, 165),
                        ("steph2", "F", 66, 160)]),
    ("en-gb-x-rp", [("caleb", "M", 46, 160), ("grandma", "F", 55, 140), ("edward", "M", 38, 155),
                    ("Jacky", "M", 52, 170)]),
    ("en-gb-x-gbclan", [("Denis", "M", 40, 165), ("shelby", "F", 62, 165), ("ed", "M", 47, 150),
                        ("Gene", "M", 36, 160)]),
    ("en-029", [("Hugo", "M", 43, 160), ("steph3", "F", 63, 155), ("grandpa", "M", 34, 140),
                ("klatt5", "M", 50, 165)]),
    ("en-us-nyc", [("Lee", "M", 45, 170), ("Mike", "M", 39, 160), ("max", "M", 48, 175),
                   ("whisperf", "F", 60, 150)]),
    ("en-gb-x-gbcwmd", [("Marco", "M", 42, 155), ("michel", "M", 47, 165), ("norbert", "M", 37, 150),
                        ("klatt6", "F", 62, 160)]),
]

_FESTIVAL = [_fe("kal_diphone", "M", "American", 1.0), _fe("ked_diphone", "M", "American", 1.0),
             _fe("cmu_us_slt_arctic_hts", "F", "American", 1.0)]
_FLITE_V2 = [Speaker("flite_kal8k", "flite", "kal", "", "M", "American", 100, 1.0, "train")]
_V1_TRAIN = {s.id: s for s in SPEAKERS if s.split == "train"}
_ESPEAK_V2 = [_es(acc, var, g, acc_name, p, r, "train")
              for (acc, vs), acc_name in zip(_ES_V2, ["American", "British", "Scottish", "British RP",
                                                      "Lancastrian", "Caribbean", "New York", "West Midlands"])
              for var, g, p, r in vs]
_BY_ID = {s.id: s for s in list(_V1_TRAIN.values()) + _ESPEAK_V2 + _FESTIVAL + _FLITE_V2}

# (base, warp, tempo, pitch, rate): warps 0.86-0.94 (longer tract: deeper) and 1.06-1.16
# (shorter: brighter), each base once, every engine represented.
_PSEUDO = [
    ("espeak_en-us_m1", 1.12, 0.95, 40, 160), ("espeak_en-gb_f2", 0.90, 1.05, 62, 165),
    ("espeak_en-gb-scotland_m3", 1.08, 1.00, 50, 150), ("espeak_en-029_f4", 0.88, 0.95, 60, 150),
    ("espeak_en-us-nyc_m5", 1.15, 1.05, 48, 170), ("espeak_en-gb-x-gbcwmd_anika", 0.92, 1.08, 52, 155),
    ("espeak_en-gb_iven", 1.10, 0.92, 38, 150), ("espeak_en-us_klatt2", 0.87, 1.00, 45, 160),
    ("espeak_en-us_annie", 0.91, 1.02, 60, 160), ("espeak_en-gb-x-rp_caleb", 1.13, 0.97, 44, 160),
    ("espeak_en-029_hugo", 0.89, 1.06, 43, 160), ("espeak_en-gb-x-gbclan_shelby", 0.93, 0.94, 62, 165),
    ("flite_rms", 1.14, 1.00, 100, 1.0), ("flite_slt", 0.88, 1.04, 170, 1.0),
    ("festival_kal", 1.12, 0.96, 0.0, 1.0), ("festival_ked", 0.90, 1.05, 0.0, 1.0),
    ("festival_slt_hts", 1.08, 0.93, 0.0, 1.0), ("flite_kal8k", 0.92, 1.00, 110, 1.0),
]
PSEUDO_SPEAKERS = [_warped(_BY_ID[b], w, t, p, r) for b, w, t, p, r in _PSEUDO]

#: the training voices added in corpus v2 (54 voices: 32 espeak-ng, 3 Festival, 1 flite,
#: 18 pseudo-speakers)
SPEAKERS_V2 = _ESPEAK_V2 + _FESTIVAL + _FLITE_V2 + PSEUDO_SPEAKERS

# --------------------------------------------------------------------------- sentence grammar

ANIMALS = ["cat", "dog", "bird", "fish", "horse", "duck", "frog", "mouse"]
OBJECTS = ["ball", "box", "cup", "book", "hat", "key", "lamp", "chair"]
PLURALS = {"ball": "balls", "box": "boxes", "cup": "cups", "book": "books", "hat": "hats",
           "key": "keys", "lamp": "lamps", "chair": "chairs"}
COLOURS = ["red", "green", "blue", "yellow", "black", "white"]
SIZES = ["big", "small", "old", "new"]
VERBS = ["sees", "likes", "finds", "wants", "has", "takes"]
PLACES = ["kitchen", "garden", "house", "room", "car"]
DEVICES = ["light", "radio", "heater", "fan", "music"]
NAMES = ["anna", "ben", "clara", "david", "emma", "peter", "sarah", "tom"]
DIRECTIONS = ["up", "down", "left", "right"]
NUMBERS = DIGITS[1:]


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


class Lexicon(NamedTuple):
    """The word lists the grammar draws from."""
    animals: list
    objects: list
    plurals: dict
    colours: list
    sizes: list
    verbs: list
    places: list
    devices: list
    names: list


LEX_V1 = Lexicon(ANIMALS, OBJECTS, PLURALS, COLOURS, SIZES, VERBS, PLACES, DEVICES, NAMES)
#: corpus v2's training sentences also use these words, so the (unchanged) test
#: sentences and the new training sentences differ in word sequences
NEW_WORDS = {"animals": ["goat", "sheep"], "objects": ["pen", "coat"], "colours": ["brown"],
             "places": ["office"], "devices": ["oven"], "names": ["lucy", "omar"]}
LEX_V2 = Lexicon(ANIMALS + NEW_WORDS["animals"], OBJECTS + NEW_WORDS["objects"],
                 {**PLURALS, "pen": "pens", "coat": "coats"}, COLOURS + NEW_WORDS["colours"], SIZES, VERBS,
                 PLACES + NEW_WORDS["places"], DEVICES + NEW_WORDS["devices"], NAMES + NEW_WORDS["names"])


def _sentence(rng, lx: Lexicon = LEX_V1) -> str:
    t = int(rng.integers(12))
    adj = lambda: _pick(rng, lx.colours + lx.sizes)   # noqa: E731
    if t == 0:
        return f"the {adj()} {_pick(rng, lx.animals)} {_pick(rng, lx.verbs)} the {_pick(rng, lx.colours)} {_pick(rng, lx.objects)}"
    if t == 1:
        return f"the {_pick(rng, lx.animals)} {_pick(rng, lx.verbs)} a {_pick(rng, lx.objects)}"
    if t == 2:
        return f"please turn {_pick(rng, ['on', 'off'])} the {_pick(rng, lx.places)} {_pick(rng, lx.devices)}"
    if t == 3:
        return f"turn {_pick(rng, ['on', 'off'])} the {_pick(rng, lx.devices)}"
    if t == 4:
        return f"go {_pick(rng, DIRECTIONS)} {_pick(rng, NUMBERS)} steps"
    if t == 5:
        return f"set a timer for {_pick(rng, NUMBERS)} minutes"
    if t == 6:
        return f"{_pick(rng, lx.names)} has {_pick(rng, NUMBERS[1:])} {_pick(rng, lx.colours)} {lx.plurals[_pick(rng, lx.objects)]}"
    if t == 7:
        return f"where is the {adj()} {_pick(rng, lx.objects)}"
    if t == 8:
        return f"the {_pick(rng, lx.objects)} is in the {_pick(rng, lx.places)}"
    if t == 9:
        return f"{_pick(rng, lx.names)} likes the {adj()} {_pick(rng, lx.animals)}"
    if t == 10:
        return f"{_pick(rng, ['yes', 'no'])} the {_pick(rng, lx.animals)} is {adj()}"
    return f"stop the {_pick(rng, lx.devices)} in the {_pick(rng, lx.places)} now"


def sentences(rng, n: int, *, exclude=(), lexicon: Lexicon = LEX_V1) -> list[str]:
    """``n`` distinct sentences of 3-8 words from the grammar, none in ``exclude``."""
    seen = set(exclude)
    out = []
    while len(out) < n:
        s = _sentence(rng, lexicon)
        if s not in seen and 3 <= len(s.split()) <= 8:
            seen.add(s)
            out.append(s)
    return out


def vocabulary() -> list[str]:
    """Every word the grammar can produce, sorted."""
    words = set("the a please turn on off go steps set timer for minutes has where is in likes yes no stop now".split())
    for group in (*LEX_V2[:2], LEX_V2.plurals.values(), *LEX_V2[3:], DIRECTIONS, NUMBERS):
        words.update(group)
    return sorted(words)


# --------------------------------------------------------------------------- corpus v2: connected digits

def digit_string(rng) -> tuple[str, str]:
    """A 3-7 digit string as (label, what the engine is asked to say).

    PINs (3-4 digits) are said in one breath; longer strings are grouped like phone
    numbers (3+3, 3+4, 2+2+2, ...) with a comma between groups, so the engine pauses
    there the way people do. The transcript is the digit words (see :func:`digit_words`).
    """
    n = int(rng.integers(3, 8))
    digits = [int(d) for d in rng.integers(0, 10, size=n)]
    if n <= 4:
        groups = [n]
    else:
        groups = {5: [[2, 3], [3, 2]], 6: [[3, 3], [2, 2, 2]], 7: [[3, 4], [3, 2, 2]]}[n]
        groups = groups[int(rng.integers(len(groups)))]
    said, k = [], 0
    for g in groups:
        said.append(" ".join(DIGITS[d] for d in digits[k:k + g]))
        k += g
    return "".join(str(d) for d in digits), ", ".join(said)


def digit_words(label: str) -> str:
    """'507' -> 'five zero seven'."""
    return " ".join(DIGITS[int(d)] for d in label)


# --------------------------------------------------------------------------- corpus v2: six languages

#: espeak-ng voice and the digits 0-9 in each language's own spelling (UTF-8)
LANGUAGES = {
    "en": ("en-gb", DIGITS),
    "de": ("de", ["null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"]),
    "fr": ("fr-fr", ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]),
    "es": ("es", ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]),
    "it": ("it", ["zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"]),
    "nl": ("nl", ["nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"]),
}

# one set of espeak-ng variants for every language, split as in the English corpus (a
# variant's timbre is in one split only, and it is the same in every language, so a
# language classifier cannot lean on timbre)
ML_VARIANTS = [("m1", "M", 40, 160, "train"), ("f1", "F", 60, 170, "train"), ("m2", "M", 35, 150, "train"),
               ("f2", "F", 65, 165, "train"), ("m3", "M", 45, 155, "train"), ("f3", "F", 55, 160, "train"),
               ("m4", "M", 30, 170, "train"), ("f4", "F", 62, 150, "train"),
               ("linda", "F", 60, 160, "valid"), ("m7", "M", 42, 150, "valid"),
               ("f5", "F", 62, 155, "test"), ("m8", "M", 40, 170, "test")]


def ml_speakers() -> list[Speaker]:
    return [Speaker(f"espeak_{lang}_{v.lower()}", "espeak-ng", voice, v, g, lang, p, r, split)
            for lang, (voice, _) in LANGUAGES.items() for v, g, p, r, split in ML_VARIANTS]


# --------------------------------------------------------------------------- corpus v2: prosody styles

#: SSML <prosody> settings per style, relative to the voice's own. They follow how acted
#: emotions differ from neutral speech (Banse & Scherer 1996; Juslin & Laukka 2003):
#: happy - higher, wider F0, a little faster and louder; sad - lower, flatter F0, slower,
#: quieter; angry - higher F0, wide range, faster and much louder.
STYLES = {
    "neutral": {},
    "happy": {"pitch": "+30%", "range": "+70%", "rate": "+10%", "volume": "+20%"},
    "sad": {"pitch": "-20%", "range": "-60%", "rate": "-25%", "volume": "-45%"},
    "angry": {"pitch": "+15%", "range": "+40%", "rate": "+20%", "volume": "+80%"},
}
STYLE_SENTENCES = 6


def styled_ssml(text: str, style: str) -> str:
    attrs = " ".join(f'{k}="{v}"' for k, v in STYLES[style].items())
    return f"<speak><prosody {attrs}>{text}</prosody></speak>" if attrs else f"<speak>{text}</speak>"


def prosody_speakers() -> list[Speaker]:
    """12 first-corpus espeak-ng voices (same ids and splits as in the word corpus)."""
    wanted = {"espeak_en-us_m1", "espeak_en-us_f1", "espeak_en-gb_m2", "espeak_en-gb_f2",
              "espeak_en-gb-scotland_m3", "espeak_en-gb-x-rp_f3", "espeak_en-gb-x-gbclan_m4", "espeak_en-029_f4",
              "espeak_en-us_linda", "espeak_en-gb-x-rp_m7", "espeak_en-us-nyc_f5", "espeak_en-029_m8"}
    return [s for s in SPEAKERS if s.id in wanted]
