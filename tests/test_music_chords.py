"""course_lib.music.chords: chroma against librosa, templates by the interval rule, HMM smoothing through
hmm.viterbi, .lab round trip, and majmin accuracy on the test progressions with mir_eval."""

import librosa
import mir_eval
import numpy as np
import pytest

from course_lib import data, hmm, music
from course_lib.errors import ParameterError
from course_lib.music import chords


@pytest.fixture(scope="module")
def test_clips():
    return data.chords(split="test")


@pytest.mark.parametrize("sr,n_fft,tuning", [(22050, 2048, 0.0), (16000, 1024, 0.0), (22050, 4096, 0.3)])
def test_chroma_filterbank_equals_librosa(sr, n_fft, tuning):
    np.testing.assert_allclose(chords.chroma_filterbank(sr=sr, n_fft=n_fft, tuning=tuning),
                               librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("n_fft,hop_length", [(2048, 512), (4096, 1024)])
def test_chroma_stft_equals_librosa(test_clips, n_fft, hop_length):
    c = test_clips[0]
    y = c.audio.astype(np.float64)
    ref = librosa.feature.chroma_stft(y=y, sr=c.sr, n_fft=n_fft, hop_length=hop_length, tuning=0.0)
    np.testing.assert_allclose(chords.chroma_stft(y, sr=c.sr, n_fft=n_fft, hop_length=hop_length), ref,
                               rtol=1e-5, atol=1e-8)


def test_templates_spell_every_triad_as_mir_eval_does():
    T, labels = chords.chord_templates()
    assert T.shape == (25, 12) and labels == data.CHORD_LABELS
    for row, lab in zip(T, labels):
        if lab == "N":
            assert np.ptp(row) == 0
            continue
        root, bitmap, _ = mir_eval.chord.encode(lab)
        np.testing.assert_array_equal(row > 0, np.roll(bitmap, root) > 0, err_msg=lab)


def test_seed_g_template_is_g_minor_not_g_major():
    T, labels = chords.chord_templates()
    seed_g = chords.SEED_TEMPLATES["G"]
    assert not np.array_equal(seed_g > 0, T[labels.index("G:maj")] > 0)
    np.testing.assert_array_equal(seed_g > 0, T[labels.index("G:min")] > 0)


def test_template_scores_is_cosine_similarity():
    rng = np.random.default_rng(0)
    C = rng.random((12, 7))
    T, _ = chords.chord_templates()
    S = chords.template_scores(C, T)
    loop = [[t @ c / np.linalg.norm(t) / np.linalg.norm(c) for c in C.T] for t in T]
    np.testing.assert_allclose(S, loop, rtol=1e-12)


def test_transition_matrix():
    A = chords.transition_matrix(25, self_prob=0.9)
    np.testing.assert_allclose(A.sum(axis=1), 1.0)
    assert A[3, 3] == 0.9 and A[3, 4] == pytest.approx(0.1 / 24)


def test_smoothing_is_hmm_viterbi(test_clips, monkeypatch):
    """recognize(smooth=True) decodes with course_lib.hmm.viterbi (not a private copy)."""
    calls = []
    real = hmm.viterbi
    monkeypatch.setattr(hmm, "viterbi", lambda *a, **k: calls.append(1) or real(*a, **k))
    c = test_clips[0]
    chords.recognize(c.audio, sr=c.sr)
    assert calls == [1]


def test_majmin_accuracy_on_the_test_progressions(test_clips):
    """Target: >= 90 % majmin (duration-weighted) with the HMM, and the HMM beats raw templates."""
    raw, smooth = [], []
    for c in test_clips:
        ref = c.annotations["segments"]
        raw.append(chords.evaluate(ref, chords.recognize(c.audio, sr=c.sr, smooth=False).segments))
        smooth.append(chords.evaluate(ref, chords.recognize(c.audio, sr=c.sr).segments))
    assert np.mean(smooth) >= 0.90, smooth
    assert np.mean(smooth) > np.mean(raw), (raw, smooth)


def test_evaluate_equals_mir_eval_on_lab_files(tmp_path, test_clips):
    c = test_clips[1]
    est = chords.recognize(c.audio, sr=c.sr).segments
    p = chords.write_lab(tmp_path / "est.lab", est)
    back = chords.read_lab(p)
    assert [lab for *_, lab in back] == [lab for *_, lab in est]
    np.testing.assert_allclose([(s, e) for s, e, _ in back], [(s, e) for s, e, _ in est], atol=1e-6)
    ri, rl = mir_eval.io.load_labeled_intervals(str(c.annotations["lab_path"]))
    ei, el = mir_eval.io.load_labeled_intervals(str(p))
    ref_scores = mir_eval.chord.evaluate(ri, rl, ei, el)
    assert chords.evaluate(c.annotations["segments"], est) == pytest.approx(ref_scores["majmin"], abs=1e-6)


def test_frames_to_segments():
    segs = chords.frames_to_segments(["N", "C:maj", "C:maj", "A:min"], [0.0, 0.5, 1.0, 1.5], end=2.0)
    assert segs == [(0.0, 0.5, "N"), (0.5, 1.5, "C:maj"), (1.5, 2.0, "A:min")]
    assert chords.segments_to_frames(segs, [0.2, 0.7, 1.9, 2.5]) == ["N", "C:maj", "A:min", "N"]


def test_bad_input(tmp_path):
    with pytest.raises(ParameterError, match="transpose"):
        chords.template_scores(np.zeros((7, 12)), chords.chord_templates()[0])
    with pytest.raises(ParameterError, match="self_prob"):
        chords.transition_matrix(25, self_prob=1.0)
    with pytest.raises(ParameterError, match="label without spaces"):
        chords.write_lab(tmp_path / "x.lab", [(0.0, 1.0, "C maj")])
    with pytest.raises(ParameterError, match="temperature"):
        music.recognize(np.zeros(8192), sr=22050, temperature=0)
