"""Fault settings of the chaos proxy: validation and the delay each chunk gets."""

import random

import pytest

from devstack.netfault import FaultProxy, Faults


def dice(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - fault dice, not secrets


@pytest.mark.parametrize(
    "bad",
    [
        {"direction": "sideways"},
        {"latency_ms": -1},
        {"jitter_ms": -1},
        {"reset_new": 1.5},
        {"reset_per_chunk": -0.1},
    ],
)
def test_bad_faults_are_refused(bad):
    with pytest.raises(ValueError):
        Faults(**bad)


def test_no_latency_no_delay():
    assert Faults().delay_s("upstream", dice(1)) == 0.0


@pytest.mark.parametrize(
    ("direction", "delayed"),
    [
        ("both", {"upstream", "downstream"}),
        ("upstream", {"upstream"}),
        ("downstream", {"downstream"}),
    ],
)
def test_latency_applies_to_its_direction_only(direction, delayed):
    faults = Faults(latency_ms=200, direction=direction)
    for way in ("upstream", "downstream"):
        expected = 0.2 if way in delayed else 0.0
        assert faults.delay_s(way, dice(1)) == expected


def test_jitter_stays_within_its_bound_and_varies():
    rng = dice(3)
    faults = Faults(latency_ms=100, jitter_ms=50)
    delays = [faults.delay_s("upstream", rng) for _ in range(200)]
    assert all(0.1 <= d <= 0.15 for d in delays)
    assert len(set(delays)) > 100


def test_the_proxy_listens_on_loopback_only():
    with pytest.raises(ValueError, match="loopback"):
        FaultProxy(6379, listen_host="0.0.0.0")  # noqa: S104 - the refused case


async def test_set_changes_on_top_of_current_faults_and_clear_clears():
    proxy = FaultProxy(6379)
    proxy.set(latency_ms=200)
    assert proxy.set(reset_new=0.5) == Faults(latency_ms=200, reset_new=0.5)
    assert proxy.set(Faults(blackhole=True)) == Faults(blackhole=True)
    proxy.clear()
    assert proxy.faults == Faults()
