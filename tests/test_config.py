"""course_lib.config: fast mode, implementation choice, seeding."""

from __future__ import annotations

import random

import numpy as np
import pytest

from course_lib import config
from course_lib.errors import ParameterError


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("off", False)])
def test_fast_reads_course_fast(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_FAST", value)
    assert config.fast() is expected


def test_fast_rejects_gibberish(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "maybe")
    with pytest.raises(ParameterError, match="COURSE_FAST='maybe'"):
        config.fast()


@pytest.mark.parametrize("value, expected", [("solutions", "solutions"), ("exercises", "exercises"), ("", "exercises")])
def test_impl(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_IMPL", value)
    assert config.impl() == expected


def test_impl_rejects_unknown(monkeypatch):
    monkeypatch.setenv("COURSE_IMPL", "mine")
    with pytest.raises(ParameterError, match="COURSE_IMPL='mine'"):
        config.impl()


def test_pick_follows_fast(monkeypatch):
    monkeypatch.setattr(config, "FAST", True)
    assert config.pick(fast=1, full=10) == 1
    monkeypatch.setattr(config, "FAST", False)
    assert config.pick(fast=1, full=10) == 10


def test_seed_everything_repeats_python_numpy_and_torch():
    import torch

    def draw():
        return random.random(), np.random.rand(), float(torch.rand(1))

    config.seed_everything(3)
    first = draw()
    config.seed_everything(3)
    assert draw() == first
    config.seed_everything(4)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_seed_everything_rejects_bad_seed(bad):
    with pytest.raises(ParameterError, match="seed="):
        config.seed_everything(bad)


def test_device_is_cpu_or_cuda():
    import torch

    assert config.device() == ("cuda" if torch.cuda.is_available() else "cpu")
