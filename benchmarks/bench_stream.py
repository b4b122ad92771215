"""Time course_lib.stream's streaming components against whole-signal processing by the reference libraries.

Run from the repository root:

    python benchmarks/bench_stream.py                   # 60 s of 16 kHz audio
    python benchmarks/bench_stream.py --seconds 10 --repeat 3

For each component, the streaming version is fed the signal in blocks of
several sizes (the cost of block-wise operation: a Python call per block,
small FFT batches) and compared with the reference library processing the
whole signal at once, the lower bound a stream cannot beat:

- ``StreamingFilter`` (``lfilter`` with carried state) vs ``scipy.signal.lfilter`` on the whole signal;
- ``STFTProcessor`` (identity: analysis + overlap-add) vs ``librosa.stft`` + ``librosa.istft``;
- ``StreamingEnhancer.wiener`` vs ``course_lib.enhance.wiener`` (chapter 09, offline).

Each line prints the real-time factor (processing time / audio duration) and
the ratio to the whole-signal reference (> 1: the price of streaming). The
issue's target: the streaming Wiener enhancer at RTF <= 0.2 with 10 ms blocks.
Before timing, the outputs are checked equal (so a fast wrong answer cannot
win). Median of ``--repeat`` interleaved runs after one warm-up.
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--blocks", type=int, nargs="+", default=[16, 160, 1024])
    args = parser.parse_args(argv)

    import librosa
    import scipy.signal as ss

    from course_lib import data, enhance, stream

    sr = 16000
    rng = np.random.default_rng(0)
    speech = np.concatenate([c.audio for c in data.sentences(split="test", check=False)])
    reps = int(np.ceil(args.seconds * sr / len(speech)))
    x = (np.tile(speech, reps)[:int(args.seconds * sr)] + 0.02 * rng.standard_normal(int(args.seconds * sr))).astype(np.float32)
    dur = len(x) / sr
    b, a = ss.butter(4, 1000, fs=sr)
    ident = stream.STFTProcessor(n_fft=512, hop_length=128)
    enh = stream.StreamingEnhancer.wiener(sr=sr)

    # correctness first
    L = ident.latency
    assert np.allclose(stream.run_blocks(stream.StreamingFilter(b, a), x[:sr], 160), ss.lfilter(b, a, x[:sr]), atol=1e-6)
    assert np.allclose(stream.run_blocks(ident, x[:sr], 160)[L:], x[:sr - L], atol=1e-5)
    y, off = stream.run_blocks(enh, x[:2 * sr], 160), enhance.wiener(x[:2 * sr], sr=sr)
    assert np.allclose(y[L:][512:-512], off[:2 * sr - L][512:-512], atol=1e-5)

    def blocks(proc, bs):
        def run():
            proc.reset()
            for s in range(0, len(x), bs):
                proc.process(x[s:s + bs])
        return run

    cases = {
        "filter (butter 4)": ({"scipy lfilter, whole": lambda: ss.lfilter(b, a, x)},
                              lambda bs: blocks(stream.StreamingFilter(b, a), bs)),
        "STFT + overlap-add": ({"librosa stft+istft, whole": lambda: librosa.istft(
                                   librosa.stft(x, n_fft=512, hop_length=128), hop_length=128, length=len(x))},
                               lambda bs: blocks(ident, bs)),
        "Wiener enhancer": ({"enhance.wiener, whole": lambda: enhance.wiener(x, sr=sr)},
                            lambda bs: blocks(enh, bs)),
    }
    print(f"{dur:.0f} s of 16 kHz audio; median of {args.repeat} runs; RTF = time / audio duration")
    rtf_enh_160 = None
    for name, (refs, make) in cases.items():
        impls = dict(refs)
        for bs in args.blocks:
            impls[f"stream, blocks of {bs}"] = make(bs)
        t = _median_times(impls, args.repeat)
        ref_name = next(iter(refs))
        print(f"\n{name}")
        for k, v in t.items():
            ratio = v / t[ref_name]
            print(f"  {k:28s} {v:8.3f} s   RTF {v / dur:7.4f}   x{ratio:6.2f} vs {ref_name}")
        if name == "Wiener enhancer" and 160 in args.blocks:
            rtf_enh_160 = t["stream, blocks of 160"] / dur
    if rtf_enh_160 is not None:
        print(f"\nstreaming Wiener enhancer, 10 ms blocks: RTF {rtf_enh_160:.3f} "
              f"({'meets' if rtf_enh_160 <= 0.2 else 'misses'} the 0.2 target), latency {enh.latency / sr * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
