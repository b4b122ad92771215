"""course_lib.train.fit: a reference loop, determinism, clipping, budgets, early stopping, resume."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_lib import config, train  # noqa: E402
from course_lib.batching import BucketBatchSampler, collate_padded  # noqa: E402
from course_lib.errors import ParameterError  # noqa: E402

F = torch.nn.functional


def _blobs(n=96, d=4, k=3, seed=0, shift=2.0, noise_seed=None):
    """k Gaussian blobs in d dimensions: (X (n, d) float32, y (n,) int64); centres from seed."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    centres = torch.randn(k, d, generator=g) * shift
    if noise_seed is not None:
        g = torch.Generator().manual_seed(noise_seed)
    return centres[y] + torch.randn(n, d, generator=g), y


def _mlp(seed=0, dropout=0.2):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                               torch.nn.Linear(16, 3))


def _weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


FIT = dict(loss_fn=F.cross_entropy, batch_size=16, progress=False, device="cpu")


# --------------------------------------------------------------------------- reference

def test_equals_a_hand_written_loop():
    """Without shuffling or clipping, fit's SGD is exactly the textbook loop (bit for bit)."""
    X, y = _blobs()
    model = _mlp(dropout=0.0)
    reference = _mlp(dropout=0.0)
    opt = torch.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(3):
        for i in range(0, len(X), 16):
            loss = F.cross_entropy(reference(X[i:i + 16]), y[i:i + 16])
            opt.zero_grad()
            loss.backward()
            opt.step()
    h = train.fit(model, (X, y), optimizer=lambda p: torch.optim.SGD(p, lr=0.1), epochs=3, shuffle=False,
                  clip_grad_norm=None, **FIT)
    assert _same(_weights(model), _weights(reference))
    assert len(h.epochs) == 3 and h.stopped == "epochs"


def test_learns_and_reports_history():
    X, y = _blobs(seed=1, shift=4.0)
    Xv, yv = _blobs(n=48, seed=1, shift=4.0, noise_seed=7)     # same blobs, new points
    model = _mlp()
    h = train.fit(model, (X, y), valid_data=(Xv, yv), metrics={"accuracy": train.accuracy}, epochs=15,
                  lr=0.02, **FIT)
    assert h.columns[:5] == ["epoch", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy"]
    assert {"lr", "grad_norm", "time"} <= set(h.columns)
    assert h["epoch"] == list(range(15))
    assert h["train_loss"][-1] < 0.5 * h["train_loss"][0]
    assert h["valid_accuracy"][-1] > 0.9
    assert h.best_epoch == int(np.argmin(h["valid_loss"])) and h.monitor == "valid_loss"
    assert h.wall_time >= sum(h["time"]) * 0.99
    # the history is plain data: JSON round trip
    assert train.History.from_dict(json.loads(json.dumps(h.to_dict()))) == h
    with pytest.raises(KeyError, match="valid_f1"):
        h["valid_f1"]


def test_evaluate_equals_a_direct_computation():
    """Item-weighted means over uneven batches (100 items in batches of 32) equal one big batch."""
    X, y = _blobs(n=100)
    model = _mlp(dropout=0.5)                 # eval mode: dropout off, so the numbers are exact
    scores = train.evaluate(model, (X, y), loss_fn=F.cross_entropy, metrics={"accuracy": train.accuracy},
                            batch_size=32)
    model.eval()
    with torch.no_grad():
        out = model(X)
    assert scores["loss"] == pytest.approx(float(F.cross_entropy(out, y)), rel=1e-6)
    assert scores["accuracy"] == pytest.approx(train.accuracy(out, y), abs=1e-6)   # float32 mean vs float64 sum


def test_accuracy_known_answer():
    out = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert train.accuracy(out, torch.tensor([1, 0, 0, 0])) == 0.75


# --------------------------------------------------------------------------- determinism

def _run(seed, *, noise):
    X, y = _blobs()
    model = _mlp(seed=0)                      # same initial weights
    torch.manual_seed(noise)                  # a different global RNG state before fit
    train.fit(model, (X, y), epochs=3, seed=seed, **FIT)
    return _weights(model)


def test_deterministic_on_cpu():
    """Two runs with the same seed give identical weights, whatever the global RNG state was;
    another seed (data order, dropout) gives other weights."""
    first = _run(0, noise=1)
    assert _same(first, _run(0, noise=2))
    assert not _same(first, _run(1, noise=1))


def test_leaves_the_callers_random_state_alone():
    X, y = _blobs()
    model = _mlp()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train.fit(model, (X, y), epochs=1, **FIT)
    assert torch.equal(torch.rand(3), expected)


# --------------------------------------------------------------------------- clipping

@pytest.mark.parametrize("clip", [0.01, 1e6])
def test_gradient_clipping_known_answer(clip):
    """One SGD step on one batch moves the weights by lr * g * min(1, clip / |g|)."""
    X, y = _blobs(n=16)
    model = _mlp(dropout=0.0)
    probe = _mlp(dropout=0.0)
    F.cross_entropy(probe(X), y).backward()
    g = torch.cat([p.grad.flatten() for p in probe.parameters()])
    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    h = train.fit(model, (X, y), optimizer=lambda p: torch.optim.SGD(p, lr=0.5), epochs=1, shuffle=False,
                  clip_grad_norm=clip, **FIT)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    expected = 0.5 * g * min(1.0, clip / float(g.norm()))
    torch.testing.assert_close(before - after, expected, rtol=1e-4, atol=1e-7)
    assert h["grad_norm"][0] == pytest.approx(float(g.norm()), rel=1e-5)   # the norm before clipping


# --------------------------------------------------------------------------- budget, early stopping

def test_time_budget_stops_training():
    X, y = _blobs()

    def slow_step(model, batch):
        time.sleep(0.05)
        x, t = batch
        out = model(x)
        return F.cross_entropy(out, t), out, t

    model = _mlp()
    t0 = time.perf_counter()
    h = train.fit(model, (X, y), step_fn=slow_step, time_budget=0.4, batch_size=16, progress=False,
                  device="cpu", optimizer=lambda p: torch.optim.SGD(p, lr=0.1))
    elapsed = time.perf_counter() - t0
    assert h.stopped == "time_budget"
    assert 0.35 <= sum(h["time"]) <= h.wall_time <= elapsed    # epochs: the budget, less gaps between them
    assert sum(h["time"]) < 0.4 + 1.0          # stops a step after the budget (slack for a busy machine)
    assert 1 <= len(h.epochs) <= 2             # 6 steps of 50 ms per epoch: the budget ends the first or second


def test_early_stopping_and_restore_best(tmp_path):
    """Validation labels are a permutation of the training labels: the more the model learns,
    the worse the validation loss, so the best epoch is the first and patience ends the run."""
    X, y = _blobs(seed=2)
    y_wrong = (y + 1) % 3
    model = _mlp(dropout=0.0)
    h = train.fit(model, (X, y), valid_data=(X, y_wrong), epochs=30, patience=3, lr=0.05,
                  checkpoint_dir=tmp_path, **FIT)
    assert h.stopped == "early_stopping"
    assert h.best_epoch == 0 and len(h.epochs) == 4
    one_epoch = _mlp(dropout=0.0)
    train.fit(one_epoch, (X, y), valid_data=(X, y_wrong), epochs=1, lr=0.05, **FIT)
    assert _same(_weights(model), _weights(one_epoch))           # restored to the best (first) epoch
    best = train.load_weights(tmp_path / "best.safetensors")
    assert _same(best, _weights(one_epoch))


def test_monitor_higher_is_better_for_metrics():
    X, y = _blobs(seed=3)
    h = train.fit(_mlp(), (X, y), valid_data=(X, y), metrics={"accuracy": train.accuracy},
                  monitor="valid_accuracy", epochs=4, lr=0.02, **FIT)
    acc = h["valid_accuracy"]
    assert h.best_epoch == int(np.argmax(acc))


# --------------------------------------------------------------------------- checkpoints

def test_resume_continues_exactly(tmp_path):
    """2 epochs, stop, resume in a fresh model to 5 epochs == 5 epochs in one go (Adam state, dropout, order)."""
    X, y = _blobs()
    kw = dict(valid_data=(X[:32], y[:32]), metrics={"accuracy": train.accuracy}, lr=0.01, **FIT)
    straight = _mlp()
    h_straight = train.fit(straight, (X, y), epochs=5, restore_best=False, **kw)

    first = _mlp()
    train.fit(first, (X, y), epochs=2, checkpoint_dir=tmp_path, restore_best=False, **kw)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.safetensors", "last.json", "last.safetensors"]
    resumed = _mlp(seed=99)                    # other initial weights: the checkpoint must replace them
    h_resumed = train.fit(resumed, (X, y), epochs=5, checkpoint_dir=tmp_path, resume=True,
                          restore_best=False, **kw)
    assert _same(_weights(resumed), _weights(straight))
    assert h_resumed["train_loss"] == h_straight["train_loss"]
    assert h_resumed["epoch"] == list(range(5))
    state = json.loads((tmp_path / "last.json").read_text())
    assert state["epoch"] == 4 and state["written_by_rank"] == 0


def test_resume_rejects_a_checkpoint_of_another_model(tmp_path):
    X, y = _blobs()
    train.fit(_mlp(), (X, y), epochs=1, checkpoint_dir=tmp_path, **FIT)
    other = torch.nn.Linear(4, 3)
    with pytest.raises(train.TrainingError, match="does not fit this model"):
        train.fit(other, (X, y), epochs=2, checkpoint_dir=tmp_path, resume=True, **FIT)


def test_save_and_load_weights_round_trip(tmp_path):
    w = {"a": torch.randn(3, 2), "b": torch.arange(4)}
    path = train.save_weights(tmp_path / "w.safetensors", w, metadata={"seed": 0})
    back = train.load_weights(path)
    assert _same(back, w)
    assert path.read_bytes()[8:9] == b"{"          # safetensors: 8-byte header length, then JSON, no pickle


# --------------------------------------------------------------------------- variable-length data

class _Words(torch.utils.data.Dataset):
    """Sequences (time, 2) whose label is the sign of their mean; records which items it served."""

    def __init__(self, n=40):
        g = torch.Generator().manual_seed(0)
        self.lengths = (torch.arange(n) % 9 + 2).tolist()
        self.items = [torch.randn(t, 2, generator=g) + (1.0 if i % 2 else -1.0) for i, t in enumerate(self.lengths)]
        self.served = []

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        self.served.append(i)
        return self.items[i], i % 2


def test_padded_batches_with_bucketing():
    data = _Words()
    model = torch.nn.Linear(2, 2)

    def step(model, batch):
        padded, targets = batch
        m = padded.mask.unsqueeze(-1).float()                         # (B, T, 1)
        pooled = (padded.x * m).sum(1) / m.sum(1)                      # masked mean over time: (B, 2)
        out = model(pooled)
        return F.cross_entropy(out, targets), out, targets

    sampler = BucketBatchSampler(data.lengths, batch_size=8, seed=0)
    h = train.fit(model, data, step_fn=step, batch_sampler=sampler, collate_fn=collate_padded, epochs=3,
                  metrics={"accuracy": train.accuracy}, lr=0.1, progress=False, device="cpu")
    assert sorted(data.served) == sorted(list(range(40)) * 3)       # each item once per epoch
    assert sampler.epoch == 2                                       # fit called set_epoch
    assert h["train_accuracy"][-1] > 0.9


# --------------------------------------------------------------------------- device, progress, errors

def test_uses_config_device(monkeypatch):
    calls = []

    def fake_device():
        calls.append(1)
        return "cpu"

    monkeypatch.setattr(config, "device", fake_device)
    X, y = _blobs()
    train.fit(_mlp(), (X, y), loss_fn=F.cross_entropy, epochs=1, progress=False)
    assert calls


def test_progress_bar_shows_loss_and_metric(capsys):
    X, y = _blobs()
    train.fit(_mlp(), (X, y), loss_fn=F.cross_entropy, valid_data=(X, y), metrics={"accuracy": train.accuracy},
              epochs=2, device="cpu", desc="blobs")
    err = capsys.readouterr().err
    assert "blobs" in err and "loss=" in err and "val_accuracy=" in err


def test_nan_loss_is_reported():
    X, y = _blobs()
    X[0, 0] = float("nan")
    with pytest.raises(train.TrainingError, match="loss is nan at epoch 0, step 0"):
        train.fit(_mlp(), (X, y), epochs=1, shuffle=False, **FIT)


@pytest.mark.parametrize("kwargs, match", [
    (dict(), "give epochs"),
    (dict(epochs=0), "epochs=0"),
    (dict(epochs=1, batch_size=0), "batch_size=0"),
    (dict(epochs=1, time_budget=-1), "time_budget=-1"),
    (dict(epochs=1, clip_grad_norm=0), "clip_grad_norm=0"),
    (dict(epochs=1, resume=True), "resume=True needs checkpoint_dir"),
    (dict(epochs=1, patience=2), "patience"),
    (dict(epochs=1, step_fn=lambda m, b: 0), "exactly one"),
    (dict(epochs=1, valid_data=(torch.zeros(4, 4), torch.zeros(4).long()), monitor="valid_f1"), "monitor='valid_f1'"),
    (dict(epochs=1, optimizer="adam"), "optimizer must be"),
])
def test_bad_arguments(kwargs, match):
    X, y = _blobs()
    kw = {"loss_fn": F.cross_entropy, "progress": False, "device": "cpu"} | kwargs
    with pytest.raises(ParameterError, match=match):
        train.fit(_mlp(), (X, y), **kw)


def test_plot_history_draws_every_column():
    pytest.importorskip("matplotlib")
    from course_lib import display

    X, y = _blobs()
    h = train.fit(_mlp(), (X, y), valid_data=(X, y), metrics={"accuracy": train.accuracy}, epochs=3, **FIT)
    axes = display.plot_history(h)
    labels = {line.get_label() for ax in axes for line in ax.get_lines()
              if not line.get_label().startswith("_")}                 # not the best-epoch marker
    assert all(ax.get_lines()[-1].get_xdata()[0] == h.best_epoch + 1 for ax in axes)
    assert labels == {"train loss", "valid loss", "train accuracy", "valid accuracy"}
    loss_line = next(line for line in axes[0].get_lines() if line.get_label() == "train loss")
    np.testing.assert_allclose(loss_line.get_ydata(), h["train_loss"])
    np.testing.assert_array_equal(loss_line.get_xdata(), np.arange(1, 4))   # epochs counted from 1
    # a plain dict of lists works too
    axes = display.plot_history({"train_loss": [3.0, 2.0], "valid_loss": [3.5, 2.5]})
    assert len(axes) == 1
    with pytest.raises(ParameterError, match="no loss or metric"):
        display.plot_history({"epoch": [0, 1]})


# --------------------------------------------------------------------------- the one-cycle schedule

@pytest.mark.parametrize("total, pct", [(100, 0.3), (37, 0.25), (5, 0.3)])
def test_one_cycle_adamw_follows_torchs_one_cycle_lr(total, pct):
    """Reference: torch.optim.lr_scheduler.OneCycleLR (its defaults: cosine, div 25, final div 1e4; momentum
    not cycled, as ours keeps AdamW's betas) on a plain AdamW, step by step: the same rates and the same
    updates; ours keeps the last rate after the schedule ends (torch raises)."""
    w_ref, w = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    ref = torch.optim.AdamW([w_ref], lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(ref, max_lr=3e-3, total_steps=total, pct_start=pct,
                                                cycle_momentum=False)
    ours = train.OneCycleAdamW([w], lr=3e-3, total_steps=total, pct_start=pct)
    for _ in range(total):
        expected = ref.param_groups[0]["lr"]
        for p, opt in ((w_ref, ref), (w, ours)):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
        assert ours.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12, abs=1e-18)
        sched.step()
    assert torch.allclose(w, w_ref, rtol=0, atol=1e-12)          # the same updates
    last = ours.param_groups[0]["lr"]
    ours.step()
    assert ours.param_groups[0]["lr"] == last == pytest.approx(3e-3 / 25 / 1e4)
    peak = max(train.OneCycleAdamW.schedule(n, lr=3e-3, total_steps=total, pct_start=pct) for n in range(total))
    assert 0.9 * 3e-3 < peak <= 3e-3          # reached exactly only when pct_start * total_steps is a whole step


def test_one_cycle_adamw_state_survives_a_resume_and_rejects_bad_settings():
    w = torch.nn.Parameter(torch.ones(2))
    opt = train.OneCycleAdamW([w], lr=1e-2, total_steps=50)
    for _ in range(7):
        opt.step()
    again = train.OneCycleAdamW([w], lr=1e-2, total_steps=50)
    again.load_state_dict(opt.state_dict())
    opt.step(), again.step()
    assert again.param_groups[0]["n_steps"] == 8 and again.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    with pytest.raises(ParameterError, match="pct_start"):
        train.OneCycleAdamW([w], lr=1e-2, total_steps=50, pct_start=1.0)
    with pytest.raises(ParameterError, match="total_steps"):
        train.OneCycleAdamW([w], lr=1e-2, total_steps=0)
