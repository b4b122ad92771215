"""Connectionist temporal classification: the loss and the decoders, from scratch.

Notebook: 05_ctc_asr.ipynb

A CTC model emits, for every frame ``t``, a distribution over the labels plus a
*blank*. A frame-level path ``π`` (length ``T``) maps to a label sequence by
``B``: collapse repeats, then drop blanks (``a a - b b - b`` → ``a b b``). The
probability of a transcript ``l`` sums over every path that maps to it,

    p(l | x) = Σ_{π : B(π) = l} Π_t y_t(π_t),

which the α recursion computes over the blank-extended sequence
``l' = (-, l1, -, l2, -, …, lU, -)`` of length ``S = 2U + 1``:

    α_1(0) = y_1(-),  α_1(1) = y_1(l1),
    α_t(s) = (α_{t-1}(s) + α_{t-1}(s-1) + [l'_s ≠ - and l'_s ≠ l'_{s-2}] α_{t-1}(s-2)) · y_t(l'_s),
    p(l | x) = α_T(S-1) + α_T(S-2).

Everything here works in log space (sums become ``logaddexp``), so long
utterances do not underflow.

- :func:`ctc_loss` — one utterance in NumPy (the teaching version); equal to
  ``torch.nn.CTCLoss(reduction="sum")``.
- :func:`ctc_loss_torch` — the same recursion batched in torch, differentiable
  with autograd; equal to ``torch.nn.functional.ctc_loss`` in value and gradient.
- :func:`greedy_decode` — best path: argmax per frame, collapse, drop blanks.
- :func:`prefix_beam_search` — the most probable *labelling* (summing over its
  paths), optionally with a word language model (shallow fusion) and a lexicon.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np

from ..errors import ParameterError

__all__ = [
    "extend_with_blanks", "ctc_forward", "CTCForward", "ctc_loss", "ctc_loss_torch",
    "collapse", "greedy_decode", "BeamHypothesis", "prefix_beam_search", "CTCPrefixScorer",
]

_NEG_INF = -np.inf


# --------------------------------------------------------------------------- checks

def _check_log_probs(log_probs, *, name: str = "log_probs") -> np.ndarray:
    lp = np.asarray(log_probs)
    if lp.ndim != 2:
        raise ParameterError(
            f"{name} must have shape (n_frames, n_classes) for one utterance, got shape {lp.shape}"
        )
    if lp.shape[0] == 0 or lp.shape[1] < 2:
        raise ParameterError(
            f"{name} has shape {lp.shape}: need at least one frame and two classes (the blank and a label)"
        )
    if not np.issubdtype(lp.dtype, np.floating):
        lp = lp.astype(np.float64)
    if np.isnan(lp).any() or np.isposinf(lp).any():
        raise ParameterError(f"{name} contains NaN or +inf; pass log-probabilities (e.g. log_softmax output)")
    return lp


def _check_targets(targets, *, n_classes: int, blank: int) -> np.ndarray:
    tg = np.asarray(targets)
    if tg.ndim != 1:
        raise ParameterError(f"targets must be a 1-D sequence of label ids, got shape {tg.shape}")
    if tg.size == 0:
        return tg.astype(np.int64)
    if not np.issubdtype(tg.dtype, np.integer):
        raise ParameterError(f"targets must be integer label ids, got dtype {tg.dtype}")
    if tg.min() < 0 or tg.max() >= n_classes:
        raise ParameterError(
            f"targets must be label ids in 0..{n_classes - 1}, got values {tg.min()}..{tg.max()}"
        )
    if (tg == blank).any():
        raise ParameterError(
            f"targets contain the blank id {blank}; the blank is never part of a transcript"
        )
    return tg.astype(np.int64)


def _check_blank(blank, n_classes: int) -> int:
    if not isinstance(blank, (int, np.integer)) or not 0 <= blank < n_classes:
        raise ParameterError(f"blank={blank!r} must be a class index in 0..{n_classes - 1}")
    return int(blank)


# --------------------------------------------------------------------------- the loss

def extend_with_blanks(targets: Sequence[int], *, blank: int = 0) -> np.ndarray:
    """``l' = (blank, l1, blank, l2, …, lU, blank)``: the states of the CTC trellis.

    Returns
    -------
    np.ndarray [shape=(2 * len(targets) + 1,), dtype=int64]

    >>> extend_with_blanks([3, 3, 5]).tolist()
    [0, 3, 0, 3, 0, 5, 0]
    """
    tg = np.asarray(targets, dtype=np.int64).reshape(-1)
    ext = np.full(2 * tg.size + 1, blank, dtype=np.int64)
    ext[1::2] = tg
    return ext


class CTCForward(NamedTuple):
    """The α trellis of one utterance.

    log_alpha : np.ndarray [shape=(n_frames, 2 * n_labels + 1)]
        ``log α_t(s)``; ``-inf`` where no path reaches state ``s`` at frame ``t``.
    log_likelihood : float
        ``log p(l | x)``; ``-inf`` when the input is too short for the target.
    """

    log_alpha: np.ndarray
    log_likelihood: float


def ctc_forward(log_probs, targets, *, blank: int = 0) -> CTCForward:
    """The α recursion in log space over the blank-extended targets (the module docstring).

    Parameters
    ----------
    log_probs : np.ndarray [shape=(n_frames, n_classes)]
        Per-frame log-probabilities (``log_softmax`` output) of one utterance.
    targets : sequence of int [shape=(n_labels,)]
        The transcript's label ids, without blanks; may be empty.
    blank : int
        The blank's class index.

    Returns
    -------
    CTCForward
    """
    lp = _check_log_probs(log_probs)
    T, C = lp.shape
    blank = _check_blank(blank, C)
    tg = _check_targets(targets, n_classes=C, blank=blank)
    ext = extend_with_blanks(tg, blank=blank)
    S = ext.size
    # the skip s-2 -> s is allowed onto a label that differs from the label two back
    skip = np.zeros(S, dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])

    emit = lp[:, ext]                                  # (T, S): log y_t(l'_s)
    log_alpha = np.full((T, S), _NEG_INF, dtype=np.float64)
    log_alpha[0, 0] = emit[0, 0]
    if S > 1:
        log_alpha[0, 1] = emit[0, 1]
    for t in range(1, T):                              # vectorised over states s
        prev = log_alpha[t - 1]
        step = np.full(S, _NEG_INF)                    # from s-1
        step[1:] = prev[:-1]
        jump = np.full(S, _NEG_INF)                    # from s-2, where allowed
        jump[2:] = np.where(skip[2:], prev[:-2], _NEG_INF)
        log_alpha[t] = np.logaddexp(np.logaddexp(prev, step), jump) + emit[t]
    ends = log_alpha[-1, -2:] if S > 1 else log_alpha[-1, -1:]
    return CTCForward(log_alpha, float(np.logaddexp.reduce(ends)))


def ctc_loss(log_probs, targets, *, blank: int = 0) -> float:
    """The CTC negative log-likelihood ``-log p(targets | x)`` of one utterance.

    Equal to ``torch.nn.CTCLoss(blank=blank, reduction="sum")`` on the same
    input (``inf`` when the input has too few frames for the target, as torch
    gives without ``zero_infinity``).

    Parameters
    ----------
    log_probs : np.ndarray [shape=(n_frames, n_classes)]
    targets : sequence of int [shape=(n_labels,)]
    blank : int

    Returns
    -------
    float

    >>> lp = np.log(np.full((2, 2), 0.5))        # two frames, blank + one label
    >>> round(float(np.exp(-ctc_loss(lp, [1]))), 4)   # paths "1 1", "- 1", "1 -"
    0.75
    """
    return -ctc_forward(log_probs, targets, blank=blank).log_likelihood


def ctc_loss_torch(log_probs, targets, input_lengths, target_lengths, *, blank: int = 0,
                   reduction: str = "mean", zero_infinity: bool = False):
    """Batched CTC loss in torch, by the α recursion; differentiable with autograd.

    The same arguments and conventions as ``torch.nn.functional.ctc_loss``:

    Parameters
    ----------
    log_probs : torch.Tensor [shape=(time, batch, n_classes)]
        ``log_softmax`` outputs, time first.
    targets : torch.Tensor [shape=(batch, max_target_len)] or [shape=(sum(target_lengths),)]
        Padded label ids, or all targets concatenated.
    input_lengths, target_lengths : torch.Tensor [shape=(batch,)]
    blank : int
    reduction : {"mean", "sum", "none"}
        ``"mean"`` divides each loss by its target length (at least 1), then
        averages over the batch, as torch does.
    zero_infinity : bool
        Replace infinite losses (input too short) and their gradients by zero.

    Returns
    -------
    torch.Tensor
        A scalar, or ``(batch,)`` for ``reduction="none"``.

    Notes
    -----
    The *gradient with respect to the logits* (through ``log_softmax``) equals
    torch's. The gradient with respect to ``log_probs`` itself differs from
    torch's by a per-frame constant: torch's kernel returns
    ``softmax - occupancy`` (already the logits' gradient), autograd here returns
    ``-occupancy``; both give the same gradient once ``log_softmax`` is applied.
    """
    import torch

    if reduction not in ("mean", "sum", "none"):
        raise ParameterError(f"reduction={reduction!r} must be 'mean', 'sum' or 'none'")
    if log_probs.dim() != 3:
        raise ParameterError(
            f"log_probs must have shape (time, batch, n_classes), got {tuple(log_probs.shape)}"
        )
    T, B, C = log_probs.shape
    blank = _check_blank(blank, C)
    input_lengths = torch.as_tensor(input_lengths, dtype=torch.long).reshape(-1)
    target_lengths = torch.as_tensor(target_lengths, dtype=torch.long).reshape(-1)
    if input_lengths.numel() != B or target_lengths.numel() != B:
        raise ParameterError(
            f"input_lengths and target_lengths need one entry per utterance (batch={B}), got "
            f"{input_lengths.numel()} and {target_lengths.numel()}"
        )
    if (input_lengths < 1).any() or (input_lengths > T).any():
        raise ParameterError(f"input_lengths must be in 1..{T} (the time axis of log_probs)")
    targets = torch.as_tensor(targets, dtype=torch.long, device=log_probs.device)
    U = int(target_lengths.max()) if B else 0
    if targets.dim() == 1:                              # concatenated -> padded (B, U)
        if targets.numel() != int(target_lengths.sum()):
            raise ParameterError(
                f"concatenated targets have {targets.numel()} ids but target_lengths sum to "
                f"{int(target_lengths.sum())}"
            )
        padded = torch.full((B, max(U, 1)), blank, dtype=torch.long, device=log_probs.device)
        offsets = torch.cumsum(target_lengths, 0) - target_lengths
        for b in range(B):
            n = int(target_lengths[b])
            padded[b, :n] = targets[int(offsets[b]):int(offsets[b]) + n]
        targets = padded
    elif targets.dim() != 2 or targets.shape[0] != B or targets.shape[1] < U:
        raise ParameterError(
            f"targets must be (batch, >= max target length) = ({B}, >= {U}) or concatenated, "
            f"got {tuple(targets.shape)}"
        )
    targets = targets[:, :max(U, 1)]

    S = 2 * max(U, 1) + 1
    device = log_probs.device
    ext = torch.full((B, S), blank, dtype=torch.long, device=device)
    ext[:, 1::2] = targets                              # (B, S) blank-extended labels
    pos = torch.arange(S, device=device)
    valid_s = pos[None, :] < (2 * target_lengths[:, None].to(device) + 1)   # (B, S)
    ext = torch.where(valid_s, ext, torch.full_like(ext, blank))
    skip = torch.zeros((B, S), dtype=torch.bool, device=device)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])

    # A large finite "minus infinity": a logsumexp over terms that are all -inf has a
    # NaN gradient (0/0), which would poison the whole batch. Impossible states carry
    # about -1e30 instead, and a loss that large is reported as inf at the end.
    big = -1e30
    neg_inf = torch.tensor(big, dtype=log_probs.dtype, device=device)
    tl = target_lengths.to(device)
    # emissions of every extended state at every frame: (T, B, S)
    emit = log_probs.gather(2, ext[None].expand(T, B, S))
    first = torch.full((B, S), big, dtype=log_probs.dtype, device=device)
    first[:, 0] = 0.0
    first[:, 1] = torch.where(tl > 0, torch.zeros((), dtype=log_probs.dtype, device=device), neg_inf)
    alpha = torch.where(valid_s, first + emit[0], neg_inf)            # (B, S)
    pad1 = torch.full((B, 1), big, dtype=log_probs.dtype, device=device)
    pad2 = torch.full((B, 2), big, dtype=log_probs.dtype, device=device)
    lengths = input_lengths.to(device)
    for t in range(1, T):
        step = torch.cat([pad1, alpha[:, :-1]], dim=1)                 # from s-1
        jump = torch.where(skip, torch.cat([pad2, alpha[:, :-2]], dim=1), neg_inf)   # from s-2
        new = torch.logsumexp(torch.stack([alpha, step, jump]), dim=0) + emit[t]
        new = torch.where(valid_s, new, neg_inf).clamp(min=big)
        # utterances that already ended keep their last α (frames t >= length are padding)
        alpha = torch.where((t < lengths)[:, None], new, alpha)
    last = (2 * tl).clamp(max=S - 1)                                   # index of the final blank
    end_blank = alpha.gather(1, last[:, None]).squeeze(1)
    end_label = alpha.gather(1, (last - 1).clamp(min=0)[:, None]).squeeze(1)
    end_label = torch.where(tl > 0, end_label, neg_inf)
    loss = -torch.logaddexp(end_blank, end_label)                      # (B,)
    impossible = loss > -big / 10

    if zero_infinity:
        loss = torch.where(impossible, torch.zeros_like(loss), loss)
    else:
        loss = torch.where(impossible, torch.full_like(loss, float("inf")), loss)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return (loss / target_lengths.to(device).clamp(min=1).to(loss.dtype)).mean()


# --------------------------------------------------------------------------- decoding

def collapse(path: Sequence[int], *, blank: int = 0) -> list[int]:
    """CTC's mapping ``B``: merge repeated ids, then drop blanks.

    >>> collapse([1, 1, 0, 2, 2, 0, 2])
    [1, 2, 2]
    """
    out, prev = [], None
    for p in path:
        p = int(p)
        if p != prev and p != blank:
            out.append(p)
        prev = p
    return out


def greedy_decode(log_probs, *, blank: int = 0) -> list[int]:
    """Best-path decoding: the most likely class of every frame, collapsed.

    Parameters
    ----------
    log_probs : np.ndarray [shape=(n_frames, n_classes)]

    Returns
    -------
    list of int
        Label ids (repeats collapsed, blanks dropped).

    >>> lp = np.log([[0.1, 0.9], [0.2, 0.8], [0.9, 0.1], [0.3, 0.7]])
    >>> greedy_decode(lp)
    [1, 1]
    """
    lp = _check_log_probs(log_probs)
    blank = _check_blank(blank, lp.shape[1])
    return collapse(np.argmax(lp, axis=1), blank=blank)


class BeamHypothesis(NamedTuple):
    """One labelling kept by :func:`prefix_beam_search`.

    labels : tuple of int
    log_prob : float
        ``log p(labels | x)`` summed over all its paths (acoustic score).
    score : float
        The score the beam was ranked by: ``log_prob`` plus
        ``lm_weight · log P_LM(words) + word_bonus · n_words`` with a language model.
    """

    labels: tuple
    log_prob: float
    score: float


def prefix_beam_search(log_probs, *, beam_width: int = 16, blank: int = 0, lm=None,
                       lm_weight: float = 0.5, word_bonus: float = 0.0, space: int | None = None,
                       symbols: Sequence[str] | None = None, lexicon=None,
                       n_best: int = 1, prune_logp: float = -12.0):
    """CTC prefix beam search: keep the ``beam_width`` most probable prefixes.

    Each prefix carries two probabilities, of its paths ending in a blank and
    in its last label, so that "a a" (one label, repeated frame) and "a - a"
    (two labels) are told apart. With a beam wide enough to hold every prefix,
    the result is the exact most probable labelling (the test checks this
    against brute-force enumeration of every path).

    Parameters
    ----------
    log_probs : np.ndarray [shape=(n_frames, n_classes)]
    beam_width : int
    blank : int
    lm : course_lib.asr.lm.WordNgramLM, optional
        Shallow fusion: when a word ends (a space is emitted, or at the end)
        its LM log-probability times ``lm_weight`` (plus ``word_bonus``) joins the
        prefix's score. Needs ``space`` and ``symbols``.
    space : int, optional
        The id of the word separator.
    symbols : sequence of str, optional
        ``symbols[id]`` is the text of each id (e.g. ``CharTokenizer.symbols``).
    lexicon : set of str, optional
        If given, a prefix whose current word is not the beginning of a
        lexicon word is dropped, and a completed word must be in the lexicon.
    n_best : int
        How many hypotheses to return.
    prune_logp : float
        Labels whose log-probability at a frame is below this are not tried
        there (``-12`` ≈ 6e-6; a trained model's posteriors are peaky, so this
        skips most of the vocabulary). ``-np.inf`` tries every label (exact).

    Returns
    -------
    list of int, or list of BeamHypothesis
        The best labelling (``n_best=1``), or the ``n_best`` best hypotheses.
    """
    lp = _check_log_probs(log_probs)
    T, C = lp.shape
    blank = _check_blank(blank, C)
    if not isinstance(beam_width, (int, np.integer)) or beam_width < 1:
        raise ParameterError(f"beam_width={beam_width!r} must be a positive integer")
    if not isinstance(n_best, (int, np.integer)) or n_best < 1:
        raise ParameterError(f"n_best={n_best!r} must be a positive integer")
    words_needed = lm is not None or lexicon is not None
    if words_needed and (space is None or symbols is None):
        raise ParameterError("a language model or lexicon needs space= (the separator id) and symbols=")
    if lexicon is not None:
        lexicon = set(lexicon)
        prefixes_ok = {w[:i] for w in lexicon for i in range(len(w) + 1)}

    def word_of(labels):                      # the last (possibly unfinished) word of a prefix
        text = "".join(symbols[i] for i in labels)
        return text.rsplit(" ", 1)[-1], text

    def word_score(labels, final: bool) -> float:
        """LM / lexicon log-weight of every *completed* word of ``labels``."""
        if not words_needed:
            return 0.0
        text = "".join(symbols[i] for i in labels)
        words = text.split()
        if not final and not text.endswith(" "):
            words = words[:-1]                    # the last word is still being spelled
        s = 0.0
        if lexicon is not None and any(w not in lexicon for w in words):
            return -math.inf
        if lm is not None:
            s += lm_weight * lm.log_prob_sentence(words, eos=final) + word_bonus * len(words)
        return s

    # beams: prefix -> (log p ending in blank, log p ending in its last label)
    beams = {(): (0.0, -math.inf)}
    logaddexp = np.logaddexp
    for t in range(T):
        row = lp[t]
        candidates = [c for c in np.flatnonzero(row >= prune_logp).tolist() if c != blank]
        nxt: dict = {}

        def add(prefix, pb, pnb):
            ob, onb = nxt.get(prefix, (-math.inf, -math.inf))
            nxt[prefix] = (logaddexp(ob, pb), logaddexp(onb, pnb))

        for prefix, (pb, pnb) in beams.items():
            ptotal = logaddexp(pb, pnb)
            add(prefix, ptotal + row[blank], -math.inf)          # blank: prefix unchanged
            last = prefix[-1] if prefix else None
            for c in candidates:
                p = row[c]
                if c == last:
                    add(prefix, -math.inf, pnb + p)              # repeat without blank: merged
                    add(prefix + (c,), -math.inf, pb + p)        # repeat after a blank: new label
                else:
                    new = prefix + (c,)
                    if lexicon is not None and c != space:
                        w, _ = word_of(new)
                        if w not in prefixes_ok:
                            continue
                    add(new, -math.inf, ptotal + p)
        # rank by acoustic probability plus the word-level score of completed words
        ranked = sorted(nxt.items(), key=lambda kv: -(logaddexp(*kv[1]) + word_score(kv[0], False)))
        beams = dict(ranked[:beam_width])

    hyps = []
    for prefix, (pb, pnb) in beams.items():
        lpx = float(logaddexp(pb, pnb))
        hyps.append(BeamHypothesis(tuple(prefix), lpx, lpx + word_score(prefix, True)))
    hyps.sort(key=lambda h: -h.score)
    if n_best == 1:
        return list(hyps[0].labels)
    return hyps[:n_best]


# --------------------------------------------------------------------------- CTC prefix scores

class CTCPrefixScorer:
    """CTC prefix probabilities for joint CTC/attention decoding (Watanabe et al. 2017, Algorithm 2).

    Notebook: 06_transformer_asr.ipynb

    An attention decoder extends a prefix ``g`` one token at a time; the CTC head can
    say how likely each extension is *as a prefix*:

    ``psi(g + c) = sum over every frame path whose collapsed labels start with g + c``
    of ``prod_t p_t(path_t)``, and for the end token ``psi(g + </s>) = P_ctc(g | x)``,
    the probability of exactly ``g``.

    The state of a prefix is two forward variables over frames, ``r_n[t]`` and
    ``r_b[t]`` (``log P`` that frames ``1..t`` spell ``g`` ending in a label /
    in a blank); extending it costs one pass over the frames, vectorised over the
    candidate tokens. A decoder that loops ("one two one two ...") or stops early
    gets a CTC prefix probability near zero, which the joint score
    ``(1 - w) log P_att + w log psi`` punishes during the search, not only at the end.
    Equal to brute-force enumeration of every frame path on tiny inputs (``tests/test_ctc.py``).

    Parameters
    ----------
    log_probs : np.ndarray [shape=(T, n_classes)]
        One utterance's CTC log-probabilities.
    blank : int
    """

    def __init__(self, log_probs, *, blank: int = 0):
        self.x = _check_log_probs(log_probs)
        self.blank = _check_blank(blank, self.x.shape[1])
        self.T = self.x.shape[0]

    def initial_state(self):
        """The empty prefix: ``(r_n, r_b)``, each ``(T,)``; only blanks so far."""
        return np.full(self.T, _NEG_INF), np.cumsum(self.x[:, self.blank])

    def extend(self, state, last, candidates):
        """Prefix scores of ``g + c`` for each ``c`` in ``candidates`` (ids, none the blank).

        ``state`` is ``g``'s ``(r_n, r_b)``, ``last`` its last id (``None`` for the empty prefix).
        Returns ``(psi (n_c,), states)``, ``states[k]`` the state of ``g + candidates[k]``.
        """
        c = np.asarray(candidates, dtype=int)
        if np.any(c == self.blank):
            raise ParameterError("candidates must not contain the blank")
        r_n_g, r_b_g = state
        x = self.x[:, c]                                              # (T, n_c)
        # Phi[t]: g spelt by frame t and ready for a new label c at t + 1: a repeated label
        # (c == last) needs a blank in between, so only r_b counts then.
        phi = np.where((c == last)[None, :] if last is not None else False,
                       r_b_g[:, None], np.logaddexp(r_n_g, r_b_g)[:, None])   # (T, n_c)
        r_n = np.full((self.T, len(c)), _NEG_INF)
        r_b = np.full((self.T, len(c)), _NEG_INF)
        if last is None:                                              # g empty: c may start at frame 1
            r_n[0] = x[0]
        psi = r_n[0].copy()
        for t in range(1, self.T):
            r_n[t] = np.logaddexp(r_n[t - 1], phi[t - 1]) + x[t]
            r_b[t] = np.logaddexp(r_b[t - 1], r_n[t - 1]) + self.x[t, self.blank]
            psi = np.logaddexp(psi, phi[t - 1] + x[t])
        return psi, [(r_n[:, k], r_b[:, k]) for k in range(len(c))]

    def final(self, state) -> float:
        """``log P_ctc(g | x)``: the prefix ``g`` is the whole transcript (the end token's score)."""
        r_n, r_b = state
        return float(np.logaddexp(r_n[-1], r_b[-1]))

