"""course_lib.metrics against jiwer (WER/CER) and known answers (SNR)."""

from __future__ import annotations

import itertools
import os

import jiwer
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import metrics
from course_lib.errors import ParameterError

# sentences over a tiny vocabulary (so words repeat and alignments are non-trivial),
# with messy whitespace: single/multiple spaces, leading/trailing blanks, tabs
WORDS = st.sampled_from(["a", "the", "cat", "sat", "on", "mat", "dog", "é"])
SEPS = st.sampled_from([" ", "  ", " \t ", "   "])


@st.composite
def sentences(draw, min_words=1):
    words = draw(st.lists(WORDS, min_size=min_words, max_size=8))
    seps = draw(st.lists(SEPS, min_size=len(words), max_size=len(words)))
    pad = draw(st.sampled_from(["", " ", "  "]))
    return pad + "".join(w + s for w, s in zip(words, seps)).rstrip() + pad


@settings(max_examples=int(os.environ.get("COURSE_HYPOTHESIS_EXAMPLES", 200)))
@given(sentences(), sentences(min_words=0))
def test_wer_cer_equal_jiwer_on_strings(ref, hyp):
    assert metrics.wer(ref, hyp) == pytest.approx(jiwer.wer(ref, hyp), rel=1e-12)
    assert metrics.cer(ref, hyp) == pytest.approx(jiwer.cer(ref, hyp), rel=1e-12)


@settings(max_examples=int(os.environ.get("COURSE_HYPOTHESIS_EXAMPLES", 100)))
@given(st.lists(st.tuples(sentences(), sentences(min_words=0)), min_size=1, max_size=5))
def test_wer_cer_equal_jiwer_on_corpora(pairs):
    refs, hyps = [r for r, _ in pairs], [h for _, h in pairs]
    assert metrics.wer(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps), rel=1e-12)
    assert metrics.cer(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps), rel=1e-12)


def test_corpus_level_pools_errors_not_rates():
    refs, hyps = ["a b", "c d e f"], ["a x", "c d e f"]
    # 1 error over 6 words, not the mean of 1/2 and 0/4
    assert metrics.wer(refs, hyps) == pytest.approx(1 / 6)


@pytest.mark.parametrize("ref, hyp", [("", ""), ("", "a b"), (["", ""], ["x", ""])])
def test_empty_references_follow_jiwer(ref, hyp):
    assert metrics.wer(ref, hyp) == jiwer.wer(ref, hyp)


def test_edit_distance_brute_force_agreement():
    """Against an exhaustive recursion on every pair of short strings over {a, b}."""
    def brute(r, h):
        if not r:
            return len(h)
        if not h:
            return len(r)
        return min(brute(r[1:], h) + 1, brute(r, h[1:]) + 1, brute(r[1:], h[1:]) + (r[0] != h[0]))

    strings = ["".join(p) for n in range(4) for p in itertools.product("ab", repeat=n)]
    for r in strings:
        for h in strings:
            assert metrics.edit_distance(r, h) == brute(r, h), (r, h)


@pytest.mark.parametrize("ref, hyp, match", [
    (["a"], ["a", "b"], "1 sentences but hypothesis has 2"),
    ([], [], "empty list"),
    (3, "a", "reference must be a string"),
])
def test_error_rate_bad_input(ref, hyp, match):
    with pytest.raises(ParameterError, match=match):
        metrics.wer(ref, hyp)


def test_snr_known_answers():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(10_000)
    noise = rng.standard_normal(10_000)
    noise *= np.linalg.norm(ref) / np.linalg.norm(noise) / 10.0  # noise energy 1/100 of signal
    assert metrics.snr(ref, ref + noise) == pytest.approx(20.0, abs=1e-9)
    assert metrics.snr(ref, ref) == np.inf
    assert metrics.snr(ref, np.zeros_like(ref)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("ref, est, match", [
    (np.ones(3), np.ones(4), "shape"),
    (np.zeros(3), np.ones(3), "silent"),
    (np.ones(3), np.array([1.0, np.nan, 1.0]), "finite"),
    (np.ones(0), np.ones(0), "empty"),
])
def test_snr_bad_input(ref, est, match):
    with pytest.raises(ParameterError, match=match):
        metrics.snr(ref, est)


# --------------------------------------------------------------------------- signal quality (chapter 09)

def _speech_and_noisy(snr_db=5.0, seed=0):
    from course_lib import augment, data

    clip = data.sentences(split="test")[seed]
    noisy = augment.add_noise(clip.audio, sr=clip.sr, rng=np.random.default_rng(seed), snr_db=snr_db,
                              noise=data.noise("babble", split="test").audio)
    return clip.audio.astype(np.float64), noisy.astype(np.float64), clip.sr


def test_si_sdr_hand_case():
    # s = (1, 0), ŝ = (2, 1): a = <ŝ,s>/‖s‖² = 2, s_t = (2, 0), e = (0, 1): 10 log10(4 / 1)
    assert metrics.si_sdr(np.array([1.0, 0.0]), np.array([2.0, 1.0])) == pytest.approx(10 * np.log10(4.0), abs=1e-12)
    # ŝ = (3, 4) against s = (1, 1): a = 7/2, s_t = (3.5, 3.5), e = (-0.5, 0.5): 10 log10(24.5 / 0.5)
    assert metrics.si_sdr(np.ones(2), np.array([3.0, 4.0])) == pytest.approx(10 * np.log10(49.0), abs=1e-12)
    assert metrics.si_sdr(np.array([1.0, 2.0]), np.array([-2.0, -4.0])) == np.inf   # any non-zero gain is perfect
    assert metrics.si_sdr(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == -np.inf   # orthogonal


@pytest.mark.parametrize("gain", [1e-3, 0.5, 3.0, -2.0])
def test_si_sdr_invariant_to_scaling_the_estimate_unlike_snr(gain):
    ref, noisy, _ = _speech_and_noisy()
    base = metrics.si_sdr(ref, noisy)
    assert metrics.si_sdr(ref, gain * noisy) == pytest.approx(base, abs=1e-9)
    # SNR is not: a louder copy (3x) of the same noisy signal scores far lower
    assert metrics.snr(ref, 3 * noisy) < metrics.snr(ref, noisy) - 5


def test_si_sdr_against_least_squares_projection():
    """The target is the least-squares fit of the estimate by the reference (numpy.linalg.lstsq)."""
    rng = np.random.default_rng(1)
    for _ in range(20):
        ref, est = rng.standard_normal(500), rng.standard_normal(500)
        est += rng.uniform(-3, 3) * ref
        a = np.linalg.lstsq(ref[:, None], est, rcond=None)[0][0]
        expected = 10 * np.log10(np.sum((a * ref) ** 2) / np.sum((est - a * ref) ** 2))
        assert metrics.si_sdr(ref, est) == pytest.approx(expected, abs=1e-9)
        r0, e0 = ref - ref.mean(), est - est.mean()
        a0 = r0 @ e0 / (r0 @ r0)
        assert metrics.si_sdr(ref + 5, est - 2, zero_mean=True) == pytest.approx(
            10 * np.log10(np.sum((a0 * r0) ** 2) / np.sum((e0 - a0 * r0) ** 2)), abs=1e-9)


def test_segmental_snr_brute_force_and_clipping():
    ref, noisy, sr = _speech_and_noisy(snr_db=0.0)
    n, h = int(0.03 * sr), int(0.015 * sr)
    frames = []
    for start in range(0, len(ref) - n + 1, h):              # every whole frame, one at a time
        s, e = ref[start:start + n], noisy[start:start + n] - ref[start:start + n]
        frames.append(min(max(10 * np.log10(np.sum(s ** 2) / np.sum(e ** 2)), -10.0), 35.0))
    assert metrics.segmental_snr(ref, noisy, sr=sr) == pytest.approx(np.mean(frames), abs=1e-9)
    # clipping: a perfect estimate scores max_db, a zero estimate 0 dB in every non-silent frame
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16000)
    assert metrics.segmental_snr(x, x, sr=16000) == pytest.approx(35.0)
    # a silent reference frame counts as min_db even when reproduced exactly (Loizou's segsnr: 10 log10(0 + eps))
    x0 = np.concatenate([np.zeros(4800), x])
    n_silent, n_all = 1 + (4800 - 480) // 240, 1 + (len(x0) - 480) // 240
    assert metrics.segmental_snr(x0, x0, sr=16000) < 35.0
    assert metrics.segmental_snr(x0, x0, sr=16000) >= (n_silent * -10.0 + (n_all - n_silent) * 35.0) / n_all
    assert metrics.segmental_snr(x, np.zeros_like(x), sr=16000) == pytest.approx(0.0, abs=1e-12)
    assert metrics.segmental_snr(x, 1e3 * x, sr=16000) == pytest.approx(-10.0)      # -60 dB clipped


def test_segmental_snr_differs_from_global_snr_on_uneven_level():
    """A loud half with little noise and a quiet half drowned: the global SNR hides the quiet half."""
    rng = np.random.default_rng(0)
    ref = np.concatenate([rng.standard_normal(8000), 0.01 * rng.standard_normal(8000)])
    est = ref + 0.05 * rng.standard_normal(16000)
    assert metrics.snr(ref, est) > 20
    assert metrics.segmental_snr(ref, est, sr=16000) < 12


@pytest.mark.parametrize("mode, sr", [("wb", 16000), ("nb", 16000), ("nb", 8000)])
def test_pesq_equals_the_pesq_package(mode, sr):
    import pesq

    from course_lib import audio

    ref, noisy, sr0 = _speech_and_noisy(snr_db=5.0)
    if sr != sr0:
        ref = audio.resample(ref, orig_sr=sr0, target_sr=sr)
        noisy = audio.resample(noisy, orig_sr=sr0, target_sr=sr)
    ours = metrics.pesq(ref, noisy, sr=sr, mode=mode)
    assert ours == pesq.pesq(sr, ref, noisy, mode)
    assert 1.0 <= ours < metrics.pesq(ref, ref, sr=sr, mode=mode)
    assert metrics.pesq(ref, ref, sr=sr, mode=mode) > 4.0


@pytest.mark.parametrize("extended", [False, True])
def test_stoi_equals_pystoi(extended):
    from pystoi import stoi

    ref, noisy, sr = _speech_and_noisy(snr_db=-5.0)
    ours = metrics.stoi(ref, noisy, sr=sr, extended=extended)
    assert ours == pytest.approx(stoi(ref, noisy, sr, extended=extended), abs=1e-12)
    assert ours < metrics.stoi(ref, ref, sr=sr, extended=extended) == pytest.approx(1.0, abs=1e-6)


def test_lsd_kuleshov_formula_with_librosa_stft():
    """LSD re-derived from librosa.stft: RMS over frequency of the log10-power difference, mean over frames."""
    import librosa

    ref, noisy, sr = _speech_and_noisy(snr_db=10.0)
    X = np.log10(np.abs(librosa.stft(ref, n_fft=2048, hop_length=512, center=True, pad_mode="constant")) ** 2 + 1e-10)
    Y = np.log10(np.abs(librosa.stft(noisy, n_fft=2048, hop_length=512, center=True, pad_mode="constant")) ** 2 + 1e-10)
    expected = np.mean([np.sqrt(np.mean((X[:, t] - Y[:, t]) ** 2)) for t in range(X.shape[1])])
    assert metrics.lsd(ref, noisy, sr=sr) == pytest.approx(expected, rel=1e-6)
    assert metrics.lsd(ref, ref) == 0.0
    # a gain g shifts every log10 power by 2 log10 g (where eps is negligible): LSD is 2 |log10 g|
    x = np.random.default_rng(0).standard_normal(16000)
    assert metrics.lsd(x, 10 * x, eps=1e-30) == pytest.approx(2.0, rel=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda r, d: metrics.pesq(r, d, sr=22050), "sr=22050 is not supported by PESQ"),
    (lambda r, d: metrics.pesq(r, d, sr=8000, mode="wb"), "wide-band PESQ needs 16000"),
    (lambda r, d: metrics.pesq(r, d, sr=16000, mode="xx"), "mode='xx'"),
    (lambda r, d: metrics.pesq(np.zeros_like(r), d, sr=16000), "reference is silent"),
    (lambda r, d: metrics.pesq(r, np.zeros_like(d), sr=16000), "degraded is silent"),
    (lambda r, d: metrics.pesq(r, d[:-5], sr=16000), "must match"),
    (lambda r, d: metrics.stoi(r, d[:-5], sr=16000), "must match"),
    (lambda r, d: metrics.stoi(np.zeros_like(r), d, sr=16000), "reference is silent"),
    (lambda r, d: metrics.stoi(r[:3000], d[:3000], sr=16000), "at least 30 frames"),
    (lambda r, d: metrics.si_sdr(r, d[:-1]), "must match"),
    (lambda r, d: metrics.si_sdr(np.zeros_like(r), d), "reference is silent"),
    (lambda r, d: metrics.si_sdr(np.stack([r, r]), np.stack([d, d])), r"shape \(n,\)"),
    (lambda r, d: metrics.segmental_snr(r, d, sr=16000, frame_length=10.0), "shorter than one frame"),
    (lambda r, d: metrics.lsd(r, np.where(np.arange(len(d)) == 5, np.nan, d)), "finite"),
    (lambda r, d: metrics.lsd(r, d, sr=0.5), "sr"),
])
def test_quality_metrics_bad_input(call, match):
    ref, noisy, _ = _speech_and_noisy()
    with pytest.raises(ParameterError, match=match):
        call(ref, noisy)
