"""Speed and quality of course_lib's enhancers beside noisereduce's spectral gating (CPU).

Run from the repository root:

    python benchmarks/bench_enhance.py                  # speed on 10 s of 16 kHz audio + a quality table
    python benchmarks/bench_enhance.py --no-quality     # speed only
    python benchmarks/bench_enhance.py --clips 5        # quality on 5 sentences per test voice

Speed: one 10-second mixture (test sentences of a test voice, babble test take at 5 dB),
16 kHz float32. Each enhancer runs once to warm up, then ``--repeat`` times interleaved
with the others; the median wall time is reported as a real-time factor
(RTF = processing time / audio duration; < 1 is faster than real time) and as a ratio
to noisereduce's (< 1.0 means faster than noisereduce).

Like with like: noisereduce 3.0's non-stationary spectral gating (its default) and
its stationary mode run on the CPU with ``n_jobs=1``; course_lib's classical
enhancers are single-threaded NumPy/SciPy; the mask network runs with
``torch.set_num_threads(--threads)`` (default 1). Nobody gets a noise-only clip:
spectral subtraction estimates the noise from the quietest frames, Wiener tracks
it (minimum statistics), noisereduce estimates it from the signal itself.

Quality: PESQ (wb), ESTOI and SI-SDR of each on test voices x the test takes of
white, babble, fan, hum at -5, 0, 5, 10 dB (:func:`course_lib.enhance.quality_table`),
averaged, so speed and quality sit side by side.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _median_times(impls: dict, repeat: int) -> dict:
    """Median wall time of each callable; runs are interleaved so a burst of load hits all alike."""
    for fn in impls.values():
        fn()
    times = {name: [] for name in impls}
    for _ in range(repeat):
        for name, fn in impls.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def _enhancers(threads: int) -> dict:
    import noisereduce
    import torch

    from course_lib import enhance, pretrained

    torch.set_num_threads(threads)
    enh = {
        "noisereduce (non-stationary)": lambda y, *, sr: noisereduce.reduce_noise(y=y, sr=sr, n_jobs=1).astype(np.float32),
        "noisereduce (stationary)": lambda y, *, sr: noisereduce.reduce_noise(y=y, sr=sr, stationary=True,
                                                                            n_jobs=1).astype(np.float32),
        "spectral subtraction": enhance.spectral_subtraction,
        "wiener": enhance.wiener,
    }
    if "enhance_mask" in pretrained.available():
        enh["mask (enhance_mask)"] = pretrained.load("enhance_mask", device="cpu").enhance
    return enh


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (mask network)")
    parser.add_argument("--clips", type=int, default=2, help="sentences per test voice in the quality table")
    parser.add_argument("--no-quality", action="store_true")
    args = parser.parse_args(argv)

    from course_lib import augment, data, enhance

    sr = 16000
    clips = data.sentences(split="test")
    voice = clips[0].speaker
    speech = np.concatenate([c.audio for c in clips if c.speaker == voice])
    n = int(args.seconds * sr)
    speech = np.tile(speech, int(np.ceil(n / len(speech))))[:n]
    y = augment.add_noise(speech, sr=sr, rng=np.random.default_rng(0), snr_db=5.0,
                          noise=data.noise("babble", split="test").audio)
    enh = _enhancers(args.threads)
    for name, f in enh.items():                    # same length out, or the comparison is meaningless
        out = f(y, sr=sr)
        if out.shape != y.shape:
            raise SystemExit(f"{name} returned shape {out.shape} for input {y.shape}")
    t = _median_times({name: (lambda f=f: f(y, sr=sr)) for name, f in enh.items()}, args.repeat)
    ref = t["noisereduce (non-stationary)"]

    quality = {}
    if not args.no_quality:
        by_voice = {}
        for c in clips:
            by_voice.setdefault(c.speaker, []).append(c)
        eval_clips = [c for v in sorted(by_voice) for c in by_voice[v][: args.clips]]
        rows = enhance.quality_table(enh, eval_clips)
        quality = {k[0]: v for k, v in enhance.summarize(rows).items()}

    print(f"{args.seconds:.0f} s of 16 kHz audio (babble, 5 dB), median of {args.repeat}, torch threads {args.threads}")
    head = f"{'enhancer':30s} {'time (s)':>9s} {'RTF':>7s} {'vs noisereduce':>15s}"
    if quality:
        head += f" {'PESQ':>6s} {'ESTOI':>6s} {'SI-SDR':>7s}"
    print(head)
    if quality:
        q = quality["noisy"]
        print(f"{'(noisy input)':30s} {'':9s} {'':7s} {'':15s} {q['pesq']:6.2f} {q['estoi']:6.3f} {q['si_sdr']:7.2f}")
    for name, sec in t.items():
        line = f"{name:30s} {sec:9.3f} {sec / args.seconds:7.4f} {sec / ref:14.2f}x"
        if quality:
            q = quality[name]
            line += f" {q['pesq']:6.2f} {q['estoi']:6.3f} {q['si_sdr']:7.2f}"
        print(line)
    if quality:
        print(f"quality: {quality['noisy']['n']} mixtures ({args.clips} sentences x 4 test voices x "
              "4 noise kinds x 4 SNRs), test noise takes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
