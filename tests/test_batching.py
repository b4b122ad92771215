"""course_lib.batching: padding, masks, collation and the length-bucketing sampler."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course_lib.batching import BucketBatchSampler, collate_padded, lengths_to_mask, pad  # noqa: E402
from course_lib.errors import ParameterError  # noqa: E402


def test_pad_known_answer():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])      # (time=3, feature=2)
    b = torch.tensor([[7.0, 8.0]])                              # (time=1, feature=2)
    batch = pad([a, b], pad_value=-1.0)
    expected = torch.tensor([[[1, 2], [3, 4], [5, 6]], [[7, 8], [-1, -1], [-1, -1]]], dtype=torch.float32)
    assert torch.equal(batch.x, expected)
    assert batch.lengths.tolist() == [3, 1]
    assert batch.mask.tolist() == [[True, True, True], [True, False, False]]


@pytest.mark.parametrize("lengths", [[5, 1, 3], [4], [0, 2], [7, 7]])
def test_pad_round_trip_and_mask(lengths):
    """Unpadding with the lengths gives the sequences back; the mask marks exactly the real frames."""
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 3)).astype(np.float32) for n in lengths]
    batch = pad(seqs)
    assert batch.x.shape == (len(lengths), max(lengths), 3)
    for i, s in enumerate(seqs):
        np.testing.assert_array_equal(batch.x[i, : batch.lengths[i]].numpy(), s)
        assert not batch.x[i, len(s):].any()                       # padding is pad_value (0)
    assert batch.mask.sum(dim=1).tolist() == lengths
    assert torch.equal(batch.mask, lengths_to_mask(batch.lengths, max_len=max(lengths)))


def test_pad_one_dimensional_audio():
    batch = pad([np.ones(4, np.float32), np.ones(2, np.float32)])   # raw waveforms (time,)
    assert batch.x.shape == (2, 4) and batch.x.dtype == torch.float32
    assert batch.x[1].tolist() == [1, 1, 0, 0]


def test_lengths_to_mask_brute_force():
    lengths = [3, 0, 5, 1]
    mask = lengths_to_mask(lengths, max_len=6)
    brute = [[t < n for t in range(6)] for n in lengths]
    assert mask.tolist() == brute


def test_collate_padded_scalar_and_sequence_targets():
    x, y = collate_padded([(torch.ones(4, 2), 3), (torch.ones(2, 2), 1)])
    assert x.x.shape == (2, 4, 2) and y.tolist() == [3, 1] and y.dtype == torch.int64
    x, y = collate_padded([(torch.ones(4, 2), torch.tensor([5, 6, 7])), (torch.ones(2, 2), torch.tensor([8]))])
    assert y.x.tolist() == [[5, 6, 7], [8, -100, -100]]              # -100: cross_entropy's ignore_index
    assert y.lengths.tolist() == [3, 1]


@pytest.mark.parametrize("call, match", [
    (lambda: pad([]), "empty"),
    (lambda: pad([np.ones((3, 2)), np.ones((3, 4))]), "trailing shape"),
    (lambda: lengths_to_mask([1.5, 2.0]), "integer"),
    (lambda: lengths_to_mask([-1, 2]), ">= 0"),
    (lambda: lengths_to_mask([3], max_len=2), "max_len=2"),
    (lambda: BucketBatchSampler([3, 4], batch_size=0), "batch_size=0"),
    (lambda: BucketBatchSampler([], batch_size=2), "non-empty"),
    (lambda: BucketBatchSampler([3, 4], batch_size=2, num_replicas=2, rank=2), "rank=2"),
])
def test_bad_input(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


# --------------------------------------------------------------------------- sampler

def _lengths(n=203, seed=1):
    return np.random.default_rng(seed).integers(1, 1000, size=n)


@pytest.mark.parametrize("n, batch_size, pool_batches", [(203, 8, 5), (64, 8, 1), (10, 32, 50), (97, 7, 3)])
def test_sampler_every_item_exactly_once_per_epoch(n, batch_size, pool_batches):
    sampler = BucketBatchSampler(_lengths(n), batch_size=batch_size, pool_batches=pool_batches, seed=3)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        flat = [i for b in batches for i in b]
        assert sorted(flat) == list(range(n)), "an item was dropped or repeated"
        assert len(batches) == len(sampler)
        assert all(1 <= len(b) <= batch_size for b in batches)


def test_sampler_buckets_reduce_padding():
    """Batches of sorted pools waste far less padding than random batches."""
    lengths = _lengths(400)
    sampler = BucketBatchSampler(lengths, batch_size=8, pool_batches=10, seed=0)

    def waste(batches):
        return sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in batches)

    rng = np.random.default_rng(0)
    random_batches = np.array_split(rng.permutation(len(lengths)), 50)
    assert waste(list(sampler)) < 0.25 * waste(random_batches)
    # within a pool the batches are sorted: each batch's lengths span a narrow range
    spans = [int(np.ptp(lengths[b])) for b in sampler]
    assert np.median(spans) < 100


def test_sampler_seeded_per_epoch():
    sampler = BucketBatchSampler(_lengths(), batch_size=8, seed=5)
    sampler.set_epoch(0)
    e0 = list(sampler)
    sampler.set_epoch(1)
    e1 = list(sampler)
    sampler.set_epoch(0)
    assert list(sampler) == e0
    assert e1 != e0
    other = BucketBatchSampler(_lengths(), batch_size=8, seed=6)
    assert list(other) != e0


def test_sampler_drop_last_drops_only_short_batches():
    sampler = BucketBatchSampler(_lengths(203), batch_size=8, pool_batches=5, drop_last=True)
    batches = list(sampler)
    assert all(len(b) == 8 for b in batches) and len(batches) == len(sampler)
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat))                           # nothing repeated
    assert len(flat) == (203 // 40) * 40 + (203 % 40) // 8 * 8     # only each pool's short tail is dropped


@pytest.mark.parametrize("n, world", [(203, 2), (64, 2), (50, 3)])
def test_sampler_shards_cover_the_epoch(n, world):
    """Ranks get disjoint batches, as many each, covering every item (extra batches only repeat)."""
    shards = [list(BucketBatchSampler(_lengths(n), batch_size=8, seed=2, num_replicas=world, rank=r))
              for r in range(world)]
    assert len({len(s) for s in shards}) == 1
    assert len(shards[0]) == len(BucketBatchSampler(_lengths(n), batch_size=8, num_replicas=world, rank=0))
    flat = [i for s in shards for b in s for i in b]
    assert set(flat) == set(range(n))
    single = list(BucketBatchSampler(_lengths(n), batch_size=8, seed=2))
    n_extra = (-len(single)) % world
    assert len(flat) - n == sum(len(b) for b in single[:n_extra])


def test_sampler_in_a_dataloader():
    data = torch.utils.data.TensorDataset(torch.arange(30))
    sampler = BucketBatchSampler(np.arange(30) % 7, batch_size=4)
    loader = torch.utils.data.DataLoader(data, batch_sampler=sampler)
    seen = torch.cat([b[0] for b in loader])
    assert sorted(seen.tolist()) == list(range(30))


def test_sampler_reads_torchrun_environment(monkeypatch):
    """Built in a torchrun worker before fit starts the process group, it still shards."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    sampler = BucketBatchSampler(_lengths(64), batch_size=8, seed=2)
    assert (sampler.num_replicas, sampler.rank) == (2, 1)
    assert list(sampler) == list(BucketBatchSampler(_lengths(64), batch_size=8, seed=2, num_replicas=2, rank=1))
