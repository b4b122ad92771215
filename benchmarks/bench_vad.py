"""Voice activity detection: our energy VAD against WebRTC VAD and Silero VAD — quality and cost.

Run from the repository root:

    python benchmarks/bench_vad.py                  # 120 corpus-v2 words, 3 conditions, 10/20/30 ms
    python benchmarks/bench_vad.py --clips 60 --repeat 3

Detectors: ours (energy_vad; FrameVAD, a logistic regression trained here on the other half of
the corpus-v2 voices, with pink and babble noise's train takes mixed in at 0-20 dB), WebRTC VAD
(mode 3) and Silero VAD.

Quality: corpus-v2 word clips of voices FrameVAD did not train on (50-400 ms of room tone around
each word; the manifest's speech_start / speech_end are the reference), clean and with the
corpus's white (a noise kind FrameVAD never heard) and babble noise (test takes) at 10 dB SNR
against the speech. Per detector and frame size: mean frame
F1, median |start| and |end| error in ms, clips where nothing was detected. Then per voice on
the test voices' connected-digit strings (clean; the reference spans the whole string, so a
detector that finds the pauses between digit groups loses F1 there).

Cost: each detector on one 60 s stream of clips, one warm-up and the median of --repeat runs,
in µs per frame and as a ratio to WebRTC (C code, the field's cheapest). Silero runs its
network on 32 ms chunks whatever the frame size; torch on --threads threads (default 1).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _noise(kind, clips, snr_db):
    from course_lib import data

    nz = data.noise(kind, split="test").audio.astype(np.float64)

    def add(y, sr, k):
        ann = clips[k].annotations
        speech = y[int(ann["speech_start"] * sr): int(ann["speech_end"] * sr)].astype(np.float64)
        off = (k * 7919) % (len(nz) - len(y))
        n = nz[off: off + len(y)]
        return (y + np.sqrt(np.mean(speech ** 2) / np.mean(n ** 2) / 10 ** (snr_db / 10)) * n).astype(np.float32)
    return add


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (Silero)")
    parser.add_argument("--snr", type=float, default=10.0)
    args = parser.parse_args(argv)

    import torch

    from course_lib import data, vad

    vad._silero_model()                          # load (and restore torch's threads) before setting them
    torch.set_num_threads(args.threads)
    clips = vad.endpointing_clips(args.clips, half=1, seed=0)     # judged on one half of the voices
    train = vad.endpointing_clips(200, half=0, seed=0)             # FrameVAD learns from the other
    t0 = time.perf_counter()
    frame_vad = vad.FrameVAD().fit(train, noises=[data.noise(k, split="train").audio for k in ("pink", "babble")])
    print(f"FrameVAD trained on 200 clips of {len({c.speaker for c in train})} other voices "
          f"in {time.perf_counter() - t0:.0f} s")
    detectors = {**vad.DETECTORS, "framevad": frame_vad}
    print(f"{len(clips)} corpus-v2 word clips from {len({c.speaker for c in clips})} held-out voices; "
          f"torch threads {torch.get_num_threads()}\n")

    conditions = {"clean": None, f"white {args.snr:g} dB": _noise("white", clips, args.snr),
                  f"babble {args.snr:g} dB": _noise("babble", clips, args.snr)}
    print(f"{'condition':>14s} {'frame':>5s} {'detector':>8s} {'F1':>6s} {'|start| ms':>10s} {'|end| ms':>9s} "
          f"{'missed':>6s}")
    for cname, noise in conditions.items():
        for frame_ms in vad.FRAME_MS:
            s = vad.summarize(vad.evaluate(clips, detectors=detectors, frame_ms=frame_ms, noise=noise))
            for name, v in s.items():
                print(f"{cname:>14s} {frame_ms:>3d}ms {name:>8s} {v['f1']:6.3f} {v['start_ms']:10.0f} "
                      f"{v['end_ms']:9.0f} {v['missed']:6d}")
        print()

    # per test voice: connected digit strings (voices never used to set anything here)
    strings = data.digit_strings(split="test")
    print("Per test voice, connected digits (clean, 10 ms frames): mean F1")
    for speaker in sorted({c.speaker for c in strings}):
        mine = [c for c in strings if c.speaker == speaker]
        s = vad.summarize(vad.evaluate(mine, detectors=detectors, frame_ms=10))
        print(f"  {speaker:>30s} ({len(mine)} strings): " +
              "  ".join(f"{k} {v['f1']:.3f}" for k, v in s.items()))
    print()

    # cost: one 60 s stream
    stream = np.concatenate([c.audio for c in clips])
    while len(stream) < 60 * 16000:
        stream = np.concatenate([stream, stream])
    stream = stream[: 60 * 16000]
    print(f"Cost on a 60 s stream at 16 kHz (median of {args.repeat}; ratio to WebRTC, > 1 is slower):")
    for frame_ms in vad.FRAME_MS:
        n = vad.n_frames(len(stream), sr=16000, frame_ms=frame_ms)
        times = {}
        for name, detect in detectors.items():
            detect(stream, sr=16000, frame_ms=frame_ms)         # warm-up
            runs = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                detect(stream, sr=16000, frame_ms=frame_ms)
                runs.append(time.perf_counter() - t0)
            times[name] = statistics.median(runs)
        base = times["webrtc"]
        print(f"  {frame_ms} ms frames: " + "  ".join(
            f"{k} {1e6 * t / n:7.1f} us/frame ({t / base:5.2f}x, {60 / t:6.0f}x real time)" for k, t in times.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
