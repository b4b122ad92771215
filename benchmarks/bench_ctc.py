"""Time course_lib's batched CTC loss against torch.nn.CTCLoss (forward + backward, CPU),
and the prefix beam search at a few beam widths.

Run from the repository root:

    python benchmarks/bench_ctc.py                 # batch 16, 200 frames, 29 classes
    python benchmarks/bench_ctc.py --repeat 9 --threads 2

Both losses compute the same numbers (checked before timing). torch's CTCLoss is
a compiled kernel; ours is the α recursion written in torch operations, one
vectorised step per frame, so the ratio shows the price of Python-level loops
over time. The beam search is pure Python/NumPy (a teaching implementation).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from course_lib.asr import ctc


def _median(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--classes", type=int, default=29)
    ap.add_argument("--target", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    B, T, C, U = args.batch, args.frames, args.classes, args.target
    logits = torch.randn(T, B, C, generator=g)
    targets = torch.randint(1, C, (B, U), generator=g)
    il = torch.full((B,), T)
    tl = torch.randint(U // 2, U + 1, (B,), generator=g)

    def run(loss_fn):
        x = logits.clone().requires_grad_(True)
        loss = loss_fn(x.log_softmax(-1), targets, il, tl)
        loss.backward()
        return loss.detach(), x.grad

    ours = lambda: run(lambda *a: ctc.ctc_loss_torch(*a, reduction="mean"))          # noqa: E731
    ref = lambda: run(lambda *a: torch.nn.functional.ctc_loss(*a, reduction="mean"))  # noqa: E731
    (lo, go), (lr, gr) = ours(), ref()
    torch.testing.assert_close(lo, lr, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(go, gr, rtol=1e-3, atol=1e-5)
    t_ours, t_ref = _median(ours, args.repeat), _median(ref, args.repeat)
    print(f"CTC loss, forward + backward, batch {B} x {T} frames x {C} classes, targets <= {U}, "
          f"{args.threads} thread(s)")
    print(f"  torch.nn.CTCLoss        {t_ref * 1e3:9.2f} ms")
    print(f"  course_lib ctc_loss_torch {t_ours * 1e3:7.2f} ms   ratio {t_ours / t_ref:6.1f}x")

    lp = logits[:, 0].log_softmax(-1).double().numpy()
    print(f"prefix beam search, one utterance of {T} frames x {C} classes")
    for width in (1, 4, 16):
        t = _median(lambda: ctc.prefix_beam_search(lp, beam_width=width), max(1, args.repeat // 2))
        print(f"  beam_width={width:<3d} {t * 1e3:9.1f} ms   real-time factor at 10 ms frames: "
              f"{t / (T * 0.01):.3f}")
    t = _median(lambda: ctc.greedy_decode(lp), args.repeat)
    print(f"  greedy        {t * 1e3:9.3f} ms")

    # torchaudio's ctc_decoder (Flashlight, C++) on the same log-probabilities, lexicon-free, no LM
    try:
        from course_lib.asr import flashlight
        from course_lib.asr.text import CharTokenizer
    except ImportError:                                  # flashlight-text missing
        return
    symbols = CharTokenizer().symbols if C == 29 else [str(i) for i in range(C)]
    print("torchaudio ctc_decoder (Flashlight) vs our prefix beam search, same log-probs, no LM")
    for width in (4, 16):
        dec = flashlight.flashlight_decoder(symbols, beam_size=width)
        t_fl = _median(lambda: flashlight.flashlight_decode(dec, lp), args.repeat)
        t_py = _median(lambda: ctc.prefix_beam_search(lp, beam_width=width), max(1, args.repeat // 2))
        print(f"  beam {width:<3d} flashlight {t_fl * 1e3:8.2f} ms   ours {t_py * 1e3:8.1f} ms   "
              f"ratio {t_py / t_fl:6.1f}x")


if __name__ == "__main__":
    main()
