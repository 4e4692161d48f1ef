"""The cache Redis at maxmemory under the steady load: a small cache Redis of the scenario's
own is filled past its limit, first with allkeys-lru (it keeps storing by evicting, cache and
generation keys alike: an evicted generation reads as invalidated, never stale), then with
noeviction (every large write refused with OOM: lockcache answers "not stored" and logs the
state once, not per call), then emptied again.

No 500 and no 503 (nothing is down); the lock keys live on the noeviction Redlock masters, so
none is evicted: each master's evicted_keys stays 0 and no lock or fencing key ever lands on
the cache Redis."""

import redis.asyncio as aioredis
from redis.exceptions import OutOfMemoryError

from devstack.redis import RedisServer

NAME = "cache_maxmemory"
FAULT = "cache Redis at maxmemory: allkeys-lru, then noeviction (writes refused), then freed"
MAXMEMORY = "8mb"
BELOW_USE = "2mb"
FILLER = b"f" * 64 * 1024
PHASE_S = 6
# Per lockcache instance and state change, one line; per call would be hundreds.
MAX_REFUSAL_LINES_PER_INSTANCE = 2


async def prepare(world) -> None:
    cache = await world.add_server(RedisServer(
        world.data_dir("cache"), world.port(), maxmemory=MAXMEMORY,
        maxmemory_policy="allkeys-lru", name="cache-small",
    ))  # fmt: skip
    world.infra["REDIS_URL"] = cache.url
    world.state["cache"] = cache


async def fill(cache: aioredis.Redis, tag: str) -> int:
    """Writes filler until Redis evicts (evicted_keys grows) or refuses (OOM); how many."""
    evicted = (await cache.info("stats"))["evicted_keys"]
    for i in range(10_000):
        try:
            await cache.set(f"filler:{tag}:{i}", FILLER)
        except OutOfMemoryError:
            return i
        if i % 16 == 0 and (await cache.info("stats"))["evicted_keys"] > evicted:
            return i
    raise AssertionError(f"{MAXMEMORY} never filled")


async def delete_filler(cache: aioredis.Redis) -> None:
    async for key in cache.scan_iter(match="filler:*", count=1000):
        await cache.delete(key)


async def inject(world) -> None:
    cache = aioredis.from_url(world.state["cache"].url)
    try:
        async with world.fault():
            written = await fill(cache, "lru")
            await world.hold(PHASE_S)
            evicted = (await cache.info("stats"))["evicted_keys"]
            world.note(f"allkeys-lru: {written} filler values, {evicted} keys evicted")
            await cache.config_set("maxmemory-policy", "noeviction")
            written = await fill(cache, "full")
            # At the limit small writes still pass (Redis counts each command's own buffer);
            # a limit below the memory in use refuses every write.
            await cache.config_set("maxmemory", BELOW_USE)
            await world.hold(PHASE_S)
            refused = (await cache.info("errorstats")).get("errorstat_OOM", {}).get("count", 0)
            world.note(f"noeviction: {written} more filler values, {refused} writes refused")
            await delete_filler(cache)
            await cache.config_set("maxmemory", MAXMEMORY)
            await cache.config_set("maxmemory-policy", "allkeys-lru")
        await check_locks_untouched(world, cache)
    finally:
        await cache.aclose()
    check_calm_logs(world)


async def check_locks_untouched(world, cache: aioredis.Redis) -> None:
    for pattern in ("locks:*", "fencing:*"):
        async for key in cache.scan_iter(match=pattern):
            world.fail(f"lock key {key!r} on the cache Redis")
            break
    for url in world.infra["REDLOCK_URLS"].split(","):
        master = aioredis.from_url(url)
        try:
            policy = (await master.config_get("maxmemory-policy"))["maxmemory-policy"]
            evicted = (await master.info("stats"))["evicted_keys"]
        finally:
            await master.aclose()
        if policy != "noeviction" or evicted:
            world.fail(f"lock master {url.rpartition('@')[2]}: {policy}, {evicted} evicted")


def check_calm_logs(world) -> None:
    lines = [line for line in world.log.lines() if "Redis refuses writes (cache" in line]
    world.note(f"lockcache logged {len(lines)} refusal line(s)")
    limit = MAX_REFUSAL_LINES_PER_INSTANCE * world.replicas["lockcache"]
    if not lines:
        world.fail("lockcache never saw the cache refuse a write: the fault did not bite")
    if len(lines) > limit:
        world.fail(f"{len(lines)} refusal lines (> {limit}): logged per call, not per state")
