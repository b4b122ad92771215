"""Tests for course_lib.vad: frame metrics against scikit-learn and brute force, hand cases,
and the three detectors on corpus v2 clips whose speech boundaries the manifest records.

Tolerances on the corpus are the measured values (60 seeded clips of corpus-v2 voices,
10/20/30 ms frames; see benchmarks/bench_vad.py) with a margin for another sample of
clips, and each says why it is what it is.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import vad
from course_lib.errors import ParameterError


# --------------------------------------------------------------------------- metrics

@pytest.mark.parametrize("seed", range(8))
def test_frame_f1_matches_scikit_learn(seed):
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(seed)
    ref = rng.random(200) < rng.uniform(0.1, 0.9)
    det = rng.random(200) < rng.uniform(0.1, 0.9)
    s = vad.frame_f1(ref, det)
    p, r, f, _ = precision_recall_fscore_support(ref, det, average="binary", zero_division=1.0)
    np.testing.assert_allclose([s.precision, s.recall, s.f1], [p, r, f], rtol=1e-12)
    assert (s.tp, s.fp, s.fn) == (int(np.sum(ref & det)), int(np.sum(~ref & det)), int(np.sum(ref & ~det)))


@pytest.mark.parametrize("ref, det, expected", [
    ([0, 0, 0], [0, 0, 0], (1.0, 1.0, 1.0)),            # no speech anywhere: perfect
    ([0, 1, 1], [0, 0, 0], (1.0, 0.0, 0.0)),            # a missed word
    ([0, 0, 0], [1, 1, 0], (0.0, 1.0, 0.0)),            # speech invented in silence
    ([0, 1, 1, 1], [1, 1, 1, 1], (0.75, 1.0, 6 / 7)),   # one frame too early
])
def test_frame_f1_hand_cases(ref, det, expected):
    s = vad.frame_f1(np.array(ref, bool), np.array(det, bool))
    assert (s.precision, s.recall, s.f1) == pytest.approx(expected)


def test_frame_f1_bad_shapes():
    with pytest.raises(ParameterError, match=r"shapes \(3,\) and \(4,\)"):
        vad.frame_f1(np.zeros(3, bool), np.zeros(4, bool))


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
@pytest.mark.parametrize("seed", range(5))
def test_intervals_to_frames_is_the_majority_of_samples(frame_ms, seed):
    """Brute force: label every sample, a frame is speech when most of its samples are
    (the centre rule equals the majority for intervals longer than a frame; random
    boundaries never fall exactly on a centre)."""
    rng = np.random.default_rng(seed)
    sr, n = 16000, 80
    L = sr * frame_ms // 1000
    a = rng.uniform(0, 0.3) * n * L / sr
    b = a + rng.uniform(2 * frame_ms / 1000, 0.5 * n * L / sr)
    t = np.arange(n * L) / sr
    per_sample = (t >= a) & (t < b)
    majority = per_sample.reshape(n, L).mean(axis=1) > 0.5
    np.testing.assert_array_equal(vad.intervals_to_frames([(a, b)], n, frame_ms=frame_ms), majority)


def test_intervals_and_frames_round_trip():
    rng = np.random.default_rng(3)
    f = rng.random(300) < 0.4
    back = vad.intervals_to_frames(vad.frames_to_intervals(f, frame_ms=20), 300, frame_ms=20)
    np.testing.assert_array_equal(back, f)
    assert vad.frames_to_intervals(np.zeros(5, bool), frame_ms=10) == []
    with pytest.raises(ParameterError, match="ends before it starts"):
        vad.intervals_to_frames([(0.5, 0.2)], 10, frame_ms=10)


@pytest.mark.parametrize("seed", range(6))
def test_boundary_error_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    det = rng.random(100) < 0.3
    start, end = rng.uniform(0, 0.3), rng.uniform(0.5, 1.0)
    on = [k for k in range(100) if det[k]]
    e = vad.boundary_error(det, frame_ms=10, start=start, end=end)
    assert e.start_ms == pytest.approx((on[0] * 0.010 - start) * 1000)
    assert e.end_ms == pytest.approx(((on[-1] + 1) * 0.010 - end) * 1000)


def test_boundary_error_hand_cases():
    # speech 150..450 ms; detected frames 100..500 ms at 50 ms: 50 ms early and 50 ms late
    det = vad.intervals_to_frames([(0.1, 0.5)], 12, frame_ms=50)
    assert vad.boundary_error(det, frame_ms=50, start=0.15, end=0.45) == (-50.0, 50.0)
    e = vad.boundary_error(np.zeros(12, bool), frame_ms=50, start=0.15, end=0.45)
    assert np.isnan(e.start_ms) and np.isnan(e.end_ms)     # nothing detected: no boundary at all


@pytest.mark.parametrize("frames, kwargs, expected", [
    ([1, 0, 1, 0, 0, 0, 1], dict(min_silence_ms=20, min_speech_ms=20), [1, 1, 1, 0, 0, 0, 0]),
    ([0, 1, 1, 0, 1, 1, 0], dict(min_silence_ms=20), [0, 1, 1, 1, 1, 1, 0]),
    ([0, 0, 1, 1, 1, 0, 0], dict(min_silence_ms=30), [0, 0, 1, 1, 1, 0, 0]),   # edges are not pauses
    ([1, 0, 1, 1, 0, 1, 1], dict(min_speech_ms=30), [0, 0, 0, 0, 0, 0, 0]),
    ([1, 0, 1, 1, 0, 1, 1], dict(), [1, 0, 1, 1, 0, 1, 1]),                     # no hangover: unchanged
    ([1, 0, 0, 1, 1], dict(min_silence_ms=20), [1, 0, 0, 1, 1]),                # 20 ms is not shorter than 20
    ([0, 1, 1, 0, 0], dict(min_speech_ms=20), [0, 1, 1, 0, 0]),
])
def test_smooth_hand_cases(frames, kwargs, expected):
    got = vad.smooth(np.array(frames, bool), frame_ms=10, **kwargs)
    np.testing.assert_array_equal(got, np.array(expected, bool))


# --------------------------------------------------------------------------- detectors

def _word_like(sr=16000, seed=0, level_db=-23.0, floor_db=-70.0):
    """0.3 s room tone, 0.4 s of a harmonic 'vowel' with an onset and decay, 0.3 s room tone."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.4 * sr)) / sr
    vowel = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((150, 300, 450, 600, 900), 1))
    vowel *= np.minimum(1, np.minimum(t / 0.02, (0.4 - t) / 0.02))
    vowel *= 10 ** (level_db / 20) / np.sqrt(np.mean(vowel ** 2))
    y = np.r_[np.zeros(int(0.3 * sr)), vowel, np.zeros(int(0.3 * sr))]
    y += rng.standard_normal(len(y)) * 10 ** (floor_db / 20)
    return y.astype(np.float32)


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_energy_vad_finds_a_tone_within_a_frame(frame_ms):
    y = _word_like()
    det = vad.energy_vad(y, sr=16000, frame_ms=frame_ms)
    e = vad.boundary_error(det, frame_ms=frame_ms, start=0.3, end=0.7)
    assert abs(e.start_ms) <= frame_ms and abs(e.end_ms) <= frame_ms
    # the level of the recording does not matter: both thresholds are relative
    np.testing.assert_array_equal(vad.energy_vad(y * 0.01, sr=16000, frame_ms=frame_ms), det)


def test_energy_vad_hangover_bridges_a_closure_and_drops_a_click():
    sr = 16000
    y = _word_like()
    y[int(0.48 * sr): int(0.54 * sr)] = y[:int(0.06 * sr)]     # a 60 ms stop closure inside the word
    y[int(0.10 * sr): int(0.11 * sr)] += 0.5                     # a 10 ms click in the lead-in
    raw = vad.energy_vad(y, sr=sr, min_silence_ms=0, min_speech_ms=0)
    assert len(vad.frames_to_intervals(raw, frame_ms=10)) == 3  # click, word, word
    got = vad.frames_to_intervals(vad.energy_vad(y, sr=sr), frame_ms=10)
    assert got == [(0.3, 0.7)], got                              # defaults: 120 ms hangover, 40 ms minimum


def test_energy_vad_edge_cases():
    assert not vad.energy_vad(np.zeros(16000, np.float32), sr=16000).any()      # digital silence
    assert vad.energy_vad(np.zeros(100, np.float32), sr=16000).shape == (0,)    # under one frame
    tone = (0.3 * np.sin(np.arange(16000) / 3)).astype(np.float32)
    assert vad.energy_vad(tone, sr=16000).all()                                   # all speech-loud
    with pytest.raises(ParameterError, match="top_db=0"):
        vad.energy_vad(tone, sr=16000, top_db=0)
    with pytest.raises(ParameterError, match="frame_ms=7"):
        vad.energy_vad(tone, sr=22050, frame_ms=7)


@pytest.mark.parametrize("sr", [16000, 22050, 48000])
def test_webrtc_vad_frames_and_rates(sr):
    from course_lib.audio import resample

    y = resample(_word_like(), orig_sr=16000, target_sr=sr) if sr != 16000 else _word_like()
    det = vad.webrtc_vad(y, sr=sr, frame_ms=20)
    assert det.shape == (vad.n_frames(len(y), sr=sr, frame_ms=20),) and det.dtype == bool
    assert det[17:33].mean() > 0.8 and not det[:10].any()    # the vowel (0.34-0.66 s) yes, the lead-in no
    with pytest.raises(ParameterError, match="10, 20 or 30 ms"):
        vad.webrtc_vad(y, sr=sr, frame_ms=15)
    with pytest.raises(ParameterError, match="mode=4"):
        vad.webrtc_vad(y, sr=sr, mode=4)


def test_silero_keeps_torch_threads_and_finds_speech(monkeypatch):
    import sys

    import torch

    from course_lib import data

    # a fresh import of silero_vad (it calls torch.set_num_threads(1) at import) with 2 threads set
    for name in [m for m in sys.modules if m == "silero_vad" or m.startswith("silero_vad.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(vad, "_SILERO", None)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        clip = data.spoken_words(split="test", words=["nine"])[0]
        probs, step = vad.silero_probabilities(clip.audio, sr=clip.sr)
        assert torch.get_num_threads() == 2          # silero_vad's import set 1 thread; undone
    finally:
        torch.set_num_threads(before)
    assert step == 0.032 and probs.shape == (int(np.ceil(len(clip.audio) / 512)),) and probs.max() > 0.9
    silent = vad.silero_vad(np.zeros(16000, np.float32), sr=16000, frame_ms=30)
    assert silent.shape == (33,) and not silent.any()
    with pytest.raises(ParameterError, match="threshold=1.5"):
        vad.silero_vad(clip.audio, sr=clip.sr, threshold=1.5)


# --------------------------------------------------------------------------- on the corpus

@pytest.fixture(scope="module")
def v2_clips():
    """60 seeded corpus-v2 word clips: 50-400 ms of room tone around each word, boundaries in the manifest."""
    return vad.endpointing_clips(60, seed=0)


def test_endpointing_clips():
    a, b = vad.endpointing_clips(30, half=0, seed=2), vad.endpointing_clips(30, half=1, seed=2)
    assert not {c.speaker for c in a} & {c.speaker for c in b}            # voice-disjoint halves
    for c in a:
        s0, s1 = c.annotations["speech_start"], c.annotations["speech_end"]
        assert 0.045 < s0 < s1 <= c.duration and c.kind == "word"
    assert [c.path for c in vad.endpointing_clips(5, seed=1)] == [c.path for c in vad.endpointing_clips(5, seed=1)]
    with pytest.raises(ParameterError, match="half=2"):
        vad.endpointing_clips(half=2)
    with pytest.raises(ParameterError, match="n=0"):
        vad.endpointing_clips(0)


@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_detectors_on_corpus_v2(v2_clips, frame_ms):
    s = vad.summarize(vad.evaluate(v2_clips, frame_ms=frame_ms))
    # Ours: the manifest's boundaries are themselves an energy rule (the first and last 10 ms frame
    # within 40 dB of the loudest), so on clean clips our detector nearly *is* the reference:
    # measured F1 0.97 and median boundary errors of 2-12 ms; allowed: F1 >= 0.93 and one frame.
    assert s["energy"]["f1"] >= 0.93 and s["energy"]["missed"] == 0
    assert s["energy"]["start_ms"] <= frame_ms and s["energy"]["end_ms"] <= frame_ms + 2
    # WebRTC: starts on time (median 8-10 ms) but holds on after the word (hangover, median 65-80 ms);
    # measured F1 0.88.
    assert s["webrtc"]["f1"] >= 0.82 and s["webrtc"]["missed"] == 0
    assert s["webrtc"]["start_ms"] <= 25 and 30 <= s["webrtc"]["end_ms"] <= 120
    # Silero: pads 30 ms on each side by design and keeps 100 ms of silence; it hears no speech in a
    # whispered voice and one very short warped "four" (2 of 60). Measured F1 0.84, start 30 ms, end 70 ms.
    assert s["silero"]["f1"] >= 0.78 and s["silero"]["missed"] <= 4
    assert 15 <= s["silero"]["start_ms"] <= 50 and s["silero"]["end_ms"] <= 110
    # every detector was timed, per frame; Silero's network costs far more than a threshold (measured
    # 25-60x per frame here, on a busy 2-core machine; required 5x, so load on the machine cannot flip it)
    assert all(v["us_per_frame"] > 0 for v in s.values())
    assert s["silero"]["us_per_frame"] > 5 * s["energy"]["us_per_frame"]


def add_noise_at_snr(clips, kind="white", snr_db=10.0):
    """``evaluate(noise=...)``: corpus noise (its test take) at ``snr_db`` against the speech's power."""
    from course_lib import data

    nz = data.noise(kind, split="test").audio.astype(np.float64)

    def add(y, sr, k):
        ann = clips[k].annotations
        speech = y[int(ann["speech_start"] * sr): int(ann["speech_end"] * sr)].astype(np.float64)
        off = (k * 7919) % (len(nz) - len(y))
        n = nz[off: off + len(y)]
        gain = np.sqrt(np.mean(speech ** 2) / np.mean(n ** 2) / 10 ** (snr_db / 10))
        return (y + gain * n).astype(np.float32)
    return add


def test_in_noise_the_learned_detectors_beat_energy(v2_clips):
    """White noise at 10 dB SNR: the energy threshold sits on the noise floor and loses the word's weak
    ends (measured F1 0.63), WebRTC's and Silero's models of speech keep more of them (0.81 and 0.76;
    with seed 1 of the clip sample, or 120 clips: energy 0.63, WebRTC 0.815-0.83, Silero
    0.785-0.805). Before December 2026's corpus cut the sample held other clips: 0.55, 0.80, 0.80."""
    s = vad.summarize(vad.evaluate(v2_clips, frame_ms=10, noise=add_noise_at_snr(v2_clips)))
    assert s["energy"]["f1"] <= 0.65
    assert s["webrtc"]["f1"] >= s["energy"]["f1"] + 0.1 and s["silero"]["f1"] >= s["energy"]["f1"] + 0.1


def test_evaluate_needs_boundaries():
    from course_lib import data

    clip = data.spoken_words(split="test", words=["nine"])[0]
    clip.annotations.pop("speech_start", None)
    with pytest.raises(ParameterError, match="no speech_start"):
        vad.evaluate([clip])


# --------------------------------------------------------------------------- our learned detector

@pytest.fixture(scope="module")
def voice_split():
    """Corpus-v2 word clips in two voice-disjoint halves (alternate voices): train / evaluate."""
    return vad.endpointing_clips(80, half=0, seed=1), vad.endpointing_clips(40, half=1, seed=1)


@pytest.fixture(scope="module")
def frame_vad(voice_split):
    """Trained on half the voices with pink and babble noise (their train takes); never sees white noise."""
    from course_lib import data

    noises = [data.noise(k, split="train").audio for k in ("pink", "babble")]
    return vad.FrameVAD().fit(voice_split[0], noises=noises, frame_ms=(10, 30))


def test_frame_vad_on_held_out_voices_and_an_unseen_noise(voice_split, frame_vad):
    held = voice_split[1]
    dets = {"energy": vad.energy_vad, "webrtc": vad.webrtc_vad, "ours": frame_vad}
    clean = vad.summarize(vad.evaluate(held, detectors=dets, frame_ms=20))
    # clean, 20 ms frames (a size it was not trained at): measured F1 0.98, boundaries within ~5-15 ms
    assert clean["ours"]["f1"] >= 0.93 and clean["ours"]["missed"] == 0
    assert clean["ours"]["start_ms"] <= 25 and clean["ours"]["end_ms"] <= 40
    white = vad.summarize(vad.evaluate(held, detectors=dets, frame_ms=10, noise=add_noise_at_snr(held)))
    # white noise at 10 dB SNR, a noise kind it never heard: measured F1 0.85 against energy 0.63 and
    # WebRTC 0.83; required: clearly above the energy rule, and no worse than WebRTC by more than 0.05
    assert white["ours"]["f1"] >= white["energy"]["f1"] + 0.15
    assert white["ours"]["f1"] >= white["webrtc"]["f1"] - 0.05


def test_frame_vad_is_level_invariant_and_deterministic(voice_split, frame_vad):
    clip = voice_split[1][0]
    p = frame_vad.speech_probability(clip.audio, sr=clip.sr)
    # the features are measured from the clip's own floor and peak: 20 dB quieter, same answer
    np.testing.assert_allclose(frame_vad.speech_probability(clip.audio * 0.1, sr=clip.sr), p, atol=1e-4)
    a = vad.FrameVAD().fit(voice_split[0][:4], seed=3)
    b = vad.FrameVAD().fit(voice_split[0][:4], seed=3)
    np.testing.assert_array_equal(a.weights, b.weights)


def test_frame_vad_bad_use():
    with pytest.raises(ParameterError, match="not trained yet"):
        vad.FrameVAD()(np.zeros(1600, np.float32), sr=16000)
    with pytest.raises(ParameterError, match="n_mels=2"):
        vad.FrameVADConfig(n_mels=2)
    with pytest.raises(ParameterError, match="threshold=1"):
        vad.FrameVADConfig(threshold=1)
    with pytest.raises(ParameterError, match="clips is empty"):
        vad.FrameVAD().fit([])
    with pytest.raises(ParameterError, match="noise is empty"):
        vad.mix_at_snr(np.ones(10), np.zeros(10), snr_db=0)


def test_mix_at_snr_measures_the_snr():
    rng = np.random.default_rng(0)
    y, nz = rng.standard_normal(16000), rng.standard_normal(5000)
    mixed = vad.mix_at_snr(y, nz, snr_db=6.0).astype(np.float64)
    snr = 10 * np.log10(np.mean(y ** 2) / np.mean((mixed - y) ** 2))
    assert snr == pytest.approx(6.0, abs=1e-3)     # float32 rounding of the mix only


def test_frame_features_layout_and_noise_floor(voice_split):
    clip = voice_split[1][1]
    cfg = vad.FrameVADConfig(n_mels=8, context=1)
    F = vad.FrameVAD(cfg).features(clip.audio, sr=clip.sr, frame_ms=20)
    n = vad.n_frames(len(clip.audio), sr=clip.sr, frame_ms=20)
    assert F.shape == (n, cfg.n_features) == (n, 30) and F.dtype == np.float32
    centre = F[:, 10:20]                      # [previous frame | this frame | next frame], 8 mels + 2 levels each
    np.testing.assert_allclose(np.percentile(centre[:, :8], 10, axis=0), 0, atol=1e-5)   # bands from their floor
    assert centre[:, 8].max() == pytest.approx(0, abs=1e-6)                                # level re the loudest frame
    np.testing.assert_array_equal(F[1:, :10], centre[:-1])                                 # context is the neighbour
