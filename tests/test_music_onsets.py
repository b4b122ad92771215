"""course_lib.music.onsets: spectral flux envelope and peak picking against librosa, onset F-measure."""

import librosa
import numpy as np
import pytest

from course_lib import data
from course_lib.errors import ParameterError
from course_lib.music import onsets


@pytest.fixture(scope="module")
def groove():
    c = data.grooves(split="test", style="funk")[0]
    return c.audio.astype(np.float64), c.sr, c


@pytest.mark.parametrize("hop_length,n_mels,lag", [(512, 128, 1), (256, 64, 2), (441, 40, 1)])
def test_onset_strength_equals_librosa(groove, hop_length, n_mels, lag):
    y, sr, _ = groove
    ours = onsets.onset_strength(y, sr=sr, hop_length=hop_length, n_mels=n_mels, lag=lag)
    ref = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop_length, n_mels=n_mels, lag=lag)
    # both are means of float64 dB differences: equal to rounding (rtol 1e-5 per the design)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-8)


def test_onset_strength_on_noise_any_length():
    y = np.random.default_rng(1).standard_normal(22050 + 123)
    np.testing.assert_allclose(onsets.onset_strength(y, sr=22050), librosa.onset.onset_strength(y=y, sr=22050),
                               rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("args", [(3, 1, 5, 6, 0.05, 2), (1, 1, 1, 1, 0.0, 0), (5, 3, 10, 11, 0.1, 7)])
def test_peak_pick_equals_librosa(args):
    x = np.abs(np.random.default_rng(0).standard_normal(500)) ** 2
    pre_max, post_max, pre_avg, post_avg, delta, wait = args
    ref = librosa.util.peak_pick(x, pre_max=pre_max, post_max=post_max, pre_avg=pre_avg, post_avg=post_avg,
                                 delta=delta, wait=wait)
    ours = onsets.peak_pick(x, pre_max=pre_max, post_max=post_max, pre_avg=pre_avg, post_avg=post_avg,
                            delta=delta, wait=wait)
    np.testing.assert_array_equal(ours, ref)


def test_onset_detect_equals_librosa_and_finds_the_drums(groove):
    y, sr, clip = groove
    ours = onsets.onset_detect(y, sr=sr, units="time")
    ref = librosa.onset.onset_detect(y=y, sr=sr, units="time")
    np.testing.assert_allclose(ours, ref)
    # every annotated beat has a drum hit on it: the onsets find (nearly) all of them
    beats = clip.annotations["beats"]
    hits = np.min(np.abs(beats[:, None] - ours[None, :]), axis=1) < 0.05
    assert hits.mean() >= 0.9


def test_onset_f_measure_is_mir_eval():
    ref = np.array([0.5, 1.0, 1.5, 2.0])
    assert onsets.onset_f_measure(ref, ref + 0.01) == 1.0
    assert onsets.onset_f_measure(ref, np.array([0.5, 1.0, 3.0])) == pytest.approx(2 * (2 / 3 * 0.5) / (2 / 3 + 0.5))


def test_bad_input():
    with pytest.raises(ParameterError, match="hop_length"):
        onsets.onset_strength(np.zeros(4096), sr=22050, hop_length=0)
    with pytest.raises(ParameterError, match="units"):
        onsets.onset_detect(np.zeros(4096), sr=22050, units="samples")
    with pytest.raises(ParameterError, match="one-dimensional"):
        onsets.peak_pick(np.zeros((2, 3)), pre_max=1, post_max=1, pre_avg=1, post_avg=1, delta=0, wait=0)
