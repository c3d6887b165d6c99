"""The memory-copy bound of input pipelines (no TensorFlow)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

from tf2bench.errors import UsageError
from tf2bench.harness.copy_bound import CopyBound, copy_bandwidth


def fake_clock(durations):
    """A clock whose successive start/stop pairs are `durations` apart."""
    ticks = itertools.accumulate(itertools.chain.from_iterable((0.0, d) for d in durations))
    return lambda: next(ticks)


def test_bandwidth_keeps_the_fastest_timed_copy_and_skips_the_first():
    # The first copy (0.001 s, page faults) is not timed; the best of the rest is 0.5 s.
    clock = fake_clock([0.001, 2.0, 0.5, 1.0])
    assert copy_bandwidth(1000, repeats=3, threads=2, clock=clock) == pytest.approx(2000.0)


def test_bandwidth_copies_really_happen():
    # A real measurement on 8 MB: a positive, finite figure in a plausible range (bytes/s).
    assert 1e8 < copy_bandwidth(8 << 20, repeats=3) < 1e12


def test_bad_size_is_refused():
    with pytest.raises(UsageError, match="expected a positive number of bytes"):
        copy_bandwidth(0)


def test_hook_divides_throughput_by_the_bound_measured_once(monkeypatch):
    calls = []

    def bandwidth(nbytes, threads=None):
        calls.append(nbytes)
        return 3140.0 * (1e6 if threads is None else 0.5e6)  # the faster one counts

    monkeypatch.setattr("tf2bench.harness.copy_bound.copy_bandwidth", bandwidth)
    bound = CopyBound(element_bytes=3140, elements_per_round=2048)
    record = SimpleNamespace(throughput_per_s=5e5)
    assert bound.hook(None, record, "x") == {"ratio_to_copy_bound": pytest.approx(0.5)}
    assert bound.hook(None, SimpleNamespace(throughput_per_s=None), "x") == {}
    bound.hook(None, record, "y")
    assert calls == [3140 * 2048] * 2
