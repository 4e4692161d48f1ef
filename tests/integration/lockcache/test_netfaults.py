"""lockcache behind a faulty network: latency and resets on its Redis links.

Each test starts its own Redis servers and puts devstack.netfault's proxy between
them and lockcache. Calls carry the deadline graph gives them (2 s): whatever
the link does, every call answers within it with data (hit, miss, unavailable,
not stored), never a gRPC error.
"""

import asyncio
import logging

import pytest
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb

from devstack.netfault import FaultProxy
from tests.integration.lockcache.support import eventually, free_port, unique

CALLER_DEADLINE = 2.0  # what graph's lockcache client allows a call
ROUNDS = 12


@pytest.fixture
async def proxies():
    """proxy(server) -> a started FaultProxy in front of it, closed after the test."""
    started: list[FaultProxy] = []

    async def proxy(server) -> FaultProxy:
        link = FaultProxy(server.port, listen_port=free_port(), seed=len(started) + 1)
        await link.start()
        started.append(link)
        return link

    yield proxy
    for link in started:
        await link.close()


def via(link: FaultProxy) -> str:
    return f"redis://{link.address}/0"


@pytest.fixture
async def cache_link(redis_servers, proxies):
    """(proxy in front of an allkeys-lru cache Redis, lockcache env using it)."""
    link = await proxies(redis_servers(maxmemory_policy="allkeys-lru"))
    return link, {"REDIS_URL": via(link), "REDLOCK_URLS": redis_servers().url}


def key(user: str, record: str = "r") -> pb.CacheKey:
    return pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id=record, depth=1)


async def cache_round(client, user: str, i: int) -> list[object]:
    """One of every cache call; returns the answers (raises on a gRPC error)."""
    cache, t = client.cache, CALLER_DEADLINE
    k = key(user, f"r{i}")
    answers = [
        await cache.Set(pb.SetCacheRequest(key=k, value=b"v%d" % i), timeout=t),
        await cache.Get(pb.GetCacheRequest(key=k), timeout=t),
        await cache.GetMany(pb.GetManyCacheRequest(keys=[k, key(user, "none")]), timeout=t),
    ]
    lease = await cache.GetOrLease(
        pb.GetOrLeaseRequest(key=key(user, f"lease{i}"), wait_ms=0), timeout=t
    )
    answers.append(lease)
    if lease.lease_token:
        fill = pb.FillCacheRequest(key=key(user, f"lease{i}"), lease_token=lease.lease_token)
        answers.append(await cache.Fill(fill, timeout=t))
    counter = pb.CacheKey(namespace=pb.RATE_LIMIT, subject=f"login:ip:{user}")
    answers.append(
        await cache.Increment(pb.IncrementCounterRequest(key=counter, window_seconds=60), timeout=t)
    )
    answers.append(
        await cache.Invalidate(
            pb.InvalidateCacheRequest(scope=pb.USER_PROFILE_SCOPE, user_id=user), timeout=t
        )
    )
    answers.append(await cache.Stats(pb.GetStatsRequest(), timeout=t))
    return answers


async def test_cache_calls_answer_in_time_over_a_slow_link(lockcache_factory, cache_link):
    link, env = cache_link
    client = await lockcache_factory(env)
    link.set(latency_ms=200, jitter_ms=50)
    user = unique("u")
    for i in range(ROUNDS // 6):
        set_, get, many, *_ = await cache_round(client, user, i)
        # Slow is not broken: what was stored is served.
        assert set_.stored, set_.message
        assert (get.status, get.value) == (pb.HIT, b"v%d" % i)
        assert [e.status for e in many.entries] == [pb.HIT, pb.MISS]


async def test_cache_calls_answer_in_time_while_the_link_resets(
    lockcache_factory, cache_link, caplog
):
    caplog.set_level(logging.INFO, logger="kushim_lockcache")
    link, env = cache_link
    client = await lockcache_factory(env)
    user = unique("u")
    await cache_round(client, user, 0)
    link.set(latency_ms=5, jitter_ms=10, reset_per_chunk=0.05)
    for i in range(ROUNDS):
        link.reset_existing()  # every pooled connection is dead now
        await cache_round(client, user, i)
    assert link.stats.resets >= ROUNDS
    link.clear()

    async def stored_again():
        answer = await client.cache.Set(
            pb.SetCacheRequest(key=key(user), value=b"after"), timeout=CALLER_DEADLINE
        )
        return answer.stored

    await eventually(stored_again)
    hit = await client.cache.Get(pb.GetCacheRequest(key=key(user)), timeout=CALLER_DEADLINE)
    assert (hit.status, hit.value) == (pb.HIT, b"after")
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=CALLER_DEADLINE)
    assert stats.connected
    assert stats.reconnects >= 1  # connections replaced after the resets
    metrics = client.server.stats.registry
    assert metrics.get_sample_value("lockcache_redis_reconnects_total") == stats.reconnects
    # Logged once per change of state: every outage line has its recovery line.
    lines = [r.getMessage() for r in caplog.records if "cache redis://" in r.getMessage()]
    down = [m for m in lines if m.startswith("Failed to connect to Redis")]
    up = [m for m in lines if m.startswith("Redis connected successfully")]
    assert len(up) == 1 + len(down), lines


async def test_cache_calls_answer_in_time_when_the_link_blackholes(lockcache_factory, cache_link):
    link, env = cache_link
    client = await lockcache_factory(env)
    user = unique("u")
    await cache_round(client, user, 0)
    link.set(blackhole=True)
    set_, get, many, lease, *_ = await cache_round(client, user, 1)
    assert not set_.stored and "unavailable" in set_.message
    assert get.status == pb.CACHE_UNAVAILABLE
    assert lease.status == pb.CACHE_UNAVAILABLE

    async def turned_away() -> bool:
        # Once the watcher's probe timed out too, calls no longer wait on the link.
        answer = await client.cache.Set(
            pb.SetCacheRequest(key=key(user), value=b"v"), timeout=CALLER_DEADLINE
        )
        return answer.message.endswith("not answering")

    await eventually(turned_away)
    link.clear()

    async def hit():
        answer = await client.cache.Get(pb.GetCacheRequest(key=key(user, "r0")), timeout=5)
        return answer.status == pb.HIT

    await eventually(hit)


# ------------------------------------------------------------------ locks


@pytest.fixture
async def masters_one_proxied(redis_servers, proxies):
    """Three lock masters; the first reached through a fault proxy."""
    masters = [redis_servers() for _ in range(3)]
    link = await proxies(masters[0])
    urls = [via(link), masters[1].url, masters[2].url]
    return link, masters, {"REDLOCK_URLS": ",".join(urls)}


async def lock_cycles(client, resource: str, count: int) -> list[int]:
    """Acquire/release `count` times within the caller deadline; the fencing tokens."""
    tokens = []
    for _ in range(count):
        answer = await client.locks.Acquire(
            pb.AcquireLockRequest(resources=[resource], ttl_ms=5000, retry_count=0),
            timeout=CALLER_DEADLINE,
        )
        assert answer.outcome == pb.ACQUIRED, answer.message
        tokens.append(answer.fencing_token)
        released = await client.locks.Release(
            pb.ReleaseLockRequest(resources=[resource], token=answer.token),
            timeout=CALLER_DEADLINE,
        )
        assert released.outcome == pb.RELEASED
    return tokens


@pytest.mark.parametrize(
    "faults",
    [{"latency_ms": 200, "jitter_ms": 50}, {"blackhole": True}],
    ids=["slow", "blackholed"],
)
async def test_a_slow_or_silent_lock_master_does_not_stop_the_quorum(
    lockcache_factory, masters_one_proxied, faults
):
    link, _, env = masters_one_proxied
    client = await lockcache_factory(env)
    resource = unique("relationship_discovery:")
    tokens = await lock_cycles(client, resource, 3)
    link.set(**faults)
    tokens += await lock_cycles(client, resource, ROUNDS // 3)
    link.clear()
    tokens += await lock_cycles(client, resource, 3)
    assert tokens == sorted(set(tokens)), tokens


async def test_a_resetting_lock_master_does_not_stop_the_quorum(
    lockcache_factory, masters_one_proxied
):
    link, masters, env = masters_one_proxied
    client = await lockcache_factory(env)
    resource = unique("relationship_discovery:")
    tokens = await lock_cycles(client, resource, 3)
    link.set(latency_ms=20, jitter_ms=30, reset_per_chunk=0.3)
    for _ in range(ROUNDS):
        tokens += await lock_cycles(client, resource, 1)
        link.reset_existing(0.5)
    link.clear()
    direct = aioredis.from_url(masters[0].url)

    async def caught_up() -> bool:
        # The lagging master is raised by the next acquisition it takes part in.
        tokens.extend(await lock_cycles(client, resource, 1))
        value = await direct.get(f"fencing:{resource}")
        return value is not None and int(value) == tokens[-1]

    try:
        await eventually(caught_up)
    finally:
        await direct.aclose()
    assert tokens == sorted(set(tokens)), tokens


async def test_concurrent_holders_over_a_faulty_master_never_overlap(
    lockcache_factory, masters_one_proxied
):
    link, _, env = masters_one_proxied
    client = await lockcache_factory(env)
    resource = unique("relationship_discovery:")
    link.set(latency_ms=50, jitter_ms=100, reset_per_chunk=0.1)
    holders: list[str] = []
    overlaps = []
    granted = []

    async def worker(name: str) -> None:
        for _ in range(4):
            answer = await client.locks.Acquire(
                pb.AcquireLockRequest(
                    resources=[resource], ttl_ms=5000, retry_count=10, retry_delay_ms=20
                ),
                timeout=5,
            )
            if answer.outcome != pb.ACQUIRED:
                continue
            granted.append(answer.fencing_token)
            holders.append(name)
            if len(holders) > 1:
                overlaps.append(list(holders))
            await asyncio.sleep(0)
            holders.remove(name)
            await client.locks.Release(
                pb.ReleaseLockRequest(resources=[resource], token=answer.token), timeout=5
            )

    await asyncio.gather(*(worker(f"w{i}") for i in range(3)))
    assert not overlaps
    assert granted and len(set(granted)) == len(granted)
