"""Tests of the optional public-dataset loaders and the real-recordings loader (course_lib.datasets).

Nothing here touches the network or needs the real datasets: the parsers run on
tiny fixtures (tests/fixtures/public_datasets, or files written into tmp_path),
and any download attempt fails the test.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from course_lib import data, datasets
from course_lib.errors import AudioFileError, CourseLibError, ParameterError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "public_datasets"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any download attempt fails the test."""
    def _fail(url, dest):
        raise AssertionError(f"test tried to download {url}")
    monkeypatch.setattr(datasets, "_urlretrieve", _fail)


# --------------------------------------------------------------------------- public datasets (fixtures only)

def test_fsdd_fixture():
    clips = data.fsdd(root=FIXTURES / "fsdd")
    assert [(c.label, c.speaker, c.split) for c in clips] == [
        ("zero", "jackson", "test"), ("two", "theo", "train"), ("three", "nicolas", "test"),
        ("seven", "theo", "train"), ("nine", "jackson", "train")]
    assert all(c.sr == 8000 and c.audio.dtype == np.float32 for c in clips)
    assert [c.label for c in data.fsdd(split="train", root=FIXTURES / "fsdd")] == ["two", "seven", "nine"]


def test_speech_commands_fixture():
    root = FIXTURES / "speech_commands"
    clips = data.speech_commands(root=root)
    got = {(c.label, c.speaker, c.split) for c in clips}
    assert got == {("yes", "0a7c2a8d", "train"), ("yes", "0b09edd3", "test"),
                   ("no", "0a7c2a8d", "train"), ("no", "c1d39ce8", "valid")}
    assert all(c.sr == 16000 for c in clips)
    assert [c.label for c in data.speech_commands(split="valid", root=root)] == ["no"]
    assert {c.label for c in data.speech_commands(words="yes", root=root)} == {"yes"}
    assert len(data.speech_commands(root=root, limit=1)) == 1


def test_ljspeech_fixture():
    clips = data.ljspeech(root=FIXTURES / "ljspeech" / "LJSpeech-1.1")
    assert [c.path.stem for c in clips] == ["LJ001-0001", "LJ001-0002"]
    assert clips[1].text == "in being comparatively modern, one of two."      # normalised column
    assert clips[0].sr == 22050


def test_gtzan_fixture():
    clips = data.gtzan(root=FIXTURES / "gtzan" / "genres")
    assert [(c.label, c.path.name) for c in clips] == [
        ("blues", "blues.00000.au"), ("blues", "blues.00001.au"), ("jazz", "jazz.00005.au")]
    assert data.gtzan(root=FIXTURES / "gtzan" / "genres", genre="jazz")[0].sr == 22050


def test_public_dataset_not_downloaded_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_CACHE", str(tmp_path))
    assert data.cache_dir() == tmp_path
    for name in data.PUBLIC_DATASETS:
        with pytest.raises(CourseLibError, match="download=True"):
            data.fetch(name)
    with pytest.raises(CourseLibError, match="download=True"):
        data.fsdd()                       # the no_network fixture fails the test on any download


def _fake_archive(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        t.add(FIXTURES / "fsdd" / "recordings", arcname="free-spoken-digit-dataset-1.0.9/recordings")
    return buf.getvalue()


def test_fetch_checks_sha256_then_unpacks(tmp_path, monkeypatch):
    blob = _fake_archive(tmp_path)
    calls = []

    def fake_download(url, dest):
        calls.append(url)
        Path(dest).write_bytes(blob)

    monkeypatch.setattr(datasets, "_urlretrieve", fake_download)
    spec = data.PUBLIC_DATASETS["fsdd"]
    # wrong checksum (the real one): refuse to unpack
    with pytest.raises(CourseLibError, match="sha256"):
        data.fetch("fsdd", download=True, root=tmp_path)
    assert not (tmp_path / "fsdd" / spec.folder).exists()
    (tmp_path / "fsdd" / spec.archive).unlink()
    monkeypatch.setitem(data.PUBLIC_DATASETS, "fsdd", spec._replace(sha256=hashlib.sha256(blob).hexdigest()))
    folder = data.fetch("fsdd", download=True, root=tmp_path)
    assert folder == tmp_path / "fsdd" / spec.folder and calls == [spec.url, spec.url]
    assert len(data.fsdd(root=folder)) == 5
    assert data.fetch("fsdd", root=tmp_path) == folder          # cached: no download needed
    assert len(calls) == 2


def test_old_imports_still_work():
    """The public-dataset names moved to course_lib.datasets; course_lib.data still resolves them."""
    from course_lib.data import fetch, fsdd, gtzan, real_digits  # noqa: F401
    for name in ("PUBLIC_DATASETS", "cache_dir", "fetch", "fsdd", "speech_commands", "ljspeech", "gtzan",
                 "real_digits"):
        assert getattr(data, name) is getattr(datasets, name)
    with pytest.raises(AttributeError, match="no_such_loader"):
        data.no_such_loader


# --------------------------------------------------------------------------- real_digits (generated fixture)

def _tone(digit, take, sr=8000):
    t = np.arange(int(0.3 * sr)) / sr
    return (0.1 * np.sin(2 * np.pi * (200 + 50 * digit + take) * t)).astype(np.float32)


@pytest.fixture
def fake_fsdd(tmp_path):
    """Six speakers x 3 digits x 3 takes in FSDD's naming, plus files a parser must skip."""
    rec = tmp_path / "fsdd" / "recordings"
    rec.mkdir(parents=True)
    for spk in datasets.REAL_DIGITS_SPLITS:
        for digit in (0, 4, 9):
            for take in range(3):
                sf.write(str(rec / f"{digit}_{spk}_{take}.wav"), _tone(digit, take), 8000, subtype="PCM_16")
    (rec / "README.wav").write_bytes(b"not a recording")           # wrong name pattern: skipped
    (rec / "notes.txt").write_text("skip me")
    return tmp_path / "fsdd"


def test_real_digits_splits_are_speaker_disjoint(fake_fsdd):
    clips = datasets.real_digits(root=fake_fsdd)
    assert len(clips) == 6 * 3 * 3
    by_split = {s: {c.speaker for c in clips if c.split == s} for s in data.SPLITS}
    assert [len(by_split[s]) for s in data.SPLITS] == [3, 1, 2]
    assert not (by_split["train"] & by_split["valid"] or by_split["train"] & by_split["test"]
                or by_split["valid"] & by_split["test"])
    for s in data.SPLITS:
        assert {c.label for c in clips if c.split == s} == {"zero", "four", "nine"}
    c = clips[0]
    assert (c.engine, c.kind, c.language, c.sr) == ("human", "word", "en", 8000)
    assert c.audio.dtype == np.float32 and c.audio.ndim == 1
    # the label comes from the file name: the tone's frequency encodes digit and take
    for c in clips:
        f0 = np.argmax(np.abs(np.fft.rfft(c.audio))) * c.sr / len(c.audio)
        assert f0 == pytest.approx(200 + 50 * data.DIGITS.index(c.label) + c.annotations["take"], abs=4)


def test_real_digits_filters(fake_fsdd):
    test = datasets.real_digits(split="test", root=fake_fsdd)
    assert {c.speaker for c in test} == {s for s, v in datasets.REAL_DIGITS_SPLITS.items() if v == "test"}
    theo = datasets.real_digits(speaker="theo", takes=1, root=fake_fsdd / "recordings")   # the folder itself
    assert [(c.label, c.annotations["take"]) for c in theo] == [("zero", 0), ("four", 0), ("nine", 0)]
    assert len(datasets.real_digits(speaker=["theo", "lucas"], takes=2, root=fake_fsdd)) == 2 * 3 * 2


def test_real_digits_reads_the_environment_variable(fake_fsdd, monkeypatch):
    monkeypatch.setenv("COURSE_REAL_DIGITS", str(fake_fsdd))
    assert len(data.real_digits(split="valid")) == 9


def test_real_digits_absent_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_REAL_DIGITS", raising=False)
    monkeypatch.setenv("COURSE_DATA_CACHE", str(tmp_path))
    monkeypatch.setattr(datasets, "SHIPPED_REAL_DIGITS", tmp_path / "not-shipped")   # a checkout without data/real
    with pytest.raises(CourseLibError, match=r"fetch\('fsdd', download=True\).*COURSE_REAL_DIGITS"):
        datasets.real_digits()
    with pytest.raises(AudioFileError, match="does not exist"):
        datasets.real_digits(root=tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudioFileError, match="no FSDD recordings"):
        datasets.real_digits(root=tmp_path / "empty")


def test_the_shipped_real_digits(monkeypatch):
    """data/real/digits (tools/real_corpus.py): takes 0-9 of FSDD's six speakers, read by default, in the
    manifest (so data.verify() covers them), speaker-disjoint 3 / 1 / 2, the audio FSDD's own 8 kHz."""
    monkeypatch.delenv("COURSE_REAL_DIGITS", raising=False)
    clips = datasets.real_digits()
    assert len(clips) == 600 and all(c.sr == 8000 and c.engine == "human" for c in clips)
    assert all(c.path.parent == datasets.SHIPPED_REAL_DIGITS for c in clips)
    by_split = {s: {c.speaker for c in clips if c.split == s} for s in ("train", "valid", "test")}
    assert by_split == {"train": {"george", "jackson", "yweweler"}, "valid": {"nicolas"}, "test": {"lucas", "theo"}}
    assert {(c.speaker, c.label) for c in clips} == {(s, d) for s in datasets.REAL_DIGITS_SPLITS for d in data.DIGITS}
    rows = {r["path"]: r for r in data.manifest() if r["kind"] == "real_digit"}
    assert len(rows) == 600
    for c in clips[::37]:
        r = rows[f"real/digits/{c.path.name}"]
        assert (r["speaker"], r["split"], r["label"], int(r["sample_rate"])) == (c.speaker, c.split, c.label, c.sr)
        assert float(r["duration"]) == pytest.approx(len(c.audio) / c.sr, abs=1e-4)
    assert "Attribution-ShareAlike 4.0" in (datasets.SHIPPED_REAL_DIGITS.parent / "LICENSE.md").read_text()


@pytest.mark.parametrize("kwargs, match", [
    ({"split": "dev"}, "split='dev'"), ({"takes": 0}, "takes=0"), ({"takes": 1.5}, "takes=1.5"),
    ({"speaker": "nobody"}, "nobody"),
])
def test_real_digits_bad_arguments(fake_fsdd, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        datasets.real_digits(root=fake_fsdd, **kwargs)


# --------------------------------------------------------------------------- RAVDESS (generated fixture)

def _ravdess_tree(root: Path) -> Path:
    """Audio-only speech files of actors 1, 18 and 22 (one per split), plus files to skip."""
    for actor in (1, 18, 22):
        d = root / f"Actor_{actor:02d}"
        d.mkdir(parents=True)
        for emo, inten in ((1, 1), (3, 2), (5, 1)):
            name = f"03-01-{emo:02d}-{inten:02d}-02-01-{actor:02d}.wav"
            sf.write(str(d / name), _tone(emo, 0, sr=48000), 48000, subtype="PCM_16")
        sf.write(str(d / f"03-02-03-01-01-01-{actor:02d}.wav"), _tone(0, 0), 8000)   # song: skipped
        sf.write(str(d / f"01-01-03-01-01-01-{actor:02d}.wav"), _tone(0, 0), 8000)   # full AV: skipped
    (root / "Actor_01" / "notes.wav").write_bytes(b"not RAVDESS")
    return root


def test_ravdess_fixture(tmp_path):
    root = _ravdess_tree(tmp_path / "ravdess")
    clips = datasets.ravdess(root=root)
    assert len(clips) == 9
    assert {(c.speaker, c.split) for c in clips} == {("actor_01", "train"), ("actor_18", "valid"),
                                                     ("actor_22", "test")}
    happy = datasets.ravdess(root=root, emotion="happy", actor=22)
    assert len(happy) == 1
    h = happy[0]
    assert (h.label, h.style, h.engine, h.sr, h.text) == ("happy", "happy", "human", 48000,
                                                          "dogs are sitting by the door")
    assert h.annotations == {"intensity": "strong", "repetition": 1, "gender": "female"}
    assert [c.label for c in datasets.ravdess(root=root, split="valid")] == ["neutral", "happy", "angry"]
    assert data.ravdess is datasets.ravdess


@pytest.mark.parametrize("kwargs, match", [({"emotion": "bored"}, "bored"), ({"actor": 25}, "actor=25"),
                                           ({"split": "dev"}, "split='dev'")])
def test_ravdess_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        datasets.ravdess(root=_ravdess_tree(tmp_path / "r"), **kwargs)


def test_fetch_checks_the_publishers_md5_for_ravdess(tmp_path, monkeypatch):
    """RAVDESS has only the publisher's md5: fetch checks it, and unpacks the flat zip into its folder."""
    import zipfile

    src = _ravdess_tree(tmp_path / "src")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(src.rglob("*.wav")):
            z.write(p, p.relative_to(src).as_posix())
    blob = buf.getvalue()
    monkeypatch.setattr(datasets, "_urlretrieve", lambda url, dest: Path(dest).write_bytes(blob))
    spec = datasets.PUBLIC_DATASETS["ravdess"]
    cache = tmp_path / "cache"
    with pytest.raises(CourseLibError, match="md5"):
        datasets.fetch("ravdess", download=True, root=cache)          # the real md5 is not our blob's
    (cache / "ravdess" / spec.archive).unlink()
    monkeypatch.setitem(datasets.PUBLIC_DATASETS, "ravdess", spec._replace(md5=hashlib.md5(blob).hexdigest()))
    folder = datasets.fetch("ravdess", download=True, root=cache)
    assert folder == cache / "ravdess" / spec.folder and (folder / "Actor_22").is_dir()
    assert len(datasets.ravdess(root=folder)) == 9
