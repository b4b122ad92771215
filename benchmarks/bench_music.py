"""Time course_lib.music's beat tracker and chroma against librosa's on the same music.

Run from the repository root:

    python benchmarks/bench_music.py                    # 10 minutes of corpus music (22.05 kHz)
    python benchmarks/bench_music.py --seconds 60 --repeat 3

The signal is the corpus's grooves and chord progressions played one after the
other (repeated) up to ``--seconds``. Compared:

- ``music.beat_track(y, sr=sr)`` vs ``librosa.beat.beat_track(y=y, sr=sr)`` (both: onset
  envelope, tempo, dynamic programme; librosa's DP is compiled with numba, ours is a
  NumPy loop over frames);
- ``music.chroma_stft(y, sr=sr)`` vs ``librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0)``.

Before timing, the chroma are checked equal and the beat lists compared (mir_eval F of
ours against librosa's), so a fast wrong answer cannot win. Median of ``--repeat``
interleaved runs after one warm-up (which also compiles librosa's numba code). The
ratio is ours / librosa (target <= 1.0x).
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


def music_signal(seconds: float, sr: int = 22050) -> np.ndarray:
    """Corpus grooves and chord progressions (all at 22.05 kHz), concatenated and repeated to ``seconds``."""
    from course_lib import data

    pieces = [c.audio for c in data.grooves()] + [c.audio for c in data.chords()]
    n = int(seconds * sr)
    y = np.concatenate(pieces)
    return np.tile(y, int(np.ceil(n / len(y))))[:n].astype(np.float32)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import librosa

    from course_lib import music
    from course_lib.music.beats import beat_f_measure

    sr = 22050
    y = music_signal(args.seconds, sr)
    print(f"{args.seconds:.0f} s of corpus music at {sr} Hz, median of {args.repeat} runs")

    ours_c = music.chroma_stft(y, sr=sr)
    ref_c = librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0)
    np.testing.assert_allclose(ours_c, ref_c, rtol=1e-4, atol=1e-5)       # float32 input: rtol 1e-4
    ours_b = music.beat_track(y, sr=sr)
    _, ref_b = librosa.beat.beat_track(y=y, sr=sr, units="time")
    print(f"  beats: ours {len(ours_b.beats)}, librosa {len(ref_b)}, F(ours vs librosa) = "
          f"{beat_f_measure(ref_b, ours_b.beats):.3f}")

    rows = {
        "beat_track": {"course_lib": lambda: music.beat_track(y, sr=sr),
                       "librosa": lambda: librosa.beat.beat_track(y=y, sr=sr)},
        "chroma_stft": {"course_lib": lambda: music.chroma_stft(y, sr=sr),
                        "librosa": lambda: librosa.feature.chroma_stft(y=y, sr=sr, tuning=0.0)},
    }
    for name, impls in rows.items():
        t = _median_times(impls, args.repeat)
        print(f"  {name:12s} course_lib {t['course_lib']:7.3f} s   librosa {t['librosa']:7.3f} s   "
              f"ratio {t['course_lib'] / t['librosa']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
