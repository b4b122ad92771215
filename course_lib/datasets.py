"""Optional public datasets a learner may graduate to, and the real recordings of the digits.

Notebook: 00_welcome.ipynb

Nothing here ships with the course. :func:`fetch` downloads a dataset only when
asked (``download=True``), checks its sha256 and unpacks it into
``$COURSE_DATA_CACHE`` or ``~/.cache/course_lib``; the loaders parse the
datasets' own layouts into the same :class:`~course_lib.data.Clip` records as
the shipped corpus (their parsing is tested on tiny fixtures, never on the
network):

- :func:`fsdd` — Free Spoken Digit Dataset (its official, not speaker-disjoint, split);
- :func:`real_digits` — the same recordings as the course's *real human* test set:
  ``engine="human"``, speaker-disjoint splits (3 train, 1 valid, 2 test speakers);
- :func:`speech_commands`, :func:`ljspeech`, :func:`gtzan`; :func:`ravdess` (acted emotions, non-commercial licence).

This module imports only numpy and soundfile (no librosa, no torch).
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .data import DIGITS, SPLITS, Clip, _check_choice
from .errors import AudioFileError, CourseLibError, ParameterError

__all__ = ["ravdess", "RAVDESS_EMOTIONS", "PUBLIC_DATASETS", "cache_dir", "fetch", "fsdd", "real_digits", "REAL_DIGITS_SPLITS", "REAL_DIGITS_ENV",
           "speech_commands", "ljspeech", "gtzan"]


# --------------------------------------------------------------------------- public datasets

class _Remote(NamedTuple):
    url: str
    sha256: str        # "" where only the publisher's md5 is known (then md5 is checked)
    archive: str
    folder: str        # what the archive unpacks to, inside the dataset's cache folder
    size: str
    licence: str
    md5: str = ""
    flat: bool = False  # the archive has no top folder: unpack into ``folder``


#: Public datasets a learner may graduate to (downloaded only on request).
PUBLIC_DATASETS = {
    "fsdd": _Remote("https://github.com/Jakobovski/free-spoken-digit-dataset/archive/v1.0.9.tar.gz",
                    "8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0",
                    "free-spoken-digit-dataset-1.0.9.tar.gz", "free-spoken-digit-dataset-1.0.9",
                    "12 MB", "CC BY-SA 4.0"),
    "speech_commands": _Remote("http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
                               "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
                               "speech_commands_v0.02.tar.gz", "speech_commands_v0.02",
                               "2.3 GB", "CC BY 4.0"),
    "ljspeech": _Remote("https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2",
                        "be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5",
                        "LJSpeech-1.1.tar.bz2", "LJSpeech-1.1", "2.6 GB", "public domain"),
    "gtzan": _Remote("http://opihi.cs.uvic.ca/sound/genres.tar.gz",
                     "24347e0223d2ba798e0a558c4c172d9d4a19c00bb7963fe055d183dadb4ef2c6",
                     "genres.tar.gz", "genres", "1.2 GB", "research use only (copyrighted excerpts)"),
    # the publisher's (Zenodo's) md5 of the 208,468,073-byte archive
    "ravdess": _Remote("https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1", "",
                       "Audio_Speech_Actors_01-24.zip", "Audio_Speech_Actors_01-24", "208 MB",
                       "CC BY-NC-SA 4.0 (non-commercial)", md5="bc696df654c87fed845eb13823edef8a", flat=True),
}


def cache_dir() -> Path:
    """Where public datasets go: ``$COURSE_DATA_CACHE`` or ``~/.cache/course_lib``."""
    env = os.environ.get("COURSE_DATA_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "course_lib"


def _urlretrieve(url: str, dest: Path) -> None:
    """Download ``url`` to ``dest`` (the only function here that touches the network)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as resp, open(dest, "wb") as f:
        while chunk := resp.read(1 << 20):
            f.write(chunk)


def _sha256_file(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fetch(name: str, *, download: bool = False, root=None) -> Path:
    """Return the folder of public dataset ``name``, downloading it only if asked.

    Parameters
    ----------
    name : {"fsdd", "speech_commands", "ljspeech", "gtzan", "ravdess"}
    download : bool
        If the dataset is not in the cache, download it (needs the network), check
        its sha256 and unpack it. With False (default) a missing dataset raises
        :class:`~course_lib.errors.CourseLibError` saying how to get it.
    root : path, optional
        The cache folder (default :func:`cache_dir`).

    Notebook: 00_welcome.ipynb
    """
    _check_choice("name", name, tuple(PUBLIC_DATASETS))
    if name is None:
        raise ParameterError(f"name=None is not valid; choose one of {list(PUBLIC_DATASETS)}")
    spec = PUBLIC_DATASETS[name]
    base = (Path(root) if root is not None else cache_dir()) / name
    target = base / spec.folder
    if target.is_dir():
        return target
    if not download:
        raise CourseLibError(
            f"{name} is not in {base}; call fetch({name!r}, download=True) to download it "
            f"({spec.size}, licence: {spec.licence}) from {spec.url}, or unpack {spec.archive} there yourself")
    base.mkdir(parents=True, exist_ok=True)
    archive = base / spec.archive
    if not archive.exists():
        part = archive.with_name(archive.name + ".part")
        _urlretrieve(spec.url, part)
        part.rename(archive)
    algorithm, expected = ("sha256", spec.sha256) if spec.sha256 else ("md5", spec.md5)
    digest = _sha256_file(archive, algorithm)
    if digest != expected:
        raise CourseLibError(f"{archive} has {algorithm} {digest}, expected {expected}: the download is "
                             "damaged or the file changed upstream; delete it and try again")
    flat = spec.flat or name == "speech_commands"
    extract_to = target if flat else base                 # a flat archive has no top folder
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            z.extractall(extract_to)
    else:
        with tarfile.open(archive) as t:
            t.extractall(extract_to, filter="data")
    return target


def _resolve(name: str, root, download: bool) -> Path:
    if root is not None:
        root = Path(root)
        if not root.is_dir():
            raise AudioFileError(f"{name} folder {root} does not exist")
        return root
    return fetch(name, download=download)


def _read_public(p: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf
    try:
        y, sr = sf.read(str(p), dtype="float32", always_2d=False)
    except Exception as e:
        raise AudioFileError(f"{p} is not readable audio ({e})") from None
    if y.ndim == 2:
        y = y.mean(axis=1, dtype=np.float32)
    return y, sr


def fsdd(*, split: str | None = None, root=None, download: bool = False) -> list[Clip]:
    """Free Spoken Digit Dataset (8 kHz wav, ``{digit}_{speaker}_{index}.wav``).

    The official split: takes 0-4 are test, 5-49 train (it is *not*
    speaker-disjoint). ``label`` is the digit as a word ("seven").

    Parameters
    ----------
    split : {"train", "test"} or None
    root : path, optional
        A folder holding ``recordings/`` (default: the cache, see :func:`fetch`).
    download : bool
        Download into the cache if missing.

    Notebook: 04_hmm_word_recognition.ipynb
    """
    _check_choice("split", split, ("train", "test"))
    base = _resolve("fsdd", root, download)
    rec = base / "recordings" if (base / "recordings").is_dir() else base
    out = []
    for p in sorted(rec.glob("*.wav")):
        try:
            digit, spk, idx = p.stem.split("_")
            digit, idx = int(digit), int(idx)
        except ValueError:
            continue                                  # not a recording
        s = "test" if idx < 5 else "train"
        if split is not None and s != split:
            continue
        y, sr = _read_public(p)
        out.append(Clip(y, sr, p, label=DIGITS[digit], speaker=spk, split=s, kind="word"))
    return out


#: Speaker-disjoint splits of the Free Spoken Digit Dataset's six speakers for
#: :func:`real_digits` (3 train, 1 valid, 2 test). Fixed once, before any model was
#: scored on them; a speaker not listed here (a later FSDD release) is a test speaker.
REAL_DIGITS_SPLITS = {"george": "train", "jackson": "train", "yweweler": "train",
                      "nicolas": "valid",
                      "lucas": "test", "theo": "test"}

#: environment variable naming a folder of FSDD recordings for :func:`real_digits`
REAL_DIGITS_ENV = "COURSE_REAL_DIGITS"


#: the FSDD subset the course ships (takes 0-9 of every speaker; ``tools/real_corpus.py``)
SHIPPED_REAL_DIGITS = Path(__file__).resolve().parents[1] / "data" / "real" / "digits"


def _real_digits_folder(root) -> Path:
    """``root``, else ``$COURSE_REAL_DIGITS``, else the shipped subset, else the FSDD download in the cache."""
    if root is None:
        env = os.environ.get(REAL_DIGITS_ENV)
        if env:
            root = Path(env).expanduser()
        elif SHIPPED_REAL_DIGITS.is_dir():
            root = SHIPPED_REAL_DIGITS
        else:
            spec = PUBLIC_DATASETS["fsdd"]
            root = cache_dir() / "fsdd" / spec.folder
            if not root.is_dir():
                raise CourseLibError(
                    "real_digits() needs the Free Spoken Digit Dataset, which the course does not ship "
                    "(the course ships takes 0-9 in data/real/digits, which is missing here: restore it with "
                    "git checkout -- data/real). Get the whole dataset with "
                    "course_lib.datasets.fetch('fsdd', download=True) "
                    f"({spec.size}, {spec.licence}), or point ${REAL_DIGITS_ENV} (or root=) at a folder "
                    "of its recordings (DIGIT_SPEAKER_TAKE.wav)")
    root = Path(root)
    if not root.is_dir():
        raise AudioFileError(f"real digits folder {root} does not exist (from root= or ${REAL_DIGITS_ENV})")
    return root / "recordings" if (root / "recordings").is_dir() else root


def real_digits(*, split: str | None = None, speaker=None, takes: int | None = None, root=None) -> list[Clip]:
    """Real human recordings of the ten digits (FSDD: six adult speakers, 8 kHz), speaker-disjoint.

    The course's test of generalisation to *real* speech: train on the shipped
    synthetic voices (and, if you like, the three real training speakers), then score
    the two real test speakers. The audio is read from, in order: ``root``, the folder
    in ``$COURSE_REAL_DIGITS``, the subset the course ships (``data/real/digits``: takes
    0-9 of every digit and speaker, 600 clips, CC BY-SA 4.0, see ``data/real/LICENSE.md``),
    or the FSDD download in the cache (``fetch("fsdd", download=True)``: all 50 takes);
    nothing is downloaded here. The shipped models were never trained on these speakers.

    Parameters
    ----------
    split : {"train", "valid", "test"} or None
        By speaker, see :data:`REAL_DIGITS_SPLITS` (3 / 1 / 2 speakers).
    speaker : str or iterable of str, optional
        Keep only these speakers (e.g. "theo").
    takes : int, optional
        Keep takes 0 .. takes-1 of each digit and speaker (FSDD has 50).
    root : path, optional
        A folder of ``DIGIT_SPEAKER_TAKE.wav`` (or ``.flac``) files (or one holding ``recordings/``).

    Returns
    -------
    list of Clip
        ``label`` the digit as a word, ``engine="human"``, ``language="en"``,
        ``kind="word"``; sorted by speaker, digit, take.

    Notebook: 04_hmm_word_recognition.ipynb
    """
    _check_choice("split", split, SPLITS)
    if takes is not None and (isinstance(takes, bool) or not isinstance(takes, int) or takes < 1):
        raise ParameterError(f"takes={takes!r} must be a positive integer (or None for all)")
    wanted = None if speaker is None else ({speaker} if isinstance(speaker, str) else set(speaker))
    rec = _real_digits_folder(root)
    found = []
    for p in [*rec.glob("*.wav"), *rec.glob("*.flac")]:
        parts = p.stem.split("_")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit() or int(parts[0]) > 9:
            continue                                   # not a recording
        found.append((parts[1], int(parts[0]), int(parts[2]), p))
    if not found:
        raise AudioFileError(f"{rec} holds no FSDD recordings (DIGIT_SPEAKER_TAKE.wav)")
    if wanted is not None:
        unknown = sorted(wanted - {f[0] for f in found})
        if unknown:
            raise ParameterError(f"speaker has unknown values {unknown}; choose from {sorted({f[0] for f in found})}")
    out = []
    for spk, digit, take, p in sorted(found):
        s = REAL_DIGITS_SPLITS.get(spk, "test")
        if (split is not None and s != split) or (wanted is not None and spk not in wanted) \
                or (takes is not None and take >= takes):
            continue
        y, sr = _read_public(p)
        out.append(Clip(y, sr, p, label=DIGITS[digit], speaker=spk, split=s, kind="word", engine="human",
                        language="en", annotations={"take": take}))
    return out


def speech_commands(*, split: str | None = None, words=None, root=None, download: bool = False,
                    limit: int | None = None) -> list[Clip]:
    """Google Speech Commands v0.02 (16 kHz, 1 s clips, ``<word>/<speaker>_nohash_<n>.wav``).

    Splits follow the dataset's ``validation_list.txt`` / ``testing_list.txt``
    (speaker-disjoint by construction); ``speaker`` is the hash before ``_nohash_``.
    ``_background_noise_`` is skipped. ``limit`` keeps the first n clips (sorted by path).

    Notebook: 07_audio_classification.ipynb
    """
    _check_choice("split", split, SPLITS)
    base = _resolve("speech_commands", root, download)

    def _list(name):
        f = base / name
        return set(f.read_text().split()) if f.exists() else set()

    valid, test = _list("validation_list.txt"), _list("testing_list.txt")
    wanted = None if words is None else ({words} if isinstance(words, str) else set(words))
    out = []
    for p in sorted(base.glob("*/*.wav")):
        word = p.parent.name
        if word.startswith("_") or (wanted is not None and word not in wanted):
            continue
        rel = f"{word}/{p.name}"
        s = "valid" if rel in valid else "test" if rel in test else "train"
        if split is not None and s != split:
            continue
        y, sr = _read_public(p)
        out.append(Clip(y, sr, p, label=word, speaker=p.name.split("_nohash_")[0], split=s, kind="word"))
        if limit is not None and len(out) >= limit:
            break
    return out


def ljspeech(*, root=None, download: bool = False, limit: int | None = None) -> list[Clip]:
    """LJSpeech 1.1 (one speaker, 22.05 kHz): ``metadata.csv`` is ``id|text|normalized text``.

    ``Clip.text`` is the normalised transcript; there is no official split.

    Notebook: 12_tacotron2.ipynb
    """
    base = _resolve("ljspeech", root, download)
    meta = base / "metadata.csv"
    try:
        lines = meta.read_text(encoding="utf-8").splitlines()
    except OSError:
        raise AudioFileError(f"LJSpeech metadata {meta} is missing") from None
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) != 3:
            raise AudioFileError(f"{meta}, line {i}: expected 'id|text|normalized text', got {line!r}")
        y, sr = _read_public(base / "wavs" / f"{parts[0]}.wav")
        out.append(Clip(y, sr, base / "wavs" / f"{parts[0]}.wav", text=parts[2], speaker="LJ", kind="tts"))
        if limit is not None and len(out) >= limit:
            break
    return out


_GTZAN_GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")


def gtzan(*, genre: str | None = None, root=None, download: bool = False, limit: int | None = None) -> list[Clip]:
    """GTZAN genre collection (22.05 kHz, ``<genre>/<genre>.000NN.au`` or ``.wav``).

    No split is given: GTZAN has repeated and mislabelled excerpts (Sturm, 2013),
    so use an artist-filtered split if you report numbers.

    Notebook: 07_audio_classification.ipynb
    """
    _check_choice("genre", genre, _GTZAN_GENRES)
    base = _resolve("gtzan", root, download)
    out = []
    for g in _GTZAN_GENRES:
        if genre is not None and g != genre:
            continue
        files = sorted(p for p in (base / g).glob(f"{g}.*") if p.suffix in (".au", ".wav"))
        for p in files:
            y, sr = _read_public(p)
            out.append(Clip(y, sr, p, label=g, kind="genre"))
            if limit is not None and len(out) >= limit:
                return out
    return out


#: RAVDESS emotion codes (the third field of a file name)
RAVDESS_EMOTIONS = {1: "neutral", 2: "calm", 3: "happy", 4: "sad", 5: "angry", 6: "fearful", 7: "disgust",
                    8: "surprised"}
_RAVDESS_STATEMENTS = {1: "kids are talking by the door", 2: "dogs are sitting by the door"}


def _ravdess_split(actor: int) -> str:
    """Actor-disjoint: actors 1-16 train, 17-20 valid, 21-24 test (each half male, half female)."""
    return "train" if actor <= 16 else "valid" if actor <= 20 else "test"


def ravdess(*, split: str | None = None, emotion=None, actor=None, root=None, download: bool = False,
            limit: int | None = None) -> list[Clip]:
    """RAVDESS audio-only speech: 24 actors, 2 sentences, 8 acted emotions (48 kHz wav).

    File names are ``MM-VV-EE-II-SS-RR-AA.wav``: modality (03 audio-only), vocal channel
    (01 speech), emotion (:data:`RAVDESS_EMOTIONS`), intensity (01 normal, 02 strong),
    statement, repetition, actor (odd male, even female), in ``Actor_AA/`` folders. Only
    audio-only speech files are read. ``Clip.label`` and ``Clip.style`` are the emotion,
    ``Clip.speaker`` ``"actor_AA"``, ``Clip.text`` the statement, ``Clip.annotations``
    ``intensity`` / ``repetition`` / ``gender``. Splits are actor-disjoint (1-16 train,
    17-20 valid, 21-24 test). Licence CC BY-NC-SA 4.0: non-commercial use only.

    These are *recorded* acted emotions; the shipped :func:`course_lib.data.styled_speech`
    only simulates four of them with a synthesiser's prosody controls.

    Notebook: 14_emotion_recognition.ipynb
    """
    _check_choice("split", split, SPLITS)
    emotions = set(RAVDESS_EMOTIONS.values())
    wanted = None if emotion is None else ({emotion} if isinstance(emotion, str) else set(emotion))
    if wanted is not None and wanted - emotions:
        raise ParameterError(f"emotion has unknown values {sorted(wanted - emotions)}; choose from {sorted(emotions)}")
    actors = None if actor is None else ({actor} if isinstance(actor, int) else set(actor))
    if actors is not None and not actors <= set(range(1, 25)):
        raise ParameterError(f"actor={actor!r}: RAVDESS actors are numbered 1 to 24")
    base = _resolve("ravdess", root, download)
    out = []
    for p in sorted(base.glob("**/*.wav")):
        try:
            mod, chan, emo, inten, stmt, rep, act = (int(x) for x in p.stem.split("-"))
        except ValueError:
            continue                                   # not a RAVDESS file name
        if mod != 3 or chan != 1 or emo not in RAVDESS_EMOTIONS:
            continue
        s, label = _ravdess_split(act), RAVDESS_EMOTIONS[emo]
        if (split is not None and s != split) or (wanted is not None and label not in wanted) \
                or (actors is not None and act not in actors):
            continue
        y, sr = _read_public(p)
        out.append(Clip(y, sr, p, label=label, text=_RAVDESS_STATEMENTS.get(stmt), speaker=f"actor_{act:02d}",
                        split=s, kind="styled", engine="human", language="en", style=label,
                        annotations={"intensity": "strong" if inten == 2 else "normal", "repetition": rep,
                                     "gender": "male" if act % 2 else "female"}))
        if limit is not None and len(out) >= limit:
            break
    return out
