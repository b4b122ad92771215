"""The CTC recogniser's shapes, lengths and padding behaviour (the seed document's bugs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.asr.models import CTCConfig, CTCRecognizer
from course_lib.errors import ParameterError

SMALL = dict(hidden=16, n_layers=2, channels=8, dropout=0.0)


@pytest.mark.parametrize("n_conv", [0, 1, 2, 3])
def test_output_lengths_match_the_convolutions(n_conv):
    """The loss must see the lengths *after* subsampling: compare the formula with what
    the convolutions really produce, for every length from 1 to 80 frames."""
    model = CTCRecognizer(CTCConfig(n_conv=n_conv, **SMALL))
    for L in range(1, 81):
        out = model.subsample(torch.zeros(1, 40, L))
        assert int(model.output_lengths(torch.tensor([L]))[0]) == out.shape[-1], L


def test_log_softmax_over_classes_and_time_first_layout():
    torch.manual_seed(0)
    model = CTCRecognizer(CTCConfig(**SMALL)).eval()
    out = model(torch.randn(3, 57, 40), torch.tensor([57, 40, 11]))
    T, B, C = out.log_probs.shape
    assert (B, C) == (3, 29) and T == 29
    # a distribution over classes at every frame (the seed normalised over the wrong axis)
    torch.testing.assert_close(out.log_probs.exp().sum(-1), torch.ones(T, B))
    assert out.lengths.tolist() == [29, 20, 6]


def test_output_does_not_depend_on_batch_padding():
    torch.manual_seed(1)
    model = CTCRecognizer(CTCConfig(**SMALL)).eval()
    short = torch.randn(1, 31, 40)
    alone = model(short, torch.tensor([31]))
    batch = torch.cat([torch.cat([short, torch.randn(1, 29, 40) * 5], dim=1), torch.randn(1, 60, 40)])
    together = model(batch, torch.tensor([31, 60]))
    n = int(alone.lengths[0])
    assert int(together.lengths[0]) == n
    torch.testing.assert_close(together.log_probs[:n, 0], alone.log_probs[:n, 0], rtol=1e-5, atol=1e-5)


def test_ctc_loss_trains_on_a_toy_batch():
    """Forward + CTC loss + backward works end to end and the loss falls on a fixed batch."""
    torch.manual_seed(2)
    model = CTCRecognizer(CTCConfig(**SMALL))
    feats, lengths = torch.randn(2, 40, 40), torch.tensor([40, 32])
    targets, tlen = torch.tensor([[5, 6, 7], [8, 9, 0]]), torch.tensor([3, 2])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        out = model(feats, lengths)
        loss = torch.nn.functional.ctc_loss(out.log_probs, targets, out.lengths, tlen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_transcribe_takes_any_sample_rate_and_rejects_bad_audio():
    model = CTCRecognizer(CTCConfig(**SMALL)).eval()
    y = np.random.default_rng(0).normal(scale=0.1, size=8000).astype(np.float32)
    for sr in (8000, 16000, 44100):
        assert isinstance(model.transcribe(y, sr=sr), str)
    assert isinstance(model.transcribe(y, sr=16000, beam_width=4), str)
    with pytest.raises(ParameterError):
        model.transcribe(np.full(100, np.nan, dtype=np.float32), sr=16000)
    with pytest.raises(ParameterError):
        model.transcribe(np.zeros((2, 100), dtype=np.float32), sr=16000)


def test_decode_of_log_probs_is_what_transcribe_returns():
    """transcribe = decode(log_probs): greedy is the argmax path collapsed; the beam options (LM weight,
    word bonus, lexicon) reach prefix_beam_search unchanged (benchmarks/ctc_decoding.py relies on it)."""
    from course_lib.asr import ctc
    from course_lib.asr.lm import WordNgramLM

    torch.manual_seed(0)
    model = CTCRecognizer(CTCConfig(**SMALL)).eval()
    y = np.random.default_rng(1).normal(scale=0.1, size=12000).astype(np.float32)
    lp = model.log_probs(y, sr=16000)
    assert lp.shape == (int(model.output_lengths(torch.tensor(1 + 12000 // 160))), model.config.vocab_size)
    assert np.allclose(np.exp(lp).sum(1), 1.0)
    assert model.transcribe(y, sr=16000) == model.decode(lp) == model.tokenizer.decode(ctc.greedy_decode(lp)).strip()
    lm = WordNgramLM.from_texts(["a cat", "the cat sat"])
    kw = dict(beam_width=4, lm=lm, lm_weight=0.7, word_bonus=2.0, lexicon={"a", "cat", "the", "sat"})
    ids = ctc.prefix_beam_search(lp, space=model.tokenizer.space, symbols=model.tokenizer.symbols, **kw)
    assert model.transcribe(y, sr=16000, **kw) == model.decode(lp, **kw) == model.tokenizer.decode(ids).strip()
    assert set(model.decode(lp, **kw).split()) <= kw["lexicon"]


@pytest.mark.parametrize("bad,match", [
    (dict(hidden=0), "hidden"), (dict(n_conv=7), "n_conv"), (dict(dropout=1.0), "dropout"),
    (dict(fmax=9000.0), "fmax"), (dict(vocab_size=10), "vocab_size"),
])
def test_config_is_validated(bad, match):
    with pytest.raises(ParameterError, match=match):
        CTCRecognizer(CTCConfig(**bad))


def test_features_must_match_n_mels():
    with pytest.raises(ParameterError, match="n_mels"):
        CTCRecognizer(CTCConfig(**SMALL))(torch.zeros(1, 10, 13), torch.tensor([10]))


def test_spec_augment_masks_bands_and_spans_inside_the_utterance():
    from course_lib.augment import spec_augment

    x = torch.ones(4, 100, 40)
    lengths = torch.tensor([100, 80, 50, 10])
    out = spec_augment(x, lengths, generator=torch.Generator().manual_seed(0), n_freq_masks=1, max_freq=8,
                       n_time_masks=1, max_time_fraction=0.2)
    assert torch.equal(x, torch.ones(4, 100, 40))                       # input untouched
    again = spec_augment(x, lengths, generator=torch.Generator().manual_seed(0), n_freq_masks=1,
                         max_freq=8, n_time_masks=1, max_time_fraction=0.2)
    assert torch.equal(out, again)                                      # seeded
    for b in range(4):
        zero_bands = (out[b] == 0).all(dim=0).nonzero().flatten()       # bands masked at every frame
        zero_frames = (out[b] == 0).all(dim=1).nonzero().flatten()      # frames masked in every band
        assert len(zero_bands) <= 8
        assert len(zero_frames) <= int(lengths[b] * 0.2)
        assert (zero_frames < lengths[b]).all()                         # never only in the padding
        if len(zero_bands):                                             # one contiguous band
            assert int(zero_bands[-1] - zero_bands[0]) + 1 == len(zero_bands)
    many = spec_augment(torch.ones(64, 100, 40), torch.full((64,), 100),
                        generator=torch.Generator().manual_seed(1))
    assert 0.05 < float((many == 0).float().mean()) < 0.5               # masks are drawn, not empty
