"""Tiny Standard MIDI File writer and the music the corpus renders.

Used only by ``tools/make_corpus.py`` (the course package never imports it).
Times are in seconds everywhere: the file carries one tempo event of
120 BPM and 960 ticks per quarter note, so one tick is 1/1920 s and every
note lands within 0.3 ms of the time the annotation says.

Three families of pieces, each a :class:`Piece` (notes + annotations):

- :func:`chord_progression` — block / strummed / sustained triads with
  time-aligned chord labels (``C:maj``, ``A:min``, ``N``);
- :func:`groove` — drums and bass at a known tempo, with beat and downbeat times;
- :func:`genre_clip` — a short clip in one of five styles that differ in
  instruments, tempo and rhythm.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

PPQ = 960
_SMF_TEMPO_US = 500_000          # 120 BPM in the file; musical tempo lives in the note times
_TICKS_PER_SECOND = PPQ * 1_000_000 / _SMF_TEMPO_US
DRUM_CHANNEL = 9

PITCH_CLASSES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
#: every triad label used by the chord subset, mir_eval spelling
TRIADS = [f"{pc}:{q}" for q in ("maj", "min") for pc in PITCH_CLASSES]

# General MIDI programs (0-based) and drum keys
GM = {
    "piano": 0, "rhodes": 4, "vibraphone": 11, "drawbar_organ": 16, "church_organ": 19,
    "nylon_guitar": 24, "steel_guitar": 25, "jazz_guitar": 26, "clean_guitar": 27,
    "overdrive_guitar": 29, "distortion_guitar": 30,
    "acoustic_bass": 32, "finger_bass": 33, "pick_bass": 34, "synth_bass": 38,
    "violin": 40, "cello": 42, "strings": 48, "brass": 61, "flute": 73,
    "saw_lead": 81, "warm_pad": 89,
}
KICK, RIM, SNARE, CLAP, CLOSED_HH, PEDAL_HH, OPEN_HH, CRASH, RIDE = 36, 37, 38, 39, 42, 44, 46, 49, 51
LOW_TOM, HI_TOM, COWBELL, HI_CONGA, LOW_CONGA, SHAKER, CLAVES = 45, 50, 56, 62, 64, 70, 75


@dataclass
class Note:
    start: float          # seconds
    end: float            # seconds
    pitch: int            # MIDI key
    velocity: int
    channel: int


@dataclass
class Piece:
    """Notes to render plus what the annotation files will say."""
    notes: list = field(default_factory=list)
    programs: dict = field(default_factory=dict)     # channel -> GM program
    duration: float = 0.0                            # seconds of audio to keep
    segments: list = field(default_factory=list)     # [(start, end, label)] for chords
    beats: list = field(default_factory=list)        # [(time, position_in_bar)] for grooves
    tempo: float | None = None
    meter: int | None = None

    def add(self, start, end, pitch, velocity, channel):
        self.notes.append(Note(float(start), float(end), int(pitch), int(np.clip(velocity, 1, 127)), channel))


# --------------------------------------------------------------------------- SMF writer

def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def midi_bytes(piece: Piece) -> bytes:
    """Encode a :class:`Piece` as a format-0 Standard MIDI File."""
    events = []   # (tick, order, bytes): note-offs (order 0) before note-ons (order 2) at a tick
    events.append((0, -1, b"\xff\x51\x03" + _SMF_TEMPO_US.to_bytes(3, "big")))
    for ch, prog in sorted(piece.programs.items()):
        events.append((0, -1, bytes([0xC0 | ch, prog])))
        events.append((0, -1, bytes([0xB0 | ch, 7, 100])))       # channel volume
    for n in piece.notes:
        on = round(n.start * _TICKS_PER_SECOND)
        off = max(on + 1, round(n.end * _TICKS_PER_SECOND))
        events.append((on, 2, bytes([0x90 | n.channel, n.pitch, n.velocity])))
        events.append((off, 0, bytes([0x80 | n.channel, n.pitch, 0])))
    events.sort(key=lambda e: (e[0], e[1]))
    track = bytearray()
    now = 0
    for tick, _, data in events:
        track += _varlen(tick - now) + data
        now = tick
    track += _varlen(0) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, PPQ)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


# --------------------------------------------------------------------------- chords

def triad_pitch_classes(label: str) -> list[int]:
    root, quality = label.split(":")
    r = PITCH_CLASSES.index(root)
    third = 4 if quality == "maj" else 3
    return [r, (r + third) % 12, (r + 7) % 12]


def chord_progression(labels, *, instrument: str, rng, chord_dur=2.0, lead_in=0.5, tail=1.5) -> Piece:
    """Render a list of chord labels ("N" = a rest) on one instrument.

    Each chord lasts ``chord_dur`` seconds; the annotation segment of a chord
    runs from its onset to the next onset, "N" covers rests, the lead-in and
    the tail after the last release.
    """
    p = Piece(programs={0: GM[instrument], 1: GM[instrument]})
    t = lead_in
    segments = [(0.0, lead_in, "N")] if lead_in > 0 else []
    for label in labels:
        if label != "N":
            pcs = triad_pitch_classes(label)
            bass = 48 + pcs[0]                                   # root in octave 3
            inversion = int(rng.integers(3))
            base = 60 + int(rng.integers(-2, 3))                 # around middle C
            chord = sorted(base + ((pc - base) % 12) for pc in np.roll(pcs, -inversion))
            end = t + chord_dur - 0.04                           # release just before the next chord
            vel = int(rng.integers(70, 95))
            if instrument == "piano":                            # attack, re-attack half way
                for s in (t, t + chord_dur / 2):
                    for k in [bass] + chord:
                        p.add(s, min(s + chord_dur / 2, end), k, vel, 0)
            elif instrument == "steel_guitar":                   # down/up strums on every beat
                n_strums = 4
                for i in range(n_strums):
                    s = t + i * chord_dur / n_strums
                    keys = [bass, bass + 7] + chord
                    order = keys if i % 2 == 0 else keys[::-1]
                    for j, k in enumerate(order):
                        p.add(s + 0.012 * j, end, k, vel - 10 * (i % 2), 0)
            else:                                                # strings / organ: sustained
                for k in [bass] + chord:
                    p.add(t, end, k, vel, 0)
        segments.append((t, t + chord_dur, label))
        t += chord_dur
    segments.append((t, t + tail, "N"))
    p.duration = t + tail
    p.segments = _merge_segments(segments)
    return p


def _merge_segments(segments):
    merged = []
    for s, e, lab in segments:
        if merged and merged[-1][2] == lab:
            merged[-1] = (merged[-1][0], e, lab)
        else:
            merged.append((s, e, lab))
    return merged


# --------------------------------------------------------------------------- grooves

GROOVE_STYLES = ("rock", "funk", "shuffle", "halftime", "disco", "waltz")


def groove(style: str, *, bpm: float, rng, target_dur=10.0, lead_in=0.5) -> Piece:
    """Drums + bass at ``bpm`` with beat annotations (position 1 = downbeat)."""
    meter = 3 if style == "waltz" else 4
    beat = 60.0 / bpm
    n_bars = max(2, int(round(target_dur / (beat * meter))))
    p = Piece(programs={DRUM_CHANNEL: 0, 1: GM[str(rng.choice(["finger_bass", "pick_bass", "acoustic_bass"]))]},
              tempo=float(bpm), meter=meter)
    key = int(rng.integers(0, 12))
    bar_roots = [0, 5, 7, 0] if meter == 4 else [0, 7, 5, 0]
    d = DRUM_CHANNEL
    for bar in range(n_bars):
        t0 = lead_in + bar * meter * beat
        root = 36 + (key + bar_roots[bar % 4]) % 12
        if bar == 0:
            p.add(t0, t0 + beat, CRASH, 100, d)
        for b in range(meter):
            tb = t0 + b * beat
            p.beats.append((tb, b + 1))
            acc = 12 if b == 0 else 0
            if style == "waltz":
                if b == 0:
                    p.add(tb, tb + 0.1, KICK, 110, d)
                else:
                    p.add(tb, tb + 0.1, SNARE, 75, d)
                p.add(tb, tb + 0.1, CLOSED_HH, 70 + acc, d)
                p.add(tb, tb + beat * 0.9, root if b == 0 else root + 7, 95, 1)
                continue
            # hi-hats
            if style == "funk":
                for s in range(4):
                    p.add(tb + s * beat / 4, tb + s * beat / 4 + 0.05, CLOSED_HH, 80 if s == 0 else 55, d)
            elif style == "shuffle":
                p.add(tb, tb + 0.05, RIDE, 85 + acc, d)
                p.add(tb + beat * 2 / 3, tb + beat * 2 / 3 + 0.05, RIDE, 60, d)
            elif style == "disco":
                p.add(tb, tb + 0.05, CLOSED_HH, 70, d)
                p.add(tb + beat / 2, tb + beat / 2 + 0.1, OPEN_HH, 80, d)
            else:
                for s in range(2):
                    p.add(tb + s * beat / 2, tb + s * beat / 2 + 0.05, CLOSED_HH, 85 + acc if s == 0 else 60, d)
            # kick and snare
            if style == "disco":
                p.add(tb, tb + 0.1, KICK, 115 + acc // 2, d)
                if b in (1, 3):
                    p.add(tb, tb + 0.1, CLAP, 95, d)
            elif style == "halftime":
                if b == 0:
                    p.add(tb, tb + 0.1, KICK, 120, d)
                if b == 2:
                    p.add(tb, tb + 0.1, SNARE, 110, d)
                if b == 1:
                    p.add(tb, tb + 0.1, KICK, 90, d)
            else:
                if b in (0, 2):
                    p.add(tb, tb + 0.1, KICK, 115 + acc // 2, d)
                if b in (1, 3):
                    p.add(tb, tb + 0.1, SNARE, 105, d)
                if style == "funk" and b == 2:
                    p.add(tb + 3 * beat / 4, tb + beat, KICK, 85, d)
            # bass: root on the beat, fifth/octave on the off-beat
            p.add(tb, tb + beat * 0.45, root, 100 + acc // 2, 1)
            if style in ("funk", "disco", "rock"):
                p.add(tb + beat / 2, tb + beat * 0.9, root + (12 if b % 2 else 7), 80, 1)
    end = lead_in + n_bars * meter * beat
    p.add(end, end + beat, KICK, 110, d)                # final hit on the next downbeat
    p.add(end, end + beat, CRASH, 90, d)
    p.beats.append((end, 1))
    p.duration = end + 1.0
    return p


# --------------------------------------------------------------------------- genres

GENRES = ("classical", "jazz", "rock", "electronic", "latin")
_MAJOR = [0, 2, 4, 5, 7, 9, 11]


def _diatonic_chord(key, degree, *, seventh=False):
    """Pitch classes (relative to C) of the diatonic chord on ``degree`` (0-based)."""
    idx = [degree, degree + 2, degree + 4] + ([degree + 6] if seventh else [])
    return [(key + _MAJOR[i % 7] + 12 * (i // 7)) for i in idx]


def genre_clip(genre: str, *, rng, duration=8.0) -> Piece:
    """A ``duration``-second clip in ``genre``, tempo and key drawn from ``rng``."""
    key = int(rng.integers(0, 12))
    prog_choices = [[0, 5, 3, 4], [0, 3, 4, 0], [1, 4, 0, 0], [0, 4, 5, 3], [5, 3, 0, 4]]
    prog = prog_choices[int(rng.integers(len(prog_choices)))]
    d = DRUM_CHANNEL
    if genre == "classical":
        bpm = float(rng.uniform(60, 92))
        p = Piece(programs={0: GM[str(rng.choice(["strings", "piano"]))], 1: GM["cello"], 2: GM[str(rng.choice(["violin", "flute"]))]})
    elif genre == "jazz":
        bpm = float(rng.uniform(110, 170))
        p = Piece(programs={0: GM[str(rng.choice(["rhodes", "piano", "vibraphone"]))], 1: GM["acoustic_bass"], d: 0})
    elif genre == "rock":
        bpm = float(rng.uniform(100, 150))
        p = Piece(programs={0: GM[str(rng.choice(["distortion_guitar", "overdrive_guitar"]))], 1: GM["pick_bass"], d: 0})
    elif genre == "electronic":
        bpm = float(rng.uniform(120, 135))
        p = Piece(programs={0: GM["warm_pad"], 1: GM["synth_bass"], 2: GM["saw_lead"], d: 0})
    elif genre == "latin":
        bpm = float(rng.uniform(115, 145))
        p = Piece(programs={0: GM["nylon_guitar"], 1: GM["acoustic_bass"], 2: GM["flute"], d: 0})
    else:
        raise ValueError(f"unknown genre {genre!r}")
    beat = 60.0 / bpm
    p.tempo, p.meter = bpm, 4
    t = 0.05
    bar = 0
    while t < duration:
        deg = prog[bar % 4]
        chord = sorted(60 + c % 12 for c in _diatonic_chord(key, deg, seventh=genre == "jazz"))
        root = 36 + _diatonic_chord(key, deg)[0] % 12
        for b in range(4):
            tb = t + b * beat
            if genre == "classical":            # arpeggio in eighths, bass half notes, melody above
                for s in range(2):
                    k = chord[(2 * b + s) % len(chord)] + (12 if (2 * b + s) % 4 == 3 else 0)
                    p.add(tb + s * beat / 2, tb + (s + 1) * beat / 2 + 0.1, k, 60 + int(rng.integers(0, 15)), 0)
                if b % 2 == 0:
                    p.add(tb, tb + 2 * beat, root, 70, 1)
                if rng.random() < 0.7:
                    p.add(tb, tb + beat * 0.95, 72 + chord[int(rng.integers(len(chord)))] % 12, 75, 2)
            elif genre == "jazz":               # swung ride, walking bass, off-beat comping
                p.add(tb, tb + 0.1, RIDE, 80, d)
                if b in (1, 3):
                    p.add(tb, tb + 0.05, PEDAL_HH, 60, d)
                    p.add(tb + 2 * beat / 3, tb + 2 * beat / 3 + 0.05, RIDE, 60, d)
                walk = [0, 4, 7, 10][b] if b < 3 else int(rng.choice([11, 1, 10]))
                p.add(tb, tb + beat * 0.9, root + walk, 90, 1)
                if rng.random() < 0.45:
                    off = tb + (2 * beat / 3 if rng.random() < 0.5 else 0)
                    for k in chord:
                        p.add(off, off + beat * 0.6, k, 65, 0)
            elif genre == "rock":               # power chords in eighths, backbeat
                for s in range(2):
                    ts = tb + s * beat / 2
                    for k in (root + 12, root + 19, root + 24):
                        p.add(ts, ts + beat / 2 - 0.02, k, 95, 0)
                    p.add(ts, ts + beat / 2 - 0.02, root, 100, 1)
                    p.add(ts, ts + 0.05, CLOSED_HH, 80, d)
                p.add(tb, tb + 0.1, KICK if b in (0, 2) else SNARE, 115, d)
                if b == 2:
                    p.add(tb + beat / 2, tb + beat / 2 + 0.1, KICK, 100, d)
            elif genre == "electronic":         # four on the floor, 16th synth bass, lead arpeggio
                p.add(tb, tb + 0.1, KICK, 120, d)
                p.add(tb + beat / 2, tb + beat / 2 + 0.1, OPEN_HH, 75, d)
                if b in (1, 3):
                    p.add(tb, tb + 0.1, CLAP, 95, d)
                for s in range(4):
                    ts = tb + s * beat / 4
                    if s != 0:
                        p.add(ts, ts + beat / 4 - 0.02, root + (12 if s % 2 else 0), 95, 1)
                    p.add(ts, ts + beat / 4 - 0.01, 12 + chord[(4 * b + s) % len(chord)], 70, 2)
                if b == 0:
                    for k in chord:
                        p.add(tb, tb + 4 * beat, k, 55, 0)
            elif genre == "latin":              # bossa: clave, shaker, syncopated guitar, root-fifth bass
                for s in range(2):
                    p.add(tb + s * beat / 2, tb + s * beat / 2 + 0.05, SHAKER, 60 if s else 75, d)
                p.add(tb, tb + 0.1, KICK, 90, d)
                p.add(tb, tb + beat * 1.4, root if b % 2 == 0 else root + 7, 90, 1)
                clave = {0: [0], 1: [0.5], 2: [], 3: [0.0, 0.5]}[b] if bar % 2 == 0 else {0: [], 1: [0], 2: [0], 3: []}[b]
                for c in clave:
                    p.add(tb + c * beat, tb + c * beat + 0.05, RIM, 85, d)
                for s in ((0.0, 0.5) if b % 2 else (0.5,)):
                    for k in chord:
                        p.add(tb + s * beat, tb + (s + 0.45) * beat, k, 70, 0)
                if rng.random() < 0.5:
                    p.add(tb, tb + beat * 0.9, 72 + chord[int(rng.integers(len(chord)))] % 12, 70, 2)
        t += 4 * beat
        bar += 1
    p.notes = [n for n in p.notes if n.start < duration - 0.05]
    for n in p.notes:
        n.end = min(n.end, duration)
    p.duration = duration
    return p


# --------------------------------------------------------------------------- corpus v2: harder genres

#: corpus v2's genres: every class draws its instruments from the same pools and its tempo
#: from the same range, so what tells them apart is rhythm, harmony and arrangement
GENRES_V2 = ("bossa", "funk", "reggae", "rock", "swing", "waltz")
_COMP = ["piano", "rhodes", "clean_guitar", "drawbar_organ", "vibraphone", "nylon_guitar", "jazz_guitar"]
_BASS = ["acoustic_bass", "finger_bass", "pick_bass", "synth_bass"]
_LEAD = ["flute", "violin", "brass", "saw_lead", "vibraphone", None]
GENRE_V2_TEMPO = (92.0, 132.0)


def _chord(key, degree, quality):
    """Pitch classes above ``key`` for a diatonic degree; quality 'triad', '7' (diatonic 7th),
    'dom9' (dominant 9th on the degree's root)."""
    root = (key + _MAJOR[degree % 7]) % 12
    if quality == "dom9":
        return [root, root + 4, root + 7, root + 10, root + 14]
    pcs = _diatonic_chord(key, degree, seventh=quality == "7")
    return [root] + [(c - root) % 12 + root for c in pcs[1:]]


def genre_clip_v2(genre: str, *, rng, duration=5.0) -> Piece:
    """A ``duration``-second clip of a corpus-v2 genre; instruments, key and tempo from ``rng``."""
    if genre not in GENRES_V2:
        raise ValueError(f"unknown genre {genre!r}")
    key = int(rng.integers(0, 12))
    bpm = float(rng.uniform(*GENRE_V2_TEMPO))
    lead = _LEAD[int(rng.integers(len(_LEAD)))]
    p = Piece(programs={0: GM[_COMP[int(rng.integers(len(_COMP)))]], 1: GM[_BASS[int(rng.integers(len(_BASS)))]],
                        DRUM_CHANNEL: 0})
    if lead is not None:
        p.programs[2] = GM[lead]
    meter = 3 if genre == "waltz" else 4
    p.tempo, p.meter = bpm, meter
    beat = 60.0 / bpm
    progs = {"swing": ([1, 4, 0, 5], "7"), "rock": ([0, 4, 5, 3], "triad"), "funk": ([0, 0, 3, 0], "dom9"),
             "bossa": ([1, 4, 0, 0], "7"), "waltz": ([0, 3, 4, 0], "triad"), "reggae": ([5, 3, 5, 4], "triad")}
    prog, quality = progs[genre]
    shift = int(rng.integers(0, 4))
    prog = prog[shift:] + prog[:shift]
    d = DRUM_CHANNEL
    vel = lambda v: v + int(rng.integers(-8, 9))            # noqa: E731  (humanised velocity)
    # the sounds are shared too: each clip picks its time-keeper, back-beat sound and drum level
    # at random, so the *pattern*, not the instrument, carries the style
    keeper = int(rng.choice([CLOSED_HH, RIDE, SHAKER, PEDAL_HH]))
    back = int(rng.choice([SNARE, RIM, CLAP]))
    drum_gain = float(rng.uniform(0.55, 1.0))
    bass_oct = int(rng.choice([0, 12]))
    comp_gain = float(rng.uniform(0.7, 1.1))
    add = p.add

    def play(start, end, pitch, velocity, channel):
        if channel == d:
            pitch = {CLOSED_HH: keeper, RIDE: keeper, SHAKER: keeper, PEDAL_HH: keeper,
                     SNARE: back, RIM: back, CLAP: back}.get(pitch, pitch)
            velocity = int(velocity * drum_gain)
        elif channel == 1:
            pitch += bass_oct
        elif channel == 0:
            velocity = int(velocity * comp_gain)
        add(start, end, pitch, velocity, channel)

    p.add = play
    t, bar = 0.05, 0
    while t < duration:
        chord = sorted(60 + c % 12 for c in _chord(key, prog[bar % 4], quality))
        if quality == "dom9":
            chord = [c for c in chord] + [chord[1] + 12]
        root = 36 + _chord(key, prog[bar % 4], "triad")[0] % 12
        for b in range(meter):
            tb = t + b * beat
            if genre == "swing":                             # swung ride, 2 & 4 hat, walking bass, off-beat comping
                p.add(tb, tb + 0.1, RIDE, vel(80), d)
                if b in (1, 3):
                    p.add(tb, tb + 0.05, PEDAL_HH, vel(65), d)
                    p.add(tb + 2 * beat / 3, tb + 2 * beat / 3 + 0.05, RIDE, vel(60), d)
                p.add(tb, tb + beat * 0.9, root + [0, 4, 7, 10][b] if b < 3 else root + int(rng.choice([11, 1, 10])),
                      vel(90), 1)
                if rng.random() < 0.5:
                    off = tb + (2 * beat / 3 if rng.random() < 0.6 else 0)
                    for k in chord:
                        p.add(off, off + beat * 0.5, k, vel(65), 0)
            elif genre == "rock":                            # straight 8ths, backbeat, driving 8th bass
                for s in range(2):
                    ts = tb + s * beat / 2
                    p.add(ts, ts + 0.05, CLOSED_HH, vel(75), d)
                    p.add(ts, ts + beat / 2 - 0.03, root, vel(95), 1)
                    for k in chord:
                        p.add(ts, ts + beat / 2 - 0.03, k, vel(75), 0)
                p.add(tb, tb + 0.1, KICK if b in (0, 2) else SNARE, vel(110), d)
            elif genre == "funk":                            # 16th hats, syncopated kick/bass, ghost notes, stabs
                for s in range(4):
                    ts = tb + s * beat / 4
                    p.add(ts, ts + 0.04, CLOSED_HH, vel(70 if s % 2 else 85), d)
                    if (b, s) in ((0, 0), (1, 3), (2, 2)):
                        p.add(ts, ts + 0.1, KICK, vel(110), d)
                    if (b, s) in ((0, 0), (0, 3), (1, 2), (2, 2), (3, 1)):
                        p.add(ts, ts + beat / 4 - 0.02, root + (12 if (b, s) == (3, 1) else 0), vel(100), 1)
                    if s in (1, 3) and rng.random() < 0.35:
                        p.add(ts, ts + 0.05, SNARE, vel(40), d)
                    if (s == 2 and b in (0, 2)) or (s == 1 and b == 3):
                        for k in chord:
                            p.add(ts, ts + beat / 6, k, vel(80), 0)
                if b in (1, 3):
                    p.add(tb, tb + 0.1, SNARE, vel(110), d)
            elif genre == "bossa":                           # clave, shaker 8ths, root-fifth bass, syncopated comping
                for s in range(2):
                    p.add(tb + s * beat / 2, tb + s * beat / 2 + 0.05, SHAKER, vel(70 if s else 80), d)
                p.add(tb, tb + 0.1, KICK, vel(85), d)
                p.add(tb, tb + beat * 1.4, root if b % 2 == 0 else root + 7, vel(90), 1)
                clave = ({0: [0], 1: [0.5], 2: [], 3: [0.0, 0.5]} if bar % 2 == 0 else {0: [], 1: [0], 2: [0], 3: []})[b]
                for c in clave:
                    p.add(tb + c * beat, tb + c * beat + 0.05, RIM, vel(85), d)
                for s in ((0.0, 0.5) if b % 2 else (0.5,)):
                    for k in chord:
                        p.add(tb + s * beat, tb + (s + 0.45) * beat, k, vel(70), 0)
            elif genre == "waltz":                           # oom-pah-pah in 3/4
                p.add(tb, tb + 0.05, CLOSED_HH, vel(60), d)
                if b == 0:
                    p.add(tb, tb + 0.1, KICK, vel(95), d)
                    p.add(tb, tb + beat * 0.95, root if bar % 2 == 0 else root + 7, vel(95), 1)
                else:
                    for k in chord:
                        p.add(tb, tb + beat * 0.6, k, vel(70), 0)
            else:                                            # reggae one drop: kick + rim on 3, off-beat skank
                for s in range(2):
                    p.add(tb + s * beat / 2, tb + s * beat / 2 + 0.04, CLOSED_HH, vel(65 if s else 75), d)
                if b == 2:
                    p.add(tb, tb + 0.1, KICK, vel(105), d)
                    p.add(tb, tb + 0.1, RIM, vel(100), d)
                off = tb + beat / 2
                for k in chord:
                    p.add(off, off + beat * 0.3, k, vel(80), 0)
                if b in (1, 2) or (b == 3 and rng.random() < 0.5):
                    bass = [0, 0, 7, 12][b] if b != 3 else int(rng.choice([10, 5, 3]))
                    p.add(tb + (beat / 2 if b == 1 else 0), tb + beat * 0.9, root + bass, vel(100), 1)
            if lead is not None and rng.random() < 0.45 and b % 2 == 0:
                k = 72 + chord[int(rng.integers(len(chord)))] % 12
                p.add(tb, tb + beat * float(rng.choice([0.5, 1.0, 1.5])), k, vel(75), 2)
        t += meter * beat
        bar += 1
    del p.add                                                # back to the class's own method
    p.notes = [n for n in p.notes if n.start < duration - 0.05]
    for n in p.notes:
        n.end = min(n.end, duration)
    p.duration = duration
    return p
