"""Time WaveNet generation (naive vs fast, by depth) and mu-law against torchaudio.

Run from the repository root:

    python benchmarks/bench_wavenet.py                      # layers 2..12, 300 samples each
    python benchmarks/bench_wavenet.py --layers 4 8 10 --samples 500 --checkpoint

1. **Generation**: for WaveNets of 2..12 layers (kernel 2, dilations 1, 2, 4, ...,
   so the receptive field doubles per layer; 32 residual / 32 gate / 64 skip channels,
   random weights: the cost does not depend on them), ``n`` samples are generated
   naively (the whole stack re-run on the last receptive-field window per sample) and
   fast (per-layer queues, Paine et al. 2016) from the same seed. The samples must be
   identical (checked: a fast wrong answer cannot win); the ratio naive / fast grows
   with the receptive field. ``--checkpoint`` adds the shipped ``wavenet_vocoder``.
2. **mu-law**: ``course_lib.tts.wavenet.mu_law_encode`` / ``decode`` (NumPy) vs
   ``torchaudio.functional.mu_law_encoding`` / ``decoding`` on the same float32 signal;
   outputs checked equal first. Median of ``--repeat`` interleaved runs after one warm-up.

Runs on one torch thread (the course's CPU budget); the machine's load shows in the numbers.
"""

from __future__ import annotations

import argparse
import os
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


def bench_generation(layers, n_samples: int, checkpoint: bool) -> None:
    import torch

    from course_lib.tts import wavenet as wn

    print(f"Generation of {n_samples} samples, batch 1, one thread (naive / fast = how much the queues save)")
    print(f"{'model':>16s} {'layers':>6s} {'recept.':>7s} {'naive s':>8s} {'fast s':>7s} {'naive/s':>8s} "
          f"{'fast/s':>8s} {'ratio':>6s} identical")
    models = []
    for L in layers:
        torch.manual_seed(0)
        models.append((f"random {L}", wn.WaveNet(wn.WaveNetConfig(n_layers=L, dilation_cycle=max(layers))).eval()))
    if checkpoint:
        from course_lib import pretrained
        models.append(("wavenet_vocoder", pretrained.load("wavenet_vocoder", device="cpu")))
    for name, m in models:
        r = wn.generation_speed(m, n_samples=n_samples, seed=0)
        if not r["identical"]:
            raise SystemExit(f"{name}: fast and naive generation differ")
        print(f"{name:>16s} {r['n_layers']:6d} {r['receptive_field']:7d} {r['naive_seconds']:8.2f} "
              f"{r['fast_seconds']:7.2f} {r['naive_samples_per_second']:8.0f} {r['fast_samples_per_second']:8.0f} "
              f"{r['ratio']:6.1f} {r['identical']}")


def bench_mu_law(seconds: float, repeat: int) -> None:
    import torch
    import torchaudio

    from course_lib.tts import wavenet as wn

    y = np.random.default_rng(0).uniform(-1, 1, int(seconds * 16000)).astype(np.float32)
    yt = torch.from_numpy(y)
    q = wn.mu_law_encode(y)
    qt = torch.from_numpy(q)
    ref_q = torchaudio.functional.mu_law_encoding(yt, 256).numpy()
    if np.abs(q - ref_q).max() > 1 or np.mean(q != ref_q) > 1e-3:      # float32 rounding at class boundaries
        raise SystemExit("mu_law_encode differs from torchaudio")
    np.testing.assert_allclose(wn.mu_law_decode(q), torchaudio.functional.mu_law_decoding(qt, 256).numpy(),
                               rtol=1e-5, atol=1e-7)
    t = _median_times({"ours encode": lambda: wn.mu_law_encode(y),
                       "torchaudio encode": lambda: torchaudio.functional.mu_law_encoding(yt, 256),
                       "ours decode": lambda: wn.mu_law_decode(q),
                       "torchaudio decode": lambda: torchaudio.functional.mu_law_decoding(qt, 256)}, repeat)
    print(f"\nmu-law on {seconds:.0f} s of 16 kHz audio ({len(y)} samples), median of {repeat}")
    for op in ("encode", "decode"):
        ours, ref = t[f"ours {op}"], t[f"torchaudio {op}"]
        print(f"  {op}: ours {ours * 1e3:7.2f} ms   torchaudio {ref * 1e3:7.2f} ms   ratio ours/torchaudio "
              f"{ours / ref:5.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[2, 4, 6, 8, 10, 12])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--checkpoint", action="store_true", help="also time the shipped wavenet_vocoder")
    parser.add_argument("--seconds", type=float, default=60.0, help="mu-law signal length")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    print(f"load average {os.getloadavg()[0]:.1f} (1 min)")
    bench_generation(args.layers, args.samples, args.checkpoint)
    bench_mu_law(args.seconds, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
