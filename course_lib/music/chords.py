"""Chroma and chords: STFT chroma, 24 triad + no-chord templates, HMM smoothing, ``.lab`` I/O.

Notebook: 08_music_analysis.ipynb

The pipeline::

    y --|STFT|**2--> power spectrum --chroma filterbank (octaves folded)--> chroma (12, n_frames)
      --cosine similarity with 25 templates--> scores (25, n_frames) --argmax--> raw labels (flicker)
      --Viterbi (hmm.viterbi) with a sticky transition matrix--> smoothed labels --> segments / .lab

:func:`chroma_stft` equals ``librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0)``
(librosa estimates the tuning by default; the corpus is rendered at A = 440 Hz, so we
fix ``tuning=0`` — pass ``tuning=`` to both for any other value). Labels use mir_eval's
spelling (``"C:maj"``, ``"A:min"``, ``"N"``), the corpus's :data:`course_lib.data.CHORD_LABELS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import hmm
from ..data import CHORD_LABELS, read_lab
from ..errors import ParameterError
from ..spectral import frames_to_time, stft
from ..validation import check_positive, check_positive_int, check_signal, check_sr

__all__ = ["PITCH_CLASSES", "CHORD_LABELS", "chroma_filterbank", "chroma_stft", "chord_templates",
           "SEED_TEMPLATES", "template_scores", "transition_matrix", "recognize", "ChordResult",
           "frames_to_segments", "segments_to_frames", "read_lab", "write_lab", "chord_scores", "evaluate"]

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: The seed's three templates (indices 0 = C ... 11 = B). Its "G" holds D (2), G (7) and
#: Bb (10): that is G *minor*; G major is G, B, D = (7, 11, 2). Only three chords, no
#: minor beyond Am and no "N", so any other chord is forced onto one of them.
#: :func:`chord_templates` builds all 24 triads and N from the interval rule instead.
SEED_TEMPLATES = {
    "C": np.array([1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0], dtype=float),
    "G": np.array([0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0], dtype=float),
    "Am": np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0], dtype=float),
}


def _hz_to_octs(f, tuning):
    a440 = 440.0 * 2.0 ** (tuning / 12)
    return np.log2(f / (a440 / 16))


def chroma_filterbank(*, sr: int, n_fft: int, n_chroma: int = 12, tuning: float = 0.0, ctroct: float = 5.0,
                      octwidth: float | None = 2.0) -> np.ndarray:
    """Weights that fold FFT bins onto pitch classes (Ellis's ``chromagram_E``).

    Notebook: 08_music_analysis.ipynb

    Each FFT bin ``k`` (frequency ``f_k``) sits at ``n_chroma * log2(f_k / (A440 / 16))``
    chroma bins; its weight for class ``c`` is a Gaussian of the circular distance
    (width: the bin's own spacing), columns normalised to unit L2 norm, then a Gaussian
    over octaves centred on octave ``ctroct`` (C5 ~ 523 Hz... wide: ``octwidth`` octaves)
    keeps very low and very high bins from dominating. Rows start at C.

    Returns
    -------
    np.ndarray [shape=(n_chroma, 1 + n_fft // 2)]
        Equal to ``librosa.filters.chroma`` with the same arguments.
    """
    sr = check_sr(sr)
    n_fft = check_positive_int(n_fft, name="n_fft")
    freqs = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    frqbins = n_chroma * _hz_to_octs(freqs, tuning)
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))       # the DC bin, far below
    binwidth = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    D = np.subtract.outer(frqbins, np.arange(n_chroma, dtype=float)).T       # (n_chroma, n_fft)
    half = np.round(n_chroma / 2)
    D = np.remainder(D + half + 10 * n_chroma, n_chroma) - half               # circular distance
    W = np.exp(-0.5 * (2 * D / binwidth[None, :]) ** 2)
    norm = np.sqrt((W ** 2).sum(axis=0, keepdims=True))
    W = W / np.where(norm < np.finfo(float).tiny, 1.0, norm)
    if octwidth is not None:
        W = W * np.exp(-0.5 * ((frqbins / n_chroma - ctroct) / octwidth) ** 2)[None, :]
    W = np.roll(W, -3 * (n_chroma // 12), axis=0)                            # start at C, not A
    return np.ascontiguousarray(W[:, : 1 + n_fft // 2])


def chroma_stft(y: np.ndarray, *, sr: int, n_fft: int = 2048, hop_length: int = 512,
                tuning: float = 0.0) -> np.ndarray:
    """Chromagram from the power spectrogram, each frame scaled to max 1.

    Notebook: 08_music_analysis.ipynb

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int > 0
    n_fft, hop_length : int > 0
    tuning : float
        Deviation from A440 in fractions of a semitone.

    Returns
    -------
    np.ndarray [shape=(12, n_frames)]
        Rows C, C#, ..., B. Equal to ``librosa.feature.chroma_stft(y=y, sr=sr,
        n_fft=n_fft, hop_length=hop_length, tuning=tuning)``.
    """
    y = check_signal(y, mono=True)
    D = stft(y, n_fft=n_fft, hop_length=hop_length)                         # (1 + n_fft // 2, n_frames)
    W = chroma_filterbank(sr=sr, n_fft=n_fft, tuning=tuning).astype(D.real.dtype, copy=False)
    raw = np.empty((W.shape[0], D.shape[1]), dtype=W.dtype)                 # (12, n_frames)
    for i in range(0, D.shape[1], 2048):                                    # blocks: no full-size temporaries
        d = D[:, i:i + 2048]
        raw[:, i:i + 2048] = W @ (d.real ** 2 + d.imag ** 2)                # |D|**2 without a square root
    peak = raw.max(axis=0, keepdims=True)
    return raw / np.where(peak < np.finfo(raw.dtype).tiny, 1.0, peak)


def chord_templates(*, no_chord: bool = True) -> tuple[np.ndarray, tuple[str, ...]]:
    """Binary templates of the 24 major / minor triads (and a flat no-chord template).

    Notebook: 08_music_analysis.ipynb

    Root ``r``: major ``{r, r + 4, r + 7}``, minor ``{r, r + 3, r + 7}`` (mod 12). The
    no-chord template is flat: it wins on frames whose chroma has no triad shape
    (silence, noise).

    Returns
    -------
    templates : np.ndarray [shape=(25, 12)] (24 without ``no_chord``)
        Rows unit L2 norm, in the order of ``labels``.
    labels : tuple of str
        ``C:maj`` ... ``B:maj``, ``C:min`` ... ``B:min``, ``N`` (= :data:`CHORD_LABELS`).
    """
    rows = []
    for third in (4, 3):
        for r in range(12):
            t = np.zeros(12)
            t[[r, (r + third) % 12, (r + 7) % 12]] = 1.0
            rows.append(t)
    if no_chord:
        rows.append(np.ones(12))
    T = np.array(rows)
    labels = CHORD_LABELS if no_chord else CHORD_LABELS[:24]
    return T / np.linalg.norm(T, axis=1, keepdims=True), tuple(labels)


def template_scores(chroma: np.ndarray, templates: np.ndarray) -> np.ndarray:
    """Cosine similarity of every frame with every template.

    Notebook: 08_music_analysis.ipynb

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n_frames)]
    templates : np.ndarray [shape=(n_chords, 12)]

    Returns
    -------
    np.ndarray [shape=(n_chords, n_frames)]
        In [0, 1] for non-negative inputs; an all-zero frame scores 0 everywhere.
    """
    C = np.asarray(chroma, dtype=float)
    T = np.asarray(templates, dtype=float)
    if C.ndim != 2 or C.shape[0] != 12 or T.ndim != 2 or T.shape[1] != 12:
        raise ParameterError(f"chroma must be (12, n_frames) and templates (n_chords, 12); got {C.shape} and "
                             f"{T.shape} (transpose?)")
    Cn = C / np.maximum(np.linalg.norm(C, axis=0, keepdims=True), 1e-12)
    Tn = T / np.maximum(np.linalg.norm(T, axis=1, keepdims=True), 1e-12)
    return Tn @ Cn


def transition_matrix(n_states: int = 25, *, self_prob: float = 0.9) -> np.ndarray:
    """A sticky transition matrix: ``self_prob`` on the diagonal, the rest spread evenly.

    Notebook: 08_music_analysis.ipynb

    Returns
    -------
    np.ndarray [shape=(n_states, n_states)]
        Rows sum to 1.
    """
    n_states = check_positive_int(n_states, name="n_states")
    if not 0.0 < self_prob < 1.0:
        raise ParameterError(f"self_prob={self_prob!r} must be in (0, 1)")
    if n_states < 2:
        raise ParameterError(f"n_states={n_states} must be at least 2")
    A = np.full((n_states, n_states), (1.0 - self_prob) / (n_states - 1))
    np.fill_diagonal(A, self_prob)
    return A


class ChordResult(NamedTuple):
    """Output of :func:`recognize`: frame labels (str), their times (s) and the segments."""

    labels: list
    times: np.ndarray
    segments: list


def chord_scores(y: np.ndarray, *, sr: int, hop_length: int = 1024, n_fft: int = 4096,
                 silence_db: float = -15.0) -> np.ndarray:
    """Template scores ``(25, n_frames)`` of a signal: chroma, silent frames made flat, cosine.

    Notebook: 08_music_analysis.ipynb

    Frames more than ``-silence_db`` dB below the loudest get a flat chroma, so the
    no-chord template wins there (chroma is scaled per frame and would otherwise turn
    the reverb tail of the last chord into a full-strength chord). On the corpus's train
    progressions -50 / -30 / -20 / -15 dB gave 83 / 90 / 94 / 95 % majmin with the HMM.
    """
    sr = check_sr(sr)
    C = chroma_stft(y, sr=sr, n_fft=n_fft, hop_length=hop_length)
    S = np.abs(stft(check_signal(y, mono=True), n_fft=n_fft, hop_length=hop_length)) ** 2
    energy = 10 * np.log10(np.maximum(S.sum(axis=0), 1e-20))
    C[:, energy < energy.max() + silence_db] = 1.0
    T, _ = chord_templates()
    return template_scores(C, T)


def recognize(y: np.ndarray, *, sr: int, hop_length: int = 1024, n_fft: int = 4096, smooth: bool = True,
              self_prob: float = 0.99, temperature: float = 0.05, silence_db: float = -15.0) -> ChordResult:
    """Chord labels of a signal by template matching, optionally smoothed by an HMM.

    Notebook: 08_music_analysis.ipynb

    The HMM's emission log-likelihood of chord ``j`` at frame ``t`` is
    ``score[j, t] / temperature`` (a softmax over templates, up to a constant per frame),
    the transition matrix :func:`transition_matrix` and the start uniform; the path is
    ``course_lib.hmm.viterbi``'s. ``smooth=False`` is the raw argmax per frame.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int > 0
    hop_length, n_fft : int > 0
        4096-sample frames every 1024 (186 ms / 46 ms at 22.05 kHz): long enough to
        resolve semitones at 100 Hz, short enough to place a chord change.
    smooth : bool
    self_prob : float in (0, 1)
        Probability of staying on the same chord from one frame to the next.
    temperature : float > 0
        Emission sharpness (cosine scores differ by ~0.1 between close chords).
    silence_db : float < 0
        As :func:`chord_scores`.

    Returns
    -------
    ChordResult
        ``labels`` per frame, ``times`` (frame starts, s), ``segments`` ``[(start, end, label)]``.
    """
    temperature = check_positive(temperature, name="temperature")
    scores = chord_scores(y, sr=sr, hop_length=hop_length, n_fft=n_fft, silence_db=silence_db)          # (25, n_frames)
    n_chords, n_frames = scores.shape
    if smooth:
        log_b = (scores / temperature).T                                          # (n_frames, 25)
        log_b = log_b - np.logaddexp.reduce(log_b, axis=1, keepdims=True)
        path = hmm.viterbi(log_b, log_pi=np.full(n_chords, -np.log(n_chords)),
                           log_A=np.log(transition_matrix(n_chords, self_prob=self_prob))).path
    else:
        path = scores.argmax(axis=0)
    labels = [CHORD_LABELS[i] for i in path]
    # frame t covers [t - 1/2, t + 1/2) hops around its centre (center=True)
    times = np.maximum(frames_to_time(np.arange(n_frames), sr=sr, hop_length=hop_length) - hop_length / 2 / sr, 0)
    end = len(y) / sr
    return ChordResult(labels, times, frames_to_segments(labels, times, end=end))


def frames_to_segments(labels, times, *, end: float) -> list[tuple[float, float, str]]:
    """Merge runs of equal frame labels into ``(start, end, label)`` segments.

    Notebook: 08_music_analysis.ipynb
    """
    times = np.asarray(times, dtype=float)
    if len(labels) != len(times):
        raise ParameterError(f"labels ({len(labels)}) and times ({len(times)}) must have the same length")
    segs = []
    for i, lab in enumerate(labels):
        if segs and segs[-1][2] == lab:
            continue
        if segs:
            segs[-1] = (segs[-1][0], float(times[i]), segs[-1][2])
        segs.append((float(times[i]), float(end), lab))
    return segs


def segments_to_frames(segments, times) -> list[str]:
    """The label of the segment holding each time (``"N"`` outside every segment)."""
    out = []
    for t in np.asarray(times, dtype=float):
        lab = "N"
        for s, e, la in segments:
            if s <= t < e:
                lab = la
                break
        out.append(lab)
    return out


def write_lab(path, segments) -> Path:
    """Write ``(start, end, label)`` segments in mir_eval's ``.lab`` format; read back with :func:`read_lab`.

    Notebook: 08_music_analysis.ipynb
    """
    p = Path(path)
    lines = []
    for i, seg in enumerate(segments):
        if len(seg) != 3:
            raise ParameterError(f"segment {i} is {seg!r}; expected (start, end, label)")
        s, e, lab = seg
        if not e >= s or any(ch.isspace() for ch in str(lab)) or not str(lab):
            raise ParameterError(f"segment {i} = {seg!r}: need end >= start and a label without spaces")
        lines.append(f"{float(s):.6f}\t{float(e):.6f}\t{lab}")
    p.write_text("\n".join(lines) + ("\n" if lines else ""))
    return p


def evaluate(reference_segments, estimated_segments) -> float:
    """mir_eval's duration-weighted ``majmin`` accuracy of estimated segments against the reference.

    Notebook: 08_music_analysis.ipynb
    """
    import mir_eval

    ri = np.array([(s, e) for s, e, _ in reference_segments])
    ei = np.array([(s, e) for s, e, _ in estimated_segments])
    rl = [lab for _, _, lab in reference_segments]
    el = [lab for _, _, lab in estimated_segments]
    ei, el = mir_eval.util.adjust_intervals(ei, el, ri.min(), ri.max(), mir_eval.chord.NO_CHORD,
                                            mir_eval.chord.NO_CHORD)
    inter, rl2, el2 = mir_eval.util.merge_labeled_intervals(ri, rl, ei, el)
    durations = mir_eval.util.intervals_to_durations(inter)
    return float(mir_eval.chord.weighted_accuracy(mir_eval.chord.majmin(rl2, el2), durations))
