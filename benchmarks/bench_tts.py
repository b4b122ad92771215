"""Time chapter 12's Griffin-Lim vocoder against librosa's, and Tacotron 2 inference.

Run from the repository root:

    python benchmarks/bench_tts.py                 # 1.5 s and 6 s of speech, 32 iterations
    python benchmarks/bench_tts.py --seconds 2 10 --n-iter 60 --repeat 5

1. **Mel inversion** (``vocoder.mel_to_stft`` vs ``librosa.feature.inverse.mel_to_stft``, the same
   non-negative least squares by L-BFGS-B) and **Griffin-Lim** (``vocoder.griffin_lim`` vs
   ``librosa.griffinlim``, momentum 0.99, the same seeded random phases), on log-mels of the
   corpus's slt sentences (tiled to the length asked). Outputs are checked equal first (the
   tolerances of tests/test_vocoder.py), so a fast wrong answer cannot win. Ratio > 1: ours is slower.
2. **Tacotron 2 inference** with the shipped ``tacotron2`` checkpoint: seconds of audio per second
   of compute (the real-time factor), decoder alone and with Griffin-Lim.

Median of ``--repeat`` interleaved runs after one warm-up; one torch thread; the machine's load
shows in the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _median_times(impls: dict, repeat: int) -> dict:
    for fn in impls.values():
        fn()
    times = {name: [] for name in impls}
    for _ in range(repeat):
        for name, fn in impls.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def bench_vocoder(seconds, n_iter: int, repeat: int) -> None:
    import librosa

    from course_lib import data
    from course_lib.tts import vocoder

    speech = np.concatenate([c.audio for c in data.tts_sentences(split="test", check=False)])
    print(f"{'audio s':>7s} {'frames':>6s} | {'NNLS ours':>9s} {'librosa':>8s} {'ratio':>6s} | "
          f"{'GL ours':>8s} {'librosa':>8s} {'ratio':>6s}   ({n_iter} iterations)")
    for sec in seconds:
        y = speech[: int(sec * 16000)]
        M = np.exp(vocoder.log_mel(y, sr=16000).astype(np.float64))
        S = librosa.feature.inverse.mel_to_stft(M, sr=16000, n_fft=1024, power=1.0, fmax=8000.0)
        np.testing.assert_allclose(vocoder.mel_to_stft(M), S, rtol=0, atol=1e-5 * S.max())
        a = vocoder.griffin_lim(S, n_iter=n_iter, seed=0)
        b = librosa.griffinlim(S, n_iter=n_iter, hop_length=256, win_length=1024, n_fft=1024, random_state=0,
                               dtype=np.float64)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8 * np.abs(b).max())
        t_nnls = _median_times({
            "ours": lambda: vocoder.mel_to_stft(M),
            "librosa": lambda: librosa.feature.inverse.mel_to_stft(M, sr=16000, n_fft=1024, power=1.0, fmax=8000.0),
        }, repeat)
        t_gl = _median_times({
            "ours": lambda: vocoder.griffin_lim(S, n_iter=n_iter, seed=0),
            "librosa": lambda: librosa.griffinlim(S, n_iter=n_iter, hop_length=256, win_length=1024, n_fft=1024,
                                                  random_state=0, dtype=np.float64),
        }, repeat)
        print(f"{sec:7.1f} {M.shape[1]:6d} | {t_nnls['ours']:9.3f} {t_nnls['librosa']:8.3f} "
              f"{t_nnls['ours'] / t_nnls['librosa']:6.2f} | {t_gl['ours']:8.3f} {t_gl['librosa']:8.3f} "
              f"{t_gl['ours'] / t_gl['librosa']:6.2f}")


def bench_tacotron(repeat: int, n_iter: int) -> None:
    import torch

    from course_lib import data, pretrained
    from course_lib.tts import text

    model = pretrained.load("tacotron2", device="cpu")
    sentences = [c.text for c in data.tts_sentences(split="test", check=False)[:5]]
    total_audio, t_dec, t_all = 0.0, 0.0, 0.0
    for s in sentences:
        ids = torch.tensor([text.text_to_ids(s)])
        t = _median_times({"infer": lambda: model.infer(ids, generator=torch.Generator().manual_seed(0))}, repeat)
        n = int(model.infer(ids, generator=torch.Generator().manual_seed(0)).lengths[0])
        t2 = _median_times({"synth": lambda: model.synthesize(s, n_iter=n_iter, seed=0)}, max(1, repeat // 2))
        total_audio += n * 256 / 16000
        t_dec += t["infer"]
        t_all += t2["synth"]
    print(f"Tacotron 2 (shipped, r = {model.config.reduction}) on 5 test sentences, {total_audio:.1f} s of audio: "
          f"decoder {total_audio / t_dec:.1f}x real time, with Griffin-Lim ({n_iter} it.) {total_audio / t_all:.1f}x")


def main(argv=None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[1.5, 6.0])
    parser.add_argument("--n-iter", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    bench_vocoder(args.seconds, args.n_iter, args.repeat)
    bench_tacotron(args.repeat, args.n_iter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
