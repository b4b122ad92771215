"""train.fit under torchrun: DistributedDataParallel with gloo on the CPU, two processes.

The worker below is launched with ``torchrun --nproc_per_node=2``; it calls the
same ``train.fit`` a single process calls, with the same *global* batch (16:
8 items per process). Both ranks must end with identical weights (DDP
all-reduces the gradients, so every rank applies the same update), equal to a
single-process run to float32 rounding: each step's gradient is the mean of
two 8-item means instead of one 16-item mean, the same numbers added in
another order (relative error ~1e-7 per step), over 18 SGD steps.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from course_lib import train  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent('''
    import json, os, sys
    import torch
    from course_lib import train

    out = sys.argv[1]
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    g = torch.Generator().manual_seed(1)
    y = torch.arange(96) % 3
    X = torch.randn(3, 4, generator=g)[y] * 2 + torch.randn(96, 4, generator=g)
    if os.environ.get("RANK") == "1":
        torch.nn.init.zeros_(model[0].weight)      # rank 1 starts elsewhere: DDP must broadcast rank 0's weights
    h = train.fit(model, (X, y), loss_fn=torch.nn.functional.cross_entropy,
                  optimizer=lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.9), epochs=3, batch_size=16,
                  valid_data=(X[:30], y[:30]), metrics={"accuracy": train.accuracy}, restore_best=False,
                  device="cpu", seed=0, desc="ddp-bar",
                  checkpoint_dir=os.path.join(out, "ckpt") if len(sys.argv) > 2 else None)
    rank = os.environ.get("RANK", "single")
    train.save_weights(os.path.join(out, f"weights_{rank}.safetensors"), model.state_dict())
    with open(os.path.join(out, f"history_{rank}.json"), "w") as f:
        json.dump(h.to_dict(), f)
''')


def _run_torchrun(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = os.environ | {"OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "--log-dir", str(tmp_path / "logs"), "--redirects", "3",
           str(script), str(tmp_path), "checkpoint"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    logs = {p.relative_to(tmp_path): p.read_text() for p in (tmp_path / "logs").rglob("*.log")}
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stderr[-3000:]}\n{logs}"
    return logs


def _single(tmp_path):
    """The same worker in this process, without torchrun."""
    namespace = {"__name__": "__worker__"}
    argv, sys.argv = sys.argv, ["worker", str(tmp_path)]
    try:
        exec(compile(WORKER, "worker", "exec"), namespace)
    finally:
        sys.argv = argv


@pytest.mark.slow
def test_torchrun_two_processes_match_a_single_process(tmp_path):
    logs = _run_torchrun(tmp_path)
    _single(tmp_path)
    w0 = train.load_weights(tmp_path / "weights_0.safetensors")
    w1 = train.load_weights(tmp_path / "weights_1.safetensors")
    w = train.load_weights(tmp_path / "weights_single.safetensors")
    for k in w:
        assert torch.equal(w0[k], w1[k]), f"ranks disagree on {k}"          # bit-identical
        torch.testing.assert_close(w0[k], w[k], rtol=1e-5, atol=1e-6)       # rounding only (see module doc)
    assert not torch.equal(w["0.weight"], torch.zeros_like(w["0.weight"]))
    # every rank reports the global numbers (sums all-reduced), equal to the single process's
    h0, h1, h = (json.loads((tmp_path / f"history_{r}.json").read_text()) for r in ("0", "1", "single"))
    for key in ("train_loss", "valid_loss", "valid_accuracy"):
        a, b, c = ([e[key] for e in x["epochs"]] for x in (h0, h1, h))
        assert a == b
        assert a == pytest.approx(c, rel=1e-5, abs=1e-6)
    # rank 0 alone writes checkpoints and shows the progress bar
    state = json.loads((tmp_path / "ckpt" / "last.json").read_text())
    assert state["written_by_rank"] == 0 and state["world_size"] == 2
    err = {str(k): v for k, v in logs.items() if k.name == "stderr.log"}
    rank0 = [v for k, v in err.items() if f"{os.sep}0{os.sep}" in k]
    rank1 = [v for k, v in err.items() if f"{os.sep}1{os.sep}" in k]
    assert rank0 and rank1, f"no per-rank logs: {list(logs)}"
    assert "ddp-bar" in rank0[0] and "ddp-bar" not in rank1[0]
