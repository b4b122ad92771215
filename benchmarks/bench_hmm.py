"""Time course_lib.hmm's teaching forward / Viterbi against hmmlearn's compiled ones (same model).

Run from the repository root:

    python benchmarks/bench_hmm.py                    # T = 1000 frames, N = 8, 16, 32, 64 states
    python benchmarks/bench_hmm.py --frames 5000 --states 8 64 --repeat 9

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
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    raise SystemExit(main())
