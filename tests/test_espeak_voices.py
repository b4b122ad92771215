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
