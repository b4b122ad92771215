"""Random espeak-ng voices: new synthetic speakers for training, made at training time (needs espeak-ng).

espeak-ng builds a voice from a language (phonemes, intonation rules) and a *variant* file
(``voices/!v/``): pitch base and range, the frequency / height / width of each formant, breathiness,
flutter, roughness, voicing, echo, stress. Three of the corpus's four test voices are such variants
(m8, Alicia, f5). This module writes *random* variant files, one per new speaker, into a private copy
of espeak-ng's data folder (never the system's) and has each read training texts of the corpus:
as many new speakers as wanted, all different in the ways espeak-ng voices differ. The corpus's own
valid and test variant files are never used (``klatt 3``, the valid voice klatt3's only setting, is
left out of the draw).

Used by ``tools/train_models.py speaker_xvector`` ($SPEAKER_ESPEAK_VOICES). Learners and CI never
need it: nothing it makes is committed.

    python tools/espeak_voices.py 3 --seed 0      # print three variant files and one line by each
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


def random_voices(n: int, texts: list[str], *, seed: int, seconds: float = 36.0, workers: int = 2,
                  progress: bool = True) -> tuple[dict, dict]:
    """``n`` random speakers, each reading texts drawn from ``texts`` until ``seconds`` of speech.

    Returns ``({name: [speech, ...]}, {name: {"accent", "rate", "pitch", "variant"}})``; the same seed
    gives the same voices, texts and settings.
    """
    rng = np.random.default_rng(seed)
    plans = {}
    for k in range(n):
        name = f"rv{seed}_{k:04d}"
        order = rng.permutation(len(texts))
        plans[name] = {"accent": str(rng.choice(ACCENTS)), "rate": int(rng.integers(135, 201)),
                       "pitch": int(rng.integers(35, 66)), "variant": random_variant(rng, name), "order": order}
    with tempfile.TemporaryDirectory() as tmp:
        voices = Voices(Path(tmp))
        for name, p in plans.items():
            voices.add(name, p["variant"])

        def one(name):
            p, out, total = plans[name], [], 0.0
            for i in p["order"]:
                y = voices.speak(name, p["accent"], texts[i], rate=p["rate"], pitch=p["pitch"])
                out.append(y)
                total += len(y) / SR
                if total >= seconds:
                    break
            return name, out

        names = list(plans)
        with ThreadPoolExecutor(workers) as pool:
            results = pool.map(one, names)
            if progress:
                from tqdm.auto import tqdm
                results = tqdm(results, total=len(names), desc="espeak-ng voices", leave=False)
            speech = dict(results)
    info = {k: {kk: v for kk, v in p.items() if kk != "order"} for k, p in plans.items()}
    return speech, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    speech, info = random_voices(args.n, ["The birch canoe slid on the smooth planks."], seed=args.seed,
                                 seconds=0.1, progress=False)
    for name, p in info.items():
        print(f"# {name}: {p['accent']}, rate {p['rate']}, pitch {p['pitch']}, "
              f"{sum(len(y) for y in speech[name]) / SR:.2f} s\n{p['variant']}")


if __name__ == "__main__":
    main()
