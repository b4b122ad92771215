"""Speaker recognition: identification and verification, a GMM-UBM with MAP-adapted means,
a small x-vector network, and the metrics of the field (EER, minDCF, DET curve).

Notebook: 13_speaker_recognition.ipynb

A pipeline, top to bottom::

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> target, nontarget = rng.normal(2, 1, 500), rng.normal(0, 1, 5000)
    >>> scores = np.concatenate([target, nontarget])
    >>> labels = np.concatenate([np.ones(500), np.zeros(5000)])
    >>> r = eer(scores, labels)                  # equal error rate and its threshold
    >>> 0.10 < r.eer < 0.20
    True
    >>> net = XVector(XVectorConfig(n_speakers=5))
    >>> net.infer(torch.zeros(3, 30, 100)).shape   # (batch, n_feats, time) -> (batch, embed_dim)
    torch.Size([3, 64])

The corpus's voices are **synthetic** (espeak-ng and flite): they differ more
cleanly than people do and never have a cold, a new phone or a noisy room, so
the numbers here are far better than on real speech (VoxCeleb, where the same
recipes give EERs of 1-10 %). Speaker recognition is biometric processing of
personal data: it must not be used on people who have not agreed to it.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .errors import ParameterError
from .validation import check_sr, valid_audio

__all__ = ["SPEAKER_FEATURES", "features", "segments", "EERResult", "eer", "det_curve", "min_dcf",
           "GMMUBM", "map_adapt_means", "XVectorConfig", "XVector", "stats_pool", "AMSoftmax",
           "cosine_scores", "cosine_matrix", "trials", "eer_per_voice", "as_norm", "length_norm", "whitener",
           "PLDA", "fuse_scores", "average_scores"]

#: The front end of :func:`features`: 30 MFCCs (c0 dropped) from 40 mel bands, 25 ms / 10 ms.
SPEAKER_FEATURES = dict(n_mfcc=30, n_mels=40, n_fft=512, win_length=400, hop_length=160, fmin=20.0, fmax=7600.0)


def features(y, *, sr: int, cmn: bool = True) -> np.ndarray:
    """MFCCs 1-30 (no c0: level says nothing about who speaks) at 10 ms: (30, n_frames), float32.

    With ``cmn`` the mean over the segment is removed per coefficient (cepstral mean
    normalisation: a fixed channel filter cancels out).
    """
    import librosa

    valid_audio(y, mono=True)
    sr = check_sr(sr)
    if sr != 16000:
        y = librosa.resample(np.asarray(y, dtype=np.float32), orig_sr=sr, target_sr=16000)
    f = SPEAKER_FEATURES
    M = librosa.feature.mfcc(y=np.asarray(y, dtype=np.float32), sr=16000, n_mfcc=f["n_mfcc"] + 1, n_mels=f["n_mels"],
                             n_fft=f["n_fft"], win_length=f["win_length"], hop_length=f["hop_length"],
                             fmin=f["fmin"], fmax=f["fmax"])[1:]
    if cmn:
        M = M - M.mean(axis=1, keepdims=True)
    return M.astype(np.float32)


def segments(clips, *, seconds: float = 1.0, margin: float = 0.02) -> list[np.ndarray]:
    """Cut the speech of ``clips`` (by their ``speech_start`` / ``speech_end``) into segments of ``seconds``.

    The speech spans of all clips are joined in order, then cut without overlap; the last
    piece shorter than ``seconds`` is dropped. Every segment has ``round(seconds * sr)`` samples.
    """
    if not clips:
        return []
    sr = clips[0].sr
    n = int(round(seconds * sr))
    parts = []
    for c in clips:
        a = c.annotations or {}
        s = max(0, int((float(a.get("speech_start", 0.0)) - margin) * sr))
        e = min(len(c.audio), int((float(a.get("speech_end", len(c.audio) / sr)) + margin) * sr))
        parts.append(np.asarray(c.audio[s:e], dtype=np.float32))
    stream = np.concatenate(parts)
    return [stream[i:i + n] for i in range(0, len(stream) - n + 1, n)]


# --------------------------------------------------------------------------- metrics

class EERResult(NamedTuple):
    """Equal error rate: ``eer`` (where miss and false-alarm rates cross) and the ``threshold``."""

    eer: float
    threshold: float


def _check_trials(scores, labels):
    s = np.asarray(scores, dtype=np.float64)
    lab = np.asarray(labels)
    if s.ndim != 1 or lab.shape != s.shape:
        raise ParameterError(f"scores {s.shape} and labels {lab.shape} must be 1-D and of the same length")
    lab = lab.astype(bool)
    if lab.all() or not lab.any():
        raise ParameterError("labels need both target (1) and non-target (0) trials")
    return s, lab


def det_curve(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Miss and false-alarm rates at every threshold (accept when ``score >= threshold``).

    Returns
    -------
    p_miss, p_fa, thresholds : np.ndarray [shape=(n_unique + 1,)]
        ``thresholds`` ascending: the unique scores, then ``+inf`` (accept nothing).
        ``p_miss`` rises from 0 to 1, ``p_fa`` falls from 1 to 0. Plot them on normal-deviate
        axes (``scipy.stats.norm.ppf``) for the DET curve.
    """
    s, lab = _check_trials(scores, labels)
    order = np.argsort(s, kind="mergesort")
    s, lab = s[order], lab[order]
    # rejected at threshold s_k: the items with score < s_k
    n_t, n_n = lab.sum(), (~lab).sum()
    uniq, first = np.unique(s, return_index=True)
    cum_t = np.concatenate([[0], np.cumsum(lab)])
    cum_n = np.concatenate([[0], np.cumsum(~lab)])
    idx = np.concatenate([first, [len(s)]])
    p_miss = cum_t[idx] / n_t
    p_fa = 1.0 - cum_n[idx] / n_n
    return p_miss, p_fa, np.concatenate([uniq, [np.inf]])


def eer(scores, labels) -> EERResult:
    """Equal error rate: the operating point where miss and false-alarm rates are equal.

    On the finite trial set the two rates are step functions; at the threshold where
    they cross the EER is the mean of ``p_miss`` and ``p_fa`` at the step where
    ``|p_miss - p_fa|`` is smallest (the convention of a brute-force threshold sweep).

    Examples
    --------
    >>> r = eer([0.9, 0.8, 0.3, 0.4, 0.1], [1, 1, 1, 0, 0])   # at 0.4: miss 1/3, false alarm 1/2
    >>> round(r.eer, 4), r.threshold
    (0.4167, 0.4)
    """
    p_miss, p_fa, th = det_curve(scores, labels)
    k = int(np.argmin(np.abs(p_miss - p_fa)))
    return EERResult(float((p_miss[k] + p_fa[k]) / 2), float(th[k]))


def min_dcf(scores, labels, *, p_target: float = 0.01, c_miss: float = 1.0, c_fa: float = 1.0) -> float:
    """Minimum normalised detection cost (NIST SRE):
    ``min over thresholds of (c_miss p_target P_miss + c_fa (1 - p_target) P_fa) / min(c_miss p_target, c_fa (1 - p_target))``.

    1.0 means no better than always accepting or always rejecting.

    >>> min_dcf([0.9, 0.8, 0.1, 0.2], [1, 1, 0, 0])
    0.0
    """
    if not 0 < p_target < 1:
        raise ParameterError(f"p_target={p_target!r} must be in (0, 1)")
    p_miss, p_fa, _ = det_curve(scores, labels)
    cost = c_miss * p_target * p_miss + c_fa * (1 - p_target) * p_fa
    return float(cost.min() / min(c_miss * p_target, c_fa * (1 - p_target)))


def trials(n_per_speaker) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``i < j`` of items: ``(i, j, same_speaker)`` for item speaker ids ``n_per_speaker``.

    ``n_per_speaker`` is the speaker label of each item.
    """
    spk = np.asarray(n_per_speaker)
    i, j = np.triu_indices(len(spk), k=1)
    return i, j, spk[i] == spk[j]


def eer_per_voice(scores, same, labels, i, j) -> dict:
    """EER of the trials each voice takes part in: ``{voice: eer}``, sorted by voice.

    ``scores`` and ``same`` are per trial, ``labels`` per item and ``i``, ``j`` the items of each
    trial, as :func:`trials` returns them; a voice's trials are those with it on either side.
    """
    labels, scores, same = np.asarray(labels), np.asarray(scores), np.asarray(same)
    out = {}
    for v in sorted(set(labels.tolist())):
        m = (labels[i] == v) | (labels[j] == v)
        out[v] = eer(scores[m], same[m]).eer
    return out


def _unit_rows(X: np.ndarray) -> np.ndarray:
    """Each row (last axis) scaled to length 1 (an all-zero row stays zero)."""
    return X / np.maximum(np.linalg.norm(X, axis=-1, keepdims=True), 1e-12)


def cosine_scores(emb_a, emb_b) -> np.ndarray:
    """Row-wise cosine similarity of two (n, d) arrays: (n,)."""
    a = np.asarray(emb_a, dtype=np.float64)
    b = np.asarray(emb_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ParameterError(f"embeddings {a.shape} and {b.shape} must have the same shape")
    return np.sum(_unit_rows(a) * _unit_rows(b), axis=-1)


def as_norm(scores, i, j, cohort_i, cohort_j=None, *, top_n: int | None = None) -> np.ndarray:
    """Adaptive symmetric score normalisation (AS-norm; Matejka et al. 2017) of verification trials.

    Notebook: 13_speaker_recognition.ipynb

    A raw score means different things for different voices: a voice that sounds like many others
    gets high scores from everyone. Each side of a trial is measured against a **cohort** of other
    speakers (here: training voices, never the test voices): trial ``k`` between items ``a = i[k]``
    and ``b = j[k]`` becomes

        s' = ((s - mu_a) / sd_a + (s - mu_b) / sd_b) / 2,

    where ``mu_a``, ``sd_a`` are the mean and standard deviation of item ``a``'s scores against the
    cohort (Z-norm of the enrolment side) and ``mu_b``, ``sd_b`` those of ``b`` (T-norm of the test
    side). *Adaptive*: with ``top_n``, only each item's ``top_n`` highest cohort scores count (the
    cohort speakers most like it, the impostors that matter); ``None`` uses the whole cohort (S-norm).

    Parameters
    ----------
    scores : np.ndarray [shape=(n_trials,)]
    i, j : np.ndarray [shape=(n_trials,)], int
        The two items of each trial (as :func:`trials` returns them).
    cohort_i : np.ndarray [shape=(n_items, n_cohort)]
        Each item's scores against the cohort, as the enrolment side (e.g. its model scoring every
        cohort segment).
    cohort_j : np.ndarray [shape=(n_items, n_cohort)], optional
        The same as the test side (every cohort model scoring the item); default ``cohort_i``, right
        for symmetric scores such as the cosine.
    top_n : int, optional

    Returns
    -------
    np.ndarray [shape=(n_trials,)]
    """
    s = np.asarray(scores, dtype=np.float64)
    i, j = np.asarray(i), np.asarray(j)
    ci = np.asarray(cohort_i, dtype=np.float64)
    cj = ci if cohort_j is None else np.asarray(cohort_j, dtype=np.float64)
    if s.ndim != 1 or i.shape != s.shape or j.shape != s.shape:
        raise ParameterError(f"scores {s.shape}, i {i.shape} and j {j.shape} must be 1-D, one entry per trial")
    if ci.ndim != 2 or cj.shape != ci.shape or ci.shape[1] < 2:
        raise ParameterError(f"cohort scores {ci.shape} and {cj.shape} must both be (n_items, n_cohort >= 2)")
    if len(s) and (i.min() < 0 or j.min() < 0 or max(i.max(), j.max()) >= len(ci)):
        raise ParameterError(f"trial items must index the {len(ci)} rows of the cohort scores")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(ci)) and np.all(np.isfinite(cj))):
        raise ParameterError("scores and cohort scores must be finite (no NaN or inf)")
    n = ci.shape[1]
    if top_n is not None:
        if isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer)) or not 2 <= top_n <= n:
            raise ParameterError(f"top_n={top_n!r} must be an integer from 2 to the cohort size {n}, or None")
        ci = -np.partition(-ci, top_n - 1, axis=1)[:, :top_n]          # each row's top_n highest
        cj = ci if cohort_j is None else -np.partition(-cj, top_n - 1, axis=1)[:, :top_n]
    mu_i, sd_i = ci.mean(axis=1), np.maximum(ci.std(axis=1), 1e-12)
    mu_j, sd_j = cj.mean(axis=1), np.maximum(cj.std(axis=1), 1e-12)
    return 0.5 * ((s - mu_i[i]) / sd_i[i] + (s - mu_j[j]) / sd_j[j])


def cosine_matrix(emb_a, emb_b) -> np.ndarray:
    """Cosine similarity of every row of ``emb_a`` (n, d) with every row of ``emb_b`` (m, d): (n, m).

    The cohort scores :func:`as_norm` needs for cosine scoring (``cosine_matrix(E, E_cohort)``);
    entry ``[a, c]`` equals ``cosine_scores(emb_a[a], emb_b[c])``.
    """
    a = np.asarray(emb_a, dtype=np.float64)
    b = np.asarray(emb_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ParameterError(f"embeddings {a.shape} and {b.shape} must be (n, d) and (m, d) with the same d")
    return _unit_rows(a) @ _unit_rows(b).T


def length_norm(X, *, mean=None, whiten=None) -> np.ndarray:
    """Length normalisation of embeddings (Garcia-Romero & Espy-Wilson 2011): centre (by ``mean``),
    whiten (by the matrix ``whiten``, ``x -> whiten @ x``), then scale each row to length ``sqrt(d)``.

    PLDA assumes Gaussian embeddings; network embeddings are heavy-tailed (their length varies with
    the segment's content and quality), and projecting them onto a sphere makes the Gaussian model fit.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.all(np.isfinite(X)):
        raise ParameterError(f"embeddings must be a finite (n, d) array, got shape {X.shape}")
    if mean is not None:
        X = X - np.asarray(mean, dtype=np.float64)
    if whiten is not None:
        X = X @ np.asarray(whiten, dtype=np.float64).T
    return _unit_rows(X) * np.sqrt(X.shape[1])


def whitener(X) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, whiten)`` of embeddings ``X`` (n, d) for :func:`length_norm`: after ``x -> whiten @ (x - mean)``
    the rows of ``X`` have the identity covariance (eigen-decomposition; directions of variance below 1e-10
    are scaled as if they had 1e-10)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2 or not np.all(np.isfinite(X)):
        raise ParameterError(f"embeddings must be a finite (n >= 2, d) array, got shape {X.shape}")
    mean = X.mean(axis=0)
    ev, U = np.linalg.eigh(np.cov((X - mean).T).reshape(X.shape[1], X.shape[1]))
    return mean, (U / np.sqrt(np.maximum(ev, 1e-10))).T


class PLDA:
    """Two-covariance probabilistic linear discriminant analysis (Ioffe 2006; Sizov et al. 2014), the
    back end of Kaldi's x-vector recipe.

    Notebook: 13_speaker_recognition.ipynb

    Every embedding of speaker ``s`` is ``x = m + y_s + e``: a speaker's point ``y_s ~ N(0, B)`` (the
    between-speaker covariance) plus a within-speaker deviation ``e ~ N(0, W)``, independent per
    segment. :meth:`fit` estimates ``m``, ``B`` and ``W`` by EM from labelled training embeddings
    (started from the scatter matrices); :meth:`score` is the log-likelihood ratio of a trial,

        log N([x1; x2]; 0, [[T, B], [B, T]]) - log N([x1; x2]; 0, [[T, 0], [0, T]]),   T = B + W,

    "the two share one ``y``" against "each has its own", in closed form:
    ``x1' Q x1 / 2 + x2' Q x2 / 2 + x1' P x2 + c``, with ``A = (T - B T^-1 B)^-1``,
    ``Q = T^-1 - A``, ``P = T^-1 B A``. Unlike the cosine, it knows which directions vary between
    speakers and which within one, and it is a calibrated log-likelihood ratio (up to the model's fit).

    Parameters
    ----------
    n_iter : int
        EM iterations (10; the first already moves most of the way from the scatter estimate).
    """

    def __init__(self, *, n_iter: int = 10):
        if isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 0:
            raise ParameterError(f"n_iter={n_iter!r} must be a non-negative integer")
        self.n_iter = n_iter
        self.mean = self.between = self.within = None
        self.log_likelihoods_: list[float] = []

    def fit(self, X, labels) -> "PLDA":
        """Estimate ``mean``, ``between`` (B) and ``within`` (W) from embeddings ``X`` (n, d) of the
        speakers ``labels`` (n,): at least two speakers, one with two or more embeddings, and more
        embeddings than dimensions. ``log_likelihoods_`` records the training data's marginal
        log-likelihood before each EM step (it never decreases)."""
        X = np.asarray(X, dtype=np.float64)
        labels = np.asarray(labels)
        if X.ndim != 2 or len(X) != len(labels) or not np.all(np.isfinite(X)):
            raise ParameterError(f"X {X.shape} must be a finite (n, d) array with one label per row ({labels.shape})")
        speakers, inv = np.unique(labels, return_inverse=True)
        counts = np.bincount(inv)
        n, d = X.shape
        if len(speakers) < 2 or counts.max() < 2 or n - len(speakers) < d:
            raise ParameterError(f"{n} embeddings of {len(speakers)} speakers in {d} dimensions: PLDA needs >= 2 "
                                 f"speakers, one with >= 2 embeddings, and n - n_speakers >= d (reduce the "
                                 f"dimension first, e.g. with an LDA)")
        self.mean = X.mean(axis=0)
        Xc = X - self.mean
        sums = np.zeros((len(speakers), d))
        np.add.at(sums, inv, Xc)
        means = sums / counts[:, None]
        dev = Xc - means[inv]
        W = dev.T @ dev / (n - len(speakers))
        floor = 1e-6 * max(float(np.trace(W)) / d, 1e-12) * np.eye(d)   # keeps W and B invertible when the
        W, B = W + floor, np.cov(means.T, bias=True) + floor           # embeddings fill only a subspace
        S = Xc.T @ Xc
        self.log_likelihoods_ = []
        for _ in range(self.n_iter):
            self.log_likelihoods_.append(self._marginal_loglik(Xc, inv, counts, sums, B, W))
            Bi, Wi = np.linalg.inv(B), np.linalg.inv(W)
            Ey = np.zeros((len(speakers), d))
            Eyy = np.zeros((d, d))             # sum over speakers of E[y y']
            nEyy = np.zeros((d, d))            # sum over speakers of n_s E[y y']
            for k, (n_s, f_s) in enumerate(zip(counts, sums)):
                cov = np.linalg.inv(Bi + n_s * Wi)      # posterior of y_s given its n_s embeddings
                Ey[k] = cov @ (Wi @ f_s)
                yy = cov + np.outer(Ey[k], Ey[k])
                Eyy += yy
                nEyy += n_s * yy
            B = Eyy / len(speakers)
            cross = sums.T @ Ey                # sum_i x_i E[y_s(i)]'
            W = (S - cross - cross.T + nEyy) / n
            B, W = (B + B.T) / 2 + floor, (W + W.T) / 2 + floor
        self.between, self.within = B, W
        T = B + W
        Ti = np.linalg.inv(T)
        A = np.linalg.inv(T - B @ Ti @ B)
        self._Q, self._P = Ti - A, Ti @ B @ A
        big = np.block([[T, B], [B, T]])
        self._c = 0.5 * (2 * np.linalg.slogdet(T)[1] - np.linalg.slogdet(big)[1])
        return self

    @staticmethod
    def _marginal_loglik(Xc, inv, counts, sums, B, W) -> float:
        """log p(X) with each speaker's y integrated out (per speaker: the within part
        on deviations from the speaker mean, the between part on the mean)."""
        d = Xc.shape[1]
        Wi = np.linalg.inv(W)
        means = sums / counts[:, None]
        dev = Xc - means[inv]
        _, ldW = np.linalg.slogdet(W)
        ll = -0.5 * np.sum((dev @ Wi) * dev) - 0.5 * (len(Xc) - len(counts)) * (d * math.log(2 * math.pi) + ldW)
        for n_s, mu in zip(counts, means):
            C = B + W / n_s
            _, ldC = np.linalg.slogdet(C)
            ll += -0.5 * (mu @ np.linalg.solve(C, mu) + d * math.log(2 * math.pi) + ldC) - 0.5 * d * math.log(n_s)
        return float(ll)

    def _centred(self, X1, X2) -> tuple[np.ndarray, np.ndarray]:
        """Both sides of the trials, the training mean removed; refuses an untrained model or a wrong width."""
        if self.between is None:
            raise ParameterError("the PLDA is not trained yet: call fit(X, labels) first")
        a = np.asarray(X1, dtype=np.float64) - self.mean
        b = np.asarray(X2, dtype=np.float64) - self.mean
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != len(self.mean) or b.shape[1] != len(self.mean):
            raise ParameterError(f"embeddings {a.shape} and {b.shape} must be (n, {len(self.mean)}) and (m, {len(self.mean)})")
        return a, b

    def _self_term(self, a) -> np.ndarray:
        return 0.5 * np.sum((a @ self._Q) * a, axis=1)

    def score(self, X1, X2) -> np.ndarray:
        """Log-likelihood ratio "same speaker" / "different speakers" of each row pair: (n,)."""
        a, b = self._centred(X1, X2)
        if a.shape != b.shape:
            raise ParameterError(f"embeddings {a.shape} and {b.shape} must both be (n, {len(self.mean)})")
        return self._self_term(a) + self._self_term(b) + np.sum((a @ self._P) * b, axis=1) + self._c

    def score_matrix(self, X1, X2) -> np.ndarray:
        """:meth:`score` of every row of ``X1`` (n, d) with every row of ``X2`` (m, d): (n, m)."""
        a, b = self._centred(X1, X2)
        return self._self_term(a)[:, None] + self._self_term(b)[None, :] + (a @ self._P) @ b.T + self._c


def fuse_scores(train_scores, train_same, scores, *, p_target: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Linear score fusion by logistic regression (Brümmer's FoCal recipe): weights ``w`` and offset
    ``b`` fitted on labelled development trials, then ``w . s + b`` for new trials.

    Parameters
    ----------
    train_scores : array [shape=(n_trials, n_systems)]
        Each system's score of each development trial (e.g. the valid voices' trials).
    train_same : array [shape=(n_trials,)], bool
    scores : array [shape=(m_trials, n_systems)]
        The trials to fuse (e.g. the test voices'), the systems in the same order.
    p_target : float
        The target prior the fusion is trained for: target and non-target trials are weighted to
        ``p_target : 1 - p_target`` whatever their counts (0.5: the EER's operating point).

    Returns
    -------
    (fused scores (m_trials,), coefficients (n_systems + 1,): the weights, then the offset)
    """
    from sklearn.linear_model import LogisticRegression

    Xtr = np.asarray(train_scores, dtype=np.float64)
    X = np.asarray(scores, dtype=np.float64)
    y = np.asarray(train_same).astype(bool)
    if Xtr.ndim != 2 or X.ndim != 2 or Xtr.shape[1] != X.shape[1] or len(y) != len(Xtr):
        raise ParameterError(f"train_scores {Xtr.shape}, train_same {y.shape} and scores {X.shape} must be "
                             f"(n, k), (n,) and (m, k): one column per system, in the same order")
    if not (np.all(np.isfinite(Xtr)) and np.all(np.isfinite(X))):
        raise ParameterError("scores must be finite (no NaN or inf)")
    if y.all() or not y.any():
        raise ParameterError("the development trials need both target and non-target trials")
    if not 0 < p_target < 1:
        raise ParameterError(f"p_target={p_target!r} must be in (0, 1)")
    mu, sd = Xtr.mean(axis=0), np.maximum(Xtr.std(axis=0), 1e-12)   # scale for the solver only
    weight = np.where(y, p_target / y.sum(), (1 - p_target) / (~y).sum()) * len(y)
    lr = LogisticRegression(C=1e6, max_iter=1000).fit((Xtr - mu) / sd, y, sample_weight=weight)
    w = lr.coef_[0] / sd
    b = float(lr.intercept_[0] - np.sum(lr.coef_[0] * mu / sd))
    return X @ w + b, np.concatenate([w, [b]])


def average_scores(dev_scores, scores) -> np.ndarray:
    """Equal-weight fusion of several systems (e.g. an ensemble of networks trained alike): each
    system's scores standardised by the mean and standard deviation of **its own** development-trial
    scores, then averaged.

    Scores of different systems live on different scales (a PLDA log-likelihood ratio, a cosine);
    averaging them raw lets the widest-spread system decide. Standardising by the development
    trials (e.g. the valid voices', never the test trials) puts them on one scale without fitting
    a weight per system, which :func:`fuse_scores` does and which over-fits when many systems all
    but separate the few development trials. The result does not change when one system's scores
    are multiplied by a positive number or shifted.

    Parameters
    ----------
    dev_scores : array [shape=(n_trials, n_systems)]
        Each system's score of each development trial.
    scores : array [shape=(m_trials, n_systems)]
        The trials to combine, the systems in the same order.

    Returns
    -------
    np.ndarray [shape=(m_trials,)]
    """
    D = np.asarray(dev_scores, dtype=np.float64)
    X = np.asarray(scores, dtype=np.float64)
    if D.ndim != 2 or X.ndim != 2 or D.shape[1] != X.shape[1] or len(D) < 2:
        raise ParameterError(f"dev_scores {D.shape} and scores {X.shape} must be (n >= 2, k) and (m, k): "
                             f"one column per system, in the same order")
    if not (np.all(np.isfinite(D)) and np.all(np.isfinite(X))):
        raise ParameterError("scores must be finite (no NaN or inf)")
    sd = D.std(axis=0)
    if np.any(sd <= 0):
        raise ParameterError(f"system(s) {np.flatnonzero(sd <= 0).tolist()} give every development trial "
                             f"the same score: nothing to standardise by")
    return np.mean((X - D.mean(axis=0)) / sd, axis=1)


# --------------------------------------------------------------------------- GMM-UBM

def _diag_loglik(X, weights, means, variances):
    """Per-frame, per-component log(w_c N(x; mu_c, diag var_c)): (n_frames, n_components)."""
    X = np.asarray(X, dtype=np.float64)
    prec = 1.0 / variances
    ll = (-0.5 * (np.sum(np.log(2 * np.pi * variances), axis=1)[None, :]
                  + (X ** 2) @ prec.T - 2 * X @ (means * prec).T + np.sum(means ** 2 * prec, axis=1)[None, :]))
    return ll + np.log(weights)[None, :]


def _logsumexp(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return (m + np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))).squeeze(axis)


def map_adapt_means(X, weights, means, variances, *, relevance: float = 16.0) -> np.ndarray:
    """MAP adaptation of a GMM's means to data ``X`` (Reynolds, Quatieri & Dunn 2000).

    With posteriors ``gamma[t, c]``, counts ``n_c = sum_t gamma[t, c]`` and first moments
    ``E_c = sum_t gamma[t, c] x_t / n_c``::

        alpha_c = n_c / (n_c + relevance)
        mu_c'   = alpha_c E_c + (1 - alpha_c) mu_c

    Parameters
    ----------
    X : np.ndarray [shape=(n_frames, dim)]
    weights : np.ndarray [shape=(n_components,)]
    means, variances : np.ndarray [shape=(n_components, dim)]

    Returns
    -------
    np.ndarray [shape=(n_components, dim)]
    """
    ll = _diag_loglik(X, weights, means, variances)
    gamma = np.exp(ll - _logsumexp(ll, axis=1)[:, None])          # (n_frames, n_components)
    n = gamma.sum(axis=0)                                          # (n_components,)
    E = (gamma.T @ np.asarray(X, dtype=np.float64)) / np.maximum(n, 1e-10)[:, None]
    alpha = (n / (n + relevance))[:, None]
    return alpha * E + (1 - alpha) * means


class GMMUBM:
    """The classical speaker model: a universal background model (diagonal GMM on frames of
    many speakers), speaker models by MAP-adapting its means, scores as average per-frame
    log-likelihood ratios ``log p(X | speaker) - log p(X | UBM)``.

    Notebook: 13_speaker_recognition.ipynb

    Parameters
    ----------
    n_components : int
    relevance : float
        MAP relevance factor (16 in the classical recipe).
    seed : int
    """

    def __init__(self, n_components: int = 64, *, relevance: float = 16.0, seed: int = 0):
        if isinstance(n_components, bool) or not isinstance(n_components, int) or n_components < 1:
            raise ParameterError(f"n_components={n_components!r} must be a positive integer")
        if relevance <= 0:
            raise ParameterError(f"relevance={relevance!r} must be positive")
        self.n_components, self.relevance, self.seed = n_components, float(relevance), seed
        self.weights = self.means = self.variances = None

    def fit(self, frames, *, max_iter: int = 50) -> "GMMUBM":
        """Train the UBM by EM (scikit-learn) on ``frames`` (n_frames, dim) pooled over speakers."""
        from sklearn.mixture import GaussianMixture

        g = GaussianMixture(self.n_components, covariance_type="diag", max_iter=max_iter, reg_covar=1e-3,
                            random_state=self.seed).fit(np.asarray(frames, dtype=np.float64))
        self.weights, self.means, self.variances = g.weights_, g.means_, g.covariances_
        return self

    def _check(self):
        if self.means is None:
            raise ParameterError("the UBM is not trained yet: call fit(frames) first")

    def loglik(self, X, means=None) -> float:
        """Average per-frame log-likelihood of ``X`` (n_frames, dim) under the UBM or adapted ``means``."""
        self._check()
        ll = _diag_loglik(X, self.weights, self.means if means is None else means, self.variances)
        return float(np.mean(_logsumexp(ll, axis=1)))

    def enroll(self, X) -> np.ndarray:
        """A speaker model: the UBM's means MAP-adapted to ``X`` (n_frames, dim)."""
        self._check()
        return map_adapt_means(X, self.weights, self.means, self.variances, relevance=self.relevance)

    def score(self, model_means, X) -> float:
        """Average per-frame log-likelihood ratio of ``X`` for a speaker model against the UBM."""
        return self.loglik(X, model_means) - self.loglik(X)

    def trial_scores(self, segments, i, j, *, progress: bool = False) -> np.ndarray:
        """Verification scores of trials ``(i[k], j[k])`` among ``segments`` (each ``(n_frames, dim)``):
        :meth:`score` of segment ``j[k]`` against the model enrolled on segment ``i[k]``. Each segment
        is enrolled and scored under the UBM once, not once per trial."""
        from tqdm.auto import tqdm

        segments = list(segments)
        enrolled = [self.enroll(X) for X in tqdm(segments, desc="enrol", leave=False, disable=not progress)]
        ubm_ll = np.array([self.loglik(X) for X in segments])
        pairs = tqdm(zip(i, j), total=len(i), desc="score", leave=False, disable=not progress)
        return np.array([self.loglik(segments[b], enrolled[a]) - ubm_ll[b] for a, b in pairs])

    def cohort_scores(self, segments, cohort, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Every segment against a cohort of other speakers' segments, for :func:`as_norm`: ``(as_enrolment,
        as_test)``, each ``(len(segments), len(cohort))``. ``as_enrolment[a, c]``: the model enrolled on
        segment ``a`` scoring cohort segment ``c``; ``as_test[a, c]``: the model enrolled on ``c`` scoring
        segment ``a`` -- the two roles a segment plays in :meth:`trial_scores`."""
        from tqdm.auto import tqdm

        segments, cohort = list(segments), list(cohort)
        if not segments or len(cohort) < 2:
            raise ParameterError(f"{len(segments)} segments and a cohort of {len(cohort)}: need >= 1 and >= 2")
        seg_models = [self.enroll(X) for X in tqdm(segments, desc="enrol", leave=False, disable=not progress)]
        coh_models = [self.enroll(X) for X in cohort]
        seg_ubm = np.array([self.loglik(X) for X in segments])
        coh_ubm = np.array([self.loglik(X) for X in cohort])
        as_enrolment = np.array([[self.loglik(C, m) for C in cohort] for m in
                                 tqdm(seg_models, desc="cohort (Z)", leave=False, disable=not progress)]) - coh_ubm
        as_test = np.array([[self.loglik(X, m) for m in coh_models] for X in
                            tqdm(segments, desc="cohort (T)", leave=False, disable=not progress)]) - seg_ubm[:, None]
        return as_enrolment, as_test


# --------------------------------------------------------------------------- x-vector

@dataclass
class XVectorConfig:
    """Settings of :class:`XVector`.

    Attributes
    ----------
    n_speakers : int
        Training speakers (the softmax's classes).
    n_feats : int
        Input features per frame (30 MFCCs).
    channels : int
        Width of the frame-level layers.
    embed_dim : int
        Size of the embedding (the first segment-level layer's output).
    kernel_sizes, dilations : tuple of int
        The frame-level 1-D convolutions (a TDNN): contexts of 5, 3x2, 3x3, 1, 1 frames.
    margin, scale : float
        Additive-margin softmax (``margin = 0``: plain softmax on cosine logits times ``scale``).
    dropout : float
    labels : tuple of str
        The training speakers' names (for :meth:`XVector.predict`); empty or ``n_speakers`` long.
    """

    n_speakers: int = 10
    n_feats: int = 30
    channels: int = 128
    embed_dim: int = 64
    kernel_sizes: tuple = (5, 3, 3, 1)
    dilations: tuple = (1, 2, 3, 1)
    margin: float = 0.2
    scale: float = 30.0
    dropout: float = 0.1
    labels: tuple = ()

    def __post_init__(self):
        for name in ("n_speakers", "n_feats", "channels", "embed_dim"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ParameterError(f"{name}={v!r} must be a positive integer")
        if self.n_speakers < 2:
            raise ParameterError(f"n_speakers={self.n_speakers!r} must be >= 2")
        self.kernel_sizes, self.dilations = tuple(self.kernel_sizes), tuple(self.dilations)
        if len(self.kernel_sizes) != len(self.dilations) or not self.kernel_sizes:
            raise ParameterError(f"kernel_sizes {self.kernel_sizes} and dilations {self.dilations} "
                                 "must be non-empty and of the same length")
        if not 0 <= self.margin < 1:
            raise ParameterError(f"margin={self.margin!r} must be in [0, 1)")
        if self.scale <= 0:
            raise ParameterError(f"scale={self.scale!r} must be positive")
        if not 0 <= self.dropout < 1:
            raise ParameterError(f"dropout={self.dropout!r} must be in [0, 1)")
        self.labels = tuple(str(v) for v in self.labels)
        if self.labels and len(self.labels) != self.n_speakers:
            raise ParameterError(f"labels has {len(self.labels)} names for n_speakers={self.n_speakers}")


def stats_pool(h: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Statistics pooling: mean and standard deviation over time of the valid frames.

    Parameters
    ----------
    h : torch.Tensor [shape=(batch, channels, time)]
    lengths : torch.Tensor [shape=(batch,)], optional
        Valid frames per item (the rest is padding and is ignored).

    Returns
    -------
    torch.Tensor [shape=(batch, 2 * channels)]
        ``[mean, std]``: one vector whatever the segment's length — the seed document's
        ``Linear(channels * time, ...)`` after a flatten fitted a single input length only.
    """
    b, c, t = h.shape
    if lengths is None:
        mask = h.new_ones(b, 1, t)
    else:
        mask = (torch.arange(t, device=h.device)[None, :] < lengths.to(h.device)[:, None]).to(h.dtype)[:, None, :]
    n = mask.sum(dim=2).clamp_min(1.0)                              # (batch, 1)
    mean = (h * mask).sum(dim=2) / n                                # (batch, channels)
    var = (((h - mean[:, :, None]) ** 2) * mask).sum(dim=2) / n
    return torch.cat([mean, torch.sqrt(var.clamp_min(1e-6))], dim=1)


class AMSoftmax(nn.Module):
    """Additive-margin softmax logits: ``scale * (cos(theta_y) - margin)`` for the true class,
    ``scale * cos(theta_j)`` for the others (Wang et al. 2018). Without targets: no margin."""

    def __init__(self, embed_dim: int, n_classes: int, *, margin: float, scale: float):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, embed_dim) * 0.01)
        self.margin, self.scale = margin, scale

    def forward(self, emb: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, embed_dim) -> (batch, n_classes)."""
        cos = nn.functional.normalize(emb, dim=1) @ nn.functional.normalize(self.weight, dim=1).T
        if targets is not None and self.margin > 0:
            cos = cos - self.margin * nn.functional.one_hot(targets, cos.shape[1]).to(cos.dtype)
        return self.scale * cos


class XVector(nn.Module):
    """A small x-vector network (Snyder et al. 2018): frame-level TDNN (dilated 1-D convolutions),
    statistics pooling, segment-level layers; trained to classify the training speakers, used
    for the embedding.

    Notebook: 13_speaker_recognition.ipynb

    ``forward(x, targets)`` gives training logits (with the AM-softmax margin on the true
    class); ``infer(x)`` gives the embedding (batch, embed_dim) to score with cosine similarity.
    """

    Config = XVectorConfig

    def __init__(self, config: XVectorConfig):
        super().__init__()
        if not isinstance(config, XVectorConfig):
            raise ParameterError(f"config must be an XVectorConfig, got {type(config).__name__}")
        self.config = config
        layers, c_in = [], config.n_feats
        for k, d in zip(config.kernel_sizes, config.dilations):
            layers += [nn.Conv1d(c_in, config.channels, k, dilation=d, padding=d * (k - 1) // 2),
                       nn.ReLU(), nn.BatchNorm1d(config.channels)]
            c_in = config.channels
        layers += [nn.Conv1d(c_in, 3 * config.channels, 1), nn.ReLU(), nn.BatchNorm1d(3 * config.channels)]
        self.frame = nn.Sequential(*layers)
        self.segment = nn.Linear(6 * config.channels, config.embed_dim)   # embedding "a"
        self.post = nn.Sequential(nn.ReLU(), nn.BatchNorm1d(config.embed_dim), nn.Dropout(config.dropout),
                                  nn.Linear(config.embed_dim, config.embed_dim), nn.ReLU(),
                                  nn.BatchNorm1d(config.embed_dim))
        self.head = AMSoftmax(config.embed_dim, config.n_speakers, margin=config.margin, scale=config.scale)
        # feature normalisation, set from the training data (set_normalisation) and saved with the weights
        self.register_buffer("feat_mean", torch.zeros(config.n_feats))
        self.register_buffer("feat_std", torch.ones(config.n_feats))

    def set_normalisation(self, x: torch.Tensor) -> None:
        """Per-feature mean and std over (batch, time) of training features ``x`` (batch, n_feats, time)."""
        self.feat_mean.copy_(x.mean(dim=(0, 2)))
        self.feat_std.copy_(x.std(dim=(0, 2)).clamp_min(1e-5))

    def embed(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(batch, n_feats, time) -> (batch, embed_dim), the x-vector (before the non-linearity)."""
        if x.dim() != 3 or x.shape[1] != self.config.n_feats:
            raise ParameterError(f"x must have shape (batch, n_feats={self.config.n_feats}, time), got {tuple(x.shape)}")
        x = (x - self.feat_mean[None, :, None]) / self.feat_std[None, :, None]
        h = self.frame(x)                                   # (batch, 3 * channels, time)
        return self.segment(stats_pool(h, lengths))         # (batch, embed_dim)

    def forward(self, x: torch.Tensor, targets: torch.Tensor | None = None,
                lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Training logits (batch, n_speakers); the margin applies to ``targets``' class."""
        return self.head(self.post(self.embed(x, lengths)), targets)

    @torch.no_grad()
    def infer(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Embeddings in eval mode: (batch, n_feats, time) -> (batch, embed_dim)."""
        was = self.training
        self.eval()
        try:
            return self.embed(x, lengths)
        finally:
            self.train(was)

    @torch.no_grad()
    def predict(self, y, *, sr: int) -> str:
        """Closed-set identification of a raw waveform: the most likely training speaker's name."""
        if not self.config.labels:
            raise ParameterError("this model has no speaker names (config.labels); use infer() for embeddings")
        was = self.training
        self.eval()
        try:
            F = torch.from_numpy(features(y, sr=sr))[None].to(next(self.parameters()).device)
            return self.config.labels[int(self.forward(F).argmax(1)[0])]
        finally:
            self.train(was)

    def embed_audio(self, y, *, sr: int) -> np.ndarray:
        """The embedding of a raw waveform (any sample rate): (embed_dim,)."""
        F = torch.from_numpy(features(y, sr=sr))[None]
        return self.infer(F.to(next(self.parameters()).device))[0].cpu().numpy()


# --------------------------------------------------------------------------- the corpus for this chapter

def is_held_out(clip) -> bool:
    """The takes of a *training* voice kept for identification tests: word take 1, every fourth
    sentence (``nnn % 4 == 0``), every third digit string (``nn % 3 == 2``). Speech from the other
    corpus parts (:data:`EXTRA_KINDS`) is never held out."""
    if clip.kind in EXTRA_KINDS:
        return False
    stem = str(clip.path.stem)
    num = int(stem.rsplit("_", 1)[1])
    kind = clip.path.parts[-3] if len(clip.path.parts) >= 3 else ""
    if kind == "words":
        return num == 1
    if kind == "sentences":
        return num % 4 == 0
    return num % 3 == 2


EXTRA_KINDS = ("styled", "tts", "ml_digit")
"""Corpus parts with more speech by some of the speaker corpus's voices, for :func:`voice_segments`'s
``kinds``: the prosody styles (8 training voices), the TTS subset (flite slt) and the multilingual
digits (the same eight espeak-ng variants speaking six languages, filed under their English voice by
:func:`corpus_voice`)."""


def corpus_voice(name: str) -> str:
    """The speaker-corpus voice an espeak-ng voice of the multilingual digits is: the same variant.

    ``"espeak_de_f1"`` -> ``"espeak_en-us_f1"``: espeak-ng builds a voice from a language (the phonemes
    and intonation rules) and a *variant* (pitch, formants, breathiness: the speaker); the speaker corpus
    has each multilingual variant once, in one English accent. A name with no such voice is returned as is.
    """
    parts = name.split("_", 2)
    if len(parts) != 3 or parts[0] != "espeak":
        return name
    table = _variant_voices()
    return table.get(parts[2], name)


@functools.lru_cache(maxsize=1)
def _variant_voices() -> dict:
    from . import data
    by_variant: dict = {}
    for v in data.speakers():
        parts = v.split("_", 2)
        if len(parts) == 3 and parts[0] == "espeak" and not re.search(r"_w\d+$", v):
            by_variant.setdefault(parts[2], []).append(v)
    return {k: vs[0] for k, vs in by_variant.items() if len(vs) == 1}


def voice_segments(split: str, *, seconds: float = 1.0, held_out: bool | None = None,
                   kinds=("word", "sentence", "digit_string"), max_per_voice: int | None = None,
                   progress: bool = False) -> dict:
    """1-second (by default) speech segments per voice of a corpus split: ``{speaker: [segment, ...]}``.

    Parameters
    ----------
    split : {"train", "valid", "test"}
    held_out : bool or None
        For training voices: True keeps only :func:`is_held_out` takes, False only the rest,
        None everything.
    kinds : the corpus parts to draw speech from: "word", "sentence", "digit_string" (the speaker
        corpus), and any of :data:`EXTRA_KINDS` (more speech by some of the same voices).
    max_per_voice : int, optional
        Keep at most this many segments per voice (the first ones).
    """
    from . import data

    loaders = {"word": data.spoken_words, "sentence": data.sentences, "digit_string": data.digit_strings,
               "styled": data.styled_speech, "tts": data.tts_sentences, "ml_digit": data.multilingual_digits}
    bad = set(kinds) - set(loaders)
    if bad:
        raise ParameterError(f"kinds has unknown values {sorted(bad)}; choose from {sorted(loaders)}")
    by_voice: dict = {}
    for k in kinds:
        for c in loaders[k](split=split, check=False):
            if held_out is None or is_held_out(c) == held_out:
                name = corpus_voice(c.speaker) if k == "ml_digit" else c.speaker
                by_voice.setdefault(name, []).append(c)
    out = {}
    items = sorted(by_voice.items())
    if progress:
        from tqdm.auto import tqdm
        items = tqdm(items, desc=f"{split} voices", leave=False)
    for v, cl in items:
        segs = segments(cl, seconds=seconds)
        out[v] = segs[:max_per_voice] if max_per_voice else segs
    return out


def train_xvector(train_feats: dict, *, valid_feats: dict | None = None, channels: int = 64, embed_dim: int = 64,
                  margin: float = 0.2, time_budget: float = 1800.0, chunk_epochs: int = 3, lr: float = 2e-3,
                  batch_size: int = 64, seed: int = 0, schedule: str = "constant", log=print) -> tuple:
    """Train an :class:`XVector` on ``{speaker: [features (n_feats, time), ...]}`` (1-s segments).

    Each batch is cropped to a random 60-100 frames (the same crop for the batch); training
    runs in chunks of ``chunk_epochs`` epochs (:func:`course_lib.train.fit`, one AdamW
    throughout) until ``time_budget`` seconds; after each chunk the EER on ``valid_feats``
    (verification trials between all their segments) picks the weights kept.
    ``schedule="cosine"`` sets each chunk's learning rate to ``lr · (1 + cos(π f)) / 2``, ``f`` the
    fraction of the time budget spent when the chunk starts (from ``lr`` towards 0 at the end of the
    budget); ``"constant"`` (default) keeps ``lr``. The log records each chunk's rate.

    Returns
    -------
    model, log : XVector (best chunk's weights), list of dicts (chunk, seconds, train_loss, valid_eer)
    """
    import copy
    import time

    from . import train as _train

    if schedule not in ("constant", "cosine"):
        raise ParameterError(f"schedule={schedule!r} must be 'constant' or 'cosine'")
    names = sorted(train_feats)
    X = torch.tensor(np.stack([f for v in names for f in train_feats[v]]))          # (n, n_feats, time)
    y = torch.tensor([k for k, v in enumerate(names) for _ in train_feats[v]])
    cfg = XVectorConfig(n_speakers=len(names), n_feats=X.shape[1], channels=channels, embed_dim=embed_dim,
                        margin=margin, labels=tuple(names))
    torch.manual_seed(seed)
    net = XVector(cfg)
    net.set_normalisation(X)
    g = torch.Generator().manual_seed(seed)
    t_max = X.shape[2]

    def step(model, batch):
        xb, yb = batch
        n = int(torch.randint(min(60, t_max), t_max + 1, (1,), generator=g))
        s = int(torch.randint(0, t_max - n + 1, (1,), generator=g))
        out = model(xb[:, :, s:s + n], yb)                                          # (batch, n_speakers)
        return nn.functional.cross_entropy(out, yb), out, yb

    if valid_feats:
        vsegs = [(v, f) for v in sorted(valid_feats) for f in valid_feats[v]]
        vi, vj, vsame = trials(np.array([v for v, _ in vsegs]))
        Xv = torch.tensor(np.stack([f for _, f in vsegs]))
    opt = torch.optim.AdamW(net.parameters(), lr=lr)
    best, best_state, records, t0 = np.inf, None, [], time.time()
    for chunk in range(10_000):
        rate = lr
        if schedule == "cosine":
            rate = lr * (1 + math.cos(math.pi * min(1.0, (time.time() - t0) / time_budget))) / 2
        for group in opt.param_groups:
            group["lr"] = rate
        h = _train.fit(net, (X, y), step_fn=step, optimizer=opt, epochs=chunk_epochs, batch_size=batch_size,
                       seed=seed + chunk, progress=False)
        rec = {"chunk": chunk, "seconds": round(time.time() - t0, 1), "lr": rate,
               "train_loss": float(h["train_loss"][-1])}
        if valid_feats:
            E = net.infer(Xv).numpy()
            rec["valid_eer"] = eer(cosine_scores(E[vi], E[vj]), vsame).eer
            if rec["valid_eer"] <= best:
                best, best_state = rec["valid_eer"], copy.deepcopy(net.state_dict())
        records.append(rec)
        if log:
            log(rec)
        if time.time() - t0 > time_budget:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return net, records
