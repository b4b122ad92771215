"""Symbolic music generation: MIDI, note-event tokens, a Markov chain, an LSTM, a NumPy synthesiser.

Notebook: 17_music_generation.ipynb

The pipeline, every step in this module::

    corpus MIDI --read_midi--> notes --EventTokenizer.encode--> tokens
        --MarkovChain.fit / fit_lm(NoteLSTM)--> a language model over tokens
        --sample (temperature, top-k)--> tokens --decode--> notes --synthesize--> audio

- **MIDI I/O** (:func:`read_midi`, :func:`write_midi`): a Standard MIDI File
  reader and writer in plain Python (formats 0 and 1, running status, tempo
  changes) written out so a learner sees the bytes; ``pretty_midi``, the
  field's MIDI library, reads the same files to the same notes (the tests
  check both directions).
- **Data** (:func:`course_compositions`): the course's own compositions, the
  MIDI the corpus generator rendered into ``data/music/genres`` (240 clips
  of 5 s in six styles, the corpus's train/valid/test split).
- **Tokens** (:class:`EventTokenizer`): ``NOTE_ON(p)``, ``NOTE_OFF(p)`` and
  ``SHIFT(k)`` (advance ``k`` steps of 10 ms), the performance encoding of
  Oore et al. (2018) without velocity; polyphony is free.
- **Models**: :class:`MarkovChain` (order-``n`` counts, add-``alpha``
  smoothing, back-off to shorter contexts) and :class:`NoteLSTM` (embedding,
  LSTM, linear; ``forward`` with teacher forcing, ``generate`` free-running),
  both scored by the same held-out negative log-likelihood per token
  (:func:`sequence_nll`), both sampled with :func:`sample_logits`
  (temperature and top-k).
- **Sound** (:func:`synthesize`): Karplus–Strong plucked strings or an
  additive organ, in NumPy.
- **Evaluation**: :func:`pitch_class_histogram` and :func:`histogram_distance`,
  :func:`note_density`, :func:`interval_histogram`, key finding
  (:func:`find_key`, Krumhansl–Schmuckler) and :func:`key_consistency`.
"""

from __future__ import annotations

import importlib.util
import math
import struct
import sys
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ..errors import AudioFileError, ParameterError
from ..validation import check_positive, check_positive_int, check_sr

__all__ = [
    "Note", "MidiData", "read_midi", "write_midi", "Composition", "course_compositions",
    "EventTokenizer", "MarkovChain", "LMConfig", "NoteLSTM", "fit_lm", "sequence_nll", "sample_logits",
    "midi_to_hz", "karplus_strong", "additive_tone", "synthesize", "pitch_class_histogram",
    "histogram_distance", "note_density", "interval_histogram", "Key", "find_key", "key_consistency",
    "music_statistics", "DRUM_CHANNEL", "PITCH_CLASSES",
]

DRUM_CHANNEL = 9
PITCH_CLASSES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


class Note(NamedTuple):
    """One note: times in seconds, MIDI key number, velocity 1..127, channel 0..15."""

    start: float
    end: float
    pitch: int
    velocity: int = 80
    channel: int = 0


# --------------------------------------------------------------------------- MIDI files

class MidiData(NamedTuple):
    """What :func:`read_midi` found."""

    notes: list          # [Note], sorted by (start, pitch)
    programs: dict       # channel -> General MIDI program (0-based), the last one set
    ppq: int             # ticks per quarter note
    tempos: list         # [(tick, microseconds per quarter)], the tempo map


def _read_varlen(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    for _ in range(4):
        b = data[i]
        i += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, i
    raise ValueError("variable-length quantity longer than 4 bytes")


def _parse_track(data: bytes):
    """Events of one track: [(tick, kind, payload)] with kind 'on', 'off', 'program', 'tempo'."""
    events, i, tick, status = [], 0, 0, None
    while i < len(data):
        delta, i = _read_varlen(data, i)
        tick += delta
        b = data[i]
        if b == 0xFF:                                    # meta event
            mtype = data[i + 1]
            length, j = _read_varlen(data, i + 2)
            payload = data[j:j + length]
            i = j + length
            if mtype == 0x51 and length == 3:
                events.append((tick, "tempo", int.from_bytes(payload, "big")))
            elif mtype == 0x2F:
                break
            continue
        if b in (0xF0, 0xF7):                            # sysex
            length, j = _read_varlen(data, i + 1)
            i = j + length
            continue
        if b & 0x80:
            status = b
            i += 1
        elif status is None:
            raise ValueError(f"data byte {b:#x} without a status byte at offset {i}")
        kind, ch = status & 0xF0, status & 0x0F
        n_data = 1 if kind in (0xC0, 0xD0) else 2
        d = data[i:i + n_data]
        i += n_data
        if kind == 0x90 and d[1] > 0:
            events.append((tick, "on", (ch, d[0], d[1])))
        elif kind == 0x80 or kind == 0x90:                # note-on with velocity 0 is a note-off
            events.append((tick, "off", (ch, d[0])))
        elif kind == 0xC0:
            events.append((tick, "program", (ch, d[0])))
    return events


def read_midi(source) -> MidiData:
    """Read a Standard MIDI File (format 0 or 1) into notes with times in seconds.

    Notebook: 17_music_generation.ipynb

    Handles running status, note-on with velocity 0 as note-off, tempo
    changes anywhere (ticks are converted through the tempo map) and
    skips meta and system-exclusive events it does not need. A note-on for a
    key that is already sounding on the same channel ends the earlier note
    there (what a synthesiser does).

    Parameters
    ----------
    source : path or bytes

    Returns
    -------
    MidiData

    Raises
    ------
    AudioFileError
        Not a MIDI file, an SMPTE time base, or a truncated file; the message
        names the file.
    """
    name = "<bytes>"
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as e:
            raise AudioFileError(f"cannot read MIDI file {name}: {e}") from e
    try:
        if data[:4] != b"MThd":
            raise ValueError("no 'MThd' header: not a Standard MIDI File")
        hlen, fmt, ntrk, division = struct.unpack(">IHHH", data[4:14])
        if division & 0x8000:
            raise ValueError("SMPTE time division is not supported (only ticks per quarter note)")
        if fmt not in (0, 1):
            raise ValueError(f"format {fmt} is not supported (only 0 and 1)")
        i = 8 + hlen
        events = []
        for _ in range(ntrk):
            if data[i:i + 4] != b"MTrk":
                raise ValueError(f"expected 'MTrk' at offset {i}")
            (length,) = struct.unpack(">I", data[i + 4:i + 8])
            if i + 8 + length > len(data):
                raise ValueError("truncated track")
            events += _parse_track(data[i + 8:i + 8 + length])
            i += 8 + length
    except (ValueError, IndexError, struct.error) as e:
        raise AudioFileError(f"{name} is not a readable MIDI file: {e}") from e
    # the tempo map (default 120 BPM) -> seconds of every tick
    tempos = sorted([(t, p) for t, k, p in events if k == "tempo"], key=lambda e: e[0])
    if not tempos or tempos[0][0] != 0:
        tempos = [(0, 500_000)] + tempos
    bounds = []                                          # (tick, seconds at tick, seconds per tick)
    secs = 0.0
    for j, (t, us) in enumerate(tempos):
        if bounds:
            pt, ps, spt = bounds[-1]
            secs = ps + (t - pt) * spt
        bounds.append((t, secs, us / 1e6 / division))
    b_ticks = np.array([b[0] for b in bounds])

    def seconds(tick):
        k = int(np.searchsorted(b_ticks, tick, side="right")) - 1
        t, s, spt = bounds[k]
        return s + (tick - t) * spt

    order = {"off": 0, "tempo": 1, "program": 1, "on": 2}   # at one tick: offs before ons
    events.sort(key=lambda e: (e[0], order[e[1]]))
    active, notes, programs = {}, [], {}
    for tick, kind, p in events:
        if kind == "program":
            programs[p[0]] = p[1]
        elif kind == "on":
            ch, key, vel = p
            if (ch, key) in active:
                t0, v0 = active[(ch, key)]
                if t0 == tick:
                    continue                             # struck twice at once: one note
                del active[(ch, key)]
                notes.append(Note(seconds(t0), seconds(tick), key, v0, ch))
            active[(ch, key)] = (tick, vel)
        elif kind == "off":
            ch, key = p
            if (ch, key) in active:
                t0, v0 = active.pop((ch, key))
                notes.append(Note(seconds(t0), seconds(tick), key, v0, ch))
    notes.sort(key=lambda n: (n.start, n.pitch, n.channel))
    return MidiData(notes, programs, division, tempos)


def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def write_midi(notes, path=None, *, programs=None, ppq: int = 960, bpm: float = 120.0) -> bytes:
    """Write notes as a format-0 Standard MIDI File; return its bytes (and save them to ``path``).

    Notebook: 17_music_generation.ipynb

    One tempo event (``bpm``); times are rounded to the nearest tick
    (``60 / (bpm ppq)`` s: 0.52 ms at the defaults). ``programs`` maps
    channel -> General MIDI program (default: none set, i.e. piano).
    """
    ppq = check_positive_int(ppq, "ppq")
    bpm = check_positive(bpm, "bpm")
    us = int(round(60e6 / bpm))
    tps = ppq * 1e6 / us                                       # ticks per second
    ev = [(0, -1, b"\xff\x51\x03" + us.to_bytes(3, "big"))]
    for ch, prog in sorted((programs or {}).items()):
        ev.append((0, -1, bytes([0xC0 | int(ch), int(prog)])))
    for n in notes:
        n = Note(*n)
        if not (0 <= n.pitch <= 127 and 0 <= n.channel <= 15 and 1 <= n.velocity <= 127):
            raise ParameterError(f"{n} is out of range: pitch 0..127, velocity 1..127, channel 0..15")
        if n.start < 0 or n.end < n.start:
            raise ParameterError(f"{n}: times must satisfy 0 <= start <= end")
        on = int(round(n.start * tps))
        off = max(on + 1, int(round(n.end * tps)))
        ev.append((on, 2, bytes([0x90 | n.channel, n.pitch, n.velocity])))
        ev.append((off, 0, bytes([0x80 | n.channel, n.pitch, 0])))
    ev.sort(key=lambda e: (e[0], e[1]))
    track, now = bytearray(), 0
    for tick, _, data in ev:
        track += _varlen(tick - now) + data
        now = tick
    track += _varlen(0) + b"\xff\x2f\x00"
    out = b"MThd" + struct.pack(">IHHH", 6, 0, 1, ppq) + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)
    if path is not None:
        Path(path).write_bytes(out)
    return out


# --------------------------------------------------------------------------- the course's compositions

class Composition(NamedTuple):
    """One of the corpus's genre clips as notes."""

    name: str          # e.g. "bossa_00" (the audio is data/music/genres/<name>.flac)
    split: str
    genre: str
    tempo: float       # BPM
    key: int           # tonic pitch class of the (major) key it was composed in
    notes: list        # [Note], every channel, drums on DRUM_CHANNEL
    midi: bytes        # the Standard MIDI File the audio was rendered from


def _corpus_midi_module(repo: Path):
    path = repo / "tools" / "corpus_midi.py"
    if not path.exists():
        raise AudioFileError(f"the corpus's MIDI is neither in data/music/midi/ nor can it be composed: "
                             f"{path} is missing; run the course from its repository checkout")
    spec = importlib.util.spec_from_file_location("_course_corpus_midi", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod                        # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _item_rng(seed: int, key: str) -> np.random.Generator:
    """The corpus generator's per-item generator (tools/make_corpus.py ``item_rng``)."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


_COMPOSITIONS: dict = {}


def course_compositions(split: str | None = None, *, genre: str | None = None, data_dir=None) -> list[Composition]:
    """The corpus's genre clips as MIDI: the music the course composed, 240 clips of 5 s.

    Notebook: 17_music_generation.ipynb

    Each clip's Standard MIDI File is read from ``data/music/midi/<name>.mid``
    when shipped; otherwise it is composed again by the corpus generator
    (``tools/corpus_midi.py``, pure NumPy) from the same seed and item name, which
    gives the very notes the audio was rendered from (the tempo the manifest
    records is checked for every clip). Either way the notes come out of
    :func:`read_midi`.

    Parameters
    ----------
    split : "train", "valid", "test" or None
        The corpus split (the same as for chapter 08's genre classifier).
    genre : str or None

    Returns
    -------
    list of Composition
    """
    from .. import data

    root = Path(data_dir) if data_dir is not None else data.DATA_DIR
    key = str(root.resolve())
    if key not in _COMPOSITIONS:
        rows = data.manifest(kind="genre", data_dir=data_dir)
        midi_dir = root / "music" / "midi"
        cm = None
        out = []
        for r in rows:
            name = Path(r["path"]).stem
            rng_key = r["path"]
            tonic = int(_item_rng(0, rng_key).integers(0, 12))       # the generator's first draw is the key
            f = midi_dir / f"{name}.mid"
            if f.exists():
                midi = f.read_bytes()
            else:
                if cm is None:
                    cm = _corpus_midi_module(root.resolve().parent)
                piece = cm.genre_clip_v2(r["label"], rng=_item_rng(0, rng_key), duration=float(r["duration"]))
                if f"{piece.tempo:.1f}" != f"{float(r['tempo']):.1f}":
                    raise AudioFileError(f"composing {name} again gave tempo {piece.tempo:.1f}, the manifest says "
                                         f"{r['tempo']}: tools/corpus_midi.py no longer matches the corpus")
                midi = cm.midi_bytes(piece)
            md = read_midi(midi)
            out.append(Composition(name, r["split"], r["label"], float(r["tempo"]), tonic, md.notes, midi))
        _COMPOSITIONS[key] = out
    comps = _COMPOSITIONS[key]
    if split is not None:
        if split not in ("train", "valid", "test"):
            raise ParameterError(f"split={split!r} must be 'train', 'valid', 'test' or None")
        comps = [c for c in comps if c.split == split]
    if genre is not None:
        genres = sorted({c.genre for c in _COMPOSITIONS[key]})
        if genre not in genres:
            raise ParameterError(f"genre={genre!r} is not one of {genres}")
        comps = [c for c in comps if c.genre == genre]
    return list(comps)


# --------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class EventTokenizer:
    """Notes <-> ``NOTE_ON`` / ``NOTE_OFF`` / ``SHIFT`` tokens.

    Notebook: 17_music_generation.ipynb

    Token ids: ``BOS = 0``, ``EOS = 1``, ``NOTE_ON(p) = 2 + p``,
    ``NOTE_OFF(p) = 130 + p`` (``p`` = 0..127), ``SHIFT(k) = 257 + k``
    (advance ``k = 1 .. max_shift`` steps of ``step_s``; longer pauses are
    several shifts). Times are quantised to ``step_s`` (10 ms: finer than
    a player's timing, coarse enough for short sequences). At one time step:
    note-offs first, then note-ons, each by pitch, so the encoding of a set of
    notes is unique. Drums (``DRUM_CHANNEL``) are left out by default: their
    "pitches" are instruments, not notes.

    >>> tok = EventTokenizer()
    >>> tok.describe(tok.encode([Note(0.0, 0.5, 60), Note(0.25, 0.5, 64)]))
    ['ON C4', 'SHIFT 25', 'ON E4', 'SHIFT 25', 'OFF C4', 'OFF E4']
    """

    step_s: float = 0.01
    max_shift: int = 100
    keep_drums: bool = False

    BOS = 0
    EOS = 1
    ON = 2
    OFF = 130
    SHIFT = 257

    def __post_init__(self):
        if not self.step_s > 0:
            raise ParameterError(f"step_s={self.step_s!r} must be a positive number of seconds")
        check_positive_int(self.max_shift, "max_shift")

    @property
    def vocab_size(self) -> int:
        return self.SHIFT + self.max_shift + 1

    def encode(self, notes) -> np.ndarray:
        """Notes -> token ids ``(n_tokens,)`` (without BOS/EOS)."""
        ev = []
        for n in notes:
            n = Note(*n)
            if n.channel == DRUM_CHANNEL and not self.keep_drums:
                continue
            on = int(round(n.start / self.step_s))
            off = max(on + 1, int(round(n.end / self.step_s)))
            ev.append((on, 1, n.pitch))
            ev.append((off, 0, n.pitch))
        ev.sort()
        out, now, active = [], 0, defaultdict(int)
        for t, kind, p in ev:
            while t > now:
                k = min(t - now, self.max_shift)
                out.append(self.SHIFT + k)
                now += k
            if kind == 1:
                if active[p]:                       # the same key again (two channels): re-attack
                    out.append(self.OFF + p)
                out.append(self.ON + p)
                active[p] += 1
            else:
                active[p] -= 1
                if active[p] == 0:
                    out.append(self.OFF + p)
        return np.asarray(out, dtype=np.int64)

    def decode(self, tokens, *, velocity: int = 80, max_duration_s: float = 4.0) -> list[Note]:
        """Token ids -> notes. Unclosed notes end after ``max_duration_s`` (or at the end);
        an ON for a sounding key ends the earlier note; stray OFFs, BOS and EOS are ignored."""
        now, active, notes = 0, {}, []
        for tok in np.asarray(tokens).reshape(-1):
            tok = int(tok)
            if not 0 <= tok < self.vocab_size:
                raise ParameterError(f"token {tok} is outside the vocabulary (0..{self.vocab_size - 1})")
            if tok >= self.SHIFT + 1:
                now += tok - self.SHIFT
            elif self.ON <= tok < self.OFF:
                p = tok - self.ON
                if p in active:
                    notes.append(Note(active.pop(p) * self.step_s, now * self.step_s, p, velocity, 0))
                active[p] = now
            elif self.OFF <= tok < self.SHIFT:
                p = tok - self.OFF
                if p in active:
                    notes.append(Note(active.pop(p) * self.step_s, now * self.step_s, p, velocity, 0))
        for p, t0 in active.items():
            notes.append(Note(t0 * self.step_s, min(now, t0 + max_duration_s / self.step_s) * self.step_s, p,
                              velocity, 0))
        notes = [n for n in notes if n.end > n.start]
        notes.sort(key=lambda n: (n.start, n.pitch))
        return notes

    def describe(self, tokens) -> list[str]:
        """Readable names: ``'ON C4'``, ``'OFF E4'``, ``'SHIFT 25'``, ``'BOS'``, ``'EOS'``."""
        def name(p):
            return f"{PITCH_CLASSES[p % 12]}{p // 12 - 1}"

        out = []
        for tok in np.asarray(tokens).reshape(-1):
            tok = int(tok)
            if tok == self.BOS:
                out.append("BOS")
            elif tok == self.EOS:
                out.append("EOS")
            elif tok < self.OFF:
                out.append(f"ON {name(tok - self.ON)}")
            elif tok < self.SHIFT:
                out.append(f"OFF {name(tok - self.OFF)}")
            else:
                out.append(f"SHIFT {tok - self.SHIFT}")
        return out

    def sequence(self, notes, *, transpose: int = 0) -> np.ndarray:
        """``[BOS] + encode(notes transposed by `transpose` semitones) + [EOS]``."""
        if transpose:
            notes = [Note(n.start, n.end, n.pitch + (0 if n.channel == DRUM_CHANNEL else transpose), n.velocity,
                          n.channel) for n in notes]
            if any(not 0 <= n.pitch <= 127 for n in notes):
                raise ParameterError(f"transpose={transpose} moves a note outside 0..127")
        return np.concatenate([[self.BOS], self.encode(notes), [self.EOS]]).astype(np.int64)


# --------------------------------------------------------------------------- sampling

def sample_logits(logits, *, temperature: float = 1.0, top_k: int | None = None, rng=None) -> int:
    """Draw one token from ``softmax(logits / temperature)``, restricted to the ``top_k`` largest.

    Notebook: 17_music_generation.ipynb

    Temperature below 1 sharpens the distribution (safer, more repetitive),
    above 1 flattens it (more surprising, more mistakes); ``temperature=0``
    is the argmax. Top-k keeps only the ``k`` most likely tokens (ties at the
    k-th value are all kept) and renormalises.

    Parameters
    ----------
    logits : np.ndarray [shape=(vocab,)]
        Log-probabilities up to a constant (``-inf`` = impossible).
    temperature : float >= 0
    top_k : int >= 1 or None
    rng : np.random.Generator

    Returns
    -------
    int
    """
    logits = np.asarray(logits, dtype=np.float64).reshape(-1)
    if temperature < 0:
        raise ParameterError(f"temperature={temperature!r} must be >= 0 (0 = always the most likely token)")
    if not np.any(np.isfinite(logits)):
        raise ParameterError("every logit is -inf or NaN: no token can be drawn")
    if top_k is not None:
        top_k = check_positive_int(top_k, "top_k")
        if top_k < len(logits):
            kth = np.partition(logits, -top_k)[-top_k]
            logits = np.where(logits >= kth, logits, -np.inf)
    if temperature == 0:
        return int(np.argmax(logits))
    rng = np.random.default_rng() if rng is None else rng
    z = logits / temperature
    z = z - np.max(z)
    p = np.exp(z)
    p /= p.sum()
    return int(rng.choice(len(p), p=p))


# --------------------------------------------------------------------------- Markov chain

class MarkovChain:
    """An order-``n`` Markov chain over tokens: counts, add-``alpha`` smoothing, back-off.

    Notebook: 17_music_generation.ipynb

    ``p(x_t | x_{t-n} .. x_{t-1}) = (c(context, x_t) + alpha) / (c(context) + alpha V)``
    for a context seen in training; an unseen context backs off to the
    order ``n - 1`` distribution (down to order 0, the token frequencies).
    Every distribution sums to 1, so :meth:`nll` is a proper
    negative log-likelihood, comparable with the LSTM's.

    Parameters
    ----------
    order : int >= 0
    vocab_size : int
    alpha : float > 0
    """

    def __init__(self, *, order: int = 2, vocab_size: int, alpha: float = 0.01):
        if isinstance(order, bool) or int(order) != order or order < 0:
            raise ParameterError(f"order={order!r} must be a non-negative integer")
        self.order = int(order)
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.alpha = check_positive(alpha, "alpha")
        # counts[k][context of k tokens] = {next token: count}; sparse (most pairs never occur)
        self.counts = [defaultdict(lambda: defaultdict(int)) for _ in range(self.order + 1)]

    def fit(self, sequences) -> "MarkovChain":
        """Count transitions in sequences that start with BOS; returns ``self``."""
        for seq in sequences:
            seq = [int(t) for t in seq]
            for t in range(1, len(seq)):
                for k in range(self.order + 1):
                    ctx = tuple(seq[max(0, t - k):t])
                    if len(ctx) < k:
                        ctx = (seq[0],) * (k - len(ctx)) + ctx   # pad with BOS before the start
                    self.counts[k][ctx][seq[t]] += 1
        return self

    def distribution(self, context) -> np.ndarray:
        """``p(next | context)`` over the vocabulary, ``(vocab_size,)``; context = the tokens so far."""
        context = [int(t) for t in context]
        for k in range(self.order, -1, -1):
            ctx = tuple(context[-k:]) if k else ()
            if len(ctx) < k:
                ctx = (context[0] if context else 0,) * (k - len(ctx)) + ctx
            c = self.counts[k].get(ctx)
            if c is not None:
                p = np.full(self.vocab_size, self.alpha)
                p[list(c)] += list(c.values())
                return p / p.sum()
        return np.full(self.vocab_size, 1.0 / self.vocab_size)

    def transition_matrix(self) -> np.ndarray:
        """The first-order matrix ``A[i, j] = p(j | i)`` (order must be 1), rows sum to 1."""
        if self.order != 1:
            raise ParameterError(f"transition_matrix needs order=1, this chain has order={self.order}")
        return np.stack([self.distribution([i]) for i in range(self.vocab_size)])

    def nll(self, sequences) -> float:
        """Mean negative log-likelihood per predicted token (nats), over all sequences."""
        total, n = 0.0, 0
        for seq in sequences:
            seq = [int(t) for t in seq]
            for t in range(1, len(seq)):
                total -= math.log(self.distribution(seq[:t])[seq[t]])
                n += 1
        return total / max(n, 1)

    def generate(self, n_tokens: int, *, temperature: float = 1.0, top_k: int | None = None, rng=None,
                 prompt=(0,), stop_at_eos: bool = True) -> np.ndarray:
        """Sample up to ``n_tokens`` tokens after ``prompt`` (default: BOS); returns prompt + tokens."""
        rng = np.random.default_rng() if rng is None else rng
        seq = [int(t) for t in prompt]
        for _ in range(check_positive_int(n_tokens, "n_tokens")):
            with np.errstate(divide="ignore"):
                tok = sample_logits(np.log(self.distribution(seq)), temperature=temperature, top_k=top_k, rng=rng)
            seq.append(tok)
            if stop_at_eos and tok == EventTokenizer.EOS:
                break
        return np.asarray(seq, dtype=np.int64)


# --------------------------------------------------------------------------- LSTM language model

@dataclass
class LMConfig:
    """Settings of :class:`NoteLSTM`.

    Attributes
    ----------
    vocab_size : int
    embed : int
        Token embedding size.
    hidden : int
        LSTM state size.
    layers : int
    dropout : float in [0, 1)
    """

    vocab_size: int = 358
    embed: int = 64
    hidden: int = 192
    layers: int = 1
    dropout: float = 0.1

    def __post_init__(self):
        for f in ("vocab_size", "embed", "hidden", "layers"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ParameterError(f"{f}={v!r} must be a positive integer")
        if not 0 <= self.dropout < 1:
            raise ParameterError(f"dropout={self.dropout!r} must be in [0, 1)")


class NoteLSTM(torch.nn.Module):
    """A token language model: embedding -> LSTM -> linear to next-token logits.

    Notebook: 17_music_generation.ipynb

    ``forward(tokens)`` is teacher forcing (every position sees the true
    previous tokens; causal by construction, an LSTM reads left to right);
    :meth:`generate` feeds its own samples back, one token at a time,
    carrying the LSTM state.

    >>> m = NoteLSTM(LMConfig(vocab_size=10, embed=4, hidden=8))
    >>> m(torch.zeros(2, 5, dtype=torch.long)).shape
    torch.Size([2, 5, 10])
    """

    def __init__(self, config: LMConfig):
        super().__init__()
        if not isinstance(config, LMConfig):
            raise ParameterError(f"config must be an LMConfig, got {type(config).__name__}")
        self.config = config
        self.embed = torch.nn.Embedding(config.vocab_size, config.embed)
        self.lstm = torch.nn.LSTM(config.embed, config.hidden, num_layers=config.layers, batch_first=True,
                                  dropout=config.dropout if config.layers > 1 else 0.0)
        self.drop = torch.nn.Dropout(config.dropout)
        self.head = torch.nn.Linear(config.hidden, config.vocab_size)

    def forward(self, tokens, state=None, *, return_state: bool = False):
        """Next-token logits.

        Parameters
        ----------
        tokens : torch.LongTensor [shape=(batch, time)]

        Returns
        -------
        torch.Tensor [shape=(batch, time, vocab_size)] (and the LSTM state with ``return_state``)
        """
        h, state = self.lstm(self.drop(self.embed(tokens)), state)        # (B, T, hidden)
        logits = self.head(self.drop(h))                                   # (B, T, V)
        return (logits, state) if return_state else logits

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def generate(self, n_tokens: int, *, temperature: float = 1.0, top_k: int | None = None, rng=None,
                 prompt=(0,), stop_at_eos: bool = True) -> np.ndarray:
        """Sample up to ``n_tokens`` tokens after ``prompt``; returns prompt + tokens ``(n,)``."""
        rng = np.random.default_rng() if rng is None else rng
        was = self.training
        self.eval()
        seq = [int(t) for t in prompt]
        dev = next(self.parameters()).device
        with torch.no_grad():
            logits, state = self(torch.tensor([seq], device=dev), return_state=True)
            for _ in range(check_positive_int(n_tokens, "n_tokens")):
                tok = sample_logits(logits[0, -1].double().cpu().numpy(), temperature=temperature, top_k=top_k,
                                    rng=rng)
                seq.append(tok)
                if stop_at_eos and tok == EventTokenizer.EOS:
                    break
                logits, state = self(torch.tensor([[tok]], device=dev), state, return_state=True)
        self.train(was)
        return np.asarray(seq, dtype=np.int64)


def _chunks(sequences, seq_len: int):
    """Cut sequences into ``(inputs, targets)`` windows of ``seq_len`` (hop seq_len/2; PAD target -100)."""
    X, Y = [], []
    for s in sequences:
        s = np.asarray(s)
        for start in range(0, max(1, len(s) - 1), seq_len // 2):
            x = s[start:start + seq_len]
            y = s[start + 1:start + seq_len + 1]
            if len(y) == 0:
                break
            x = x[:len(y)]
            pad = seq_len - len(x)
            X.append(np.pad(x, (0, pad)))
            Y.append(np.pad(y, (0, pad), constant_values=-100))
            if start + seq_len + 1 >= len(s):
                break
    return np.stack(X), np.stack(Y)


def fit_lm(model, train_sequences, *, valid_sequences=None, seq_len: int = 128, epochs: int | None = None,
           time_budget: float | None = None, batch_size: int = 32, lr: float = 3e-3, seed: int = 0,
           progress: bool = True):
    """Train a :class:`NoteLSTM` on token sequences with :func:`course_lib.train.fit`.

    Notebook: 17_music_generation.ipynb

    Sequences are cut into windows of ``seq_len`` tokens (half overlapping);
    the loss is the mean next-token cross-entropy (nats per token, padding
    ignored). Returns the :class:`course_lib.train.History`.
    """
    from .. import train

    def loss_fn(logits, targets):                                          # (B, T, V), (B, T)
        return torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100)

    X, Y = _chunks(train_sequences, seq_len)
    valid = None
    if valid_sequences is not None:
        Xv, Yv = _chunks(valid_sequences, seq_len)
        valid = (torch.from_numpy(Xv), torch.from_numpy(Yv))
    return train.fit(model, (torch.from_numpy(X), torch.from_numpy(Y)), loss_fn=loss_fn, epochs=epochs,
                     time_budget=time_budget, batch_size=batch_size, lr=lr, seed=seed, valid_data=valid,
                     progress=progress, desc="note LSTM")


def sequence_nll(model, sequences) -> float:
    """Mean negative log-likelihood per predicted token (nats) of a :class:`NoteLSTM` or :class:`MarkovChain`.

    Notebook: 17_music_generation.ipynb

    Every token after the first (BOS) is predicted from all the tokens before
    it, whole sequences at once (no windows): the same count as
    :meth:`MarkovChain.nll`, so the two numbers compare. Perplexity is
    ``exp(nll)``.
    """
    if isinstance(model, MarkovChain):
        return model.nll(sequences)
    was = model.training
    model.eval()
    total, n = 0.0, 0
    dev = next(model.parameters()).device
    with torch.no_grad():
        for s in sequences:
            s = torch.as_tensor(np.asarray(s), device=dev)[None]             # (1, T)
            logits = model(s[:, :-1])                                          # (1, T-1, V)
            total += float(torch.nn.functional.cross_entropy(logits[0], s[0, 1:], reduction="sum"))
            n += s.shape[1] - 1
    model.train(was)
    return total / max(n, 1)


# --------------------------------------------------------------------------- synthesis

def midi_to_hz(pitch):
    """``440 * 2 ** ((pitch - 69) / 12)``."""
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def karplus_strong(freq: float, *, sr: int, duration: float, decay: float = 0.996, rng=None) -> np.ndarray:
    """A plucked string: a noise burst in a delay line with a lowpass (Karplus & Strong, 1983).

    Notebook: 17_music_generation.ipynb

    ``y[n] = x[n] + decay (y[n - N] + y[n - N - 1]) / 2`` with ``x`` a burst of
    ``N = round(sr / freq - 1/2)`` random samples: the loop's delay is
    ``N + 1/2`` samples (the two-point average adds half a sample), so the
    pitch is ``sr / (N + 1/2)``; each pass through the average takes some
    treble away, so high harmonics die first, like a real string. One
    ``scipy.signal.lfilter`` call (the recursion is an IIR filter).

    Returns
    -------
    np.ndarray [shape=(round(duration * sr),), dtype=float64]
    """
    from scipy.signal import lfilter

    sr = check_sr(sr)
    freq = check_positive(freq, "freq")
    if freq >= sr / 4:
        raise ParameterError(f"freq={freq} Hz is too high for sr={sr}: the delay line would be under 2 samples")
    rng = np.random.default_rng(0) if rng is None else rng
    n = max(1, int(round(duration * sr)))
    N = max(1, int(round(sr / freq - 0.5)))
    x = np.zeros(n)
    burst = rng.uniform(-1, 1, min(N, n))
    x[:len(burst)] = burst - burst.mean()
    a = np.zeros(N + 2)
    a[0], a[N], a[N + 1] = 1.0, -decay / 2, -decay / 2
    return lfilter([1.0], a, x)


def additive_tone(freq: float, *, sr: int, duration: float, n_harmonics: int = 6, rolloff: float = 0.6,
                  attack: float = 0.01, release: float = 0.05) -> np.ndarray:
    """A sum of harmonics ``sum_h rolloff^(h-1) sin(2 pi h f t)`` (below Nyquist) with attack and release ramps.

    Notebook: 17_music_generation.ipynb
    """
    sr = check_sr(sr)
    n = max(1, int(round(duration * sr)))
    t = np.arange(n) / sr
    y = np.zeros(n)
    for h in range(1, check_positive_int(n_harmonics, "n_harmonics") + 1):
        if h * freq < sr / 2:
            y += rolloff ** (h - 1) * np.sin(2 * np.pi * h * freq * t)
    env = np.ones(n)
    a, r = min(n, int(attack * sr)), min(n, int(release * sr))
    if a:
        env[:a] = np.linspace(0, 1, a, endpoint=False)
    if r:
        env[n - r:] *= np.linspace(1, 0, r)
    return y * env


def synthesize(notes, *, sr: int = 22050, instrument: str = "pluck", tail: float = 0.5, rng=None) -> np.ndarray:
    """Render notes to audio in NumPy: ``"pluck"`` (Karplus–Strong) or ``"organ"`` (additive).

    Notebook: 17_music_generation.ipynb

    Drum-channel notes are skipped. Each note is rendered for its duration
    (a plucked string rings on ``tail`` seconds more, fading), scaled by its
    velocity, and mixed; the mix is normalised to a peak of 0.9.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    sr = check_sr(sr)
    if instrument not in ("pluck", "organ"):
        raise ParameterError(f"instrument={instrument!r} must be 'pluck' (Karplus-Strong) or 'organ' (additive)")
    rng = np.random.default_rng(0) if rng is None else rng
    notes = [Note(*n) for n in notes if Note(*n).channel != DRUM_CHANNEL]
    end = max((n.end for n in notes), default=0.0) + tail
    y = np.zeros(int(np.ceil(end * sr)) + 1)
    for n in notes:
        f = float(midi_to_hz(n.pitch))
        if f >= sr / 4:
            continue
        dur = n.end - n.start
        if instrument == "pluck":
            s = karplus_strong(f, sr=sr, duration=dur + tail, rng=rng)
            fade = np.ones(len(s))
            k = int(dur * sr)
            fade[k:] = np.linspace(1, 0, len(s) - k)            # damped after the key is released
            s *= fade
        else:
            s = additive_tone(f, sr=sr, duration=dur)
        i = int(round(n.start * sr))
        s = s[:len(y) - i] * (n.velocity / 127)
        y[i:i + len(s)] += s
    peak = np.max(np.abs(y)) if len(y) else 0.0
    return (y * (0.9 / peak) if peak > 0 else y).astype(np.float32)


# --------------------------------------------------------------------------- evaluation

def _pitched(notes):
    return [Note(*n) for n in notes if Note(*n).channel != DRUM_CHANNEL]


def pitch_class_histogram(notes, *, weight: str = "duration") -> np.ndarray:
    """How much of each pitch class, ``(12,)`` summing to 1 (zeros for no notes).

    Notebook: 17_music_generation.ipynb

    ``weight="duration"`` (the seconds each class sounds; what key finding
    uses) or ``"count"`` (one per note). Drums are left out.
    """
    if weight not in ("duration", "count"):
        raise ParameterError(f"weight={weight!r} must be 'duration' or 'count'")
    h = np.zeros(12)
    for n in _pitched(notes):
        h[n.pitch % 12] += (n.end - n.start) if weight == "duration" else 1.0
    return h / h.sum() if h.sum() > 0 else h


def histogram_distance(p, q) -> float:
    """Total variation distance ``0.5 sum |p - q|`` of two normalised histograms, in [0, 1]."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ParameterError(f"histograms of shapes {p.shape} and {q.shape} cannot be compared")
    return float(0.5 * np.abs(p / max(p.sum(), 1e-300) - q / max(q.sum(), 1e-300)).sum())


def note_density(notes, *, duration: float | None = None) -> float:
    """Pitched note onsets per second (over ``duration``, default first onset .. last release)."""
    notes = _pitched(notes)
    if not notes:
        return 0.0
    if duration is None:
        duration = max(n.end for n in notes) - min(n.start for n in notes)
    return len(notes) / max(duration, 1e-9)


def interval_histogram(notes, *, max_interval: int = 12) -> np.ndarray:
    """Distribution of the pitch steps between successive onsets, ``(2 max_interval + 1,)`` for -max..+max.

    Notebook: 17_music_generation.ipynb

    Notes are ordered by (onset, pitch); each step ``pitch[i+1] - pitch[i]`` is
    clipped to ``[-max_interval, max_interval]``. Chords give small steps
    between their notes, melodies their melodic intervals.
    """
    notes = sorted(_pitched(notes), key=lambda n: (n.start, n.pitch))
    steps = np.clip(np.diff([n.pitch for n in notes]), -max_interval, max_interval).astype(int)
    h = np.bincount(steps + max_interval, minlength=2 * max_interval + 1).astype(np.float64)
    return h / h.sum() if h.sum() > 0 else h


#: Krumhansl & Kessler (1982) key profiles, tonic first
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


class Key(NamedTuple):
    """A key from :func:`find_key`."""

    tonic: int            # pitch class 0..11
    mode: str             # "major" or "minor"
    correlation: float    # Pearson r of the histogram with the key's profile

    @property
    def name(self) -> str:
        return f"{PITCH_CLASSES[self.tonic]} {self.mode}"

    @property
    def relative_major(self) -> int:
        """Tonic of the major key with the same notes (A minor -> C)."""
        return self.tonic if self.mode == "major" else (self.tonic + 3) % 12


def find_key(notes_or_histogram) -> Key:
    """Krumhansl–Schmuckler key finding: the key whose profile best correlates with the pitch classes.

    Notebook: 17_music_generation.ipynb

    The duration-weighted pitch-class histogram is correlated (Pearson) with
    the Krumhansl–Kessler major and minor profiles rotated to each of the 12
    tonics; the best of the 24 is the key.

    Parameters
    ----------
    notes_or_histogram : list of Note, or np.ndarray [shape=(12,)]
    """
    if isinstance(notes_or_histogram, np.ndarray) and notes_or_histogram.shape == (12,):
        h = notes_or_histogram.astype(np.float64)
    else:
        h = pitch_class_histogram(notes_or_histogram)
    if not np.any(h) or np.allclose(h, h[0]):
        raise ParameterError("the pitch-class histogram is empty or flat: no key can be found")
    best = None
    for mode, prof in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            r = float(np.corrcoef(h, np.roll(prof, tonic))[0, 1])
            if best is None or r > best.correlation:
                best = Key(tonic, mode, r)
    return best


def key_consistency(notes, *, window_s: float = 2.0) -> float:
    """Fraction of ``window_s`` windows whose key (:func:`find_key`) is the piece's key.

    Notebook: 17_music_generation.ipynb

    Music in one key keeps its pitch classes; a model that wanders between
    keys scores low. Windows with fewer than three pitched notes are skipped
    (NaN if none is left).
    """
    notes = _pitched(notes)
    if len(notes) < 3:
        return float("nan")
    whole = find_key(notes)
    end = max(n.end for n in notes)
    agree, total = 0, 0
    for t0 in np.arange(0.0, end, window_s):
        win = [Note(max(n.start, t0), min(n.end, t0 + window_s), n.pitch, n.velocity, n.channel)
               for n in notes if n.start < t0 + window_s and n.end > t0]
        if len(win) < 3:
            continue
        h = pitch_class_histogram(win)
        if np.allclose(h, h[0]) or np.count_nonzero(h) < 2:
            continue
        k = find_key(h)
        agree += (k.tonic, k.mode) == (whole.tonic, whole.mode)
        total += 1
    return agree / total if total else float("nan")


def music_statistics(pieces) -> dict:
    """Summary statistics of a list of note lists (pieces).

    Notebook: 17_music_generation.ipynb

    Returns a dict: ``pitch_classes`` (12,), ``intervals`` (25,) (pooled over
    pieces), ``density`` (mean onsets per second), ``key_consistency``
    (mean over pieces, NaNs skipped), ``pitch_range`` (mean highest - lowest).
    """
    pcs, ints, dens, kc, rng_ = np.zeros(12), np.zeros(25), [], [], []
    for notes in pieces:
        p = _pitched(notes)
        if not p:
            continue
        pcs += pitch_class_histogram(p)
        ints += interval_histogram(p)
        dens.append(note_density(p))
        kc.append(key_consistency(p))
        rng_.append(max(n.pitch for n in p) - min(n.pitch for n in p))
    kc = [k for k in kc if not np.isnan(k)]
    return {"pitch_classes": pcs / max(pcs.sum(), 1e-300), "intervals": ints / max(ints.sum(), 1e-300),
            "density": float(np.mean(dens)) if dens else 0.0,
            "key_consistency": float(np.mean(kc)) if kc else float("nan"),
            "pitch_range": float(np.mean(rng_)) if rng_ else 0.0}
