"""Time course_lib.hmm's teaching forward / Viterbi against hmmlearn's compiled ones (same model).

Run from the repository root:

    python benchmarks/bench_hmm.py                    # T = 1000 frames, N = 8, 16, 32, 64 states
    python benchmarks/bench_hmm.py --frames 5000 --states 8 64 --repeat 9
    python benchmarks/bench_hmm.py --quality [--real /path/to/fsdd/recordings] [--loeo] [--ablation]

``--quality`` measures the recogniser instead of the speed (minutes): trains
``WordRecognizer()`` (default settings) on the corpus train split and prints
training time, accuracy per test voice, overall and the confusion matrix; the
DTW baseline; connected-digit WER on ``data.digit_strings(split="test")``;
with ``--real``, accuracy per speaker on real recordings (FSDD layout, any
folder of ``DIGIT_SPEAKER_TAKE.wav``; never shipped); with ``--loeo``,
leave-one-engine-out; with ``--ablation``, the effect of each ingredient on
the worst test voice.

Setup: a random ergodic model (Dirichlet rows) with N states and random
emission log-likelihoods ``log_b (T, N)``; the same arrays go to
``course_lib.hmm.forward`` / ``viterbi`` (NumPy, vectorised over states, one
Python step per frame) and to hmmlearn 0.3.3's C++ ``_hmmc.forward_log`` /
``_hmmc.viterbi`` -- the kernels behind ``score`` and ``decode``, without
hmmlearn's emission computation, so both sides do exactly the same work.
Results are checked equal before timing (so a fast wrong answer cannot
win); each call runs once to warm up, then ``--repeat`` times interleaved;
the median is reported with the ratio course_lib / hmmlearn (> 1: slower).

What to expect: the NumPy step costs a fixed few microseconds of
interpreter overhead per frame plus ``O(N^2)`` vectorised work; the C++
loop costs ``O(N^2)`` exp/log per frame and nothing else. So the ratio is
largest for small N (overhead-bound) and approaches 1 as N grows.
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
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--states", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quality", action="store_true", help="measure accuracy instead of speed")
    parser.add_argument("--real", default=None, help="folder of real DIGIT_SPEAKER_TAKE.wav recordings")
    parser.add_argument("--real-takes", type=int, default=10, help="takes per digit and speaker from --real")
    parser.add_argument("--loeo", action="store_true", help="leave-one-engine-out")
    parser.add_argument("--ablation", action="store_true", help="ablation on the worst test voice")
    parser.add_argument("--skip-dtw", action="store_true")
    args = parser.parse_args(argv)
    if args.quality:
        return quality(args)

    from hmmlearn import _hmmc

    from course_lib import hmm

    rng = np.random.default_rng(0)
    print(f"T = {args.frames} frames; median of {args.repeat} runs; ratio = course_lib / hmmlearn")
    print(f"{'N':>4} {'forward ms':>11} {'hmmlearn':>9} {'ratio':>6}   {'viterbi ms':>10} {'hmmlearn':>9} {'ratio':>6}")
    for N in args.states:
        pi = rng.dirichlet(np.ones(N))
        A = rng.dirichlet(np.ones(N), size=N)
        log_pi, log_A = np.log(pi), np.log(A)
        log_b = rng.standard_normal((args.frames, N)) * 5
        ll, alpha = _hmmc.forward_log(pi, A, log_b)
        ours = hmm.forward(log_b, log_pi=log_pi, log_A=log_A)
        np.testing.assert_allclose(ours.log_alpha, alpha, rtol=1e-9)
        vll, vpath = _hmmc.viterbi(pi, A, log_b)
        v = hmm.viterbi(log_b, log_pi=log_pi, log_A=log_A)
        np.testing.assert_array_equal(v.path, vpath)
        np.testing.assert_allclose(v.log_prob, vll, rtol=1e-9)
        t = _median_times({
            "fwd": lambda: hmm.forward(log_b, log_pi=log_pi, log_A=log_A),
            "fwd_ref": lambda: _hmmc.forward_log(pi, A, log_b),
            "vit": lambda: hmm.viterbi(log_b, log_pi=log_pi, log_A=log_A),
            "vit_ref": lambda: _hmmc.viterbi(pi, A, log_b),
        }, args.repeat)
        print(f"{N:>4} {t['fwd'] * 1e3:>11.2f} {t['fwd_ref'] * 1e3:>9.2f} {t['fwd'] / t['fwd_ref']:>5.1f}x"
              f"   {t['vit'] * 1e3:>10.2f} {t['vit_ref'] * 1e3:>9.2f} {t['vit'] / t['vit_ref']:>5.1f}x")
    return 0


def _report(name, ev):
    print(f"{name}: {ev.accuracy:.1%} overall; per voice: "
          + ", ".join(f"{k} {v:.0%}" for k, v in ev.per_speaker.items()), flush=True)


def quality(args) -> int:
    import collections
    import time

    from course_lib import data, hmm, metrics

    train = data.spoken_words(split="train")
    test = data.spoken_words(split="test")
    t0, c0 = time.perf_counter(), time.process_time()
    rec = hmm.WordRecognizer().fit(train)
    print(f"trained {len(rec.models_)} word models on {len(train)} clips "
          f"({len(data.speakers(split='train'))} voices) in {time.perf_counter() - t0:.1f} s "
          f"(CPU time {time.process_time() - c0:.1f} s)", flush=True)
    ev = hmm.evaluate(rec, test)
    _report("HMM, test voices", ev)
    print("confusion (rows spoken, columns recognised):", " ".join(ev.labels))
    for lab, row in zip(ev.labels, ev.confusion):
        print(f"  {lab:>6s} " + " ".join(f"{v:2d}" for v in row))
    if not args.skip_dtw:
        _report("DTW (5 templates per word), test voices", hmm.evaluate(hmm.DTWRecognizer().fit(train), test))
    strings = data.digit_strings(split="test")
    refs = [c.text for c in strings]
    hyps = [" ".join(rec.transcribe(c.audio, sr=c.sr, words=data.DIGITS)) for c in strings]
    per = collections.defaultdict(lambda: ([], []))
    for c, r, h in zip(strings, refs, hyps):
        per[c.speaker][0].append(r)
        per[c.speaker][1].append(h)
    print(f"connected digits: WER {metrics.wer(refs, hyps):.1%} on {len(strings)} strings; per voice: "
          + ", ".join(f"{k} {metrics.wer(*v):.1%}" for k, v in sorted(per.items())), flush=True)
    if args.real:
        from course_lib import datasets

        real = datasets.real_digits(root=args.real, takes=args.real_takes)
        digits = hmm.WordRecognizer()
        digits.models_ = {w: rec.models_[w] for w in data.DIGITS}
        digits.labels_ = list(data.DIGITS)
        _report(f"real recordings ({len(real)} clips), trained on the corpus only", hmm.evaluate(digits, real))
    if args.loeo:
        for engine in data.engines():
            split = data.leave_one_engine_out(engine)
            _report(f"leave-one-engine-out {engine}", hmm.evaluate(hmm.WordRecognizer().fit(split.train), split.test))
    if args.ablation:
        worst = min(ev.per_speaker, key=ev.per_speaker.get)
        clips = [c for c in test if c.speaker == worst]
        voices = data.speakers(split="train")
        print(f"ablation on the worst test voice {worst} ({ev.per_speaker[worst]:.0%} with the defaults):")
        for name, kw, tr in [
            ("no deltas", {"deltas": False}, train), ("no CMVN", {"normalise": False}, train),
            ("1 Gaussian per state", {"n_mix": 1}, train), ("4 Gaussians per state", {"n_mix": 4}, train),
            ("16 training voices", {}, [c for c in train if c.speaker in voices[::max(1, len(voices) // 16)]]),
            ("4 training voices", {}, [c for c in train if c.speaker in voices[::max(1, len(voices) // 4)]]),
        ]:
            acc = hmm.evaluate(hmm.WordRecognizer(**kw).fit(tr), clips).accuracy
            print(f"  {name:24s} {acc:.0%}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
