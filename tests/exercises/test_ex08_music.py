"""Checks for exercise 08 (spectral flux, tempo from an autocorrelation, chord templates, template matching).

Notebook: 08_music_analysis.ipynb

Expected values: the flux and the autocorrelation by plain loops over frames and bands
(``_flux_loop``, ``_tempo_loop``), on random matrices and on a real corpus groove's log-mel
spectrogram (computed with ``course_lib.features``, i.e. librosa's numbers); the templates
from mir_eval's own chord spelling (``mir_eval.chord.encode``), and cosine matching by a
double loop. Float64 throughout: ``rtol=1e-9``.
"""

from __future__ import annotations

import mir_eval
import numpy as np

from course_lib import data
from course_lib.features import melspectrogram
from course_lib.grading.checks import Check, pytest_checks
from course_lib.spectral import power_to_db

EXERCISE = "ex08_music"

_rng = np.random.default_rng(8)


def _flux_loop(S, lag):
    n_b, n_t = S.shape
    out = np.zeros(n_t)
    for t in range(lag, n_t):
        out[t] = sum(max(0.0, S[b, t] - S[b, t - lag]) for b in range(n_b)) / n_b
    return out


def _tempo_loop(o, fps, lo, hi):
    best, best_k = -np.inf, None
    for k in range(1, len(o)):
        bpm = 60.0 * fps / k
        if not lo <= bpm <= hi:
            continue
        r = sum(o[t] * o[t + k] for t in range(len(o) - k))
        if r > best:
            best, best_k = r, k
    return 60.0 * fps / best_k


_groove = data.grooves(split="test", style="rock")[0]
_LOGMEL = power_to_db(melspectrogram(_groove.audio.astype(np.float64)[: 4 * _groove.sr], sr=_groove.sr, n_mels=40))
_S_RND = np.round(_rng.normal(-40, 10, (7, 30)), 3)
_FLUX_REAL = _flux_loop(_LOGMEL, 1)
_FPS = _groove.sr / 512

_O_PULSE = np.zeros(200)
_O_PULSE[7::23] = 1.0
_O_NOISY = np.round(np.abs(_rng.normal(0, 0.2, 300)) + (np.arange(300) % 31 == 3) * 2.0, 4)
_O_REAL = np.round(_FLUX_REAL, 6)


def _template(label):
    root, bitmap, _ = mir_eval.chord.encode(label)
    return np.roll(bitmap, root).astype(float)


def _match_loop(C, T):
    out = []
    for t in range(C.shape[1]):
        c = C[:, t]
        best, arg = -np.inf, 0
        for j, tj in enumerate(T):
            nc, nt = np.linalg.norm(c), np.linalg.norm(tj)
            s = 0.0 if nc == 0 or nt == 0 else float(tj @ c) / (nc * nt)
            if s > best:
                best, arg = s, j
        out.append(arg)
    return np.array(out)


_LABELS = [f"{p}:{q}" for q in ("maj", "min") for p in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A",
                                                          "Bb", "B")]
_T24 = np.stack([_template(lab) for lab in _LABELS])
_CHROMA = np.round(_rng.random((12, 40)) ** 3, 4)
_CHROMA_TRIADS = np.stack([_template(lab) * 0.8 + 0.1 * _rng.random(12) for lab in _LABELS[::5]], axis=1)

CHECKS = [
    # ---------------------------------------------------------------- spectral_flux
    Check("spectral_flux", args=(np.array([[0.0, 2.0, 1.0], [0.0, 0.0, 3.0]]),), expected=np.array([0.0, 1.0, 1.5]),
          name="the docstring example"),
    Check("spectral_flux", args=(_S_RND,), expected=_flux_loop(_S_RND, 1), rtol=1e-9, atol=1e-12,
          name="7 bands x 30 frames of random dB values: only increases count, mean over bands"),
    Check("spectral_flux", args=(_S_RND,), kwargs={"lag": 3}, expected=_flux_loop(_S_RND, 3), rtol=1e-9,
          atol=1e-12, name="lag=3: compare with 3 frames ago, the first 3 frames are 0"),
    Check("spectral_flux", args=(_LOGMEL,), expected=_FLUX_REAL, rtol=1e-9, atol=1e-12,
          name="a corpus rock groove's 40-band log-mel spectrogram (4 s)"),
    Check("spectral_flux", args=(_S_RND,), kwargs={"lag": 0}, raises=ValueError, name="lag=0 is rejected"),
    # ---------------------------------------------------------------- tempo_from_autocorrelation
    Check("tempo_from_autocorrelation", args=(np.where(np.arange(100) % 10 == 0, 1.0, 0.0),),
          kwargs={"fps": 20.0}, expected=120.0, rtol=1e-9, name="the docstring example (120 BPM)"),
    Check("tempo_from_autocorrelation", args=(_O_PULSE,), kwargs={"fps": 43.0},
          expected=_tempo_loop(_O_PULSE, 43.0, 40.0, 240.0), rtol=1e-9,
          name="a pulse every 23 frames at 43 fps, starting at frame 7"),
    Check("tempo_from_autocorrelation", args=(_O_NOISY,), kwargs={"fps": 50.0, "min_bpm": 60.0, "max_bpm": 200.0},
          expected=_tempo_loop(_O_NOISY, 50.0, 60.0, 200.0), rtol=1e-9,
          name="a pulse every 31 frames in noise, 60-200 BPM"),
    Check("tempo_from_autocorrelation", args=(_O_REAL,), kwargs={"fps": _FPS},
          expected=_tempo_loop(_O_REAL, _FPS, 40.0, 240.0), rtol=1e-9,
          name="the flux of the corpus rock groove (123 BPM annotated)"),
    Check("tempo_from_autocorrelation", args=(np.ones(5),), kwargs={"fps": 100.0}, raises=ValueError,
          name="5 frames at 100 fps cannot hold a beat of 40-240 BPM"),
    # ---------------------------------------------------------------- chord_template
    Check("chord_template", args=(0, "maj"), expected=_template("C:maj"), name="the docstring example (C E G)"),
    Check("chord_template", args=(9, "min"), expected=_template("A:min"), name="A minor: A C E (wraps past B)"),
    Check("chord_template", args=(11, "maj"), expected=_template("B:maj"), name="B major: B D# F# (wraps)"),
    Check("chord_template", args=(7, "maj"), expected=_template("G:maj"), name="G major: G B D (not the seed's Bb)"),
    Check("chord_template", args=(4, "min"), expected=_template("E:min"), name="E minor: E G B"),
    Check("chord_template", args=(2, "dim"), raises=ValueError, name="quality 'dim' is rejected"),
    # ---------------------------------------------------------------- match_chords
    Check("match_chords", args=(np.array([[0.6], [0], [0], [0], [0.6], [0], [0], [0], [0], [1.0], [0], [0]]),
                                np.stack([_template("C:maj"), _template("A:min")])),
          expected=np.array([1]), name="the docstring example (A C E -> A:min)"),
    Check("match_chords", args=(_CHROMA_TRIADS, _T24), expected=_match_loop(_CHROMA_TRIADS, _T24),
          name="5 noisy triads against all 24 templates"),
    Check("match_chords", args=(_CHROMA, _T24), expected=_match_loop(_CHROMA, _T24),
          name="40 random chroma frames against all 24 templates"),
    Check("match_chords", args=(_CHROMA * np.linspace(0.01, 100, 40), _T24), expected=_match_loop(_CHROMA, _T24),
          name="the same frames scaled by 0.01 ... 100: cosine similarity ignores loudness"),
    Check("match_chords", args=(_CHROMA[:, :5], _T24 * np.arange(1, 25)[:, None]),
          expected=_match_loop(_CHROMA[:, :5], _T24), name="templates of unequal norms: normalise them too"),
]

test_checks = pytest_checks(EXERCISE, CHECKS)
