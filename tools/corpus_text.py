"""The words, speakers and sentence grammar of the shipped corpus.

Used only by ``tools/make_corpus.py``. Everything here is plain data or a
function of an explicit ``numpy.random.Generator``, so the corpus is a pure
function of the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _sentence(rng) -> str:
    t = int(rng.integers(12))
    adj = lambda: _pick(rng, COLOURS + SIZES)   # noqa: E731
    if t == 0:
        return f"the {adj()} {_pick(rng, ANIMALS)} {_pick(rng, VERBS)} the {_pick(rng, COLOURS)} {_pick(rng, OBJECTS)}"
    if t == 1:
        return f"the {_pick(rng, ANIMALS)} {_pick(rng, VERBS)} a {_pick(rng, OBJECTS)}"
    if t == 2:
        return f"please turn {_pick(rng, ['on', 'off'])} the {_pick(rng, PLACES)} {_pick(rng, DEVICES)}"
    if t == 3:
        return f"turn {_pick(rng, ['on', 'off'])} the {_pick(rng, DEVICES)}"
    if t == 4:
        return f"go {_pick(rng, DIRECTIONS)} {_pick(rng, NUMBERS)} steps"
    if t == 5:
        return f"set a timer for {_pick(rng, NUMBERS)} minutes"
    if t == 6:
        return f"{_pick(rng, NAMES)} has {_pick(rng, NUMBERS[1:])} {_pick(rng, COLOURS)} {PLURALS[_pick(rng, OBJECTS)]}"
    if t == 7:
        return f"where is the {adj()} {_pick(rng, OBJECTS)}"
    if t == 8:
        return f"the {_pick(rng, OBJECTS)} is in the {_pick(rng, PLACES)}"
    if t == 9:
        return f"{_pick(rng, NAMES)} likes the {adj()} {_pick(rng, ANIMALS)}"
    if t == 10:
        return f"{_pick(rng, ['yes', 'no'])} the {_pick(rng, ANIMALS)} is {adj()}"
    return f"stop the {_pick(rng, DEVICES)} in the {_pick(rng, PLACES)} now"


def sentences(rng, n: int, *, exclude=()) -> list[str]:
    """``n`` distinct sentences of 3-8 words from the grammar, none in ``exclude``."""
    seen = set(exclude)
    out = []
    while len(out) < n:
        s = _sentence(rng)
        if s not in seen and 3 <= len(s.split()) <= 8:
            seen.add(s)
            out.append(s)
    return out


def vocabulary() -> list[str]:
    """Every word the grammar can produce, sorted."""
    words = set("the a please turn on off go steps set timer for minutes has where is in likes yes no stop now".split())
    for group in (ANIMALS, OBJECTS, PLURALS.values(), COLOURS, SIZES, VERBS, PLACES, DEVICES, NAMES,
                  DIRECTIONS, NUMBERS):
        words.update(group)
    return sorted(words)
