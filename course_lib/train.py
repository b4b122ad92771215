"""One small training loop for every chapter: :func:`fit`.

Notebook: 00_welcome.ipynb

:func:`fit` trains a ``torch.nn.Module`` for a number of epochs or a time
budget, validates after every epoch, clips gradients, seeds everything it
draws, runs on :func:`course_lib.config.device`, shows a ``tqdm`` progress bar
with the loss and metric, and returns a :class:`History` that
:func:`course_lib.display.plot_history` plots. With ``checkpoint_dir`` it
saves a checkpoint after every epoch (safetensors + JSON, never pickle),
stops early when the validation metric stops improving (``patience``) and
resumes where it stopped (``resume=True``).

The same call runs unchanged under ``torchrun`` (DistributedDataParallel,
gloo on CPU, nccl on GPU): each process sees its shard of every global batch
(``batch_size`` is the *global* batch), gradients are averaged across
processes, and only rank 0 shows progress and writes checkpoints::

    torchrun --nproc_per_node=2 my_training_script.py

A minimal run::

    >>> import torch
    >>> from course_lib import train
    >>> X, y = torch.randn(64, 3), torch.randint(0, 2, (64,))
    >>> model = torch.nn.Linear(3, 2)
    >>> h = train.fit(model, (X, y), loss_fn=torch.nn.functional.cross_entropy, epochs=2,
    ...               batch_size=16, metrics={"accuracy": train.accuracy}, progress=False)
    >>> len(h.epochs), sorted(h.epochs[0])[:3]
    (2, ['epoch', 'grad_norm', 'lr'])

Determinism: for a given ``seed`` the data order, dropout masks and every
other draw inside :func:`fit` are fixed (per epoch, so a resumed run
continues exactly), and :func:`fit` leaves the caller's global random state
as it found it. On the CPU two runs give bit-identical weights; some CUDA
kernels are not deterministic, so on a GPU expect agreement to rounding.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from . import config
from .errors import CourseLibError, ParameterError

__all__ = ["fit", "evaluate", "accuracy", "History", "TrainingError", "to_device",
           "save_weights", "load_weights", "is_rank0", "OneCycleAdamW", "warm_start"]


class TrainingError(CourseLibError):
    """Training cannot go on (a NaN loss, a checkpoint that does not match the model)."""


def warm_start(model, init_from):
    """``model`` with the weights (and buffers) of ``init_from``, a trained model with the same
    ``config``, or unchanged when ``init_from`` is None; another config raises ``ParameterError``
    naming it. The trainers' ``init_from=`` (CTC, Transformer, WaveNet vocoder) go through it."""
    if init_from is not None:
        if init_from.config != model.config:
            raise ParameterError(f"init_from has config {init_from.config}, not {model.config}: "
                                 "the weights do not fit")
        model.load_state_dict(init_from.state_dict())
    return model


# --------------------------------------------------------------------------- a learning-rate schedule

class OneCycleAdamW(torch.optim.AdamW):
    """AdamW on the one-cycle schedule (Smith & Topin 2019), step by step as
    ``torch.optim.lr_scheduler.OneCycleLR`` with its defaults: the rate rises from
    ``lr / 25`` to ``lr`` along a half cosine over the first ``pct_start`` of ``total_steps``,
    then falls along a half cosine to ``lr / 25 / 10⁴`` at the last step (and stays there).
    AdamW's betas stay fixed (OneCycleLR with ``cycle_momentum=False``).

    Notebook: 07_audio_classification.ipynb

    The schedule lives in the optimiser (``fit`` takes an optimiser, not a scheduler), and its
    step count in the parameter groups, so it is saved and restored with the optimiser's
    ``state_dict``. Pass it to :func:`fit` as
    ``optimizer=lambda p: OneCycleAdamW(p, lr=..., total_steps=epochs * batches_per_epoch)``.
    """

    def __init__(self, params, *, lr: float = 1e-3, total_steps: int, pct_start: float = 0.3, **kwargs):
        _check_int("total_steps", total_steps, allow_none=False)
        if not 0 < pct_start < 1:
            raise ParameterError(f"pct_start={pct_start!r} must lie strictly between 0 and 1")
        super().__init__(params, lr=lr, **kwargs)
        for g in self.param_groups:
            g.setdefault("max_lr", lr)
            g.setdefault("total_steps", total_steps)
            g.setdefault("pct_start", pct_start)
            g.setdefault("n_steps", 0)
            g["lr"] = self.schedule(0, lr=lr, total_steps=total_steps, pct_start=pct_start)

    @staticmethod
    def schedule(n: int, *, lr: float, total_steps: int, pct_start: float = 0.3) -> float:
        """The learning rate of step ``n`` (0-based: the first update uses ``n = 0``)."""
        start, peak = lr / 25.0, lr
        end = start / 1e4
        up = float(pct_start * total_steps) - 1                  # the step at which the peak is reached
        n = min(n, total_steps - 1)
        if n <= up:
            a, b, pct = start, peak, (n / up if up > 0 else 1.0)
        else:
            a, b, pct = peak, end, (n - up) / (total_steps - 1 - up)
        return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)

    def step(self, closure=None):
        for g in self.param_groups:
            g["lr"] = self.schedule(g["n_steps"], lr=g["max_lr"], total_steps=g["total_steps"],
                                    pct_start=g["pct_start"])
            g["n_steps"] += 1
        return super().step(closure)


# --------------------------------------------------------------------------- history

@dataclass
class History:
    """What :func:`fit` did, epoch by epoch.

    Attributes
    ----------
    epochs : list of dict
        One dict per epoch: ``epoch`` (0-based), ``train_loss``, ``train_<metric>``,
        ``valid_loss``, ``valid_<metric>`` (with validation data), ``lr``,
        ``grad_norm`` (mean norm before clipping), ``time`` (s).
    wall_time : float
        Seconds spent in :func:`fit` (this call and, after ``resume``, earlier ones).
    best_epoch : int or None
        The epoch with the best ``monitor`` value.
    monitor : str or None
        The column early stopping and ``best_epoch`` follow (e.g. ``"valid_loss"``).
    stopped : str
        Why training ended: ``"epochs"``, ``"time_budget"`` or ``"early_stopping"``.
    """

    epochs: list = field(default_factory=list)
    wall_time: float = 0.0
    best_epoch: int | None = None
    monitor: str | None = None
    stopped: str = ""

    def __getitem__(self, key: str) -> list:
        """One column, e.g. ``history["valid_loss"]`` (None where an epoch lacks it)."""
        if not any(key in e for e in self.epochs):
            raise KeyError(f"{key!r} is not in the history; it has {self.columns}")
        return [e.get(key) for e in self.epochs]

    @property
    def columns(self) -> list[str]:
        """The keys of the per-epoch dicts, in order of first appearance."""
        return list(dict.fromkeys(k for e in self.epochs for k in e))

    @property
    def last(self) -> dict:
        """The last epoch's dict."""
        return self.epochs[-1] if self.epochs else {}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(**d)


# --------------------------------------------------------------------------- helpers

def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of rows whose arg-max equals the target.

    Parameters
    ----------
    outputs : torch.Tensor [shape=(batch, n_classes)]
        Scores or logits.
    targets : torch.Tensor [shape=(batch,), dtype=int64]
    """
    return (outputs.argmax(dim=-1) == targets).float().mean().item()


def to_device(obj, device):
    """Move tensors inside tuples, lists, dicts and NamedTuples (e.g. ``batching.Padded``) to ``device``."""
    if torch.is_tensor(obj):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(to_device(o, device) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    return obj


def _batch_len(obj) -> int:
    """Number of items in a batch: the leading size of its first tensor."""
    if torch.is_tensor(obj):
        return obj.shape[0] if obj.ndim else 1
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        for o in obj:
            n = _batch_len(o)
            if n:
                return n
    return 0


def _epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """A seed for one epoch of one process (so that resuming at epoch e repeats it exactly)."""
    return (seed * 1_000_003 + epoch * 7919 + rank * 104_729) % (2**63 - 1)


def is_rank0() -> bool:
    """True in a single process and on rank 0 of a ``torchrun`` job (who prints and saves).

    Also after :func:`fit` has closed the process group it opened: then ``RANK`` (set by torchrun) decides.
    """
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return os.environ.get("RANK", "0") == "0"


def _check_int(name, value, *, minimum=1, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}")
    return value


# --------------------------------------------------------------------------- checkpoints

def save_weights(path, tensors: dict, *, metadata: dict | None = None) -> Path:
    """Write ``{name: tensor}`` to a safetensors file atomically (a crash leaves the old file).

    ``metadata`` values are stored as strings in the file's header.
    """
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # safetensors refuses shared or non-contiguous storage: give it plain copies
    plain = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    save_file(plain, str(tmp), metadata={k: str(v) for k, v in (metadata or {}).items()})
    os.replace(tmp, path)
    return path


def load_weights(path, *, device="cpu") -> dict:
    """Read a safetensors file into ``{name: tensor}`` (no code runs while loading)."""
    from safetensors.torch import load_file

    return load_file(str(path), device=str(device))


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _split_optimizer_state(state: dict) -> tuple[dict, dict]:
    """An optimizer ``state_dict`` as (tensors for safetensors, the rest for JSON)."""
    tensors, plain = {}, {}
    for idx, slots in state["state"].items():
        for k, v in slots.items():
            if torch.is_tensor(v):
                tensors[f"optim.{idx}.{k}"] = v
            else:
                plain.setdefault(str(idx), {})[k] = v
    return tensors, {"param_groups": state["param_groups"], "state": plain}


def _join_optimizer_state(tensors: dict, plain: dict) -> dict:
    state: dict = {}
    for key, v in tensors.items():
        if key.startswith("optim."):
            _, idx, k = key.split(".", 2)
            state.setdefault(int(idx), {})[k] = v
    for idx, slots in plain["state"].items():
        state.setdefault(int(idx), {}).update(slots)
    groups = [{k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in plain["param_groups"]]
    return {"state": state, "param_groups": groups}


def _save_checkpoint(directory: Path, *, model, optimizer, history: History, extra: dict) -> None:
    opt_tensors, opt_plain = _split_optimizer_state(optimizer.state_dict())
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()} | opt_tensors
    save_weights(directory / "last.safetensors", tensors)
    _write_json(directory / "last.json", {"history": history.to_dict(), "optimizer": opt_plain, **extra})


def _load_checkpoint(directory: Path, *, model, optimizer, device) -> tuple[History, dict]:
    meta = json.loads((directory / "last.json").read_text())
    tensors = load_weights(directory / "last.safetensors", device=device)
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(weights)
        optimizer.load_state_dict(_join_optimizer_state(tensors, meta["optimizer"]))
    except (RuntimeError, ValueError, KeyError) as e:
        raise TrainingError(
            f"the checkpoint in {directory} does not fit this model or optimizer ({e}); "
            "use another checkpoint_dir or resume=False to start afresh"
        ) from None
    return History.from_dict(meta["history"]), meta


# --------------------------------------------------------------------------- distributed

class _ShardSampler(torch.utils.data.Sampler):
    """Items ``rank, rank + R, rank + 2R, ...`` in order: evaluation shards, nothing repeated."""

    def __init__(self, n: int, rank: int, world: int):
        self.n, self.rank, self.world = n, rank, world

    def __iter__(self):
        return iter(range(self.rank, self.n, self.world))

    def __len__(self):
        return len(range(self.rank, self.n, self.world))


def _setup_distributed() -> tuple[int, int, bool]:
    """``(rank, world_size, created)``; starts the process group under ``torchrun`` if needed."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), False
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        if not dist.is_available():
            raise TrainingError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
        return dist.get_rank(), dist.get_world_size(), True
    return 0, 1, False


def _all_reduce(values: list[float], device, world: int, op="sum") -> list[float]:
    if world == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.SUM if op == "sum" else torch.distributed.ReduceOp.MAX)
    return t.tolist()


# --------------------------------------------------------------------------- data

def _as_dataset(data, name):
    if isinstance(data, tuple) and all(torch.is_tensor(d) or hasattr(d, "__array__") for d in data):
        return torch.utils.data.TensorDataset(*(torch.as_tensor(d) for d in data))
    if isinstance(data, torch.utils.data.Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__")):
        return data
    raise ParameterError(
        f"{name} must be a Dataset, a DataLoader or a tuple of arrays (inputs..., targets), "
        f"got {type(data).__name__}"
    )


def _train_loader(data, *, batch_size, shuffle, collate_fn, batch_sampler, seed, rank, world, num_workers):
    if isinstance(data, torch.utils.data.DataLoader):
        sampler = data.batch_sampler if data.batch_sampler is not None else data.sampler
        inner = getattr(sampler, "sampler", sampler)
        aware = isinstance(inner, torch.utils.data.DistributedSampler) or getattr(sampler, "num_replicas", 1) > 1
        if world > 1 and not aware:
            raise ParameterError(
                "under torchrun, pass train_data as a Dataset (fit then shards it) or a DataLoader "
                "with a DistributedSampler / BucketBatchSampler; this DataLoader would give every "
                "process the same batches"
            )
        return data
    data = _as_dataset(data, "train_data")
    if batch_sampler is not None:
        if world > 1 and getattr(batch_sampler, "num_replicas", 1) != world:
            raise ParameterError(f"batch_sampler has num_replicas={getattr(batch_sampler, 'num_replicas', 1)} "
                                 f"but {world} processes are running; build it under torchrun")
        return torch.utils.data.DataLoader(data, batch_sampler=batch_sampler, collate_fn=collate_fn,
                                           num_workers=num_workers)
    if batch_size % world:
        raise ParameterError(f"batch_size={batch_size} is the global batch: it must be divisible by the "
                             f"{world} processes")
    # One sampler for one process and for many: with world == 1 it is a seeded shuffle;
    # with world == R, rank r takes items r, r + R, ... of the same permutation, so the
    # R shards of global batch i are exactly the single-process batch i.
    sampler = torch.utils.data.DistributedSampler(data, num_replicas=world, rank=rank, shuffle=shuffle,
                                                  seed=seed, drop_last=False)
    return torch.utils.data.DataLoader(data, batch_size=batch_size // world, sampler=sampler,
                                       collate_fn=collate_fn, num_workers=num_workers)


def _eval_loader(data, *, batch_size, collate_fn, rank, world, num_workers):
    if isinstance(data, torch.utils.data.DataLoader):
        return data
    data = _as_dataset(data, "valid_data")
    return torch.utils.data.DataLoader(data, batch_size=max(1, batch_size // world),
                                       sampler=_ShardSampler(len(data), rank, world),
                                       collate_fn=collate_fn, num_workers=num_workers)


def _make_step(loss_fn, step_fn):
    if (loss_fn is None) == (step_fn is None):
        raise ParameterError("pass exactly one of loss_fn (outputs, targets) -> loss "
                             "or step_fn (model, batch) -> loss or (loss, outputs, targets)")
    if step_fn is not None:
        def step(model, batch):
            out = step_fn(model, batch)
            return out if isinstance(out, tuple) else (out, None, None)
        return step

    def step(model, batch):
        if not isinstance(batch, (list, tuple)) or len(batch) < 2:
            raise ParameterError("with loss_fn, each batch must be (inputs..., targets); "
                                 "for other layouts pass step_fn(model, batch)")
        *inputs, targets = batch
        outputs = model(*inputs)
        return loss_fn(outputs, targets), outputs, targets
    return step


def _metric_values(metrics, outputs, targets) -> dict:
    if not metrics or outputs is None:
        return {}
    with torch.no_grad():
        return {name: float(fn(outputs.detach(), targets)) for name, fn in metrics.items()}


# --------------------------------------------------------------------------- evaluate

def evaluate(model, data, *, loss_fn=None, step_fn=None, metrics=None, batch_size: int = 64,
             collate_fn=None, device=None) -> dict:
    """Mean loss and metrics of ``model`` on ``data`` (no gradients, eval mode).

    Parameters are as for :func:`fit`. Under ``torchrun`` each process
    evaluates its shard and the sums are added up, so every rank returns the
    same numbers. Returns ``{"loss": ..., "<metric>": ...}``.
    """
    dist = torch.distributed
    ready = dist.is_available() and dist.is_initialized()
    rank, world = (dist.get_rank(), dist.get_world_size()) if ready else (0, 1)
    if device is None:                      # where the model is (fit leaves it on config.device())
        device = next(model.parameters()).device if any(True for _ in model.parameters()) else config.device()
    device = torch.device(device)
    loader = _eval_loader(data, batch_size=batch_size, collate_fn=collate_fn, rank=rank, world=world,
                          num_workers=0)
    return _evaluate(model, loader, _make_step(loss_fn, step_fn), metrics, device, world)


def _evaluate(model, loader, step, metrics, device, world) -> dict:
    was_training = model.training
    model.eval()
    names = list(metrics or {})
    sums = [0.0] * (2 + len(names))          # loss * n, n, metric * n ...
    with torch.no_grad():
        for batch in loader:
            batch = to_device(batch, device)
            loss, outputs, targets = step(model, batch)
            n = _batch_len(targets) if targets is not None else _batch_len(batch)
            sums[0] += float(loss) * n
            sums[1] += n
            for i, v in enumerate(_metric_values(metrics, outputs, targets).values()):
                sums[2 + i] += v * n
    model.train(was_training)
    sums = _all_reduce(sums, device, world)
    n = max(sums[1], 1)
    return {"loss": sums[0] / n} | {name: sums[2 + i] / n for i, name in enumerate(names)}


# --------------------------------------------------------------------------- fit

def fit(model, train_data, *, loss_fn=None, step_fn=None, optimizer=None, lr: float = 1e-3,
        epochs: int | None = None, time_budget: float | None = None, batch_size: int = 32,
        shuffle: bool = True, collate_fn=None, batch_sampler=None, valid_data=None,
        metrics: dict | None = None, monitor: str | None = None, patience: int | None = None,
        restore_best: bool = True, clip_grad_norm: float | None = 1.0, seed: int = 0,
        device=None, checkpoint_dir=None, resume: bool = False, num_workers: int = 0,
        progress: bool = True, desc: str = "training") -> History:
    """Train ``model`` and return its :class:`History`.

    Notebook: 00_welcome.ipynb

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place (moved to ``device``).
    train_data : Dataset, DataLoader or tuple of arrays
        A map-style dataset (fit builds a seeded, shardable loader), a ready
        ``DataLoader``, or ``(inputs..., targets)`` arrays with one row per item.
    loss_fn : callable ``(outputs, targets) -> loss``, optional
        With it each batch is ``(inputs..., targets)`` and ``outputs = model(*inputs)``.
    step_fn : callable ``(model, batch) -> loss`` or ``(loss, outputs, targets)``, optional
        For other batch layouts (padded batches, sequence models). Exactly one
        of ``loss_fn`` and ``step_fn``. Return outputs and targets to get metrics.
    optimizer : torch.optim.Optimizer or callable ``params -> Optimizer``, optional
        Default: ``AdamW(params, lr=lr)``.
    epochs : int, optional
        Number of passes over ``train_data``.
    time_budget : float, optional
        Seconds of training (setup not counted): stop after the step that crosses it
        (then validate once more).
        At least one of ``epochs`` and ``time_budget``; with both, whichever ends first.
    batch_size : int
        The *global* batch: under ``torchrun`` with R processes each takes
        ``batch_size / R`` items per step.
    shuffle : bool
        Reshuffle the training items every epoch (from ``seed`` and the epoch).
    collate_fn : callable, optional
        Passed to the ``DataLoader`` (e.g. :func:`course_lib.batching.collate_padded`).
    batch_sampler : Sampler, optional
        E.g. a :class:`course_lib.batching.BucketBatchSampler`; replaces
        ``batch_size`` and ``shuffle`` (fit calls its ``set_epoch``).
    valid_data : same kinds as ``train_data``, optional
        Evaluated after every epoch (loss and ``metrics``).
    metrics : dict of name -> callable ``(outputs, targets) -> float``, optional
        Batch means (e.g. :func:`accuracy`); averaged over items; reported
        for training (``train_<name>``) and validation (``valid_<name>``).
    monitor : str, optional
        Column that decides the best epoch and early stopping (default
        ``"valid_loss"`` with validation data). Lower is better for names
        ending in ``loss``, higher for the rest.
    patience : int, optional
        Stop after this many epochs without improvement of ``monitor``.
    restore_best : bool
        With validation data, end with the weights of the best epoch.
    clip_grad_norm : float or None
        Clip the gradients' global L2 norm to this (None: no clipping).
    seed : int
        Seeds the data order, dropout and any other draw inside fit.
    device : str or torch.device, optional
        Default :func:`course_lib.config.device` (under torchrun with CUDA, one GPU per process).
    checkpoint_dir : path, optional
        Save ``last.safetensors`` + ``last.json`` after every epoch and
        ``best.safetensors`` when ``monitor`` improves (rank 0 only).
    resume : bool
        Continue from ``checkpoint_dir/last.*`` if it exists (same epoch
        numbering, same random draws as an uninterrupted run).
    progress : bool
        Show a progress bar (rank 0 only).

    Returns
    -------
    History
    """
    if not isinstance(model, torch.nn.Module):
        raise ParameterError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    epochs = _check_int("epochs", epochs)
    batch_size = _check_int("batch_size", batch_size, allow_none=False)
    patience = _check_int("patience", patience)
    seed = _check_int("seed", seed, minimum=0, allow_none=False)
    if epochs is None and time_budget is None:
        raise ParameterError("give epochs (e.g. epochs=10) or time_budget in seconds (e.g. time_budget=60), or both")
    if time_budget is not None and not time_budget > 0:
        raise ParameterError(f"time_budget={time_budget!r} must be a positive number of seconds")
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ParameterError(f"clip_grad_norm={clip_grad_norm!r} must be positive (or None: no clipping)")
    if resume and checkpoint_dir is None:
        raise ParameterError("resume=True needs checkpoint_dir (where the last checkpoint is)")
    step = _make_step(loss_fn, step_fn)
    metrics = dict(metrics or {})
    if monitor is None and valid_data is not None:
        monitor = "valid_loss"
    if patience is not None and monitor is None:
        raise ParameterError("patience (early stopping) needs valid_data or a monitor column")

    rank, world, created = _setup_distributed()
    try:
        if device is None:
            device = config.device()
        device = torch.device(device)
        if device.type == "cuda" and world > 1:
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
            torch.cuda.set_device(device)
        fork_devices = [device.index or 0] if device.type == "cuda" else []
        # fork_rng: the caller's global random state is the same after fit as before
        with torch.random.fork_rng(devices=fork_devices):
            return _fit(model, train_data, step=step, optimizer=optimizer, lr=lr, epochs=epochs,
                        time_budget=time_budget, batch_size=batch_size, shuffle=shuffle,
                        collate_fn=collate_fn, batch_sampler=batch_sampler, valid_data=valid_data,
                        metrics=metrics, monitor=monitor, patience=patience, restore_best=restore_best,
                        clip_grad_norm=clip_grad_norm, seed=seed, device=device,
                        checkpoint_dir=None if checkpoint_dir is None else Path(checkpoint_dir),
                        resume=resume, num_workers=num_workers, progress=progress, desc=desc,
                        rank=rank, world=world)
    finally:
        if created:
            torch.distributed.destroy_process_group()


def _fit(model, train_data, *, step, optimizer, lr, epochs, time_budget, batch_size, shuffle, collate_fn,
         batch_sampler, valid_data, metrics, monitor, patience, restore_best, clip_grad_norm, seed,
         device, checkpoint_dir, resume, num_workers, progress, desc, rank, world) -> History:
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    torch.manual_seed(_epoch_seed(seed, -1, rank))
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    elif callable(optimizer) and not isinstance(optimizer, torch.optim.Optimizer):
        optimizer = optimizer(model.parameters())
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ParameterError(f"optimizer must be a torch.optim.Optimizer or a factory params -> Optimizer, "
                             f"got {type(optimizer).__name__}")
    train_loader = _train_loader(train_data, batch_size=batch_size, shuffle=shuffle, collate_fn=collate_fn,
                                 batch_sampler=batch_sampler, seed=seed, rank=rank, world=world,
                                 num_workers=num_workers)
    valid_loader = None if valid_data is None else _eval_loader(
        valid_data, batch_size=batch_size, collate_fn=collate_fn, rank=rank, world=world, num_workers=num_workers)

    history, start_epoch, best_value, best_state, bad_epochs = History(monitor=monitor), 0, None, None, 0
    if resume and (checkpoint_dir / "last.json").exists():
        history, meta = _load_checkpoint(checkpoint_dir, model=model, optimizer=optimizer, device=device)
        start_epoch, best_value, bad_epochs = meta["epoch"] + 1, meta["best_value"], meta["bad_epochs"]
        if (checkpoint_dir / "best.safetensors").exists():
            best_state = load_weights(checkpoint_dir / "best.safetensors", device=device)
        if history.stopped == "early_stopping" or (
                epochs is not None and start_epoch >= epochs):
            if restore_best and best_state is not None:
                model.load_state_dict(best_state)
            return history                           # nothing left to do
    previous_time = history.wall_time

    # DDP after loading the checkpoint: it broadcasts rank 0's weights to all ranks
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    higher_better = monitor is not None and not monitor.endswith("loss")
    names = list(metrics)

    steps = len(train_loader) if hasattr(train_loader, "__len__") else None
    total = None if (epochs is None or steps is None) else (epochs - start_epoch) * steps
    bar = tqdm(total=total, desc=desc, unit="step", disable=not (progress and rank == 0),
               mininterval=0.5, dynamic_ncols=True)
    stopped = ""
    epoch = start_epoch
    t_budget = time.perf_counter()           # the budget is for training: setup (imports, loading) is free
    try:
        while epochs is None or epoch < epochs:
            t_epoch = time.perf_counter()
            torch.manual_seed(_epoch_seed(seed, epoch, rank))   # dropout etc.: fixed per (seed, epoch)
            for s in (getattr(train_loader, "batch_sampler", None), getattr(train_loader, "sampler", None)):
                if hasattr(s, "set_epoch"):
                    s.set_epoch(epoch)
            net.train()
            sums = [0.0] * (3 + len(names))      # loss * n, n, grad norm, metric * n ...
            n_steps, out_of_time = 0, False
            for batch in train_loader:
                batch = to_device(batch, device)
                loss, outputs, targets = step(net, batch)
                if not torch.isfinite(loss):
                    raise TrainingError(
                        f"the loss is {float(loss.detach())} at epoch {epoch}, step {n_steps}: lower the learning "
                        f"rate (lr={optimizer.param_groups[0]['lr']:g}) or clip gradients (clip_grad_norm)"
                    )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()                      # DDP averages the gradients across processes here
                if clip_grad_norm is not None:
                    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                else:
                    norm = torch.linalg.vector_norm(torch.stack(
                        [p.grad.norm() for p in model.parameters() if p.grad is not None]))
                optimizer.step()
                n = _batch_len(targets) if targets is not None else _batch_len(batch)
                sums[0] += float(loss.detach()) * n
                sums[1] += n
                sums[2] += float(norm)
                for i, v in enumerate(_metric_values(metrics, outputs, targets).values()):
                    sums[3 + i] += v * n
                n_steps += 1
                bar.update(1)
                bar.set_postfix({"epoch": epoch, "loss": f"{sums[0] / sums[1]:.4g}"} | _last_valid(history, names),
                                refresh=False)
                if time_budget is not None:
                    over = time.perf_counter() - t_budget >= time_budget
                    # every process stops at the same step (rank 0's clock decides)
                    out_of_time = bool(_all_reduce([float(over and rank == 0)], device, world, op="max")[0])
                    if out_of_time:
                        break
            counts = _all_reduce(sums, device, world)
            n = max(counts[1], 1)
            row = {"epoch": epoch, "train_loss": counts[0] / n}
            row |= {f"train_{name}": counts[3 + i] / n for i, name in enumerate(names)}
            if valid_loader is not None:
                scores = _evaluate(model, valid_loader, step, metrics, device, world)
                row |= {f"valid_{k}": v for k, v in scores.items()}
            row["lr"] = optimizer.param_groups[0]["lr"]
            row["grad_norm"] = counts[2] / max(n_steps * world, 1)
            row["time"] = time.perf_counter() - t_epoch
            history.epochs.append(row)

            improved = False
            if monitor is not None:
                if monitor not in row:
                    raise ParameterError(f"monitor={monitor!r} is not a history column; choose one of {list(row)}")
                value = row[monitor]
                improved = best_value is None or (value > best_value if higher_better else value < best_value)
                if improved:
                    best_value, bad_epochs, history.best_epoch = value, 0, epoch
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    bad_epochs += 1
            bar.set_postfix({"epoch": epoch, "loss": f"{row['train_loss']:.4g}"} | _last_valid(history, names))
            if patience is not None and bad_epochs >= patience:
                stopped = "early_stopping"
            elif out_of_time:
                stopped = "time_budget"
            elif epochs is not None and epoch + 1 >= epochs:
                stopped = "epochs"
            else:
                stopped = ""                         # not finished: a resumed run goes on
            history.wall_time = previous_time + time.perf_counter() - t0
            history.stopped = stopped
            if checkpoint_dir is not None and rank == 0:
                if improved:
                    save_weights(checkpoint_dir / "best.safetensors", best_state)
                _save_checkpoint(checkpoint_dir, model=model, optimizer=optimizer, history=history,
                                 extra={"epoch": epoch, "best_value": best_value, "bad_epochs": bad_epochs,
                                        "seed": seed, "world_size": world, "written_by_rank": rank})
            if world > 1:
                torch.distributed.barrier()          # nobody reads a checkpoint rank 0 is still writing
            epoch += 1
            if stopped:
                break
    finally:
        bar.close()
    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    history.stopped = stopped or "epochs"
    history.wall_time = previous_time + time.perf_counter() - t0
    return history


def _last_valid(history: History, names) -> dict:
    if not history.epochs:
        return {}
    last = history.epochs[-1]
    keys = ["valid_loss"] + [f"valid_{n}" for n in names]
    return {k.replace("valid_", "val_"): f"{last[k]:.4g}" for k in keys if k in last}
