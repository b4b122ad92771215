"""course_lib.audio: file round trips, conversions, resampling, statistics, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from course_lib import audio
from course_lib.errors import AudioFileError, ParameterError

SR = 16000


def sine(freq=440.0, *, sr=SR, seconds=0.5, amp=0.5, dtype=np.float32):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(dtype)


def dominant_frequency(y, sr):
    """Frequency of the largest FFT peak, refined by parabolic interpolation."""
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    k = int(np.argmax(spec[1:-1])) + 1
    a, b, c = np.log(spec[k - 1 : k + 2] + 1e-30)
    k_frac = k + 0.5 * (a - c) / (a - 2 * b + c)
    return k_frac * sr / len(y)


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("suffix", [".wav", ".flac"])
# PCM_16 is rounded by save() itself: within half a step. PCM_24 is libsndfile's own
# conversion (scale 2**23 - 1 on write, 2**23 on read): within one step.
@pytest.mark.parametrize("subtype, atol", [("PCM_16", 0.5 / 32768 + 1e-9), ("PCM_24", 1 / 2**23)])
def test_round_trip_pcm(tmp_path, suffix, subtype, atol):
    y = sine()
    path = audio.save(tmp_path / f"x{suffix}", y, sr=SR, subtype=subtype)
    z, sr = audio.load(path)
    assert sr == SR and z.dtype == np.float32 and z.shape == y.shape
    # quantisation to the subtype's step: the error is at most one step
    np.testing.assert_allclose(z, y, atol=atol)


def test_round_trip_float_wav_is_exact(tmp_path):
    y = sine(amp=0.9)
    audio.save(tmp_path / "x.wav", y, sr=SR, subtype="FLOAT")
    z, _ = audio.load(tmp_path / "x.wav")
    np.testing.assert_array_equal(z, y)


def test_round_trip_int16_samples_exact(tmp_path):
    """int16 -> float -> PCM_16 file -> float -> int16 gives back the same integers."""
    rng = np.random.default_rng(0)
    x = rng.integers(-32768, 32767, size=1000, dtype=np.int16)
    audio.save(tmp_path / "x.flac", audio.int16_to_float(x), sr=SR)
    z, _ = audio.load(tmp_path / "x.flac")
    np.testing.assert_array_equal(audio.float_to_int16(z), x)


def test_stereo_round_trip_and_mono(tmp_path):
    left, right = sine(440), sine(660, amp=0.25)
    y = np.stack([left, right])  # (channels, n)
    audio.save(tmp_path / "s.wav", y, sr=SR, subtype="FLOAT")
    z, _ = audio.load(tmp_path / "s.wav", mono=False)
    assert z.shape == (2, len(left))
    np.testing.assert_array_equal(z, y)
    m, _ = audio.load(tmp_path / "s.wav")  # mono=True is the default
    np.testing.assert_allclose(m, (left + right) / 2, atol=1e-7)
    np.testing.assert_allclose(audio.to_mono(y), (left + right) / 2, atol=1e-7)


def test_mono_file_with_mono_false_stays_1d(tmp_path):
    audio.save(tmp_path / "m.wav", sine(), sr=SR)
    z, _ = audio.load(tmp_path / "m.wav", mono=False)
    assert z.ndim == 1


# --------------------------------------------------------------------------- resampling

@pytest.mark.parametrize("orig_sr, target_sr", [(16000, 8000), (16000, 22050), (44100, 16000), (8000, 48000)])
def test_resample_keeps_frequency_and_length(orig_sr, target_sr):
    freq = 1000.0
    y = sine(freq, sr=orig_sr, seconds=1.0, dtype=np.float64)
    z = audio.resample(y, orig_sr=orig_sr, target_sr=target_sr)
    assert len(z) == int(np.ceil(len(y) * target_sr / orig_sr))
    assert z.dtype == np.float64
    assert abs(dominant_frequency(z, target_sr) - freq) < 0.5
    # amplitude preserved away from the edges (soxr HQ passband is flat to << 0.1 dB)
    mid = z[len(z) // 4 : 3 * len(z) // 4]
    assert abs(np.sqrt(2) * np.sqrt(np.mean(mid**2)) - 0.5) < 0.005


def test_resample_matches_librosa_soxr_hq():
    import librosa

    y = np.random.default_rng(1).standard_normal(4000).astype(np.float32) * 0.1
    np.testing.assert_allclose(
        audio.resample(y, orig_sr=16000, target_sr=22050),
        librosa.resample(y, orig_sr=16000, target_sr=22050, res_type="soxr_hq"),
        rtol=1e-5, atol=1e-7,  # same library underneath; float32 rounding only
    )


def test_resample_removes_content_above_new_nyquist():
    y = sine(6000.0, sr=16000, seconds=1.0, dtype=np.float64)
    z = audio.resample(y, orig_sr=16000, target_sr=8000)  # 6 kHz > 4 kHz Nyquist
    assert audio.rms(z) < 1e-3


def test_load_with_sr_resamples(tmp_path):
    audio.save(tmp_path / "x.wav", sine(500, seconds=1.0), sr=16000)
    z, sr = audio.load(tmp_path / "x.wav", sr=8000)
    assert sr == 8000 and len(z) == 8000 and z.dtype == np.float32
    assert abs(dominant_frequency(z, sr) - 500) < 0.5


def test_resample_stereo_channels_first():
    y = np.stack([sine(300, dtype=np.float64), sine(700, dtype=np.float64)])
    z = audio.resample(y, orig_sr=16000, target_sr=8000)
    assert z.shape == (2, 4000)
    assert abs(dominant_frequency(z[1], 8000) - 700) < 2


# --------------------------------------------------------------------------- conversions and stats

def test_int16_float_conversions_known_values():
    x = np.array([-32768, -16384, 0, 1, 32767], dtype=np.int16)
    f = audio.int16_to_float(x)
    np.testing.assert_array_equal(f, np.array([-1.0, -0.5, 0.0, 1 / 32768, 32767 / 32768], dtype=np.float32))
    np.testing.assert_array_equal(audio.float_to_int16(f), x)
    # clipping: +1.0 maps to 32767, beyond full scale is clipped
    np.testing.assert_array_equal(audio.float_to_int16(np.array([1.0, 2.0, -3.0])), [32767, 32767, -32768])


def test_stats_of_full_scale_sine():
    y = sine(1000, seconds=1.0, amp=1.0, dtype=np.float64)
    s = audio.stats(y, sr=SR)
    assert s.duration == 1.0 and s.n_channels == 1
    assert s.peak == pytest.approx(1.0, abs=1e-9)
    assert s.rms == pytest.approx(1 / np.sqrt(2), rel=1e-6)
    assert s.rms_dbfs == pytest.approx(-3.0103, abs=1e-3)
    assert s.peak_dbfs == pytest.approx(0.0, abs=1e-6)
    assert s.crest_factor_db == pytest.approx(3.0103, abs=1e-3)


def test_silence_is_minus_infinity_dbfs():
    y = np.zeros(100)
    assert audio.rms_dbfs(y) == -np.inf and audio.peak_dbfs(y) == -np.inf
    assert np.isnan(audio.stats(y, sr=SR).crest_factor_db)


def test_rms_uses_float64_accumulation():
    y = np.full(10_000_000, 0.1, dtype=np.float32)
    assert audio.rms(y) == pytest.approx(0.1, rel=1e-6)


# --------------------------------------------------------------------------- bad input

def test_missing_file_names_the_path(tmp_path):
    p = tmp_path / "nope.wav"
    with pytest.raises(AudioFileError, match="nope.wav: no such file"):
        audio.load(p)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(AudioFileError, match="empty.wav: the file is empty"):
        audio.load(p)


def test_text_file_named_wav(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("these are my lecture notes, not audio\n" * 10)
    with pytest.raises(AudioFileError, match="notes.wav: cannot be decoded"):
        audio.load(p)


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(AudioFileError, match="is a folder"):
        audio.load(tmp_path)


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_truncated_file(tmp_path, suffix):
    p = tmp_path / f"full{suffix}"
    audio.save(p, np.random.default_rng(0).uniform(-0.5, 0.5, SR).astype(np.float32), sr=SR)
    data = p.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioFileError, match=f"cut{suffix}.*truncated"):
        audio.load(cut)


def test_header_only_wav(tmp_path):
    p = tmp_path / "h.wav"
    audio.save(p, sine(), sr=SR)
    (tmp_path / "hdr.wav").write_bytes(p.read_bytes()[:44])
    with pytest.raises(AudioFileError, match="hdr.wav"):
        audio.load(tmp_path / "hdr.wav")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_save_refuses_nan_inf_and_writes_nothing(tmp_path, bad):
    y = sine()
    y[10] = bad
    with pytest.raises(ParameterError, match="NaN or Inf"):
        audio.save(tmp_path / "x.wav", y, sr=SR)
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_the_old_file_and_leaves_no_partial(tmp_path, monkeypatch):
    p = tmp_path / "keep.wav"
    audio.save(p, sine(), sr=SR)
    before = p.read_bytes()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sf, "write", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        audio.save(p, sine(880), sr=SR)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["keep.wav"]


@pytest.mark.parametrize(
    "y, match",
    [
        (np.zeros((2, 2, 100), dtype=np.float32), "ndim=3"),
        (np.zeros(0, dtype=np.float32), "empty"),
        (np.zeros(10, dtype=np.int16), "int16_to_float"),
        ([0.0, 0.1], "numpy array"),
    ],
)
def test_save_rejects_bad_arrays(tmp_path, y, match):
    with pytest.raises(ParameterError, match=match):
        audio.save(tmp_path / "x.wav", y, sr=SR)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sr", [0, -16000, 16000.5, "16000", None])
def test_save_rejects_bad_sr(tmp_path, sr):
    with pytest.raises(ParameterError, match="sr="):
        audio.save(tmp_path / "x.wav", sine(), sr=sr)


def test_save_rejects_unknown_suffix_and_bad_subtype(tmp_path):
    with pytest.raises(ParameterError, match="unsupported suffix '.mp3'"):
        audio.save(tmp_path / "x.mp3", sine(), sr=SR)
    with pytest.raises(ParameterError, match="subtype='FLOAT' cannot be written as FLAC"):
        audio.save(tmp_path / "x.flac", sine(), sr=SR, subtype="FLOAT")


def test_save_into_missing_folder(tmp_path):
    with pytest.raises(AudioFileError, match="does not exist"):
        audio.save(tmp_path / "no" / "x.wav", sine(), sr=SR)


def test_save_warns_on_clipping(tmp_path):
    with pytest.warns(UserWarning, match="3 sample"):
        audio.save(tmp_path / "x.wav", np.array([0.0, 1.5, -2.0, 1.01, 0.3]), sr=SR)


@pytest.mark.parametrize("fn", [audio.peak, audio.rms, audio.to_mono, audio.float_to_int16])
def test_validation_reaches_every_function(fn):
    with pytest.raises(ParameterError, match="NaN or Inf"):
        fn(np.array([0.0, np.nan]))


def test_to_mono_rejects_3d():
    with pytest.raises(ParameterError, match=r"shape \(n,\) or \(channels, n\)"):
        audio.to_mono(np.zeros((1, 2, 3)))


def test_valid_audio_mono_flag():
    with pytest.raises(ParameterError, match="to_mono"):
        audio.valid_audio(np.zeros((2, 10)), mono=True)
