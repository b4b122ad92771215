"""Template of data/README.md (filled in by tools/make_corpus.py)."""

TEMPLATE = """\
# The course corpus (`data/`)

Everything here is **generated** by `tools/make_corpus.py` (seed {{SEED}}) and committed,
so learners need nothing beyond pip and no network. Load it with `course_lib.data`:

```python
from course_lib import data
train = data.spoken_words(split="train")          # list of Clip(audio, sr, label, speaker, ...)
sents = data.sentences(split="test")              # Clip.text is the transcript
prog = data.chords(split="valid")[0]              # Clip.annotations["segments"] = [(start, end, "C:maj"), ...]
data.verify()                                     # re-checks every sha256 in manifest.csv
```

Do not edit files by hand: `data/manifest.csv` holds the sha256 of every file and
`course_lib.data.verify()` (and the test suite) will report the change. To restore a
damaged file: `git checkout -- data/`, or regenerate everything (below).

## Contents

{{COUNTS}}

All audio is mono 16-bit FLAC. Speech and noise are at **16 kHz**; chords and grooves at
**22.05 kHz** (librosa's default rate), genres at 11.025 kHz. The speech of the first corpus (its 24 voices
and the TTS set) is trimmed (leading/trailing frames more than 40 dB below the loudest
10 ms frame are cut, keeping 40 ms before and 80 ms after) and normalised to -23 dBFS RMS
with peaks at most -1 dBFS; music is normalised to -20 dBFS RMS, peaks at most -1 dBFS.

- **word** — `words/<speaker>/<word>_<take>.flac`: the digits *zero ... nine* and the
  commands *yes no up down left right on off stop go*; each take varies the speaker's
  rate by up to +-8 % and pitch slightly (seeded). The 24 voices of the first corpus
  (all valid and test voices among them) have 3 takes, trimmed as above (its 16 training
  voices keep 2: the third was cut in December 2026 for the 150 MB budget). The 54
  training voices added by **corpus v2** have 1 take (a second was cut in December 2026 to
  keep `data/` within its 150 MB budget) that looks like a recording: the
  speech (normalised to -23 dBFS RMS) sits in **50-400 ms of leading and trailing
  silence** (drawn per clip) and a **room tone** under the whole clip (white noise
  through a leaky integrator, -78 to -64 dBFS RMS). Every speech row's `speech_start` /
  `speech_end` say where the speech is (the first and last 10 ms frame within 40 dB of
  the loudest), for endpointing.
- **sentence** — `sentences/<speaker>/<speaker>_<nnn>.flac`: short sentences (3-8 words)
  from a small grammar (commands, "the red cat sees a big dog", timers ...), 25 per
  first-corpus voice and 12 per corpus-v2 voice; the transcript is in the `text`
  column, lower case, no punctuation. Corpus v2's sentences also use the words *goat
  sheep pen(s) coat(s) brown office oven lucy omar*, which no valid or test sentence
  has, and no text is in two splits. Vocabulary: {{VOCAB}}.
- **digit_string** — `digits/<speaker>/<speaker>_<nn>.flac`: **connected digits**, 306
  strings of 3-7 digits (PINs, and phone-number-like groups such as 3+4 or 2+2+2): 3 by
  each training voice, 12 by each valid and test voice, no string twice. Each string is
  synthesised whole (co-articulation; the engine pauses between groups, where a comma was
  in its input), with silence and room tone as for corpus-v2 words. `label` is the digits
  (`5071`), `text` the transcript (`five zero seven one`).
- **ml_digit** — `languages/<lang>/<speaker>/<digit>.flac`: the ten digits in **six
  languages** (en, de, fr, es, it, nl; espeak-ng's voices for them), by 12 voice variants
  each (8 train, 2 valid, 2 test; a variant has the same split in every language, so
  timbre says nothing about the language), one take, silence and room tone as above.
  `label` is the digit's English name, `text` the word in the language's own spelling
  (UTF-8, e.g. *fünf*, *zéro*, *vijf*), `language` the ISO 639-1 code.
- **styled** — `prosody/<speaker>/<style>_<nn>.flac`: the same 6 sentences by 12 espeak-ng
  voices of the word corpus (same ids and splits: 8 / 2 / 2) in four styles, *neutral,
  happy, sad, angry*, made with espeak-ng's SSML `<prosody>` pitch, range, rate and volume
  (happy: +30 % pitch, +70 % range, +10 % rate, +20 % volume; sad: -20 %, -60 %, -25 %,
  -45 %; angry: +15 %, +40 %, +20 %, +80 %), the directions in which acted emotions differ
  from neutral speech in F0, F0 range, tempo and energy (Banse & Scherer 1996; Juslin &
  Laukka 2003). **These are simulated prosody, not recorded emotion**: a model that
  separates them has learnt pitch, tempo and loudness, not emotion. For real acted
  emotion move to RAVDESS (`course_lib.datasets.ravdess`, CC BY-NC-SA 4.0, downloaded only
  when asked) or CREMA-D. All styles of a sentence share the gain that puts its neutral
  rendition at -23 dBFS, so angry stays louder and sad quieter (peaks at most -1 dBFS).
- **tts** — `tts/slt_<nnnn>.flac`: 300 sentences (other texts from the same grammar) by one
  voice, flite's *slt*, at **16 kHz**, with no jitter: the Tacotron 2 chapter's data. It is
  split by *utterance* (270 train / 15 valid / 15 test; no text in two splits), since it
  has a single speaker. slt is also a train speaker of the word/sentence sets.
- **chords** — `music/chords/prog_<split>_<k>_<instrument>.flac` with
  `music/chords/prog_<split>_<k>.lab`: progressions of 8 triads of 1.25 s plus one rest,
  rendered on two of piano, guitar (steel-string, strummed), strings and organ. The three
  progressions of a split hold all 24 major and minor triads once (train: twice), in a
  seeded random order, in random inversions over a root bass. The `.lab` file is
  mir_eval's format: `start<TAB>end<TAB>label` with labels like `C:maj`, `Eb:min`, `N`
  (no chord: the lead-in, the rest and the tail). Each `.lab` serves both renderings of
  its progression (the `annotation` column points to it).
- **groove** — `music/grooves/groove_<style>_<bpm>.flac` with `...beats.txt`: drums and bass
  in six styles (rock, funk, shuffle, halftime, disco, waltz in 3/4) at 24 tempi from 60 to
  180 BPM. The beats file has `time<TAB>position` per beat, position 1 = downbeat (the
  last line is the closing downbeat hit). The `tempo` column is the BPM.
- **genre** — `music/genres/<genre>_<nn>.flac`: 5 s clips in six styles, 40 each (28 train,
  6 valid, 6 test), at **11.025 kHz** (half of 22.05 kHz, to keep `data/` small): *bossa*
  (clave, shaker, root-fifth bass, syncopated comping), *funk* (sixteenth hats, syncopated
  kick and bass, ghost notes, dominant-ninth stabs), *reggae* (one-drop: kick and rim on 3,
  off-beat skank), *rock* (straight eighths, backbeat, eighth-note bass), *swing* (swung
  ride, walking bass, seventh chords), *waltz* (3/4 oom-pah-pah). The styles **share
  instruments and tempi**: each clip draws its comping instrument (piano, electric piano,
  clean / nylon / jazz guitar, organ, vibraphone), bass and optional lead from the same
  pools and its tempo from 92-132 BPM, so style lives in rhythm, harmony and arrangement
  (a nearest neighbour on mean MFCCs stays well under 80 %; the tests measure it). The
  `tempo` column is the BPM, `text` the meter.
- **noise** — `noise/<kind>_<split>.flac`, 6 s each, kinds: white, pink (1/f), brown (1/f^2),
  babble (six overlapping talkers, **train speakers only**, so no test voice leaks into a
  noisy test set), hum (50 Hz mains with harmonics), rain (filtered noise bursts),
  fan (band-limited noise with blade-rate modulation and motor hum), clicks. A *train* and
  a *test* take of each (different seeds; babble from different sentences).

## Splits, engines and voices

Speech splits are **speaker-disjoint**: 70 train, 4 valid and 4 test voices, so test
accuracy measures generalisation to voices never heard in training. The valid and test
voices and files are exactly those of the first corpus (bit-identical; a test checks
their checksums), so results before and after corpus v2 compare. Each espeak-ng voice
variant is used by one speaker only. Every word appears in every split.

The `engine` column names who spoke: **espeak-ng** (formant synthesis, 52 variants over
8 English accents), **flite** (CMU's diphone and cluster-unit voices) or **festival**
(the Festival Speech Synthesis System: diphone voices kal and ked, and the HTS
statistical-parametric voice of slt). `course_lib.data.leave_one_engine_out(E)` trains on
every training voice of the other engines and tests on all of E's voices: how far a
model transfers to a kind of voice it never heard, the course's proxy for real speech
(real human recordings of the digits are in `real/`, below: `data.real_digits()`).

**Pseudo-speakers** (the 18 ids ending in `_wNNN`) are training voices made from a
training voice: re-synthesised with their own pitch and rate, then every frequency scaled
by the warp factor (resampling, as a vocal tract 1/warp as long would; F0 follows) and the
duration set by SoX's WSOLA `tempo`. The `transform` column records the base voice, the
warp and the tempo. No pseudo-speaker is made from a valid or test voice. Note that
flite's `kal` (8 kHz diphone) and Festival's `kal_diphone` are recordings of the same
person as the *valid* voice `flite_kal16` (other engines and signal chains); no training
voice shares a person with a *test* voice. Music
splits keep every progression, groove and clip in one split only, and every chord label,
groove style and genre appears in every split.

{{SPEAKERS}}

## Real recordings (`real/`)

`real/digits/<digit>_<speaker>_<take>.flac`: 600 real human recordings, takes 0-9 of every
digit by the six adult speakers of the **Free Spoken Digit Dataset** (Jackson et al.,
https://github.com/Jakobovski/free-spoken-digit-dataset, **CC BY-SA 4.0**; attribution in
`real/LICENSE.md`), unchanged: 8 kHz, 16-bit, each speaker's own microphone and room. Manifest
kind `real_digit`, `engine=human`, speaker-disjoint splits fixed before any model was scored:
train george, jackson, yweweler; valid nicolas; test lucas, theo
(`course_lib.datasets.REAL_DIGITS_SPLITS`). No shipped model was trained on them; the
"+ 3 real training speakers" figures below are measurements only. Rebuilt from a local copy
of FSDD by `python tools/real_corpus.py <FSDD>` (kept by `make_corpus.py`); `$COURSE_REAL_DIGITS`
points `data.real_digits()` at a full copy (50 takes) instead.

## Baselines (measured)

`python tools/baselines.py hmm --real <FSDD recordings>` and `python tools/baselines.py ctc
--steps 400 --threads 1` (seed 0; the docstring of `tools/baselines.py` gives the models).
Measured on 2026-12-02 on this corpus; "before" trains on the 16 training voices of the
first corpus, "after" on all 70. Digits accuracy (%) of a 5-state x 2-mixture left-to-right
GMM-HMM per digit (MFCC + deltas, CMVN, energy endpointer, 50-4000 Hz), per held-out voice:

| voice | before | after | after + 3 real training speakers |
|---|---|---|---|
| espeak_en-029_m8 (test) | 100.0 | 100.0 | 100.0 |
| espeak_en-gb-x-gbclan_alicia (test) | 86.7 | 93.3 | 80.0 |
| espeak_en-us-nyc_f5 (test) | 100.0 | 100.0 | 100.0 |
| flite_awb (test) | 83.3 | 100.0 | 100.0 |
| espeak_en-gb-x-gbcwmd_klatt3 (valid) | 90.0 | 100.0 | 100.0 |
| espeak_en-gb-x-rp_m7 (valid) | 100.0 | 100.0 | 100.0 |
| espeak_en-us_linda (valid) | 100.0 | 100.0 | 100.0 |
| flite_kal (valid) | 93.3 | 100.0 | 100.0 |
| real: lucas (FSDD test speaker) | 61.0 | 80.0 | 96.0 |
| real: theo (FSDD test speaker) | 63.0 | 70.0 | 85.0 |

Leave-one-engine-out (train without engine E, test on all of E's voices), with one
augmented copy of every training clip (`course_lib.augment`); the last two columns train
on all 70 voices plus that augmentation:

| augmentation | espeak-ng | flite | festival | worst held-out voice | real test speakers |
|---|---|---|---|---|---|
| none | 85.8 | 86.5 | 82.5 | 93.3 | 75.0 |
| reverb | 87.3 | 92.0 | 81.7 | 86.7 | 77.5 |
| band_limit | 85.1 | 89.0 | 80.0 | 96.7 | 78.5 |
| telephone | 86.5 | 88.5 | 82.5 | 96.7 | 78.5 |
| level | 85.8 | 86.5 | 82.5 | 93.3 | 75.0 |
| noise (5-30 dB SNR) | 79.3 | 90.0 | 77.5 | 50.0 | 80.5 |
| random chain | 81.8 | 89.5 | 79.2 | 70.0 | 78.0 |

Level changes do nothing (CMVN removes them); band-limiting and the telephone line help
real speakers and the worst voice; noise helps real speakers most but costs the
Lancastrian test voice half its accuracy. A BiGRU-CTC (0.53 M parameters, 400 steps of 16
sentences, far from convergence) reaches CER (%) m8 23.6 -> 10.2, alicia 58.8 -> 54.9,
f5 9.3 -> 8.0, awb 34.2 -> 32.0 (before -> after).

## Manifest

`manifest.csv`, one row per file (audio and annotation files), sorted by path:

| column | meaning |
|---|---|
| path | relative to `data/` |
| kind | word, sentence, digit_string, ml_digit, styled, tts, chords, chord_lab, groove, beats, genre, noise |
| label | the word; the instrument (chords); the style (groove, genre); the noise kind |
| text | the transcript (sentence, tts); the chord sequence (chords); `meter=N` (grooves) |
| speaker | speaker id (speech only) |
| split | train, valid or test |
| duration | seconds (audio only) |
| sample_rate | Hz (audio only) |
| tempo | BPM (groove, genre) |
| annotation | the annotation file of an audio file (chords, groove) |
| engine | speech engine: espeak-ng, flite, festival |
| language | ISO 639-1 code of speech (en; de fr es it nl for ml_digit) |
| style | speaking style (styled: neutral, happy, sad, angry) |
| speech_start, speech_end | seconds: where the speech is (first / last 10 ms frame within 40 dB of the loudest) |
| transform | how a pseudo-speaker was made (`base=...;vtln_warp=...;sox_tempo=...`) |
| sha256 | checksum of the file's bytes |

## Provenance and licences

| tool / data | version used | licence |
|---|---|---|
| eSpeak NG (`espeak-ng`, Debian package) and its voice variants | 1.51 | GPL-3.0-or-later |
| CMU Flite (`flite`) with the voices cmu_us_kal, cmu_us_kal16, cmu_us_awb, cmu_us_rms, cmu_us_slt (CMU ARCTIC) | 2.2 | BSD-style (CMU / University of Edinburgh), free use with attribution |
| Festival (`festival`) | 2.5 | X11-style (University of Edinburgh, CMU), free use and redistribution with the copyright notice |
| Festival voices kal_diphone (`festvox-kallpc16k`) and ked_diphone (`festvox-kdlpc16k`) | 2.4 / 1.4.0 | free use, modification and redistribution with the copyright notice (CMU / OGI diphone databases; Debian main) |
| Festival HTS voice cmu_us_slt_arctic_hts (`festvox-us-slt-hts`, CMU ARCTIC slt) | 0.2010.10.25 | EST-2003 / BSD-3-clause (CMU, Nagoya Institute of Technology): use, modification and redistribution with the copyright notice |
| SoX `tempo` (pseudo-speakers) and soxr resampling | 14.4 / 0.1 | GPL-2.0-or-later / LGPL-2.1-or-later |
| FluidSynth (`fluidsynth`) | 2.3 | LGPL-2.1-or-later |
| FluidR3_GM.sf2 soundfont by Frank Wen (`fluid-soundfont-gm`) | 3.1 | MIT |
| MIDI, sentence texts, noises | composed by `tools/corpus_midi.py`, `tools/corpus_text.py`, `tools/make_corpus.py` | this project's licence |

The audio files are the output of these programs, not copies of them; they are
distributed with this project under its licence, with the attribution above.

## Regenerating

```bash
apt-get install -y espeak-ng flite sox fluidsynth fluid-soundfont-gm \\
    festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts          # Debian 12
python tools/make_corpus.py                      # rewrites data/ (about 10 min on 2 cores)
python tools/make_corpus.py --part voices        # only corpus v2's training voices
python tools/make_corpus.py --part digit_strings --part languages --part prosody
python tools/make_corpus.py --out /tmp/corpus --jobs 1
```

The script takes `--seed` (default {{SEED}}) and uses at most 2 worker processes by
default. Every random choice is drawn from a generator seeded by the seed and the item's
path, so the result does not depend on scheduling: regenerating gives the same manifest
(labels, splits, durations; on the same Debian release the same bytes and checksums too).
`--part NAME` regenerates one part and leaves every other part's files and manifest rows
as they are (check with `git diff --stat data/`).
"""
