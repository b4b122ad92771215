"""Speed of chapter 07's augmentation and keyword-spotting front end beside librosa (CPU), and
the latency and size of the keyword spotters.

Run from the repository root:

    python benchmarks/bench_classify.py              # 1 s clips, 16 kHz, median of --repeat runs
    python benchmarks/bench_classify.py --repeat 50

Like with like, one thread each: ``augment.time_stretch`` / ``pitch_shift`` (our phase vocoder,
NumPy) against ``librosa.effects.time_stretch`` / ``pitch_shift`` with the same ``n_fft=512``
(they give the same samples, tests/test_augment.py); the spotter's log-mel
(``KeywordSpotter.melspectrogram``, torch) against ``librosa.feature.melspectrogram`` with the
same settings on a batch of 64 one-second windows. Ratios are ours / librosa's (< 1.0 is faster).
Then the CPU latency of ``predict`` on one 1 s clip (resampling, features, network) and the
parameter count of a CNN and a CRNN spotter (untrained: latency does not depend on the weights), and
of the shipped ``kws_cnn`` in one pass and with its config's test-time warps and shifts.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _median(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)

    import librosa
    import torch

    from course_lib import augment, classify

    torch.set_num_threads(1)
    sr = 16000
    rng = np.random.default_rng(0)
    y = (rng.standard_normal(sr) * 0.1).astype(np.float32)
    batch = (rng.standard_normal((64, sr)) * 0.1).astype(np.float32)
    kws = classify.KeywordSpotter(classify.KwsConfig())
    c = kws.config
    pairs = {
        "time_stretch x1.2": (lambda: augment.time_stretch(y, sr=sr, rng=rng, rate=1.2, n_fft=512),
                              lambda: librosa.effects.time_stretch(y, rate=1.2, n_fft=512)),
        "pitch_shift +2": (lambda: augment.pitch_shift(y, sr=sr, rng=rng, n_steps=2.0, n_fft=512),
                           lambda: librosa.effects.pitch_shift(y, sr=sr, n_steps=2.0, n_fft=512)),
        "log-mel, 64 x 1 s": (lambda: kws.melspectrogram(torch.from_numpy(batch)),
                              lambda: librosa.feature.melspectrogram(y=batch, sr=sr, n_fft=c.n_fft,
                                                                     hop_length=c.hop_length, n_mels=c.n_mels,
                                                                     fmin=c.fmin, fmax=c.fmax)),
    }
    print(f"{'operation':22s} {'course_lib':>12s} {'librosa':>12s} {'ratio':>7s}")
    for name, (ours, ref) in pairs.items():
        a, b = _median(ours, args.repeat), _median(ref, args.repeat)
        print(f"{name:22s} {a * 1000:10.2f} ms {b * 1000:10.2f} ms {a / b:7.2f}")
    print()
    for arch, channels in (("cnn", (16, 32, 48)), ("crnn", (16, 32))):
        m = classify.KeywordSpotter(classify.KwsConfig(arch=arch, channels=channels)).eval()
        print(f"KeywordSpotter {arch:4s}: {classify.n_parameters(m):7d} parameters, "
              f"{classify.latency_ms(m, repeats=args.repeat):6.1f} ms per 1 s clip (predict, 1 thread)")
    import dataclasses

    from course_lib import pretrained

    kws = pretrained.load("kws_cnn", device="cpu")            # the shipped spotter: one pass, then as shipped
    shipped = kws.config
    kws.config = dataclasses.replace(shipped, warps=(1.0,), shifts=(0,))
    one = classify.latency_ms(kws, repeats=args.repeat)
    kws.config = shipped
    avg = classify.latency_ms(kws, repeats=args.repeat)
    n = len(shipped.warps) * len(shipped.shifts)
    print(f"kws_cnn (shipped):    {classify.n_parameters(kws):7d} parameters, {one:6.1f} ms in one pass, "
          f"{avg:6.1f} ms averaging {n} passes ({avg / one:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
