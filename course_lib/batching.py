"""Batches of variable-length audio: padding with lengths and masks, length bucketing.

Notebook: 05_ctc_asr.ipynb

Masks, padding and batching live here and nowhere else, so every chapter pads
the same way and a mask always means the same thing: ``True`` where a frame is
real, ``False`` where it is padding.

- :func:`pad` — a list of ``(time, ...)`` sequences to one ``(batch, time, ...)``
  tensor, with their ``lengths`` and ``mask`` (a :class:`Padded`);
- :func:`lengths_to_mask` — ``(batch,)`` lengths to a ``(batch, time)`` mask;
- :func:`collate_padded` — a ``collate_fn`` for a ``DataLoader`` whose items are
  ``(sequence, target)`` pairs;
- :class:`BucketBatchSampler` — batches of similar length (less padding), every
  sample exactly once per epoch, reshuffled per epoch from a seed, and split
  across processes under ``torchrun``.

A typical pipeline::

    >>> import torch
    >>> seqs = [torch.ones(5, 2), torch.ones(3, 2)]          # (time, feature) each
    >>> batch = pad(seqs)
    >>> batch.x.shape, batch.lengths.tolist(), batch.mask.sum(dim=1).tolist()
    (torch.Size([2, 5, 2]), [5, 3], [5, 3])
"""

from __future__ import annotations

import math
import os
from typing import NamedTuple

import numpy as np
import torch

from .errors import ParameterError

__all__ = ["Padded", "pad", "lengths_to_mask", "collate_padded", "BucketBatchSampler"]


class Padded(NamedTuple):
    """A padded batch.

    Attributes
    ----------
    x : torch.Tensor [shape=(batch, time, ...)]
        The sequences, padded at the end with ``pad_value``.
    lengths : torch.Tensor [shape=(batch,), dtype=int64]
        The true length of each sequence.
    mask : torch.Tensor [shape=(batch, time), dtype=bool]
        ``True`` on real frames, ``False`` on padding.
    """

    x: torch.Tensor
    lengths: torch.Tensor
    mask: torch.Tensor


def lengths_to_mask(lengths, *, max_len: int | None = None) -> torch.Tensor:
    """``(batch,)`` lengths to a ``(batch, max_len)`` bool mask, ``True`` on real frames.

    Parameters
    ----------
    lengths : array-like of int [shape=(batch,)]
    max_len : int, optional
        Width of the mask (default: the longest length).

    >>> lengths_to_mask([3, 1]).int().tolist()
    [[1, 1, 1], [1, 0, 0]]
    """
    lengths = torch.as_tensor(lengths)
    if lengths.ndim != 1 or lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
        raise ParameterError(f"lengths must be a 1-D integer array, got dtype={lengths.dtype}, shape={tuple(lengths.shape)}")
    if lengths.numel() and int(lengths.min()) < 0:
        raise ParameterError(f"lengths must be >= 0, got min {int(lengths.min())}")
    longest = int(lengths.max()) if lengths.numel() else 0
    if max_len is None:
        max_len = longest
    elif max_len < longest:
        raise ParameterError(f"max_len={max_len} is shorter than the longest sequence ({longest})")
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]   # (B, T)


def pad(seqs, *, pad_value: float = 0.0) -> Padded:
    """Pad ``(time, ...)`` sequences at the end to one ``(batch, time, ...)`` tensor.

    Parameters
    ----------
    seqs : sequence of np.ndarray or torch.Tensor [shape=(time_i, ...)]
        Same trailing shape and dtype; ``time_i`` may differ (and may be 0).
    pad_value : float
        Value written into the padding (0 for features; e.g. -100 for labels
        that ``cross_entropy(ignore_index=-100)`` should skip).

    Returns
    -------
    Padded
        ``x`` (batch, max time, ...), ``lengths`` (batch,), ``mask`` (batch, max time).
    """
    if len(seqs) == 0:
        raise ParameterError("seqs is empty: pad needs at least one sequence")
    tensors = [torch.as_tensor(s) for s in seqs]
    trailing = {tuple(t.shape[1:]) for t in tensors}
    if any(t.ndim == 0 for t in tensors) or len(trailing) != 1:
        shapes = [tuple(t.shape) for t in tensors[:5]]
        raise ParameterError(f"sequences must be (time, ...) with the same trailing shape, got shapes {shapes}...")
    lengths = torch.tensor([t.shape[0] for t in tensors], dtype=torch.int64)
    out = tensors[0].new_full((len(tensors), int(lengths.max()), *tensors[0].shape[1:]), pad_value)
    for i, t in enumerate(tensors):
        out[i, : t.shape[0]] = t
    return Padded(out, lengths, lengths_to_mask(lengths, max_len=out.shape[1]))


def collate_padded(items, *, pad_value: float = 0.0):
    """``collate_fn`` for items ``(sequence (time, ...), target)``: ``(Padded, targets)``.

    Integer or float targets become a tensor; sequences of targets (e.g.
    token ids) are padded in turn (with -100 for integers, so that
    ``cross_entropy(..., ignore_index=-100)`` skips them).

    >>> import torch
    >>> x, y = collate_padded([(torch.ones(4, 3), 1), (torch.ones(2, 3), 0)])
    >>> tuple(x.x.shape), y.tolist()
    ((2, 4, 3), [1, 0])
    """
    if len(items) == 0:
        raise ParameterError("collate_padded got an empty batch")
    seqs, targets = zip(*items)
    first = targets[0]
    if isinstance(first, (int, float, np.integer, np.floating)) or (torch.is_tensor(first) and first.ndim == 0):
        values = [t.item() if torch.is_tensor(t) else t for t in targets]
        integer = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
        y = torch.tensor(values, dtype=torch.int64 if integer else torch.float32)
    else:
        t0 = torch.as_tensor(first)
        y = pad(targets, pad_value=-100 if not t0.dtype.is_floating_point else 0.0)
    return pad(seqs, pad_value=pad_value), y


class BucketBatchSampler(torch.utils.data.Sampler):
    """Batches of indices whose items have similar lengths; every item exactly once per epoch.

    Each epoch: shuffle all indices (from ``seed`` and the epoch), cut them
    into pools of ``batch_size * pool_batches`` items, sort each pool by
    length, cut the pools into batches, and shuffle the order of the batches.
    Sorting within pools, not globally, keeps some randomness in which items
    meet in a batch; batches of similar lengths waste less time on padding.

    Under ``torchrun`` (``num_replicas > 1``) batch ``i`` goes to rank
    ``i % num_replicas``. So that every rank takes the same number of steps
    (a rank that stops early would leave the others waiting forever), the
    list of batches is padded by repeating its first batches when its length
    is not a multiple of ``num_replicas`` — the same trade-off as
    :class:`torch.utils.data.DistributedSampler`; with one process nothing
    is repeated or dropped.

    Parameters
    ----------
    lengths : sequence of int [shape=(n_items,)]
        The length of each item (samples or frames).
    batch_size : int
        Items per batch (per process).
    shuffle : bool
        Shuffle per epoch (False: pools in index order, batches in order).
    pool_batches : int
        Pool size in batches (1: sort within each batch only; large: nearly
        global sorting).
    drop_last : bool
        Drop the last, smaller batch of each pool.
    seed : int
        The order of epoch ``e`` depends only on ``(seed, e)``: call
        :meth:`set_epoch` (``train.fit`` does) before iterating.
    num_replicas, rank : int
        Number of processes and this process's rank (default: from
        ``torch.distributed`` when it is initialised, else from torchrun's
        ``WORLD_SIZE`` and ``RANK``, else 1 and 0).
    """

    def __init__(self, lengths, *, batch_size: int, shuffle: bool = True, pool_batches: int = 50,
                 drop_last: bool = False, seed: int = 0, num_replicas: int | None = None,
                 rank: int | None = None):
        lengths = np.asarray(lengths)
        if lengths.ndim != 1 or lengths.size == 0 or not np.issubdtype(lengths.dtype, np.number):
            raise ParameterError(f"lengths must be a non-empty 1-D array of numbers, got shape {lengths.shape}")
        for name, value in (("batch_size", batch_size), ("pool_batches", pool_batches)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if num_replicas is None or rank is None:
            # from the process group, or from torchrun's environment when the group is not
            # started yet (train.fit starts it: the sampler is usually built before)
            dist = torch.distributed
            ready = dist.is_available() and dist.is_initialized()
            world_now = dist.get_world_size() if ready else int(os.environ.get("WORLD_SIZE", "1"))
            rank_now = dist.get_rank() if ready else int(os.environ.get("RANK", "0"))
            num_replicas = num_replicas if num_replicas is not None else world_now
            rank = rank if rank is not None else rank_now
        if not 0 <= rank < num_replicas:
            raise ParameterError(f"rank={rank} must be in [0, num_replicas={num_replicas})")
        self.lengths = lengths
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.pool_batches = int(pool_batches)
        self.drop_last = drop_last
        self.seed = int(seed)
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration gives."""
        self.epoch = int(epoch)

    def _all_batches(self) -> list[list[int]]:
        """The batches of this epoch, for all ranks together."""
        n = len(self.lengths)
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        pool = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, n, pool):
            chunk = order[start:start + pool]
            # stable sort: equal lengths keep their shuffled order
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            for b in range(0, len(chunk), self.batch_size):
                batch = chunk[b:b + self.batch_size]
                if self.drop_last and len(batch) < self.batch_size:
                    continue
                batches.append(batch.tolist())
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        if self.num_replicas > 1 and len(batches) % self.num_replicas:
            extra = self.num_replicas - len(batches) % self.num_replicas
            batches += batches[:extra]          # every rank takes the same number of steps
        return batches

    def __iter__(self):
        return iter(self._all_batches()[self.rank::self.num_replicas])

    def __len__(self) -> int:
        n = len(self.lengths)
        pool = self.batch_size * self.pool_batches
        full_pools, rest = divmod(n, pool)
        if self.drop_last:
            count = full_pools * self.pool_batches + rest // self.batch_size
        else:
            count = full_pools * self.pool_batches + math.ceil(rest / self.batch_size)
        return math.ceil(count / self.num_replicas)
