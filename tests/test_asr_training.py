"""course_lib.asr.training: speed perturbation, noisy test copies, the training items."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import data
from course_lib.asr import training
from course_lib.asr.text import CharTokenizer
from course_lib.errors import ParameterError


@pytest.mark.parametrize("factor", [0.85, 1.1])
def test_speed_perturb_scales_duration_and_pitch(factor):
    """A 440 Hz tone played `factor` times faster: length / factor, frequency * factor
    (FFT peak within one bin of 0.5 Hz)."""
    sr = 16000
    t = np.arange(2 * sr) / sr
    y = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    out = training.speed_perturb(y, sr=sr, factor=factor)
    assert abs(len(out) - len(y) / factor) <= 2
    n = 16 * sr                                                      # zero-padded: 1 Hz bins
    peak = np.argmax(np.abs(np.fft.rfft(out, n))) * sr / n
    assert abs(peak - 440 * factor) <= 1.0
    with pytest.raises(ParameterError, match="factor"):
        training.speed_perturb(y, sr=sr, factor=3.0)


def test_noisy_clips_are_at_the_asked_snr():
    clips = data.sentences(split="test", check=False)[:3]
    noisy = training.noisy_clips(clips, kinds=("babble", "fan"), snr_db=10.0)
    assert len(noisy) == 6 and [c.label for c in noisy] == ["babble"] * 3 + ["fan"] * 3
    for c, n in zip(clips * 2, noisy):
        noise = n.audio.astype(np.float64) - c.audio
        snr = 10 * np.log10(np.sum(c.audio.astype(np.float64) ** 2) / np.sum(noise ** 2))
        assert abs(snr - 10.0) < 0.01
        assert n.speaker == c.speaker and n.text == c.text


def test_dataset_items_and_transcripts():
    clips = training.training_clips("valid", kinds=("sentences", "words", "digits"))
    kinds = {type(c.text) for c in clips}
    assert all(training.clip_text(c) for c in clips) and kinds <= {str, type(None)}
    tok = CharTokenizer()
    ds = training.SpeechDataset(clips[:3], tok, augment=True, seed=0)
    wav, ids = ds[0]
    assert wav.dtype == torch.float32 and wav.ndim == 1 and ids.dtype == torch.int64
    assert tok.decode(ids.tolist()) == training.clip_text(clips[0])
    plain = training.SpeechDataset(clips[:3], tok)
    np.testing.assert_array_equal(plain[1][0].numpy(), clips[1].audio.astype(np.float32))
    with pytest.raises(ParameterError, match="empty"):
        training.SpeechDataset([], tok)
