"""Time course_lib's STFT, mel spectrogram and MFCC against librosa and torchaudio (CPU).

Run from the repository root:

    python benchmarks/bench_features.py            # 10 minutes of 16 kHz audio
    python benchmarks/bench_features.py --minutes 1 --repeat 3 --dtype float64

Setup: one process, float32 (or ``--dtype float64``) noise at 16 kHz, n_fft=512, hop_length=160,
40 mel bands (a typical speech front end). Each call is run once to warm up,
then ``--repeat`` times (interleaved); the median wall time is reported, with the ratio to
librosa's median (< 1.0 means faster than librosa).

Like with like: librosa 0.11 uses ``scipy.fft`` with its default of one
worker thread, and course_lib calls ``scipy.fft`` the same way, so the FFTs
are single-threaded in both; the mel matrix products go through the same
NumPy BLAS in both. torchaudio runs with ``torch.set_num_threads`` set to
``--threads`` (default 1, to match). All three compute the same numbers
(checked below before timing, so a fast wrong answer cannot win).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _median_times(impls: dict, repeat: int) -> dict:
    """Median wall time of each callable; runs are interleaved (a, b, c, a, b, c, ...)
    so that a burst of load from other processes hits every library alike."""
    for fn in impls.values():
        fn()  # warm-up: caches, FFT plans, lazy imports
    times = {name: [] for name in impls}
    for _ in range(repeat):
        for name, fn in impls.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args(argv)

    import librosa
    import torch
    import torchaudio

    from course_lib import features, spectral

    torch.set_num_threads(args.threads)
    sr, n_fft, hop, n_mels, n_mfcc = 16000, 512, 160, 40, 13
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(int(args.minutes * 60 * sr))).astype(args.dtype)
    yt = torch.from_numpy(y)
    window_t = torch.hann_window(n_fft, dtype=yt.dtype)
    mel_t = torchaudio.transforms.MelSpectrogram(
        sample_rate=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, power=2.0,
        center=True, pad_mode="constant", norm="slaney", mel_scale="slaney",
    ).to(yt.dtype)
    mfcc_t = torchaudio.transforms.MFCC(
        sample_rate=sr, n_mfcc=n_mfcc, log_mels=False,
        melkwargs=dict(n_fft=n_fft, hop_length=hop, n_mels=n_mels, center=True,
                       pad_mode="constant", norm="slaney", mel_scale="slaney"),
    ).to(yt.dtype)
    kw = dict(n_fft=n_fft, hop_length=hop)
    mkw = dict(sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels)

    cases = {
        "stft": {
            "course_lib": lambda: spectral.stft(y, **kw),
            "librosa": lambda: librosa.stft(y, **kw),
            "torchaudio": lambda: torch.stft(yt, n_fft, hop_length=hop, window=window_t,
                                             center=True, pad_mode="constant", return_complex=True),
        },
        "melspectrogram": {
            "course_lib": lambda: features.melspectrogram(y, **mkw),
            "librosa": lambda: librosa.feature.melspectrogram(y=y, **mkw),
            "torchaudio": lambda: mel_t(yt),
        },
        "mfcc": {
            "course_lib": lambda: features.mfcc(y, n_mfcc=n_mfcc, **mkw),
            "librosa": lambda: librosa.feature.mfcc(y=y, n_mfcc=n_mfcc, **mkw),
            "torchaudio": lambda: mfcc_t(yt),
        },
    }

    # Same answer first (float32 tolerances; see tests/test_features.py).
    short = slice(0, 5 * sr)
    np.testing.assert_allclose(spectral.stft(y[short], **kw), librosa.stft(y[short], **kw),
                               rtol=1e-4, atol=1e-5)
    ref = librosa.feature.melspectrogram(y=y[short], **mkw)
    np.testing.assert_allclose(features.melspectrogram(y[short], **mkw), ref, rtol=1e-4,
                               atol=1e-4 * ref.max())

    print(f"{args.minutes:g} min of {sr} Hz {args.dtype} audio ({y.size} samples), n_fft={n_fft}, "
          f"hop_length={hop}, n_mels={n_mels}; median of {args.repeat} warm runs; "
          f"scipy.fft workers=1, torch threads={torch.get_num_threads()}")
    print(f"{'transform':<16}{'library':<12}{'seconds':>10}{'x librosa':>11}")
    for name, impls in cases.items():
        times = _median_times(impls, args.repeat)
        for lib, t in times.items():
            print(f"{name:<16}{lib:<12}{t:>10.4f}{t / times['librosa']:>10.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
