"""Random espeak-ng voices: new synthetic speakers for training, made at training time (needs espeak-ng).

espeak-ng builds a voice from a language (phonemes, intonation rules) and a *variant* file
(``voices/!v/``): pitch base and range, the frequency / height / width of each formant, breathiness,
flutter, roughness, voicing, echo, stress. Three of the corpus's four test voices are such variants
(m8, Alicia, f5). This module writes *random* variant files, one per new speaker, into a private copy
of espeak-ng's data folder (never the system's) and has each read training texts of the corpus:
as many new speakers as wanted, all different in the ways espeak-ng voices differ. The corpus's own
valid and test variant files are never used (``klatt 3``, the valid voice klatt3's only setting, is
left out of the draw). Two samplers: ``random`` (:func:`random_variant`, uniform ranges) and ``mix``
(:func:`mixed_variant`, a blend of two training voices' hand-made variants).

Used by ``tools/train_models.py speaker_xvector`` ($SPEAKER_ESPEAK_VOICES, reading sentences) and
``kws_cnn`` ($KWS_ESPEAK_VOICES, saying the keywords). Learners and CI never need it: nothing it
makes is committed.

    python tools/espeak_voices.py 3 --seed 0 [--sampler mix]   # three variant files and one line by each
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus_text as ct  # noqa: E402
from make_corpus import SPEECH_SR as SR  # noqa: E402
from make_corpus import synthesize  # noqa: E402

ACCENTS = ("en-us", "en-gb", "en-029", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-gb-x-rp",
           "en-us-nyc")
"""The English accents of the corpus's espeak-ng voices (training, valid and test voices share them)."""
KLATT = (1, 2, 4, 5, 6)                   # espeak-ng's Klatt source models, without 3 (the valid voice klatt3)


def _ints(rng, n, lo, hi) -> str:
    return " ".join(str(int(v)) for v in rng.integers(lo, hi + 1, size=n))


def random_variant(rng: np.random.Generator, name: str) -> str:
    """The text of a random espeak-ng variant file (the format of ``espeak-ng-data/voices/!v/f1``).

    Ranges, wide enough to hold the corpus's variants: pitch base 60-115 Hz (male) or 135-210 Hz
    (female) with a range of 20-100 Hz above it; a vocal-tract factor (0.85-1.1 male, 1.0-1.4 female)
    times +-8 % per formant for the formant frequencies (%), heights 60-160 %, widths 60-180 %;
    flutter, roughness, voicing, consonant strength; and, each with its own probability, echo,
    breathiness, another intonation set, stress changes and a Klatt voice source.
    """
    male = bool(rng.random() < 0.5)
    base = rng.uniform(60, 115) if male else rng.uniform(135, 210)
    tract = rng.uniform(0.85, 1.1) if male else rng.uniform(1.0, 1.4)
    lines = ["language variant", f"name {name}", f"gender {'male' if male else 'female'}",
             f"pitch {int(base)} {int(base + rng.uniform(20, 100))}"]
    for k in range(9):
        freq = 100 * (tract if k else 1.0) * rng.uniform(0.92, 1.08)
        lines.append(f"formant {k} {int(freq)} {int(rng.uniform(60, 160))} {int(rng.uniform(60, 180))}")
    lines += [f"flutter {int(rng.integers(0, 21))}", f"roughness {int(rng.integers(0, 6))}",
              f"voicing {int(rng.uniform(30, 110))}", f"consonants {int(rng.uniform(50, 150))} {int(rng.uniform(20, 150))}"]
    if rng.random() < 0.4:
        lines.append(f"echo {int(rng.integers(10, 151))} {int(rng.integers(5, 51))}")
    if rng.random() < 0.3:
        lines.append(f"breath {_ints(rng, 8, 0, 12)}")
    if rng.random() < 0.3:
        lines.append(f"intonation {int(rng.integers(1, 5))}")
    if rng.random() < 0.4:
        lines.append(f"stressAdd {_ints(rng, 8, -20, 60)}")
    if rng.random() < 0.3:
        lines.append(f"stressAmp {_ints(rng, 8, 10, 24)}")
    if rng.random() < 0.2:
        lines.append(f"klatt {int(rng.choice(KLATT))}")
    return "\n".join(lines) + "\n"


def train_variants() -> tuple[str, ...]:
    """The variant files of the corpus's *training* espeak-ng voices (first corpus and v2): the parents
    :func:`mixed_variant` draws from. No valid or test voice's variant is among them (a test checks)."""
    names = {s.variant for s in ct.SPEAKERS + ct.SPEAKERS_V2 if s.engine == "espeak-ng" and s.split == "train"}
    held = {s.variant for s in ct.SPEAKERS + ct.SPEAKERS_V2 if s.engine == "espeak-ng" and s.split != "train"}
    return tuple(sorted(names - held))


def parse_variant(text: str) -> dict:
    """An espeak-ng variant file as ``{key: [numbers]}`` (``"formant 3"`` for each formant line) and
    ``{key: "word"}`` for ``gender``; comments (``//``, ``#``), ``language`` and ``name`` are left out."""
    out = {}
    for line in text.splitlines():
        words = line.split("//")[0].split()
        if not words or words[0].startswith("#") or words[0] in ("language", "name"):
            continue
        key, vals = words[0], words[1:]
        if key == "gender":
            out[key] = vals[0] if vals else ""
            continue
        if key == "formant" and vals:
            key, vals = f"formant {vals[0]}", vals[1:]
        try:
            out[key] = [int(v) for v in vals]
        except ValueError:                                  # a word where numbers belong: not ours to guess
            continue
    return out


DEFAULTS = {"pitch": [82, 118], "flutter": [100], "voicing": [100], "consonants": [100, 100], "echo": [0, 0],
            "breath": [0] * 8, **{f"formant {k}": [100, 100, 100, 0] for k in range(9)}}
"""espeak-ng's values where a variant file does not set them (its docs/voices.md; formants: frequency,
height and width in percent, then the added frequency in Hz)."""


def mixed_variant(rng: np.random.Generator, name: str, parents: dict) -> str:
    """The text of a new variant between two hand-made ones: ``parents`` maps names to parsed files
    (:func:`parse_variant`); two are drawn and a weight ``w`` ~ U(0.15, 0.85). Every setting with a
    documented default (:data:`DEFAULTS`: pitch, formants, flutter, voicing, consonants, echo, breath)
    becomes ``w a + (1 - w) b``, a parent that leaves it (or the end of its list) at the default
    counting with the default; any other setting (roughness, tone, stress, intonation, Klatt source,
    gender) is inherited whole from the first parent with probability ``w``, else from the second
    (or left to espeak-ng when that one has none).

    The new speakers stay among the voices people made (pitch ranges, formant patterns, breathiness
    that go together), unlike :func:`random_variant`'s independent uniform draws.
    """
    names = list(parents)
    ka, kb = rng.choice(len(names), size=2, replace=False)
    a, b = parents[names[ka]], parents[names[kb]]
    w = float(rng.uniform(0.15, 0.85))
    lines = ["language variant", f"name {name}", f"// {w:.2f} x {names[ka]} + {1 - w:.2f} x {names[kb]}"]
    for key in list(a) + [k for k in b if k not in a]:
        va, vb = a.get(key), b.get(key)
        take_a = bool(rng.random() < w)
        if key in DEFAULTS:
            d = DEFAULTS[key]
            n = max(len(va or d[:1]), len(vb or d[:1]))
            pa, pb = [(v or []) + d[len(v or []):n] for v in (va, vb)]
            if len(pa) < n or len(pb) < n:                  # longer than espeak-ng knows: leave it out
                continue
            v = [int(round(w * x + (1 - w) * y)) for x, y in zip(pa, pb)]
        else:
            v = va if take_a else vb
            if v is None:
                continue
        lines.append(f"{key} {v}" if key == "gender" else f"{key} {' '.join(map(str, v))}".rstrip())
    return "\n".join(lines) + "\n"


class Voices:
    """A private copy of espeak-ng's data with random variants in it; ``speak`` reads texts."""

    def __init__(self, tmp: Path):
        if shutil.which("espeak-ng") is None:
            raise RuntimeError("espeak-ng is not installed: apt-get install -y espeak-ng (only for this "
                               "training option; learners and CI never need it)")
        out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True).stdout
        data = Path(out.split("Data at:")[-1].strip()) if "Data at:" in out else \
            Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data")
        self.root = Path(tmp)
        shutil.copytree(data, self.root / "espeak-ng-data")
        self.variants = self.root / "espeak-ng-data" / "voices" / "!v"
        self.env = os.environ | {"ESPEAK_DATA_PATH": str(self.root)}     # espeak-ng reads this copy

    def add(self, name: str, text: str) -> None:
        if (self.variants / name).exists():
            raise ValueError(f"variant {name!r} exists already: names must be new")
        (self.variants / name).write_text(text)

    def speak(self, name: str, accent: str, text: str, *, rate: int, pitch: int) -> np.ndarray:
        """``text`` by variant ``name`` in ``accent``: 16 kHz, trimmed and normalised by the corpus's own
        synthesis (make_corpus.synthesize, no jitter)."""
        voice = ct.Speaker(id=name, engine="espeak-ng", voice=accent, variant=name, gender="", accent=accent,
                           pitch=pitch, rate=rate, split="train")
        with tempfile.TemporaryDirectory() as d:           # one per call: the threads must not share a wav
            return synthesize(voice, text, None, Path(d), env=self.env)


def _plans(n: int, n_texts: int, *, seed: int, sampler: str, variants: Path) -> dict:
    """Each new speaker's accent, rate, pitch, variant file and the order it reads the texts in."""
    if sampler not in ("random", "mix"):
        raise ValueError(f"sampler={sampler!r} must be 'random' or 'mix'")
    rng = np.random.default_rng(seed)
    parents = ({v: parse_variant((variants / v).read_text(errors="replace")) for v in train_variants()}
               if sampler == "mix" else None)
    plans = {}
    for k in range(n):
        name = f"{'rv' if sampler == 'random' else 'mv'}{seed}_{k:04d}"
        order = rng.permutation(n_texts)
        plans[name] = {"accent": str(rng.choice(ACCENTS)), "rate": int(rng.integers(135, 201)),
                       "pitch": int(rng.integers(35, 66)), "order": order}
        plans[name]["variant"] = (random_variant(rng, name) if sampler == "random"
                                  else mixed_variant(rng, name, parents))
    return plans


def _new_speakers(n: int, n_texts: int, say, *, seed: int, sampler: str, workers: int,
                  progress: bool) -> tuple[dict, dict]:
    """Make ``n`` new speakers (:func:`_plans`) in a private espeak-ng copy and collect
    ``say(voices, name, plan)`` for each, ``workers`` at a time: ``(speech by name, plans without order)``."""
    with tempfile.TemporaryDirectory() as tmp:
        voices = Voices(Path(tmp))
        plans = _plans(n, n_texts, seed=seed, sampler=sampler, variants=voices.variants)
        for name, p in plans.items():
            voices.add(name, p["variant"])
        with ThreadPoolExecutor(workers) as pool:
            results = pool.map(lambda name: (name, say(voices, name, plans[name])), list(plans))
            if progress:
                from tqdm.auto import tqdm
                results = tqdm(results, total=len(plans), desc="espeak-ng voices", leave=False)
            speech = dict(results)
    info = {k: {kk: v for kk, v in p.items() if kk != "order"} for k, p in plans.items()}
    return speech, info


def random_voices(n: int, texts: list[str], *, seed: int, seconds: float = 36.0, workers: int = 2,
                  progress: bool = True, sampler: str = "random") -> tuple[dict, dict]:
    """``n`` random speakers, each reading texts drawn from ``texts`` until ``seconds`` of speech.

    ``sampler="random"`` draws each variant file with :func:`random_variant`; ``"mix"`` blends two of
    the corpus's training variants (:func:`mixed_variant`, parents from :func:`train_variants`).
    Returns ``({name: [speech, ...]}, {name: {"accent", "rate", "pitch", "variant"}})``; the same seed
    gives the same voices, texts and settings.
    """
    def say(voices, name, p):
        out, total = [], 0.0
        for i in p["order"]:
            y = voices.speak(name, p["accent"], texts[i], rate=p["rate"], pitch=p["pitch"])
            out.append(y)
            total += len(y) / SR
            if total >= seconds:
                break
        return out

    return _new_speakers(n, len(texts), say, seed=seed, sampler=sampler, workers=workers, progress=progress)


def speak_words(n: int, words: list[str], *, seed: int, workers: int = 2, progress: bool = True,
                sampler: str = "mix") -> tuple[dict, dict]:
    """``n`` new speakers (as :func:`random_voices`), each saying every one of ``words`` once.

    Returns ``({name: {word: speech}}, {name: {"accent", "rate", "pitch", "variant"}})`` (16 kHz, trimmed
    and levelled as the corpus's words); the same seed gives the same voices.
    """
    def say(voices, name, p):
        return {w: voices.speak(name, p["accent"], w, rate=p["rate"], pitch=p["pitch"]) for w in words}

    return _new_speakers(n, len(words), say, seed=seed, sampler=sampler, workers=workers, progress=progress)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sampler", choices=("random", "mix"), default="random")
    args = ap.parse_args()
    speech, info = random_voices(args.n, ["The birch canoe slid on the smooth planks."], seed=args.seed,
                                 seconds=0.1, progress=False, sampler=args.sampler)
    for name, p in info.items():
        print(f"# {name}: {p['accent']}, rate {p['rate']}, pitch {p['pitch']}, "
              f"{sum(len(y) for y in speech[name]) / SR:.2f} s\n{p['variant']}")


if __name__ == "__main__":
    main()
