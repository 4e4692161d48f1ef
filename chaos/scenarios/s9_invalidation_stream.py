"""The near caches' invalidation stream cut under load: every lockcache's pub/sub connection
to the cache Redis is killed (CLIENT KILL TYPE pubsub) every half second for 6 s, while the
load reads contexts through graph's and the gateway's near caches and a probe writes one key
through lockcache and reads it through a near cache of its own.

Checked: the probe's near cache was emptied by the cut (GAP or silence) and used again after
it, and no probe read returned a value older than a write acknowledged more than the near
cache's stated bound (its max age) before the read began."""

import asyncio
import bisect
import contextlib
import time

import redis.asyncio as aioredis
from kushim_lockcache_client import LockCacheClient, NearCache, user_profile_key

NAME = "invalidation_stream"
FAULT = "lockcache's pub/sub connections to the cache Redis killed every 0.5 s for 6 s"
CUT_S = 6.0
KILL_EVERY_S = 0.5
READ_EVERY_S = 0.002


async def _probe(address: str, stop: asyncio.Event, state: dict) -> None:
    key = user_profile_key("chaos-near-probe")
    near = NearCache()
    acked: list[float] = []
    reads: list[tuple[float, int]] = []
    state.update(near=near, acked=acked, reads=reads)
    async with LockCacheClient(address) as writer, LockCacheClient(
        address, near_cache=near
    ) as reader:

        async def write() -> None:
            n = 0
            while not stop.is_set():
                if await writer.set(key, str(n + 1).encode()):
                    n += 1
                    acked.append(time.monotonic())
                await asyncio.sleep(READ_EVERY_S)

        async def read() -> None:
            while not stop.is_set():
                started = time.monotonic()
                value = await reader.get(key)
                reads.append((started, int(value) if value else 0))
                await asyncio.sleep(READ_EVERY_S)

        await asyncio.gather(write(), read())


def _stale(acked: list[float], reads: list[tuple[float, int]], bound_s: float) -> int:
    return sum(value < bisect.bisect_right(acked, started - bound_s) for started, value in reads)


async def inject(world) -> None:
    stop = asyncio.Event()
    state: dict = {}
    probe = asyncio.create_task(_probe(world.proxies["lockcache"].address, stop, state))
    redis = aioredis.from_url(world.infra["REDIS_URL"])
    try:
        await world.wait_for(lambda: "near" in state and state["near"].usable, "probe synced")
        await world.hold(2.0)
        flushes = state["near"].stats.flushes
        async with world.fault():
            ends = time.monotonic() + CUT_S
            while time.monotonic() < ends:
                await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
                await world.hold(KILL_EVERY_S)
        near = state["near"]
        cut_flushes = near.stats.flushes - flushes
        await world.wait_for(lambda: near.usable, "probe's near cache in use again")
        hits = near.stats.hits
        await world.wait_for(lambda: near.stats.hits > hits, "probe's near cache hit again")
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await probe
        await redis.aclose()
    acked, reads = state["acked"], state["reads"]
    bound_s = near.max_age_s
    stale = _stale(acked, reads, bound_s)
    world.note(
        f"probe: {len(acked)} writes, {len(reads)} reads, {near.stats.hits} near hits, "
        f"{cut_flushes} flushes during the cut; stale reads: {_stale(acked, reads, 0.0)} at "
        f"0 ms, {_stale(acked, reads, 0.005)} at 5 ms, {stale} past the bound "
        f"({bound_s * 1000:g} ms)"
    )
    if cut_flushes == 0:
        world.fail("the cut never emptied the probe's near cache")
    if stale:
        world.fail(f"{stale} probe reads older than the stated bound")
