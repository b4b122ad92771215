"""Pitch tracking: our YIN (course_lib.prosody.yin) against librosa.pyin and Praat — cost and agreement.

Run from the repository root:

    python benchmarks/bench_prosody.py                   # 8 styled test clips, 3 repeats
    python benchmarks/bench_prosody.py --clips 24 --repeat 5

Cost: each tracker on the same clips (16 kHz, 10 ms hop, 60-500 Hz), one warm-up and the median
of --repeat runs, in ms per second of audio and as a ratio to ours. Agreement: against Praat
(``To Pitch (ac)`` via praat-parselmouth), per test voice: gross pitch error (> 20 %), fine error
in cents, voicing decision error (course_lib.prosody.compare_pitch).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main(argv=None) -> int:
    from course_lib import data, prosody

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    clips = data.styled_speech(split="test")
    clips = clips[::max(1, len(clips) // args.clips)][:args.clips]
    seconds = sum(len(c.audio) / c.sr for c in clips)
    trackers = {"ours (YIN)": prosody.yin, "librosa.pyin": prosody.pyin_pitch, "Praat (parselmouth)": prosody.praat_pitch}
    cost, tracks = {}, {}
    for name, f in trackers.items():
        f(clips[0].audio, sr=clips[0].sr)                              # warm-up (imports, caches)
        runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            tracks[name] = [f(c.audio, sr=c.sr) for c in clips]
            runs.append(time.perf_counter() - t0)
        cost[name] = statistics.median(runs) / seconds * 1000
    print(f"{len(clips)} clips, {seconds:.1f} s of audio, median of {args.repeat}")
    print(f"{'tracker':22s} {'ms per s of audio':>18s} {'ratio to ours':>14s}")
    for name, ms in cost.items():
        print(f"{name:22s} {ms:18.2f} {ms / cost['ours (YIN)']:14.2f}")
    print("\nagreement with Praat (per test voice, mean over clips)")
    print(f"{'voice':30s} {'tracker':14s} {'GPE %':>6s} {'fine ¢':>7s} {'VDE %':>6s}")
    for v in sorted({c.speaker for c in clips}):
        for name in ("ours (YIN)", "librosa.pyin"):
            rs = [prosody.compare_pitch(tracks["Praat (parselmouth)"][k].f0, tracks[name][k].f0)
                  for k, c in enumerate(clips) if c.speaker == v]
            print(f"{v:30s} {name:14s} {100 * np.mean([r.gpe for r in rs]):6.2f} "
                  f"{np.mean([r.fine_cents for r in rs]):7.1f} {100 * np.mean([r.vde for r in rs]):6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
