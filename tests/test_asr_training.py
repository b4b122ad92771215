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


def test_train_recognizer_warm_up_schedule_and_warm_start():
    """The ctc_bigru recipe's options: ``warmup_steps`` trains with chapter 06's WarmupAdamW (its step
    count and learning rate follow the schedule), ``init_from`` starts from the given weights (with a
    vanishing learning rate the run ends on them) and refuses weights of another config by name."""
    from course_lib.asr.models import CTCConfig, CTCRecognizer
    from course_lib.asr.transformer_training import WarmupAdamW

    clips = data.spoken_words(split="train", check=False)[:4]
    cfg = CTCConfig(channels=8, n_conv=2, hidden=8, n_layers=1)
    kw = dict(clips=clips, valid_clips=clips[:2], epochs=2, time_budget=None, batch_size=2, progress=False,
              augment=False)
    seen = []
    orig = WarmupAdamW.step

    def spy(self, closure=None):
        out = orig(self, closure)
        seen.append((self.param_groups[0]["n_steps"], self.param_groups[0]["lr"]))
        return out

    WarmupAdamW.step = spy
    try:
        model, history = training.train_recognizer(cfg, warmup_steps=3, lr=1e-3, **kw)
    finally:
        WarmupAdamW.step = orig
    assert [n for n, _ in seen] == [1, 2, 3, 4]                      # 2 epochs x 2 batches
    assert [lr for _, lr in seen] == pytest.approx([WarmupAdamW.schedule(n, lr=1e-3, warmup_steps=3)
                                                    for n in (1, 2, 3, 4)])
    torch.manual_seed(7)
    start = CTCRecognizer(cfg)
    warm, _ = training.train_recognizer(cfg, init_from=start, warmup_steps=1, lr=1e-12, **kw)
    for (name, a), b in zip(start.state_dict().items(), warm.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6, msg=name)
    with pytest.raises(ParameterError, match="init_from"):
        training.train_recognizer(cfg, init_from=CTCRecognizer(CTCConfig(channels=8, n_conv=2, hidden=16, n_layers=1)), **kw)
