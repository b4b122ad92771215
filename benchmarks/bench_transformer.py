"""Time course_lib's attention against PyTorch's (CPU): the written-out scaled dot-product attention
against ``F.scaled_dot_product_attention``, and ``MultiHeadAttention`` against ``torch.nn.MultiheadAttention``.

Run from the repository root:

    python benchmarks/bench_transformer.py                 # batch 16, 4 heads, 100 steps, d_model 128
    python benchmarks/bench_transformer.py --steps 400 --repeat 9 --threads 2

Each pair computes the same numbers (checked before timing). The written-out version
materialises the (batch, heads, T, T) weight matrix (for the notebook's attention maps);
PyTorch's fused kernel need not, which is why the library calls it whenever the weights
are not asked for.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn import functional as F

from course_lib.asr import transformer as tr


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
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, T, D, H = args.batch, args.steps, args.d_model, args.heads
    q, k, v = (torch.randn(B, H, T, D // H) for _ in range(3))
    mask = tr.padding_mask(torch.randint(T // 2, T + 1, (B,)), max_len=T)

    with torch.no_grad():
        ours = tr.scaled_dot_product_attention(q, k, v, mask=mask).output
        ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-5)
        t_ours = _median(lambda: tr.scaled_dot_product_attention(q, k, v, mask=mask), args.repeat)
        t_ref = _median(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), args.repeat)
    print(f"attention ({B}x{H} heads, {T} steps, d_k={D // H}): written out {t_ours * 1e3:.2f} ms, "
          f"F.scaled_dot_product_attention {t_ref * 1e3:.2f} ms, ratio {t_ours / t_ref:.2f}x")

    mha = tr.MultiHeadAttention(D, H).eval()
    ref_mha = torch.nn.MultiheadAttention(D, H, batch_first=True).eval()
    with torch.no_grad():
        ref_mha.in_proj_weight.copy_(torch.cat([mha.q_proj.weight, mha.k_proj.weight, mha.v_proj.weight]))
        ref_mha.in_proj_bias.copy_(torch.cat([mha.q_proj.bias, mha.k_proj.bias, mha.v_proj.bias]))
        ref_mha.out_proj.load_state_dict(mha.out_proj.state_dict())
        x = torch.randn(B, T, D)
        kpm = ~mask[:, 0, 0]                                              # torch: True on padding
        torch.testing.assert_close(mha(x, x, x, mask)[0], ref_mha(x, x, x, key_padding_mask=kpm)[0],
                                   rtol=1e-4, atol=1e-5)
        t_fast = _median(lambda: mha(x, x, x, mask), args.repeat)
        t_slow = _median(lambda: mha(x, x, x, mask, need_weights=True), args.repeat)
        t_ref = _median(lambda: ref_mha(x, x, x, key_padding_mask=kpm, need_weights=False), args.repeat)
    print(f"multi-head attention ({B}x{T}x{D}): ours fused {t_fast * 1e3:.2f} ms, ours with weights "
          f"{t_slow * 1e3:.2f} ms, torch.nn.MultiheadAttention {t_ref * 1e3:.2f} ms, "
          f"ratio (fused) {t_fast / t_ref:.2f}x")


if __name__ == "__main__":
    main()
