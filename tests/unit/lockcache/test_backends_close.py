"""Closing the backends is bounded: a call stuck in flight does not hold shutdown."""

import asyncio
import logging

from kushim_lockcache import backends
from kushim_lockcache.backends import Backends
from kushim_lockcache.connection import RedisNode
from kushim_lockcache.stats import Stats
from redis.asyncio import Redis


async def test_a_call_stuck_in_flight_is_cancelled_after_the_bound(monkeypatch, caplog):
    monkeypatch.setattr(backends, "CLOSE_STEP_S", 0.05)
    node = RedisNode("cache test", Redis(host="127.0.0.1", port=1))  # never connected
    stuck = asyncio.create_task(asyncio.Event().wait())
    node.keep(stuck)
    closing = Backends(cache=node, lock_masters=[], stats=Stats())
    with caplog.at_level(logging.WARNING, logger="kushim_lockcache.backends"):
        await closing.close()
    await asyncio.wait([stuck], timeout=5)  # the cancel closing asked for completes
    assert stuck.cancelled()
    assert "Gave up waiting for calls in flight to cache test" in caplog.text


async def test_a_close_with_nothing_in_flight_logs_nothing(caplog):
    node = RedisNode("cache test", Redis(host="127.0.0.1", port=1))
    with caplog.at_level(logging.WARNING, logger="kushim_lockcache.backends"):
        await Backends(cache=node, lock_masters=[], stats=Stats()).close()
    assert "Gave up" not in caplog.text
