"""tools/espeak_voices.py: random espeak-ng variants (new training speakers for chapter 13's recipe).

The variant text is checked here without espeak-ng (CI has none); the synthesis test runs where
espeak-ng is installed and is skipped elsewhere."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import espeak_voices as ev  # noqa: E402


def _parse(text):
    fields = {}
    for line in text.strip().splitlines():
        key, *vals = line.split()
        fields.setdefault(key, []).append(vals)
    return fields


def test_random_variants_stay_in_the_documented_ranges_and_never_are_the_valid_klatt3():
    rng = np.random.default_rng(0)
    seen_klatt, tracts = set(), {"male": [], "female": []}
    for k in range(400):
        f = _parse(ev.random_variant(rng, f"v{k}"))
        assert f["language"] == [["variant"]] and f["name"] == [[f"v{k}"]]
        gender = f["gender"][0][0]
        base, top = map(int, f["pitch"][0])
        assert (60 <= base <= 115) if gender == "male" else (135 <= base <= 210)
        assert 20 <= top - base <= 101
        formants = {int(v[0]): list(map(int, v[1:])) for v in f["formant"]}
        assert sorted(formants) == list(range(9))
        for i, (freq, height, width) in formants.items():
            assert 60 <= height <= 160 and 60 <= width <= 180
            assert (92 <= freq <= 108) if i == 0 else (78 <= freq <= 152)
        tracts[gender].append(np.mean([formants[i][0] for i in (1, 2, 3)]))
        seen_klatt |= {int(v[0]) for v in f.get("klatt", [])}
    assert seen_klatt and 3 not in seen_klatt and seen_klatt <= set(ev.KLATT)
    assert np.mean(tracts["female"]) > np.mean(tracts["male"]) + 15     # shorter vocal tracts: higher formants


def test_random_variant_depends_only_on_the_generator():
    a = ev.random_variant(np.random.default_rng(5), "x")
    assert a == ev.random_variant(np.random.default_rng(5), "x")
    assert a != ev.random_variant(np.random.default_rng(6), "x")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_random_voices_speak_with_their_own_variant(tmp_path):
    """Two random variants read the same sentence differently (espeak-ng falls back to its default voice,
    silently, when a variant file is not found: both would then be equal), and random_voices repeats
    itself for one seed and gives each speaker the requested seconds at 16 kHz."""
    voices = ev.Voices(tmp_path)
    rng = np.random.default_rng(1)
    for name in ("a1", "a2"):
        voices.add(name, ev.random_variant(rng, name))
    text = "The birch canoe slid on the smooth planks."
    y1, y2 = (voices.speak(n, "en-us", text, rate=160, pitch=50) for n in ("a1", "a2"))
    assert len(y1) > ev.SR and not (len(y1) == len(y2) and np.allclose(y1, y2))
    texts = [text, "Glue the sheet to the dark blue background."]
    speech, info = ev.random_voices(2, texts, seed=3, seconds=2.0, progress=False)
    again, _ = ev.random_voices(2, texts, seed=3, seconds=2.0, progress=False)
    for n in speech:
        assert sum(len(y) for y in speech[n]) >= 2.0 * ev.SR
        np.testing.assert_array_equal(np.concatenate(speech[n]), np.concatenate(again[n]))
        assert info[n]["variant"].startswith("language variant")


def test_train_variants_are_the_training_voices_and_no_held_out_one():
    """The mixing sampler's parents: every espeak-ng training voice's variant file, and none of the
    valid or test voices' (m7, klatt3, linda; m8, Alicia, f5)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import corpus_text as ct

    parents = set(ev.train_variants())
    voices = [s for s in ct.SPEAKERS + ct.SPEAKERS_V2 if s.engine == "espeak-ng"]
    held = {s.variant for s in voices if s.split != "train"}
    assert {"m8", "Alicia", "f5", "m7", "klatt3", "linda"} <= held
    assert not parents & held
    assert parents == {s.variant for s in voices if s.split == "train"}
    assert len(parents) >= 40


PARENT_A = """language variant
name a
gender female
pitch 180 260   // high
formant 1 120 80 150 -20
formant 2 110 70 150
roughness 1
tone 600 170 1200 135
breath 0 4 6
"""
PARENT_B = """language variant
name b
// a comment
formant 2 90 100 110
voicing 60
klatt 2
"""


def test_parse_variant_reads_numbers_per_formant_and_skips_comments():
    a = ev.parse_variant(PARENT_A)
    assert a == {"gender": "female", "pitch": [180, 260], "formant 1": [120, 80, 150, -20],
                 "formant 2": [110, 70, 150], "roughness": [1], "tone": [600, 170, 1200, 135],
                 "breath": [0, 4, 6]}
    assert ev.parse_variant(PARENT_B) == {"formant 2": [90, 100, 110], "voicing": [60], "klatt": [2]}


def test_mixed_variant_interpolates_defaulted_settings_and_inherits_the_rest():
    """Re-derived by hand from the weight the file records: settings with a documented default are
    w a + (1 - w) b, a missing one counting as espeak-ng's default (pitch 82 118, formants 100 % and
    0 Hz added, voicing 100, breath 0); the others come whole from one parent."""
    parents = {"a": ev.parse_variant(PARENT_A), "b": ev.parse_variant(PARENT_B)}
    seen = set()
    for seed in range(40):
        text = ev.mixed_variant(np.random.default_rng(seed), "m", parents)
        assert text == ev.mixed_variant(np.random.default_rng(seed), "m", parents)      # the generator only
        lines = text.strip().splitlines()
        assert lines[:2] == ["language variant", "name m"]
        wa, first, wb, second = (lambda t: (float(t[1]), t[3], float(t[5]), t[7]))(lines[2].split())
        assert {first, second} == {"a", "b"} and 0.15 <= min(wa, wb) and abs(wa + wb - 1) < 0.011
        w = wa if first == "a" else wb                          # parent a's weight
        got = ev.parse_variant(text)

        def mix(x, y):
            return [int(round(w * p + (1 - w) * q)) for p, q in zip(x, y)]

        # rounding of the recorded weight (2 decimals) can move a value by one
        for key, want in {"pitch": mix([180, 260], [82, 118]),
                          "formant 1": mix([120, 80, 150, -20], [100, 100, 100, 0]),
                          "formant 2": mix([110, 70, 150], [90, 100, 110]),
                          "voicing": mix([100], [60]), "breath": mix([0, 4, 6], [0, 0, 0])}.items():
            assert np.max(np.abs(np.subtract(got[key], want))) <= 1, (key, got[key], want)
        for key, value in (("roughness", [1]), ("tone", [600, 170, 1200, 135]), ("gender", "female"),
                           ("klatt", [2])):
            assert got.get(key) in (value, None)                # whole, or left to espeak-ng
            seen.add((key, first, key in got))
        assert "formant 3" not in got                           # neither parent sets it: default
    # each parent passes its own settings on sometimes and not always, first-listed or second
    assert {(k, first, has) for k in ("roughness", "klatt") for first in "ab" for has in (True, False)} <= seen


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_speak_words_gives_every_voice_every_word_and_repeats():
    """chapter 07's $KWS_ESPEAK_VOICES: each new (blended) speaker says each word once, 16 kHz, a word's
    length; one seed, the same samples; the blends differ from each other."""
    words = ["yes", "seven"]
    speech, info = ev.speak_words(2, words, seed=5, progress=False)
    again, _ = ev.speak_words(2, words, seed=5, progress=False)
    assert len(speech) == 2 and all(sorted(ws) == sorted(words) for ws in speech.values())
    for name, ws in speech.items():
        assert info[name]["variant"].splitlines()[2].startswith("// ")      # a blend of two parents
        for w, y in ws.items():
            assert 0.2 * ev.SR < len(y) < 1.5 * ev.SR
            np.testing.assert_array_equal(y, again[name][w])
    a, b = (speech[n]["seven"] for n in speech)
    assert not (len(a) == len(b) and np.allclose(a, b))


def test_mixed_variant_inherits_from_a_parent_with_its_weight():
    """A setting only parent a has (roughness) is passed on with probability w_a: over 300 blends the
    mean w_a of those that have it is higher than of those that do not (by 0.14 in expectation for
    w ~ U(0.15, 0.85); the standard error of the difference is about 0.025)."""
    parents = {"a": ev.parse_variant(PARENT_A), "b": ev.parse_variant(PARENT_B)}
    has, hasnt = [], []
    for seed in range(300):
        text = ev.mixed_variant(np.random.default_rng(seed), "m", parents)
        t = text.splitlines()[2].split()
        wa = float(t[1]) if t[3] == "a" else float(t[5])
        (has if "roughness" in ev.parse_variant(text) else hasnt).append(wa)
    assert np.mean(has) - np.mean(hasnt) > 0.07, (np.mean(has), np.mean(hasnt))
