#!/usr/bin/env python
"""Regenerate the course's offline corpus in ``data/`` from a seed.

Usage::

    python tools/make_corpus.py                # rebuild data/ (seed 0, 2 worker processes)
    python tools/make_corpus.py --out /tmp/d   # somewhere else, e.g. to compare
    python tools/make_corpus.py --jobs 1       # one process

Needs the Debian packages (only to regenerate; learners need nothing beyond pip)::

    apt-get install -y espeak-ng flite sox fluidsynth fluid-soundfont-gm

and the course environment (numpy, soundfile, soxr). ``sox`` is not called
by the script itself; it is listed because it is handy for inspecting files.

What it writes (see data/README.md, which this script also writes):

- ``words/<speaker>/<word>_<take>.flac`` — digits and command words, 24 voices x 3 takes (training voices 2);
- ``sentences/<speaker>/<speaker>_<nnn>.flac`` — 600 short sentences, 24 voices;
- ``tts/slt_<nnnn>.flac`` — 300 sentences by one voice (flite slt), for Tacotron 2;
- ``music/chords``, ``music/grooves``, ``music/genres`` — FluidSynth renderings of
  MIDI composed here (tools/corpus_midi.py) with .lab chord labels and beat files;
- ``noise/<kind>_<split>.flac`` — white, pink, brown, babble, hum, rain, fan, clicks;
- ``manifest.csv`` — one row per file with label / transcript, speaker, split,
  duration, sample rate, sha256.

Every random choice comes from ``numpy.random.default_rng([seed, crc32(item)])``,
so an item does not depend on the order the workers run in, and regenerating
gives the same manifest (the engines are deterministic too: re-running
gives byte-identical audio on the same Debian release).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus_midi as cm  # noqa: E402
import corpus_text as ct  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
APT = ("espeak-ng flite sox fluidsynth fluid-soundfont-gm festival festvox-kallpc16k festvox-kdlpc16k "
       "festvox-us-slt-hts")
SPEECH_SR = 16_000
MUSIC_SR = 22_050
NOISE_SR = 16_000
TAKES = 3
TAKES_V1_TRAIN = 2      # the first corpus's training voices keep takes 0-1 (take 2 cut for the 150 MB budget)
SENTENCES_PER_SPEAKER = 25
TTS_UTTERANCES = 300
TTS_SPLIT = {"valid": 15, "test": 15}           # the rest is train
NOISE_KINDS = ("white", "pink", "brown", "babble", "hum", "rain", "fan", "clicks")
NOISE_SECONDS = 6.0
CHORD_INSTRUMENTS = ("piano", "steel_guitar", "strings", "church_organ")
INSTRUMENT_LABEL = {"piano": "piano", "steel_guitar": "guitar", "strings": "strings", "church_organ": "organ"}
CHORD_PROGRESSIONS = {"train": 6, "valid": 3, "test": 3}     # 3 progressions cover all 24 triads
GENRE_CLIPS = {"train": 28, "valid": 6, "test": 6}          # per genre (corpus v2: 6 genres x 40)
GENRE_SECONDS = 5.0
GENRE_SR = 11_025                                             # corpus v2 genres: half of 22.05 kHz keeps data/ small
GROOVES_PER_STYLE = {"train": 2, "valid": 1, "test": 1}
MANIFEST_FIELDS = ["path", "kind", "label", "text", "speaker", "split", "duration",
                   "sample_rate", "tempo", "annotation", "engine", "language", "style",
                   "speech_start", "speech_end", "transform", "sha256"]
TAKES_V2 = 1                                    # word takes per corpus-v2 training voice
SENTENCES_PER_SPEAKER_V2 = 12
LEAD_SILENCE = (0.05, 0.40)                     # s of "room" before / after a v2 word
NOISE_FLOOR_DBFS = (-78.0, -64.0)               # RMS of that room tone

SPEECH_RMS_DBFS = -23.0                          # speech and noise (EBU R128-like level)
MUSIC_RMS_DBFS = -20.0
PEAK_LIMIT = 10 ** (-1.0 / 20)                  # -1 dBFS


def item_rng(seed: int, key: str) -> np.random.Generator:
    """A generator that depends only on the seed and the item's name."""
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


# --------------------------------------------------------------------------- signal helpers

def normalise(y: np.ndarray, *, rms_dbfs: float = SPEECH_RMS_DBFS) -> np.ndarray:
    """Scale to ``rms_dbfs`` RMS level, then down if needed so the peak is at most -1 dBFS."""
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    if rms == 0:
        return y
    g = 10 ** (rms_dbfs / 20) / rms
    peak = float(np.max(np.abs(y))) * g
    if peak > PEAK_LIMIT:
        g *= PEAK_LIMIT / peak
    return (y * g).astype(np.float32)


def trim_speech(y: np.ndarray, sr: int, *, top_db=40.0, pre=0.04, post=0.08) -> np.ndarray:
    """Cut leading/trailing silence (frames 40 dB below the loudest), keep a short margin."""
    hop = sr // 100
    y = np.pad(y, (int(pre * sr), int(post * sr)))     # an engine may start speaking at sample 0
    n = len(y) // hop
    frames = y[: n * hop].reshape(n, hop).astype(np.float64)
    level = np.sqrt(np.mean(frames ** 2, axis=1)) + 1e-12
    on = np.flatnonzero(level > level.max() * 10 ** (-top_db / 20))
    start = max(0, on[0] * hop - int(pre * sr))
    end = min(len(y), (on[-1] + 1) * hop + int(post * sr))
    y = y[start:end].copy()
    fade = int(0.005 * sr)
    ramp = np.linspace(0, 1, fade, dtype=np.float32)
    y[:fade] *= ramp
    y[-fade:] *= ramp[::-1]
    return y


def write_flac(path: Path, y: np.ndarray, sr: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(y, -1, 1 - 2 ** -15), sr, subtype="PCM_16", format="FLAC", compression_level=1.0)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return y.mean(axis=1), sr


# --------------------------------------------------------------------------- speech

def engine_command(speaker: ct.Speaker, text: str, rng: np.random.Generator | None, wav: Path) -> list[str]:
    """The espeak-ng / flite command line speaking ``text`` into ``wav`` (jittered by ``rng``)."""
    rate_j = 1.0 if rng is None else float(rng.uniform(0.92, 1.08))
    pitch_j = 0.0 if rng is None else float(rng.uniform(-1.0, 1.0))
    if speaker.engine == "espeak-ng":
        return ["espeak-ng", "-v", f"{speaker.voice}+{speaker.variant}",
                "-s", str(int(round(speaker.rate * rate_j))),
                "-p", str(int(round(np.clip(speaker.pitch + 5 * pitch_j, 0, 99)))),
                "-w", str(wav), text]
    if speaker.engine == "flite":
        return ["flite", "-voice", speaker.voice, "-t", text, "-o", str(wav),
                "--setf", f"duration_stretch={speaker.rate / rate_j:.3f}",
                "--setf", f"int_f0_target_mean={speaker.pitch * (1 + 0.05 * pitch_j):.1f}"]
    raise ValueError(f"no command line for engine {speaker.engine!r}")


def festival_batch(speaker: ct.Speaker, items: list[tuple[str, np.random.Generator]], tmp: Path) -> list[np.ndarray]:
    """Speak every text of ``items`` with one Festival process (its start-up costs 1.5 s).

    The per-item generator jitters Festival's Duration_Stretch by up to +-8 %."""
    lines = [f"(voice_{speaker.voice})"]
    wavs = []
    for k, (text, rng) in enumerate(items):
        wav = tmp / f"fest_{k}.wav"
        stretch = speaker.rate / float(rng.uniform(0.92, 1.08))
        quoted = text.replace('"', "")
        lines += [f"(Parameter.set 'Duration_Stretch {stretch:.3f})",
                  f'(set! u (utt.synth (Utterance Text "{quoted}")))',
                  f'(utt.save.wave u "{wav}" \'riff)']
        wavs.append(wav)
    script = tmp / "batch.scm"
    script.write_text("\n".join(lines) + "\n")
    subprocess.run(["festival", "--batch", str(script)], check=True, capture_output=True)
    out = []
    for wav in wavs:
        y, sr = read_wav(wav)
        if sr != SPEECH_SR:
            y = soxr.resample(y, sr, SPEECH_SR, quality="HQ").astype(np.float32)
        out.append(y)
    return out


def synthesize_raw(speaker: ct.Speaker, text: str, rng: np.random.Generator | None, tmp: Path, *,
                   env: dict | None = None) -> np.ndarray:
    """The engine's output at 16 kHz, untrimmed (``env``: the engine's environment, e.g. ESPEAK_DATA_PATH)."""
    wav = tmp / "tts.wav"
    subprocess.run(engine_command(speaker, text, rng, wav), check=True, capture_output=True, env=env)
    y, sr = read_wav(wav)
    if sr != SPEECH_SR:
        y = soxr.resample(y, sr, SPEECH_SR, quality="HQ").astype(np.float32)
    return y


def synthesize(speaker: ct.Speaker, text: str, rng: np.random.Generator | None, tmp: Path, *,
               env: dict | None = None) -> np.ndarray:
    """Speak ``text`` with ``speaker`` (jittered by ``rng`` unless None); 16 kHz float32."""
    y = trim_speech(synthesize_raw(speaker, text, rng, tmp, env=env), SPEECH_SR)
    return normalise(y)


def vtln_warp(y: np.ndarray, warp: float, tempo: float, tmp: Path) -> np.ndarray:
    """A pseudo-speaker's voice from ``y`` (16 kHz): every frequency x ``warp`` (resampling,
    like a vocal tract 1/warp as long, with F0 following), then sox ``tempo`` so the
    duration ends at 1/``tempo`` of the original (WSOLA: pitch and formants kept)."""
    y = soxr.resample(y, SPEECH_SR, SPEECH_SR / warp, quality="HQ").astype(np.float32)
    src, dst = tmp / "warp_in.wav", tmp / "warp_out.wav"
    sf.write(str(src), y, SPEECH_SR, subtype="FLOAT")
    subprocess.run(["sox", str(src), str(dst), "tempo", "-s", f"{tempo / warp:.4f}"], check=True, capture_output=True)
    return read_wav(dst)[0]


def speech_bounds(y: np.ndarray, sr: int, *, top_db: float = 40.0) -> tuple[float, float]:
    """Start and end (s) of the speech in ``y``: the first and last 10 ms frame within
    ``top_db`` of the loudest frame (the same rule as :func:`trim_speech`)."""
    hop = sr // 100
    n = len(y) // hop
    level = np.sqrt(np.mean(y[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)) + 1e-12
    on = np.flatnonzero(level > level.max() * 10 ** (-top_db / 20))
    return on[0] * hop / sr, min(len(y), (on[-1] + 1) * hop) / sr


def room_tone(rng: np.random.Generator, n: int) -> np.ndarray:
    """Low-level background (a microphone's self-noise and a room's rumble): white noise
    through a leaky integrator (a low-frequency tilt), at -78..-64 dBFS RMS."""
    from scipy.signal import lfilter

    w = rng.standard_normal(n + 2000)
    out = lfilter([1.0], [1.0, -float(rng.uniform(0.6, 0.97))], w)[2000:]    # drop the start-up transient
    level = 10 ** (rng.uniform(*NOISE_FLOOR_DBFS) / 20)
    return (out / np.sqrt(np.mean(out ** 2)) * level).astype(np.float32)


def as_recording(y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """A trimmed, normalised clip with natural silence (50-400 ms on each side, measured from
    the speech) and room tone under all of it. Returns (audio, speech start, speech end) in s."""
    start, end = speech_bounds(y, SPEECH_SR)
    y = y[int(round(start * SPEECH_SR)):int(round(end * SPEECH_SR))]
    fade = int(0.005 * SPEECH_SR)
    ramp = np.linspace(0, 1, fade, dtype=np.float32)
    y[:fade] *= ramp
    y[-fade:] *= ramp[::-1]
    lead = int(rng.uniform(*LEAD_SILENCE) * SPEECH_SR)
    trail = int(rng.uniform(*LEAD_SILENCE) * SPEECH_SR)
    out = np.pad(y, (lead, trail)) + room_tone(rng, lead + len(y) + trail)
    return out.astype(np.float32), lead / SPEECH_SR, (lead + len(y)) / SPEECH_SR


def speak_v2(speaker: ct.Speaker, items: list[tuple[str, np.random.Generator]], tmp: Path) -> list[np.ndarray]:
    """Trimmed, normalised speech for each (text, rng) of a corpus-v2 voice, transforms applied."""
    if speaker.engine == "festival":
        raw = festival_batch(speaker, items, tmp)
    else:
        raw = [synthesize_raw(speaker, text, rng, tmp) for text, rng in items]
    out = []
    for y in raw:
        if speaker.base:
            y = trim_speech(y, SPEECH_SR)              # warp what was spoken, not the engine's silence
            y = vtln_warp(y, speaker.warp, speaker.tempo, tmp)
        out.append(normalise(trim_speech(y, SPEECH_SR)))
    return out


def job_speaker(args) -> list[dict]:
    """All words and sentences of one speaker (one job per speaker)."""
    out_dir, seed, speaker, texts = args
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for word in ct.WORDS:
            for take in range(TAKES if speaker.split != "train" else TAKES_V1_TRAIN):
                rel = f"words/{speaker.id}/{word}_{take}.flac"
                y = synthesize(speaker, word, item_rng(seed, rel), tmp)
                write_flac(out_dir / rel, y, SPEECH_SR)
                rows.append(dict(path=rel, kind="word", label=word, speaker=speaker.id, split=speaker.split))
        for i, text in enumerate(texts):
            rel = f"sentences/{speaker.id}/{speaker.id}_{i:03d}.flac"
            y = synthesize(speaker, text, item_rng(seed, rel), tmp)
            write_flac(out_dir / rel, y, SPEECH_SR)
            rows.append(dict(path=rel, kind="sentence", text=text, speaker=speaker.id, split=speaker.split))
    return rows


def job_speaker_v2(args) -> list[dict]:
    """Words (one take, with natural silence and room tone) and sentences of a corpus-v2 voice."""
    out_dir, seed, speaker, texts = args
    word_items = [(f"words/{speaker.id}/{w}_{t}.flac", w) for w in ct.WORDS for t in range(TAKES_V2)]
    sent_items = [(f"sentences/{speaker.id}/{speaker.id}_{i:03d}.flac", text) for i, text in enumerate(texts)]
    items = word_items + sent_items
    with tempfile.TemporaryDirectory() as tmp:
        audio = speak_v2(speaker, [(text, item_rng(seed, rel)) for rel, text in items], Path(tmp))
    rows = []
    common = dict(speaker=speaker.id, split=speaker.split, engine=speaker.engine, language="en",
                  transform=speaker.transform)
    for (rel, text), y in zip(items, audio):
        if rel.startswith("words/"):
            y, start, end = as_recording(y, item_rng(seed, rel + "#room"))
            rows.append(dict(path=rel, kind="word", label=text, speech_start=f"{start:.3f}",
                             speech_end=f"{end:.3f}", **common))
        else:
            start, end = speech_bounds(y, SPEECH_SR)
            rows.append(dict(path=rel, kind="sentence", text=text, speech_start=f"{start:.3f}",
                             speech_end=f"{end:.3f}", **common))
        write_flac(out_dir / rel, y, SPEECH_SR)
    return rows


DIGIT_STRINGS = {"train": 3, "valid": 12, "test": 12}     # per voice: 70 x 3 + 4 x 12 + 4 x 12 = 306


def job_digit_strings(args) -> list[dict]:
    """Connected digit strings of one voice, synthesised whole (co-articulation, pauses at
    the commas between groups), with natural silence and room tone like corpus-v2 words."""
    out_dir, seed, speaker, labels_said = args
    items = [(f"digits/{speaker.id}/{speaker.id}_{i:02d}.flac", label, said)
             for i, (label, said) in enumerate(labels_said)]
    with tempfile.TemporaryDirectory() as tmp:
        audio = speak_v2(speaker, [(said, item_rng(seed, rel)) for rel, _, said in items], Path(tmp))
    rows = []
    for (rel, label, _), y in zip(items, audio):
        y, start, end = as_recording(y, item_rng(seed, rel + "#room"))
        write_flac(out_dir / rel, y, SPEECH_SR)
        rows.append(dict(path=rel, kind="digit_string", label=label, text=ct.digit_words(label),
                         speaker=speaker.id, split=speaker.split, engine=speaker.engine, language="en",
                         transform=speaker.transform, speech_start=f"{start:.3f}", speech_end=f"{end:.3f}"))
    return rows


def job_ml_digits(args) -> list[dict]:
    """The ten digits in one language by one espeak-ng variant (one take each)."""
    out_dir, seed, speaker = args
    lang = speaker.accent
    words = ct.LANGUAGES[lang][1]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d, word in enumerate(words):
            rel = f"languages/{lang}/{speaker.id}/{ct.DIGITS[d]}.flac"
            y = normalise(trim_speech(synthesize_raw(speaker, word, item_rng(seed, rel), Path(tmp)), SPEECH_SR))
            y, start, end = as_recording(y, item_rng(seed, rel + "#room"))
            write_flac(out_dir / rel, y, SPEECH_SR)
            rows.append(dict(path=rel, kind="ml_digit", label=ct.DIGITS[d], text=word, speaker=speaker.id,
                             split=speaker.split, engine="espeak-ng", language=lang,
                             speech_start=f"{start:.3f}", speech_end=f"{end:.3f}"))
    return rows


def job_prosody(args) -> list[dict]:
    """The same sentences in four simulated styles by one voice (espeak-ng SSML prosody).

    Levels are kept relative: every style of a sentence gets the gain that brings the
    *neutral* rendition to -23 dBFS, so angry stays louder and sad quieter (peaks are
    limited to -1 dBFS)."""
    out_dir, seed, speaker, texts = args
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        for i, text in enumerate(texts):
            ys = {}
            for style in ct.STYLES:
                rel = f"prosody/{speaker.id}/{style}_{i:02d}.flac"
                rng = item_rng(seed, rel)
                cmd = ["espeak-ng", "-m", "-v", f"{speaker.voice}+{speaker.variant}",
                       "-s", str(int(round(speaker.rate * rng.uniform(0.96, 1.04)))),
                       "-p", str(int(round(np.clip(speaker.pitch + rng.uniform(-3, 3), 0, 99)))),
                       "-w", str(wav), ct.styled_ssml(text, style)]
                subprocess.run(cmd, check=True, capture_output=True)
                y, sr = read_wav(wav)
                if sr != SPEECH_SR:
                    y = soxr.resample(y, sr, SPEECH_SR, quality="HQ").astype(np.float32)
                ys[style] = (rel, trim_speech(y, SPEECH_SR))
            ref = ys["neutral"][1].astype(np.float64)
            g = 10 ** (SPEECH_RMS_DBFS / 20) / np.sqrt(np.mean(ref ** 2))
            for style, (rel, y) in ys.items():
                y = y * g
                peak = float(np.max(np.abs(y)))
                if peak > PEAK_LIMIT:
                    y = y * (PEAK_LIMIT / peak)
                y = y.astype(np.float32)
                start, end = speech_bounds(y, SPEECH_SR)
                write_flac(out_dir / rel, y, SPEECH_SR)
                rows.append(dict(path=rel, kind="styled", label=style, style=style, text=text, speaker=speaker.id,
                                 split=speaker.split, engine="espeak-ng", language="en",
                                 speech_start=f"{start:.3f}", speech_end=f"{end:.3f}"))
    return rows


def job_tts(args) -> list[dict]:
    """The single-voice TTS subset: no jitter, one consistent voice; split by utterance."""
    out_dir, seed, items = args
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, text, split in items:
            rel = f"tts/slt_{i:04d}.flac"
            y = synthesize(ct.TTS_SPEAKER, text, None, Path(tmp))
            write_flac(out_dir / rel, y, SPEECH_SR)
            rows.append(dict(path=rel, kind="tts", text=text, speaker=ct.TTS_SPEAKER.id, split=split))
    return rows


# --------------------------------------------------------------------------- music

def render(piece: cm.Piece, tmp: Path, sr: int = MUSIC_SR) -> np.ndarray:
    """FluidSynth render of ``piece`` at ``sr``, mono, cut to piece.duration, normalised."""
    mid, wav = tmp / "piece.mid", tmp / "piece.wav"
    mid.write_bytes(cm.midi_bytes(piece))
    subprocess.run(["fluidsynth", "-ni", "-q", "-F", str(wav), "-T", "wav", "-O", "s16",
                    "-r", str(sr), "-g", "0.5", str(SOUNDFONT), str(mid)],
                   check=True, capture_output=True)
    y, _ = read_wav(wav)
    n = int(round(piece.duration * sr))
    y = np.pad(y, (0, max(0, n - len(y))))[:n]
    fade = int(0.02 * sr)
    y[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    return normalise(y, rms_dbfs=MUSIC_RMS_DBFS)


def write_lab(path: Path, segments) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for s, e, lab in segments:
            f.write(f"{s:.4f}\t{e:.4f}\t{lab}\n")


def write_beats(path: Path, beats) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for t, pos in beats:
            f.write(f"{t:.4f}\t{pos}\n")


def chord_plan(seed: int):
    """Progressions per split: each split's progressions together hold all 24 triads once
    (train twice), with one "N" rest somewhere inside each progression."""
    plan = []
    for split, n_prog in CHORD_PROGRESSIONS.items():
        rng = item_rng(seed, f"chords/{split}")
        for rep in range(n_prog // 3):
            order = [str(x) for x in np.array(cm.TRIADS)[rng.permutation(24)]]
            for j in range(3):
                labels = order[8 * j: 8 * j + 8]
                labels.insert(int(rng.integers(2, 8)), "N")
                k = 3 * rep + j
                insts = (CHORD_INSTRUMENTS[k % 4], CHORD_INSTRUMENTS[(k + 2) % 4])
                plan.append((f"{split}_{k:02d}", split, labels, insts))
    return plan


def job_chords(args) -> list[dict]:
    out_dir, seed, name, split, labels, insts = args
    rows = []
    lab_rel = f"music/chords/prog_{name}.lab"
    with tempfile.TemporaryDirectory() as tmp:
        for inst in insts:
            rel = f"music/chords/prog_{name}_{INSTRUMENT_LABEL[inst]}.flac"
            piece = cm.chord_progression(labels, instrument=inst, rng=item_rng(seed, rel), chord_dur=1.25,
                                         lead_in=0.5, tail=1.0)
            write_flac(out_dir / rel, render(piece, Path(tmp)), MUSIC_SR)
            rows.append(dict(path=rel, kind="chords", label=INSTRUMENT_LABEL[inst], split=split,
                             annotation=lab_rel, text=" ".join(labels)))
    write_lab(out_dir / lab_rel, piece.segments)
    rows.append(dict(path=lab_rel, kind="chord_lab", split=split, text=" ".join(labels)))
    return rows


def groove_plan(seed: int):
    """Each style gets grooves in every split; tempi 60..180 BPM dealt out so that every
    split spans the range."""
    rng = item_rng(seed, "grooves")
    n = sum(GROOVES_PER_STYLE.values()) * len(cm.GROOVE_STYLES)
    tempi = np.round(np.linspace(60, 180, n)).astype(int)
    # deal tempi in blocks of 4 (train, train, valid, test in shuffled order) so splits interleave
    plan = []
    styles = list(cm.GROOVE_STYLES)
    for block in range(n // 4):
        splits = ["train", "train", "valid", "test"]
        splits = [splits[i] for i in rng.permutation(4)]
        for j in range(4):
            plan.append((int(tempi[4 * block + j]), splits[j]))
    # assign styles so each style gets 2 train, 1 valid, 1 test
    need = {s: dict(GROOVES_PER_STYLE) for s in styles}
    out = []
    for i, (bpm, split) in enumerate(plan):
        for k in range(len(styles)):
            style = styles[(i + k) % len(styles)]
            if need[style][split] > 0:
                need[style][split] -= 1
                break
        out.append((f"{style}_{bpm:03d}", style, bpm, split))
    return out


def job_groove(args) -> list[dict]:
    out_dir, seed, name, style, bpm, split = args
    rel = f"music/grooves/groove_{name}.flac"
    beats_rel = f"music/grooves/groove_{name}.beats.txt"
    piece = cm.groove(style, bpm=bpm, rng=item_rng(seed, rel), target_dur=6.0)
    with tempfile.TemporaryDirectory() as tmp:
        write_flac(out_dir / rel, render(piece, Path(tmp)), MUSIC_SR)
    write_beats(out_dir / beats_rel, piece.beats)
    return [dict(path=rel, kind="groove", label=style, split=split, tempo=f"{bpm:g}", annotation=beats_rel,
                 text=f"meter={piece.meter}"),
            dict(path=beats_rel, kind="beats", label=style, split=split, tempo=f"{bpm:g}", text=f"meter={piece.meter}")]


def job_genre(args) -> list[dict]:
    out_dir, seed, genre, i, split = args
    rel = f"music/genres/{genre}_{i:02d}.flac"
    piece = cm.genre_clip_v2(genre, rng=item_rng(seed, rel), duration=GENRE_SECONDS)
    with tempfile.TemporaryDirectory() as tmp:
        write_flac(out_dir / rel, render(piece, Path(tmp), GENRE_SR), GENRE_SR)
    return [dict(path=rel, kind="genre", label=genre, split=split, tempo=f"{piece.tempo:.1f}",
                 text=f"meter={piece.meter}")]


# --------------------------------------------------------------------------- noise

def _coloured(rng, n, exponent):
    """Gaussian noise with power spectrum ~ 1/f**exponent (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / NOISE_SR)
    f[0] = f[1]
    spec *= f ** (-exponent / 2)
    spec[0] = 0
    return np.fft.irfft(spec, n)


def _bandpass(y, lo, hi):
    spec = np.fft.rfft(y)
    f = np.fft.rfftfreq(len(y), 1 / NOISE_SR)
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, len(y))


def make_noise(kind: str, rng: np.random.Generator, babble_sources: list[np.ndarray]) -> np.ndarray:
    n = int(NOISE_SECONDS * NOISE_SR)
    t = np.arange(n) / NOISE_SR
    if kind == "white":
        y = rng.standard_normal(n)
    elif kind == "pink":
        y = _coloured(rng, n, 1.0)
    elif kind == "brown":
        y = _coloured(rng, n, 2.0)
    elif kind == "babble":                      # 6 overlapping talkers, train speakers only
        y = np.zeros(n)
        for k in range(6):
            pos = int(rng.integers(0, NOISE_SR // 2))
            while pos < n:
                src = babble_sources[int(rng.integers(len(babble_sources)))]
                m = min(len(src), n - pos)
                y[pos:pos + m] += src[:m] * rng.uniform(0.6, 1.0)
                pos += m + int(rng.integers(0, NOISE_SR // 5))
    elif kind == "hum":                         # 50 Hz mains and odd-heavy harmonics, slow drift
        y = np.zeros(n)
        drift = 1 + 0.05 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 2 * np.pi))
        for h in range(1, 9):
            amp = (1.0 if h % 2 else 0.5) / h
            y += amp * np.sin(2 * np.pi * 50 * h * t + rng.uniform(0, 2 * np.pi))
        y = y * drift + 0.01 * rng.standard_normal(n)
    elif kind == "rain":                        # pink bed + many short high-passed drops
        y = 0.3 * _coloured(rng, n, 1.0) / 30
        drops = np.zeros(n)
        for _ in range(int(NOISE_SECONDS * 150)):
            pos = int(rng.integers(0, n - 400))
            length = int(rng.integers(80, 400))
            burst = rng.standard_normal(length) * np.exp(-np.arange(length) / (length / 5))
            drops[pos:pos + length] += burst * rng.uniform(0.2, 1.0)
        y = _bandpass(y + drops, 800, 7000) + 0.1 * y
    elif kind == "fan":                         # low-passed noise, blade-rate modulation, motor hum
        y = _bandpass(_coloured(rng, n, 1.0), 60, 2000)
        y /= np.std(y)
        y *= 1 + 0.3 * np.sin(2 * np.pi * 23 * t)
        y += 0.3 * np.sin(2 * np.pi * 100 * t) + 0.15 * np.sin(2 * np.pi * 200 * t)
    elif kind == "clicks":                      # sparse clicks of random polarity and decay
        y = 0.001 * rng.standard_normal(n)
        for _ in range(int(NOISE_SECONDS * 8)):
            pos = int(rng.integers(0, n - 200))
            length = int(rng.integers(20, 200))
            y[pos:pos + length] += rng.choice([-1, 1]) * np.exp(-np.arange(length) / (length / 6)) * rng.uniform(0.3, 1)
    else:
        raise ValueError(kind)
    return normalise(y.astype(np.float32))


def make_all_noise(out_dir: Path, seed: int, speech_rows: list[dict]) -> list[dict]:
    v1 = {spk.id for spk in ct.SPEAKERS}              # babble stays as it was before corpus v2
    train_sent = sorted(r["path"] for r in speech_rows
                        if r["kind"] == "sentence" and r["split"] == "train" and r["speaker"] in v1)
    rows = []
    for split in ("train", "test"):
        # babble for each noise split comes from a different half of the train speakers' sentences
        half = train_sent[0::2] if split == "train" else train_sent[1::2]
        sources = [read_wav(out_dir / p)[0] for p in half[:200]]
        for kind in NOISE_KINDS:
            rel = f"noise/{kind}_{split}.flac"
            y = make_noise(kind, item_rng(seed, rel), sources)
            write_flac(out_dir / rel, y, NOISE_SR)
            rows.append(dict(path=rel, kind="noise", label=kind, split=split))
    return rows


# --------------------------------------------------------------------------- manifest / README

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def finish_rows(out_dir: Path, rows: list[dict]) -> list[dict]:
    for r in rows:
        p = out_dir / r["path"]
        if p.suffix == ".flac":
            info = sf.info(str(p))
            r["duration"] = f"{info.frames / info.samplerate:.4f}"
            r["sample_rate"] = str(info.samplerate)
        r["sha256"] = sha256(p)
        for k in MANIFEST_FIELDS:
            r.setdefault(k, "")
    return sorted(rows, key=lambda r: r["path"])


def write_manifest(out_dir: Path, rows: list[dict]) -> None:
    with open(out_dir / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def counts_table(rows: list[dict], out_dir: Path | None = None) -> str:
    kinds = sorted({r["kind"] for r in rows})
    size = {k: sum((out_dir / r["path"]).stat().st_size for r in rows if r["kind"] == k) / 1e6 if out_dir else 0.0
            for k in kinds}
    lines = ["| kind | train | valid | test | files | seconds | sample rate | MB |", "|---|---|---|---|---|---|---|---|"]
    for k in kinds:
        rs = [r for r in rows if r["kind"] == k]
        c = {s: sum(r["split"] == s for r in rs) for s in ("train", "valid", "test")}
        secs = sum(float(r["duration"]) for r in rs if r["duration"])
        srs = ",".join(sorted({r["sample_rate"] for r in rs if r["sample_rate"]})) or "-"
        lines.append(f"| {k} | {c['train']} | {c['valid']} | {c['test']} | {len(rs)} | {secs:.0f} | {srs} "
                     f"| {size[k]:.1f} |")
    lines.append(f"| **all** | | | | {len(rows)} | | | {sum(size.values()):.1f} |")
    return "\n".join(lines)


def speakers_table() -> str:
    lines = ["| speaker | engine | voice + variant | gender | accent | split | made from (pseudo-speakers) |",
             "|---|---|---|---|---|---|---|"]
    for s in ct.SPEAKERS + ct.SPEAKERS_V2:
        v = f"{s.voice}+{s.variant}" if s.variant else s.voice
        lines.append(f"| {s.id} | {s.engine} | {v} | {s.gender} | {s.accent} | {s.split} | {s.transform} |")
    return "\n".join(lines)


def write_readme(out_dir: Path, rows: list[dict], seed: int) -> None:
    from corpus_readme import TEMPLATE as template
    text = template.replace("{{COUNTS}}", counts_table(rows, out_dir)).replace("{{SPEAKERS}}", speakers_table())
    text = text.replace("{{SEED}}", str(seed)).replace("{{VOCAB}}", " ".join(ct.vocabulary()))
    (out_dir / "README.md").write_text(text)


# --------------------------------------------------------------------------- main

def check_tools() -> None:
    missing = [t for t in ("espeak-ng", "flite", "fluidsynth", "festival", "sox") if shutil.which(t) is None]
    if missing or not SOUNDFONT.exists():
        sys.exit(f"missing {missing or SOUNDFONT}: apt-get install -y {APT}")


V1_IDS = {spk.id for spk in ct.SPEAKERS}
V2_IDS = {spk.id for spk in ct.SPEAKERS_V2}
#: the parts of the corpus that can be regenerated on their own (``--part``)
PARTS = ("v1", "voices", "digit_strings", "languages", "prosody", "genres")
_PART_KINDS = {"digit_string": "digit_strings", "ml_digit": "languages", "styled": "prosody", "genre": "genres",
               "real_digit": "real"}   # real: tools/real_corpus.py, never rebuilt here (not in PARTS)
_PART_DIRS = {"digit_strings": "digits", "languages": "languages", "prosody": "prosody", "genres": "music/genres"}


def part_of(row: dict) -> str:
    """Which part a manifest row belongs to."""
    if row["kind"] in _PART_KINDS:
        return _PART_KINDS[row["kind"]]
    if row["kind"] in ("word", "sentence") and row["speaker"] in V2_IDS:
        return "voices"
    return "v1"


def read_manifest(out_dir: Path) -> list[dict]:
    path = out_dir / "manifest.csv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: r.get(k) or "" for k in MANIFEST_FIELDS} for r in csv.DictReader(f)]


def v1_tasks(out_dir: Path, seed: int) -> list:
    """The corpus as first shipped (24 voices, TTS, music, noise); unchanged by corpus v2."""
    text_rng = item_rng(seed, "sentences")
    n_asr = SENTENCES_PER_SPEAKER * len(ct.SPEAKERS)
    all_text = ct.sentences(text_rng, n_asr + TTS_UTTERANCES)
    asr_text, tts_text = all_text[:n_asr], all_text[n_asr:]
    tts_splits = (["valid"] * TTS_SPLIT["valid"] + ["test"] * TTS_SPLIT["test"]
                  + ["train"] * (TTS_UTTERANCES - sum(TTS_SPLIT.values())))
    tts_splits = [tts_splits[i] for i in item_rng(seed, "tts-splits").permutation(TTS_UTTERANCES)]

    tasks = []
    for i, spk in enumerate(ct.SPEAKERS):
        texts = asr_text[i * SENTENCES_PER_SPEAKER:(i + 1) * SENTENCES_PER_SPEAKER]
        tasks.append((job_speaker, (out_dir, seed, spk, texts)))
    for k in range(0, TTS_UTTERANCES, 50):
        items = [(i, tts_text[i], tts_splits[i]) for i in range(k, min(k + 50, TTS_UTTERANCES))]
        tasks.append((job_tts, (out_dir, seed, items)))
    for name, split, labels, insts in chord_plan(seed):
        tasks.append((job_chords, (out_dir, seed, name, split, labels, insts)))
    for name, style, bpm, split in groove_plan(seed):
        tasks.append((job_groove, (out_dir, seed, name, style, bpm, split)))
    return tasks


def genre_tasks(out_dir: Path, seed: int) -> list:
    tasks = []
    for genre in cm.GENRES_V2:
        i = 0
        for split, n in GENRE_CLIPS.items():
            for _ in range(n):
                tasks.append((job_genre, (out_dir, seed, genre, i, split)))
                i += 1
    return tasks


def v1_texts(seed: int) -> list[str]:
    n_asr = SENTENCES_PER_SPEAKER * len(ct.SPEAKERS)
    return ct.sentences(item_rng(seed, "sentences"), n_asr + TTS_UTTERANCES)


def voices_tasks(out_dir: Path, seed: int) -> list:
    """Corpus v2's training voices: words with natural silence, and new sentences from the
    grammar with its new words (none equal to a v1 sentence)."""
    texts = ct.sentences(item_rng(seed, "sentences-v2"), SENTENCES_PER_SPEAKER_V2 * len(ct.SPEAKERS_V2),
                         exclude=v1_texts(seed), lexicon=ct.LEX_V2)
    n = SENTENCES_PER_SPEAKER_V2
    # the slowest voices (Festival, warped) first, so two workers finish together
    order = sorted(range(len(ct.SPEAKERS_V2)),
                   key=lambda i: (ct.SPEAKERS_V2[i].engine != "festival", not ct.SPEAKERS_V2[i].base))
    return [(job_speaker_v2, (out_dir, seed, ct.SPEAKERS_V2[i], texts[i * n:(i + 1) * n])) for i in order]


def digit_string_tasks(out_dir: Path, seed: int) -> list:
    voices = [spk for spk in ct.SPEAKERS + ct.SPEAKERS_V2]
    rng = item_rng(seed, "digit-strings")
    seen, plan = set(), []
    for spk in voices:
        strings = []
        while len(strings) < DIGIT_STRINGS[spk.split]:
            label, said = ct.digit_string(rng)
            if label not in seen:                      # no string in two places (or two splits)
                seen.add(label)
                strings.append((label, said))
        plan.append((job_digit_strings, (out_dir, seed, spk, strings)))
    return sorted(plan, key=lambda t: t[1][2].engine != "festival")


def prosody_texts(seed: int) -> list[str]:
    return ct.sentences(item_rng(seed, "prosody-sentences"), ct.STYLE_SENTENCES)


def clear_part(out_dir: Path, part: str) -> None:
    if part in _PART_DIRS:
        shutil.rmtree(out_dir / _PART_DIRS[part], ignore_errors=True)
        return
    if part == "v1":
        for sub in ("tts", "music/chords", "music/grooves", "noise"):
            shutil.rmtree(out_dir / sub, ignore_errors=True)
        ids = V1_IDS
    else:
        ids = V2_IDS
    for spk in ids:
        for sub in ("words", "sentences"):
            shutil.rmtree(out_dir / sub / spk, ignore_errors=True)


def annotate(out_dir: Path, rows: list[dict]) -> None:
    """Fill engine / language / speech bounds where a row lacks them (v1 rows)."""
    engines = {spk.id: spk.engine for spk in ct.SPEAKERS + ct.SPEAKERS_V2 + [ct.TTS_SPEAKER]}
    for r in rows:
        if r["kind"] not in ("word", "sentence", "tts"):
            continue
        r["engine"] = r.get("engine") or engines[r["speaker"]]  # (the v2 parts set their own)
        r["language"] = r.get("language") or "en"
        if not r.get("speech_start"):
            y, sr = read_wav(out_dir / r["path"])
            start, end = speech_bounds(y, sr)
            r["speech_start"], r["speech_end"] = f"{start:.3f}", f"{end:.3f}"


def build(out_dir: Path, *, seed: int = 0, jobs: int = 2, parts=PARTS) -> list[dict]:
    """Regenerate ``parts`` of the corpus in ``out_dir``; rows and files of the other parts stay."""
    check_tools()
    out_dir.mkdir(parents=True, exist_ok=True)
    keep = [r for r in read_manifest(out_dir) if part_of(r) not in parts]
    for part in parts:
        clear_part(out_dir, part)
    tasks = []
    if "v1" in parts:
        tasks += v1_tasks(out_dir, seed)
    if "voices" in parts:
        tasks += voices_tasks(out_dir, seed)
    if "digit_strings" in parts:
        tasks += digit_string_tasks(out_dir, seed)
    if "languages" in parts:
        tasks += [(job_ml_digits, (out_dir, seed, spk)) for spk in ct.ml_speakers()]
    if "genres" in parts:
        tasks = genre_tasks(out_dir, seed) + tasks            # the slowest renders first
    if "prosody" in parts:
        tasks += [(job_prosody, (out_dir, seed, spk, prosody_texts(seed))) for spk in ct.prosody_speakers()]

    rows = []
    if jobs <= 1:
        for fn, a in tasks:
            rows += fn(a)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            for res in ex.map(_call, tasks):
                rows += res
    if "v1" in parts:
        rows += make_all_noise(out_dir, seed, rows)
    for r in rows:
        for k in MANIFEST_FIELDS:
            r.setdefault(k, "")
    rows = keep + rows
    annotate(out_dir, rows)
    rows = finish_rows(out_dir, rows)
    write_manifest(out_dir, rows)
    write_readme(out_dir, rows, seed)
    return rows


def _call(task):
    fn, a = task
    return fn(a)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "data", help="output folder (default: data/)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes (default 2; the machine is shared)")
    ap.add_argument("--part", action="append", choices=PARTS,
                    help="regenerate only this part (repeatable); the other parts' files and rows stay")
    ap.add_argument("--readme", action="store_true", help="only rewrite README.md from manifest.csv")
    args = ap.parse_args(argv)
    if args.readme:
        write_readme(args.out, read_manifest(args.out), args.seed)
        return 0
    t0 = time.perf_counter()
    rows = build(args.out, seed=args.seed, jobs=args.jobs, parts=tuple(args.part or PARTS))
    print(counts_table(rows))
    print(f"{len(rows)} files written to {args.out} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
