"""Tacotron 2 (course_lib.tts.tacotron2): masks, attention, stop token, prenet, guided attention,
structure against torchaudio.models.Tacotron2, and the shipped checkpoint."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.errors import ParameterError
from course_lib.tts import tacotron2 as tc

TINY = dict(n_symbols=35, n_mels=16, embed_dim=16, attention_rnn_dim=24, decoder_rnn_dim=20, attention_dim=12,
            location_filters=4, location_kernel=5, prenet_dim=12, postnet_dim=12, max_decoder_steps=30)


def tiny(**kw) -> tc.Tacotron2:
    torch.manual_seed(0)
    return tc.Tacotron2(tc.Tacotron2Config(**{**TINY, **kw})).eval()


def _utt(n_text, n_frames, n_mels=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(2, 35, (n_text,), generator=g), torch.randn(n_frames, n_mels, generator=g)


# --------------------------------------------------------------------------- guided attention

@pytest.mark.parametrize("n_text,n_frames,g", [(1, 1, 0.2), (7, 12, 0.2), (30, 11, 0.4), (5, 5, 0.05)])
def test_guided_attention_is_the_formula(n_text, n_frames, g):
    W = tc.guided_attention(n_text, n_frames, g=g)
    assert W.shape == (n_frames, n_text)
    for t in range(n_frames):                      # brute force, element by element
        for n in range(n_text):
            assert W[t, n] == pytest.approx(1 - math.exp(-((n / n_text - t / n_frames) ** 2) / (2 * g * g)),
                                            rel=1e-12, abs=1e-15)


def test_guided_attention_zero_on_the_diagonal_and_bad_input():
    W = tc.guided_attention(10, 20)
    assert np.all(W[::2, np.arange(10)][np.arange(10), np.arange(10)] == 0)   # t / T == n / N at t = 2n
    assert W.min() >= 0 and W.max() < 1 and W[0, -1] > 0.9
    for kw, match in ((dict(n_text=0, n_frames=3), "n_text"), (dict(n_text=3, n_frames=2.5), "n_frames")):
        with pytest.raises(ParameterError, match=match):
            tc.guided_attention(**kw)
    with pytest.raises(ParameterError, match="g="):
        tc.guided_attention(3, 3, g=0)


def test_guided_attention_loss_prefers_the_diagonal():
    diag = torch.eye(8)[None]                      # (1, steps, text), perfectly diagonal
    anti = diag.flip(2)
    lt, ls = torch.tensor([8]), torch.tensor([8])
    assert float(tc.guided_attention_loss(diag, lt, ls)) == pytest.approx(0.0, abs=1e-12)
    expected = (tc.guided_attention(8, 8) * anti[0].numpy()).sum() / 64
    assert float(tc.guided_attention_loss(anti, lt, ls)) == pytest.approx(expected, rel=1e-6)


# --------------------------------------------------------------------------- config, shapes

@pytest.mark.parametrize("kw,match", [(dict(reduction=0), "reduction"), (dict(embed_dim=15), "embed_dim"),
                                      (dict(location_kernel=4), "location_kernel"),
                                      (dict(prenet_dropout=1.0), "prenet_dropout"),
                                      (dict(attention="dot"), "attention"), (dict(mel_std=0.0), "mel_std"),
                                      (dict(stop_threshold=1.0), "stop_threshold")])
def test_config_validation(kw, match):
    with pytest.raises(ParameterError, match=match):
        tc.Tacotron2Config(**kw)


@pytest.mark.parametrize("r", [1, 2, 3])
def test_forward_shapes(r):
    m = tiny(reduction=r)
    batch = tc.collate([_utt(9, 13), _utt(5, 7, seed=1)], reduction=r)
    out = m(batch.text, batch.text_lengths, batch.mel, batch.mel_lengths)
    T = batch.mel.shape[1]
    assert T % r == 0 and T >= 13
    assert out.mel.shape == out.mel_postnet.shape == (2, T, 16)
    assert out.stop_logits.shape == (2, T // r) and out.alignments.shape == (2, T // r, 9)
    with pytest.raises(ParameterError, match="n_mels"):
        m(batch.text, batch.text_lengths, batch.mel[..., :8], batch.mel_lengths)
    with pytest.raises(ParameterError, match="text ids"):
        m(batch.text + 40, batch.text_lengths, batch.mel, batch.mel_lengths)


@pytest.mark.parametrize("n_frames,r,expected", [(8, 3, [0, 0, 1]), (9, 3, [0, 0, 1]), (10, 3, [0, 0, 0, 1]),
                                                 (4, 1, [0, 0, 0, 1]), (5, 2, [0, 0, 1])])
def test_stop_target_marks_the_step_holding_the_last_frame(n_frames, r, expected):
    b = tc.collate([_utt(3, n_frames)], reduction=r)
    assert b.stop[0].tolist() == expected
    assert b.mel.shape[1] == len(expected) * r and torch.all(b.mel[0, n_frames:] == math.log(1e-5))


# --------------------------------------------------------------------------- masks and attention

def test_attention_sums_to_one_and_respects_the_text_mask():
    m = tiny(reduction=2)
    batch = tc.collate([_utt(11, 20), _utt(4, 9, seed=1), _utt(7, 14, seed=2)], reduction=2)
    A = m(batch.text, batch.text_lengths, batch.mel, batch.mel_lengths).alignments
    for b, n in enumerate(batch.text_lengths.tolist()):
        torch.testing.assert_close(A[b].sum(1), torch.ones(A.shape[1]), atol=1e-6, rtol=0)
        assert torch.all(A[b, :, n:] == 0)          # padded characters get exactly zero weight
        assert torch.all(A[b, :, :n] > 0)


@pytest.mark.parametrize("r", [1, 3])
def test_padding_a_batch_changes_no_utterance(r):
    """An utterance alone and batched with longer ones: the same frames, stops and alignment.
    (Prenet dropout off so the two runs are comparable; eval mode.)"""
    m = tiny(reduction=r, prenet_dropout=0.0)
    short = _utt(5, 8)
    alone = tc.collate([short], reduction=r)
    batch = tc.collate([_utt(12, 25, seed=1), short, _utt(9, 17, seed=2)], reduction=r)
    a = m(alone.text, alone.text_lengths, alone.mel, alone.mel_lengths)
    b = m(batch.text, batch.text_lengths, batch.mel, batch.mel_lengths)
    T, S = 8, -(-8 // r)
    torch.testing.assert_close(b.mel[1, :T], a.mel[0, :T], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(b.mel_postnet[1, :T], a.mel_postnet[0, :T], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(b.stop_logits[1, :S], a.stop_logits[0, :S], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(b.alignments[1, :S, :5], a.alignments[0, :S], atol=1e-6, rtol=1e-5)
    # and the loss of a batch ignores what lies past each utterance's end
    la = tc.tacotron2_loss(a, alone, reduction=r)
    alone2 = alone._replace(mel=alone.mel.clone())
    alone2.mel[0, 8:] = 99.0                        # garbage in the padding (if any)
    lb = tc.tacotron2_loss(m(alone2.text, alone2.text_lengths, alone2.mel, alone2.mel_lengths), alone2, reduction=r)
    torch.testing.assert_close(la.total, lb.total)


def test_cumulative_attention_accumulates():
    m = tiny(reduction=2)
    dec = m.decoder
    text, _ = _utt(9, 2)
    memory = m.encode(text[None], torch.tensor([9]))
    processed = dec.attention.memory_layer(memory)
    mask = torch.ones(1, 9, dtype=torch.bool)
    state = dec.init_state(memory)
    total = torch.zeros(1, 9)
    prev = torch.zeros(1, 2 * 16)
    for _ in range(6):
        frames, _, w, state = dec.step(dec.run_prenet(prev), state, memory, processed, mask)
        total = total + w
        torch.testing.assert_close(state["cumulative"], total)
        torch.testing.assert_close(state["weights"], w)
        prev = frames
    assert float(state["cumulative"].detach().sum()) == pytest.approx(6.0, rel=1e-5)


def _energies(m, weights, cumulative):
    torch.manual_seed(1)
    q = torch.randn(1, m.config.attention_rnn_dim)
    pm = torch.randn(1, 9, m.config.attention_dim)
    return m.decoder.attention.energies(q, pm, torch.stack([weights, cumulative], 1))


def test_location_attention_uses_the_previous_alignment():
    m = tiny()
    early = torch.zeros(1, 9)
    early[0, 1] = 1.0
    late = torch.zeros(1, 9)
    late[0, 6] = 1.0
    e1, e2 = _energies(m, early, early), _energies(m, late, 3 * late)
    assert (e1 - e2).abs().max() > 1e-3


def test_location_attention_reads_the_cumulative_weights():
    """Same previous step, different history: only the running sum differs, and a decoder step must see it."""
    m = tiny()
    dec = m.decoder
    text, _ = _utt(9, 2)
    memory = m.encode(text[None], torch.tensor([9]))
    processed = dec.attention.memory_layer(memory)
    mask = torch.ones(1, 9, dtype=torch.bool)
    prev = torch.zeros(1, 9)
    prev[0, 4] = 1.0
    out = []
    for history in (slice(0, 4), slice(5, 9)):     # came through characters 0..3, or a different path
        state = dec.init_state(memory)
        state["weights"] = prev
        state["cumulative"] = prev.clone()
        state["cumulative"][0, history] = 1.0
        x = dec.run_prenet(torch.ones(1, 2 * 16), torch.Generator().manual_seed(0))
        out.append(dec.step(x, state, memory, processed, mask)[2])
    assert (out[0] - out[1]).abs().max() > 1e-4


def test_seeds_content_only_attention_ignores_the_previous_alignment():
    """The seed document's bug: its attention scores characters from the query alone, so where the
    decoder was a step ago changes nothing: nothing stops it jumping back or skipping ahead."""
    m = tiny(attention="content")
    early = torch.zeros(1, 9)
    early[0, 1] = 1.0
    late = torch.zeros(1, 9)
    late[0, 6] = 1.0
    torch.testing.assert_close(_energies(m, early, early), _energies(m, late, 3 * late), rtol=0, atol=0)


# --------------------------------------------------------------------------- inference

def test_infer_stops_on_the_stop_token():
    m = tiny(reduction=2)
    with torch.no_grad():
        m.decoder.stop_layer.bias.fill_(100.0)     # sigmoid = 1: stop after the first step
    text, _ = _utt(6, 2)
    res = m.infer(text[None])
    assert res.lengths.tolist() == [2] and res.stopped.tolist() == [True]
    assert res.mel.shape == (1, 2, 16) and res.alignments.shape == (1, 1, 6)


def test_infer_respects_the_cap():
    m = tiny(reduction=3)
    with torch.no_grad():
        m.decoder.stop_layer.weight.zero_()
        m.decoder.stop_layer.bias.fill_(-100.0)    # never stops
    text, _ = _utt(6, 2)
    res = m.infer(text[None], max_decoder_steps=7)
    assert res.lengths.tolist() == [21] and res.stopped.tolist() == [False]
    assert res.mel.shape == (1, 21, 16) and res.alignments.shape == (1, 7, 6)
    assert m.infer(text[None]).alignments.shape[1] == 30     # the config's cap


def test_infer_stops_each_utterance_at_its_own_step(monkeypatch):
    """Row 0's stop token fires at step 3, row 1's at step 6: lengths 3 r and 6 r, decoding ends at 6."""
    m = tiny(reduction=2)
    step, calls = m.decoder.step, []

    def scripted(*args):
        f, s, w, state = step(*args)
        i = len(calls)
        calls.append(i)
        s = torch.tensor([10.0 if i >= 2 else -10.0, 10.0 if i >= 5 else -10.0])
        return f, s, w, state

    monkeypatch.setattr(m.decoder, "step", scripted)
    batch = tc.collate([_utt(6, 2), _utt(4, 2, seed=1)], reduction=2)
    res = m.infer(batch.text, batch.text_lengths)
    assert res.lengths.tolist() == [6, 12] and res.stopped.all()
    assert len(calls) == 6 and res.mel.shape[1] == 12


def test_prenet_dropout_stays_on_at_inference():
    m = tiny()
    assert not m.training
    x = torch.ones(4, 2 * 16)
    a, b = m.decoder.run_prenet(x), m.decoder.run_prenet(x)
    assert not torch.equal(a, b)                   # eval mode, still random
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    torch.testing.assert_close(m.decoder.run_prenet(x, g1), m.decoder.run_prenet(x, g2))
    text, _ = _utt(6, 2)
    r1 = m.infer(text[None], generator=torch.Generator().manual_seed(1), max_decoder_steps=5)
    r2 = m.infer(text[None], generator=torch.Generator().manual_seed(2), max_decoder_steps=5)
    r3 = m.infer(text[None], generator=torch.Generator().manual_seed(1), max_decoder_steps=5)
    assert not torch.allclose(r1.mel, r2.mel)
    torch.testing.assert_close(r1.mel, r3.mel)
    # ... and the fraction dropped is the configured p (0.5) in eval mode too
    h = torch.nn.functional.relu(m.decoder.prenet[0](torch.ones(20000, 32)))
    kept = (tc._dropout(h, 0.5) != 0).float().sum() / (h != 0).float().sum()
    assert float(kept) == pytest.approx(0.5, abs=0.02)


# --------------------------------------------------------------------------- structure vs torchaudio

def _pair(r=1):
    from torchaudio.models import Tacotron2 as TA

    cfg = tc.Tacotron2Config(reduction=r)
    ours = tc.Tacotron2(cfg)
    ta = TA(n_mels=cfg.n_mels, n_symbol=cfg.n_symbols, n_frames_per_step=r, symbol_embedding_dim=cfg.embed_dim,
            encoder_embedding_dim=cfg.embed_dim, encoder_n_convolution=cfg.encoder_n_convs,
            encoder_kernel_size=cfg.encoder_kernel, decoder_rnn_dim=cfg.decoder_rnn_dim,
            attention_rnn_dim=cfg.attention_rnn_dim, attention_hidden_dim=cfg.attention_dim,
            attention_location_n_filter=cfg.location_filters,
            attention_location_kernel_size=cfg.location_kernel, prenet_dim=cfg.prenet_dim,
            postnet_n_convolution=cfg.postnet_n_convs, postnet_kernel_size=cfg.postnet_kernel,
            postnet_embedding_dim=cfg.postnet_dim)
    return ours, ta


def _count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("r", [1, 3])
def test_same_parameter_count_as_torchaudio(r):
    ours, ta = _pair(r)
    for part in ("embedding", "encoder", "decoder", "postnet"):
        assert _count(getattr(ours, part)) == _count(getattr(ta, part)), part
    assert ours.n_parameters() == _count(ta)
    assert ours.n_parameters() * 4 <= 8e6                 # float32 weights within chapter 12's 8 MB


def test_same_output_shapes_as_torchaudio():
    ours, ta = _pair(1)
    ours.eval(), ta.eval()
    batch = tc.collate([_utt(9, 13, n_mels=80), _utt(5, 7, n_mels=80, seed=1)], reduction=1)
    out = ours(batch.text, batch.text_lengths, batch.mel, batch.mel_lengths)
    mel, post, gate, align = ta(batch.text, batch.text_lengths, batch.mel.transpose(1, 2), batch.mel_lengths)
    assert out.mel.transpose(1, 2).shape == mel.shape          # torchaudio: (batch, n_mels, time)
    assert out.mel_postnet.transpose(1, 2).shape == post.shape
    assert out.stop_logits.shape == gate.shape and out.alignments.shape == align.shape


# --------------------------------------------------------------------------- training, metrics

def test_a_few_steps_reduce_the_loss():
    torch.manual_seed(0)
    m = tc.Tacotron2(tc.Tacotron2Config(**TINY, prenet_dropout=0.0, postnet_dropout=0.0,
                                        encoder_dropout=0.0)).train()    # dropout noise off: see learning
    (t1, _), (t2, _) = _utt(6, 10), _utt(4, 8, seed=1)
    batch = tc.collate([(t1, torch.full((10, 16), 0.5)), (t2, torch.full((8, 16), -0.5))], reduction=2)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        out = m(batch.text, batch.text_lengths, batch.mel, batch.mel_lengths)
        loss = tc.tacotron2_loss(out, batch, reduction=2).total
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


def test_diagonality_known_answers():
    d = tc.diagonality(np.eye(6))
    assert d == (1.0, 1.0, 1.0)
    d = tc.diagonality(np.eye(6)[::-1])
    assert d.focus == 1.0 and d.monotonic == 0.0
    d = tc.diagonality(np.full((4, 5), 0.2))
    assert d.focus == pytest.approx(0.2) and d.coverage == pytest.approx(0.2)


def test_mel_cepstral_distortion():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(80, 40))
    assert tc.mel_cepstral_distortion(a, a) == 0.0
    assert tc.mel_cepstral_distortion(a, a + 3.0) == pytest.approx(0.0, abs=1e-9)     # level is c0: dropped
    assert tc.mel_cepstral_distortion(a, np.repeat(a, 2, axis=1)) == pytest.approx(0.0, abs=1e-9)  # DTW
    b = rng.normal(size=(80, 40))
    import scipy.fft
    ca = scipy.fft.dct(a, norm="ortho", axis=0)[1:13]
    cb = scipy.fft.dct(b, norm="ortho", axis=0)[1:13]
    no_warp = np.mean(10 / np.log(10) * np.sqrt(2 * ((ca - cb) ** 2).sum(0)))
    assert 0 < tc.mel_cepstral_distortion(a, b) <= no_warp + 1e-9   # DTW can only lower the mean cost... per path
