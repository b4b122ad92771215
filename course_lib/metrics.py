"""Evaluation measures: word and character error rate; signal quality (SNR, segmental
SNR, SI-SDR, PESQ, STOI / ESTOI, log-spectral distance).

Notebook: 05_ctc_asr.ipynb (WER, CER), 09_enhancement.ipynb (SNR, segmental SNR,
SI-SDR, PESQ, STOI), 10_super_resolution.ipynb (LSD)

The error rates follow jiwer 4 exactly (same text normalisation, same
corpus-level pooling), so a learner's numbers match the reference tool:

- words: runs of 2+ whitespace characters become one space, the ends are
  stripped, and the text is split on spaces;
- characters: the ends are stripped and every character counts, spaces
  included;
- over a list of sentence pairs the errors and the reference lengths are
  summed first: ``WER = (S + D + I) / N`` over the whole corpus, not a mean
  of per-sentence rates.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from .errors import ParameterError

__all__ = ["edit_distance", "wer", "cer", "snr", "segmental_snr", "si_sdr", "pesq", "stoi", "lsd"]

_MULTI_SPACE = re.compile(r"\s\s+")


def edit_distance(reference: Sequence, hypothesis: Sequence) -> int:
    """Levenshtein distance: the fewest substitutions, deletions and insertions
    turning ``reference`` into ``hypothesis`` (unit costs).

    >>> edit_distance("kitten".split("t"), "sitting".split("t"))
    2
    >>> edit_distance(list("kitten"), list("sitting"))
    3
    """
    ref, hyp = list(reference), list(hypothesis)
    # one row of the dynamic-programming table at a time: prev[j] = d(ref[:i-1], hyp[:j])
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1,             # deletion of r
                         cur[j - 1] + 1,          # insertion of h
                         prev[j - 1] + (r != h))  # substitution (free if equal)
        prev = cur
    return prev[-1]


def _as_list(text, name: str) -> list[str]:
    if isinstance(text, str):
        return [text]
    if isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
        return list(text)
    raise ParameterError(f"{name} must be a string or a list of strings, got {type(text).__name__}")


def _error_rate(reference, hypothesis, tokenize) -> float:
    refs, hyps = _as_list(reference, "reference"), _as_list(hypothesis, "hypothesis")
    if len(refs) != len(hyps):
        raise ParameterError(
            f"reference has {len(refs)} sentences but hypothesis has {len(hyps)}; pass them in pairs"
        )
    if not refs:
        raise ParameterError("reference is an empty list; pass at least one sentence")
    errors = n_ref = 0
    for r, h in zip(refs, hyps):
        r_tok, h_tok = tokenize(r), tokenize(h)
        errors += edit_distance(r_tok, h_tok)
        n_ref += len(r_tok)
    if n_ref == 0:
        # jiwer's convention for an all-empty reference: the number of insertions
        return float(errors)
    return errors / n_ref


def _words(text: str) -> list[str]:
    return [w for w in _MULTI_SPACE.sub(" ", text).strip().split(" ") if w]


def _chars(text: str) -> list[str]:
    return list(text.strip())


def wer(reference, hypothesis) -> float:
    """Word error rate ``(S + D + I) / N``, equal to ``jiwer.wer``.

    Notebook: 05_ctc_asr.ipynb

    Parameters
    ----------
    reference, hypothesis : str or list of str
        One sentence each, or equally long lists (corpus level: errors and
        reference words are summed over all pairs before dividing).

    Returns
    -------
    float
        Can exceed 1 (many insertions). If every reference is empty it is the
        number of inserted words, as in jiwer.

    >>> wer("the cat sat", "the cat sat down")
    0.3333333333333333
    """
    return _error_rate(reference, hypothesis, _words)


def cer(reference, hypothesis) -> float:
    """Character error rate, equal to ``jiwer.cer`` (spaces count as characters).

    Notebook: 05_ctc_asr.ipynb

    >>> cer("speech", "speach")
    0.16666666666666666
    """
    return _error_rate(reference, hypothesis, _chars)


def snr(reference, estimate) -> float:
    """Signal-to-noise ratio in dB: ``10·log10(‖ref‖² / ‖ref − est‖²)``.

    Notebook: 09_enhancement.ipynb

    Parameters
    ----------
    reference : np.ndarray [shape=(n,) or (channels, n)]
        The clean signal.
    estimate : np.ndarray, same shape
        The signal to judge (noisy or enhanced).

    Returns
    -------
    float
        dB; ``inf`` when ``estimate`` equals ``reference``.

    >>> round(snr(np.ones(4), np.full(4, 1.1)), 6)  # noise amplitude 1/10 of the signal
    20.0
    """
    ref, est = _pair(reference, estimate, "SNR")
    signal = np.sum(ref**2)
    noise = np.sum((ref - est) ** 2)
    return float("inf") if noise == 0 else float(10.0 * np.log10(signal / noise))


# --------------------------------------------------------------------------- signal quality

def _pair(reference, estimate, what: str, *, names=("reference", "estimate")):
    """Both signals as float64 arrays of one shape, finite, the reference not silent."""
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)
    a, b = names
    if ref.shape != est.shape:
        raise ParameterError(
            f"{a} shape {ref.shape} and {b} shape {est.shape} must match "
            f"(same length: trim or pad the longer one, e.g. {b}[..., :{a}.shape[-1]])"
        )
    if ref.size == 0:
        raise ParameterError(f"{a} is empty")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(est))):
        raise ParameterError(f"{a} and {b} must be finite (found NaN or Inf)")
    if not np.any(ref):
        raise ParameterError(f"{a} is silent (all zeros): {what} is undefined")
    return ref, est


def _mono_pair(reference, estimate, what, **kw):
    ref, est = _pair(reference, estimate, what, **kw)
    if ref.ndim != 1:
        raise ParameterError(f"{what} takes mono signals of shape (n,), got shape {ref.shape}; "
                             "mix down with course_lib.audio.to_mono or score each channel")
    return ref, est


def si_sdr(reference, estimate, *, zero_mean: bool = False) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al. 2019).

    Notebook: 09_enhancement.ipynb

    The estimate is projected on the reference: ``s_t = a s`` with
    ``a = <ŝ, s> / ‖s‖²`` (the best gain), ``e = ŝ − s_t`` is everything else, and
    ``SI-SDR = 10·log10(‖s_t‖² / ‖e‖²)``. Scaling the estimate by any non-zero
    factor leaves it unchanged, so an enhancer is not rewarded (or punished) for
    its output level, unlike :func:`snr`.

    Parameters
    ----------
    reference : np.ndarray [shape=(n,)]
        The clean signal ``s``.
    estimate : np.ndarray [shape=(n,)]
        The signal to judge ``ŝ``.
    zero_mean : bool
        Remove each signal's mean first (as Le Roux et al. and asteroid do); off by
        default, as in torchmetrics.

    Returns
    -------
    float
        dB; ``inf`` for a perfect (scaled) estimate, ``-inf`` for an estimate orthogonal to the reference.

    >>> s = np.array([1.0, 0.0]); round(si_sdr(s, np.array([2.0, 1.0])), 4)  # s_t = (2, 0), e = (0, 1)
    6.0206
    """
    ref, est = _mono_pair(reference, estimate, "SI-SDR")
    if zero_mean:
        ref, est = ref - ref.mean(), est - est.mean()
        if not np.any(ref):
            raise ParameterError("reference is constant: with zero_mean=True SI-SDR is undefined")
    alpha = np.dot(est, ref) / np.dot(ref, ref)
    target = alpha * ref
    err = est - target
    num, den = np.dot(target, target), np.dot(err, err)
    if den == 0:
        return float("inf")
    if num == 0:
        return float("-inf")
    return float(10.0 * np.log10(num / den))


def segmental_snr(reference, estimate, *, sr: int, frame_length: float = 0.03, hop_length: float = 0.015,
                  min_db: float = -10.0, max_db: float = 35.0) -> float:
    """Segmental SNR in dB: the mean over frames of each frame's SNR, clipped to [min_db, max_db].

    Notebook: 09_enhancement.ipynb

    ``segSNR = (1/M) Σ_m clip(10·log10(Σ s_m² / Σ (s_m − ŝ_m)²), min_db, max_db)`` over
    the M whole frames ``m`` (Hansen & Pellom 1998; Loizou, *Speech Enhancement*, 2013,
    §11.1). Clipping keeps silent frames (very negative) and perfect frames (infinite)
    from dominating the mean; unlike :func:`snr`, a loud passage cannot hide a bad quiet one.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n,)]
    sr : int
        Sample rate in Hz (frame sizes are in seconds).
    frame_length, hop_length : float
        Seconds (30 ms frames, 50 % overlap by default).
    min_db, max_db : float
        Per-frame clipping range.

    Returns
    -------
    float
        dB.
    """
    from .validation import check_positive, check_sr

    sr = check_sr(sr)
    ref, est = _mono_pair(reference, estimate, "segmental SNR")
    n_win = int(round(check_positive(frame_length, "frame_length") * sr))
    n_hop = int(round(check_positive(hop_length, "hop_length") * sr))
    if n_win < 1 or n_hop < 1:
        raise ParameterError(f"frame_length={frame_length} s / hop_length={hop_length} s are under one sample at sr={sr}")
    if not min_db < max_db:
        raise ParameterError(f"min_db={min_db} must be below max_db={max_db}")
    if len(ref) < n_win:
        raise ParameterError(f"the signals ({len(ref)} samples) are shorter than one frame ({n_win} samples at "
                             f"frame_length={frame_length} s); pass a shorter frame_length")
    n_frames = 1 + (len(ref) - n_win) // n_hop
    idx = np.arange(n_win)[None, :] + n_hop * np.arange(n_frames)[:, None]     # (M, n_win)
    sig = np.sum(ref[idx] ** 2, axis=1)
    noise = np.sum((ref[idx] - est[idx]) ** 2, axis=1)
    with np.errstate(divide="ignore"):
        per_frame = 10.0 * np.log10(sig / noise)            # +inf where exact, -inf where the reference is silent
    per_frame = np.where(sig == 0, min_db, per_frame)      # 0/0: a silent frame reproduced exactly counts as min_db
    return float(np.mean(np.clip(per_frame, min_db, max_db)))


def pesq(reference, degraded, *, sr: int, mode: str = "wb") -> float:
    """PESQ (ITU-T P.862) mean opinion score, through the ``pesq`` package.

    Notebook: 09_enhancement.ipynb

    Narrow-band (P.862, ``mode="nb"``, at 8 or 16 kHz) or wide-band (P.862.2,
    ``mode="wb"``, 16 kHz only). It models a listener: both signals are level-aligned,
    time-aligned, passed through an auditory model, and the disturbance is mapped
    to MOS-LQO, about 1.0 (bad) to 4.5 (transparent) for ``"nb"`` and 1.0 to 4.64 for ``"wb"``.

    Parameters
    ----------
    reference, degraded : np.ndarray [shape=(n,)]
        Clean and processed speech, equally long (at least 1/4 s of speech).
    sr : int
        8000 or 16000 Hz; resample first (``course_lib.audio.resample``) for any other rate.
    mode : {"wb", "nb"}

    Returns
    -------
    float
        MOS-LQO, equal to ``pesq.pesq(sr, reference, degraded, mode)``.
    """
    import pesq as _pesq

    from .validation import check_sr

    sr = check_sr(sr)
    if mode not in ("wb", "nb"):
        raise ParameterError(f"mode={mode!r} must be 'wb' (wide-band, 16 kHz) or 'nb' (narrow-band, 8 or 16 kHz)")
    if sr not in (8000, 16000):
        raise ParameterError(f"sr={sr} is not supported by PESQ (8000 or 16000 Hz only); resample first, e.g. "
                             f"course_lib.audio.resample(y, orig_sr={sr}, target_sr=16000)")
    if mode == "wb" and sr != 16000:
        raise ParameterError(f"sr={sr} with mode='wb': wide-band PESQ needs 16000 Hz; use mode='nb' "
                             "or resample to 16000 Hz")
    ref, deg = _mono_pair(reference, degraded, "PESQ", names=("reference", "degraded"))
    if not np.any(deg):
        raise ParameterError("degraded is silent (all zeros): PESQ is undefined")
    if len(ref) < sr // 4:
        raise ParameterError(f"the signals are {len(ref)} samples long; PESQ needs at least 1/4 s ({sr // 4} samples)")
    try:
        return float(_pesq.pesq(sr, ref, deg, mode))
    except _pesq.NoUtterancesError:
        raise ParameterError("PESQ found no speech in reference (too quiet or too short); "
                             "pass at least 1/4 s of audible speech") from None
    except _pesq.PesqError as e:
        raise ParameterError(f"PESQ failed: {e}") from None


def stoi(reference, degraded, *, sr: int, extended: bool = False) -> float:
    """Short-time objective intelligibility (Taal et al. 2011), or extended STOI
    (Jensen & Taal 2016) with ``extended=True``, through ``pystoi``.

    Notebook: 09_enhancement.ipynb

    Both signals are resampled to 10 kHz, silent frames (40 dB under the loudest in
    the reference) are dropped, and one-third-octave band envelopes over 384 ms are
    correlated: about 0 (unintelligible) to 1. ESTOI correlates spectro-temporal
    patterns instead of single bands, which suits fluctuating noise (babble) better.

    Parameters
    ----------
    reference, degraded : np.ndarray [shape=(n,)]
        Clean and processed speech, equally long.
    sr : int
        Any rate (resampled to 10 kHz inside).
    extended : bool

    Returns
    -------
    float
        Equal to ``pystoi.stoi(reference, degraded, sr, extended=extended)``.
    """
    import warnings

    from pystoi import stoi as _stoi

    from .validation import check_sr

    sr = check_sr(sr)
    ref, deg = _mono_pair(reference, degraded, "STOI", names=("reference", "degraded"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = float(_stoi(ref, deg, sr, extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        raise ParameterError("STOI needs at least 30 frames (~0.4 s) of non-silent speech in reference; "
                             "pass a longer signal")
    return value


def lsd(reference, estimate, *, sr: int | None = None, n_fft: int = 2048, hop_length: int = 512,
        eps: float = 1e-10) -> float:
    """Log-spectral distance (Kuleshov, Enam & Ermon 2017), in log10-power units.

    Notebook: 10_super_resolution.ipynb

    With ``X(l, k) = log10 |STFT(x)(l, k)|²`` (frame ``l``, frequency ``k``),

    ``LSD = (1/L) Σ_l sqrt( (1/K) Σ_k (X(l, k) − X̂(l, k))² )``:

    a root-mean-square over frequency in each frame, then a mean over frames. 0 for
    identical spectra; ``eps`` is added to the power so silent bins stay finite.
    The STFT is :func:`course_lib.spectral.stft` (Hann window, centred, like librosa).

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n,)]
    sr : int, optional
        Only checked (the measure needs no rate); pass it to catch mixed-up signals early.
    n_fft, hop_length : int
        STFT size (2048 as in the paper) and hop.
    eps : float
        Floor added to the power before the log.

    Returns
    -------
    float
        Non-negative; in log10 units (multiply by 10 for dB).
    """
    from .spectral import stft
    from .validation import check_positive, check_positive_int, check_sr

    if sr is not None:
        check_sr(sr)
    n_fft = check_positive_int(n_fft, "n_fft")
    hop_length = check_positive_int(hop_length, "hop_length")
    eps = check_positive(eps, "eps")
    ref, est = _mono_pair(reference, estimate, "LSD")
    X = np.log10(np.abs(stft(ref, n_fft=n_fft, hop_length=hop_length)) ** 2 + eps)   # (K, L)
    Y = np.log10(np.abs(stft(est, n_fft=n_fft, hop_length=hop_length)) ** 2 + eps)
    return float(np.mean(np.sqrt(np.mean((X - Y) ** 2, axis=0))))
