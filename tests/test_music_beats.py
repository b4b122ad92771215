"""course_lib.music.beats: autocorrelation, tempogram and tempo against librosa; the DP beat tracker
against the corpus's beat annotations (mir_eval) and against librosa.beat.beat_track on the same clips."""

import librosa
import numpy as np
import pytest

from course_lib import data, music
from course_lib.errors import ParameterError
from course_lib.music import beats
from course_lib.music.onsets import onset_strength


@pytest.fixture(scope="module")
def test_grooves():
    return data.grooves(split="test")


@pytest.fixture(scope="module")
def envelope():
    c = data.grooves(split="test", style="shuffle")[0]
    return onset_strength(c.audio.astype(np.float64), sr=c.sr), c.sr


def test_autocorrelate_equals_librosa():
    x = np.random.default_rng(0).standard_normal((3, 257))
    np.testing.assert_allclose(beats.autocorrelate(x), librosa.autocorrelate(x), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(beats.autocorrelate(x[0], max_size=40), librosa.autocorrelate(x[0], max_size=40),
                               rtol=1e-9, atol=1e-9)
    # and the definition, by a loop
    r = [np.sum(x[0, : 257 - k] * x[0, k:]) for k in range(5)]
    np.testing.assert_allclose(beats.autocorrelate(x[0])[:5], r, rtol=1e-9)


@pytest.mark.parametrize("win_length", [384, 100])
def test_tempogram_equals_librosa(envelope, win_length):
    o, sr = envelope
    ref = librosa.feature.tempogram(onset_envelope=o, sr=sr, win_length=win_length)
    np.testing.assert_allclose(beats.tempogram(o, sr=sr, win_length=win_length), ref, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("start_bpm,std_bpm", [(120, 1.0), (80, 0.5), (150, 2.0)])
def test_tempo_equals_librosa(envelope, start_bpm, std_bpm):
    o, sr = envelope
    ref = librosa.feature.tempo(onset_envelope=o, sr=sr, start_bpm=start_bpm, std_bpm=std_bpm, aggregate=np.mean)
    assert beats.tempo(o, sr=sr, start_bpm=start_bpm, std_bpm=std_bpm) == pytest.approx(float(ref[0]))


def test_dp_beats_follow_a_click_train_that_starts_after_silence():
    # clicks every 40 frames from frame 30: every click is a beat, the first included
    o = np.zeros(400)
    o[30::40] = 1.0
    b, score = beats.dp_beats(o, period=40)
    np.testing.assert_array_equal(b, np.arange(30, 400, 40))
    assert score > 0


def test_dp_beats_prefer_the_period_over_a_stray_onset():
    o = np.zeros(400)
    o[30::40] = 1.0
    o[255] = 0.8                                     # an off-beat accent between 230 and 270
    b, _ = beats.dp_beats(o, period=40)
    assert 255 not in b and 270 in b


def test_beat_track_on_the_test_grooves(test_grooves):
    """Target: mean F >= 0.95 and >= librosa's on the same clips, tempo within 4 % (octaves counted apart)."""
    ours, lib, verdicts = [], [], []
    for c in test_grooves:
        y = c.audio.astype(np.float64)
        res = music.beat_track(y, sr=c.sr)
        ref = c.annotations["beats"]
        ours.append(beats.beat_f_measure(ref, res.beats))
        _, lb = librosa.beat.beat_track(y=y, sr=c.sr, units="time")
        lib.append(beats.beat_f_measure(ref, lb))
        verdicts.append(beats.tempo_error(res.tempo, c.annotations["tempo"]))
    assert np.mean(ours) >= 0.95, ours
    assert np.mean(ours) >= np.mean(lib), (ours, lib)
    assert verdicts.count("ok") >= 5, verdicts


def test_beat_track_returns_beat_result_in_seconds():
    sr = 22050
    y = np.zeros(6 * sr)
    for t in np.arange(0.25, 6, 0.5):
        y[int(t * sr):int(t * sr) + 200] = np.hanning(200)
    res = music.beat_track(y, sr=sr)
    assert isinstance(res, music.BeatResult)
    assert beats.tempo_error(res.tempo, 120.0) == "ok"
    assert beats.beat_f_measure(np.arange(0.25, 6, 0.5), res.beats) == 1.0
    assert music.beat_track(np.zeros(sr), sr=sr) == (0.0, pytest.approx(np.zeros(0)))


def test_tempo_error_counts_octaves_apart():
    assert beats.tempo_error(123.0, 120.0) == "ok"
    assert beats.tempo_error(60.5, 120.0) == "octave"
    assert beats.tempo_error(241.0, 120.0) == "octave"
    assert beats.tempo_error(100.0, 120.0) == "wrong"


def test_click_track():
    c = beats.click_track([0.0, 0.5], sr=8000, length=8000)
    assert c.shape == (8000,) and c.dtype == np.float32
    assert np.abs(c[:800]).max() > 0.5 and np.abs(c[800:4000]).max() == 0 and np.abs(c[4000:4800]).max() > 0.5


def test_bad_input():
    with pytest.raises(ParameterError, match="hop_length"):
        music.beat_track(np.zeros(4096), sr=22050, hop_length=-1)
    with pytest.raises(ParameterError, match="period"):
        beats.dp_beats(np.ones(10), period=0)
    with pytest.raises(ParameterError, match="reference"):
        beats.tempo_error(100, 0)
