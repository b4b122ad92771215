"""CTC from first principles against torch.nn.CTCLoss and brute-force enumeration.

Tolerances: the NumPy loss works in float64 and agrees with torch's float64 kernel
to ~1e-12 relative; 1e-9 leaves room for summation order. Gradients go through
log_softmax (see ``ctc_loss_torch``'s Notes for why not w.r.t. log_probs).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from course_lib.asr import ctc
from course_lib.errors import ParameterError


def _log_softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def _random_lp(rng, T, C):
    return _log_softmax(rng.normal(scale=2.0, size=(T, C)))


def _torch_sum(lp, targets, blank=0):
    t = torch.from_numpy(lp)[:, None, :]
    return float(torch.nn.functional.ctc_loss(
        t, torch.tensor([list(targets)], dtype=torch.long).reshape(1, -1),
        torch.tensor([lp.shape[0]]), torch.tensor([len(targets)]), blank=blank, reduction="sum"))


def _brute_force(lp, targets, blank=0):
    """-log Σ over every path π with B(π) = targets of Π_t y_t(π_t)."""
    T, C = lp.shape
    total = -np.inf
    for path in itertools.product(range(C), repeat=T):
        if ctc.collapse(path, blank=blank) == list(targets):
            total = np.logaddexp(total, lp[np.arange(T), path].sum())
    return -total


@pytest.mark.parametrize("T,C,targets", [
    (12, 5, [1, 2, 3]), (10, 4, [2, 2]), (9, 3, [1, 1, 1]), (7, 6, []),
    (20, 8, [3, 1, 4, 1, 5]), (1, 3, [2]), (6, 4, [3, 3, 3]),
])
def test_ctc_loss_equals_torch(T, C, targets):
    rng = np.random.default_rng(T * 100 + C)
    lp = _random_lp(rng, T, C)
    np.testing.assert_allclose(ctc.ctc_loss(lp, targets), _torch_sum(lp, targets), rtol=1e-9)


def test_ctc_loss_other_blank_index_equals_torch():
    rng = np.random.default_rng(3)
    lp = _random_lp(rng, 10, 5)
    np.testing.assert_allclose(ctc.ctc_loss(lp, [0, 1, 1], blank=4),
                               _torch_sum(lp, [0, 1, 1], blank=4), rtol=1e-9)


@pytest.mark.parametrize("T,C,targets", [(4, 3, [1, 2]), (5, 3, [1, 1]), (4, 2, []), (5, 3, [2, 1, 2])])
def test_ctc_loss_equals_brute_force(T, C, targets):
    rng = np.random.default_rng(len(targets) + T)
    lp = _random_lp(rng, T, C)
    np.testing.assert_allclose(ctc.ctc_loss(lp, targets), _brute_force(lp, targets), rtol=1e-10)


def test_too_short_input_is_infinite_like_torch():
    # "a a" needs a blank between the two a's: 3 frames; 2 frames cannot emit it
    lp = _random_lp(np.random.default_rng(0), 2, 3)
    assert ctc.ctc_loss(lp, [1, 1]) == np.inf
    assert _torch_sum(lp, [1, 1]) == np.inf
    assert np.isfinite(ctc.ctc_loss(_random_lp(np.random.default_rng(1), 3, 3), [1, 1]))


def test_empty_target_is_all_blanks():
    lp = _random_lp(np.random.default_rng(2), 6, 4)
    np.testing.assert_allclose(ctc.ctc_loss(lp, []), -lp[:, 0].sum(), rtol=1e-12)


def test_trellis_shape_and_unreachable_states():
    lp = _random_lp(np.random.default_rng(4), 5, 4)
    fw = ctc.ctc_forward(lp, [1, 2, 3])
    assert fw.log_alpha.shape == (5, 7)
    # at frame 0 only the first blank and the first label are reachable
    assert np.isneginf(fw.log_alpha[0, 2:]).all()
    # the last state cannot be reached before frame 2 * U (needs one frame per label + blanks)
    assert np.isneginf(fw.log_alpha[:2, 5:]).all()


@pytest.mark.parametrize("bad,match", [
    (dict(log_probs=np.zeros(5)), "shape"),
    (dict(targets=[[1, 2]]), "1-D"),
    (dict(targets=[1, 9]), "0..3"),
    (dict(targets=[0, 1]), "blank"),
    (dict(log_probs=np.full((4, 4), np.nan)), "NaN"),
    (dict(blank=7), "blank=7"),
])
def test_bad_input(bad, match):
    kw = dict(log_probs=_random_lp(np.random.default_rng(0), 4, 4), targets=[1, 2], blank=0)
    kw.update(bad)
    with pytest.raises(ParameterError, match=match):
        ctc.ctc_loss(kw["log_probs"], kw["targets"], blank=kw["blank"])


# ----------------------------------------------------------------- batched torch version

def _batch(seed, B=4, T=15, C=6, too_short=False):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(T, B, C, generator=g, dtype=torch.float64) * 2
    input_lengths = torch.randint(T // 2, T + 1, (B,), generator=g)
    input_lengths[0] = T
    target_lengths = torch.randint(0, 5, (B,), generator=g)
    target_lengths[1] = 3
    targets = torch.randint(1, C, (B, 5), generator=g)
    targets[1, :3] = torch.tensor([2, 2, 2])          # repeated labels need blanks between
    if too_short:
        input_lengths[1] = 4                          # "2 2 2" needs 5 frames
    return logits, targets, input_lengths, target_lengths


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_torch_loss_and_gradient_equal_ctcloss(reduction, seed):
    logits, targets, il, tl = _batch(seed)
    a = logits.clone().requires_grad_(True)
    b = logits.clone().requires_grad_(True)
    ours = ctc.ctc_loss_torch(a.log_softmax(-1), targets, il, tl, reduction=reduction)
    ref = torch.nn.functional.ctc_loss(b.log_softmax(-1), targets, il, tl, reduction=reduction)
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-10)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-7, atol=1e-9)


def test_torch_concatenated_targets_equal_padded():
    logits, targets, il, tl = _batch(5)
    lp = logits.log_softmax(-1)
    concat = torch.cat([targets[b, :tl[b]] for b in range(len(tl))])
    torch.testing.assert_close(ctc.ctc_loss_torch(lp, concat, il, tl, reduction="none"),
                               ctc.ctc_loss_torch(lp, targets, il, tl, reduction="none"))


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_torch_too_short_and_zero_infinity_like_ctcloss(zero_infinity):
    logits, targets, il, tl = _batch(7, too_short=True)
    a = logits.clone().requires_grad_(True)
    b = logits.clone().requires_grad_(True)
    ours = ctc.ctc_loss_torch(a.log_softmax(-1), targets, il, tl, reduction="none",
                              zero_infinity=zero_infinity)
    ref = torch.nn.functional.ctc_loss(b.log_softmax(-1), targets, il, tl, reduction="none",
                                       zero_infinity=zero_infinity)
    torch.testing.assert_close(ours, ref)
    assert torch.isinf(ours[1]) != zero_infinity
    if zero_infinity:
        ours.sum().backward()
        ref.sum().backward()
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-7, atol=1e-9)
        assert torch.all(a.grad[:, 1] == 0)


def test_torch_matches_numpy_per_utterance():
    logits, targets, il, tl = _batch(9)
    lp = logits.log_softmax(-1)
    per = ctc.ctc_loss_torch(lp, targets, il, tl, reduction="none")
    for b in range(len(il)):
        np.testing.assert_allclose(
            float(per[b]), ctc.ctc_loss(lp[:il[b], b].numpy(), targets[b, :tl[b]].numpy()), rtol=1e-10)


# ----------------------------------------------------------------- decoding

def test_collapse_and_greedy():
    assert ctc.collapse([0, 1, 1, 0, 1, 2, 2, 0]) == [1, 1, 2]
    lp = np.log(np.array([[.1, .8, .1], [.1, .8, .1], [.8, .1, .1], [.1, .8, .1], [.2, .1, .7]]))
    assert ctc.greedy_decode(lp) == [1, 1, 2]


def _best_labelling_brute_force(lp, blank=0):
    T, C = lp.shape
    totals: dict = {}
    for path in itertools.product(range(C), repeat=T):
        key = tuple(ctc.collapse(path, blank=blank))
        totals[key] = np.logaddexp(totals.get(key, -np.inf), lp[np.arange(T), path].sum())
    best = max(totals, key=totals.get)
    return list(best), totals[best]


@pytest.mark.parametrize("seed", range(6))
def test_prefix_beam_search_exact_with_a_wide_beam(seed):
    rng = np.random.default_rng(seed)
    lp = _random_lp(rng, 5, 3) * 0.5                   # flatter, so best path != best labelling often
    lp = _log_softmax(lp)
    best, log_p = _best_labelling_brute_force(lp)
    hyps = ctc.prefix_beam_search(lp, beam_width=1000, n_best=3, prune_logp=-np.inf)
    assert list(hyps[0].labels) == best
    np.testing.assert_allclose(hyps[0].log_prob, log_p, rtol=1e-10)
    # every returned hypothesis' probability is its exact total over paths
    for h in hyps:
        np.testing.assert_allclose(-h.log_prob, ctc.ctc_loss(lp, list(h.labels)), rtol=1e-10)


def test_beam_search_beats_greedy_where_paths_add_up():
    # best single path is blank-blank (0.36), but "1" has 0.64 summed over three paths
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert ctc.greedy_decode(lp) == []
    assert ctc.prefix_beam_search(lp, beam_width=4) == [1]


def test_lexicon_and_language_model_steer_the_beam():
    from course_lib.asr.lm import WordNgramLM
    from course_lib.asr.text import CharTokenizer
    tok = CharTokenizer(" abt")
    sym = tok.symbols
    # acoustics slightly prefer "bat" over "tab" for the second word
    def frame(ch, p=0.9):
        row = np.full(tok.vocab_size, (1 - p) / (tok.vocab_size - 1))
        row[sym.index(ch)] = p
        return row
    rows = [frame(c) for c in "tab tab"]
    rows[4] = np.full(tok.vocab_size, 0.02)
    rows[4][sym.index("b")] = 0.5
    rows[4][sym.index("t")] = 0.42
    rows[4] /= rows[4].sum()
    lp = np.log(np.stack(rows))
    plain = tok.decode(ctc.prefix_beam_search(lp, beam_width=16))
    assert plain == "tab bab"
    lm = WordNgramLM.from_texts(["tab tab", "tab tab tab"])
    fused = tok.decode(ctc.prefix_beam_search(lp, beam_width=16, lm=lm, lm_weight=1.0,
                                              space=tok.space, symbols=sym))
    assert fused == "tab tab"
    lex = tok.decode(ctc.prefix_beam_search(lp, beam_width=16, lexicon={"tab"},
                                            space=tok.space, symbols=sym))
    assert lex == "tab tab"


def test_beam_search_bad_arguments():
    lp = _random_lp(np.random.default_rng(0), 4, 3)
    with pytest.raises(ParameterError, match="beam_width"):
        ctc.prefix_beam_search(lp, beam_width=0)
    with pytest.raises(ParameterError, match="space="):
        ctc.prefix_beam_search(lp, lexicon={"a"})


# --------------------------------------------------------------------------- CTC prefix scores

@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("prefix", [[], [1], [1, 1], [2, 1], [1, 2, 1]])
def test_prefix_scores_equal_brute_force(seed, prefix):
    """psi(g + c) = the total probability of every frame path whose collapsed labels start with g + c;
    final(g) = the probability of exactly g. All 3**6 = 729 paths enumerated."""
    import itertools

    from scipy.special import logsumexp

    from course_lib.asr.ctc import CTCPrefixScorer, collapse

    rng = np.random.default_rng(seed)
    T, V = 6, 3
    lp = np.log(rng.dirichlet(np.ones(V), size=T))
    paths = list(itertools.product(range(V), repeat=T))
    path_lp = np.array([lp[np.arange(T), list(p)].sum() for p in paths])
    labels = [collapse(p) for p in paths]

    scorer = CTCPrefixScorer(lp)
    state, last = scorer.initial_state(), None
    for tok in prefix:                                   # walk the scorer down the prefix
        _, states = scorer.extend(state, last, [tok])
        state, last = states[0], tok
    psi, _ = scorer.extend(state, last, [1, 2])
    for k, c in enumerate([1, 2]):
        h = prefix + [c]
        hits = [i for i, lab in enumerate(labels) if lab[:len(h)] == h]
        want = logsumexp(path_lp[hits]) if hits else -np.inf
        assert psi[k] == pytest.approx(want, abs=1e-10), (prefix, c)
    exact = [i for i, lab in enumerate(labels) if lab == prefix]
    assert scorer.final(state) == pytest.approx(logsumexp(path_lp[exact]) if exact else -np.inf, abs=1e-10)
    if prefix:                                           # and final() is the CTC loss of the prefix
        assert -scorer.final(state) == pytest.approx(ctc.ctc_loss(lp, prefix), abs=1e-9)


def test_prefix_scorer_rejects_the_blank_as_a_candidate():
    from course_lib.asr.ctc import CTCPrefixScorer

    scorer = CTCPrefixScorer(np.log(np.full((4, 3), 1 / 3)))
    with pytest.raises(ParameterError, match="blank"):
        scorer.extend(scorer.initial_state(), None, [0, 1])
