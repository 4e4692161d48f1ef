"""Lock quorum, fencing across restarts, Redis outages and memory pressure, on
Redis servers these tests start (and kill) themselves."""

import asyncio
import logging
import os
import signal

import pytest
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_lockcache.backends import StartupError
from kushim_lockcache.config import Config
from kushim_lockcache.connection import FAILED_LINE
from kushim_lockcache.server import LockcacheServer

from tests.integration.lockcache.support import eventually, unique

DEADLINE = 10


def acquire(resource, ttl_ms=5000):
    return pb.AcquireLockRequest(resources=[resource], ttl_ms=ttl_ms)


async def cycle(client, resource):
    """Acquire and release once; the fencing token of the acquisition."""
    answer = await client.locks.Acquire(acquire(resource), timeout=DEADLINE)
    assert answer.outcome == pb.ACQUIRED, answer.message
    released = await client.locks.Release(
        pb.ReleaseLockRequest(resources=[resource], token=answer.token), timeout=DEADLINE
    )
    assert released.outcome == pb.RELEASED
    return answer.fencing_token


@pytest.fixture
def three_masters(redis_servers):
    return [redis_servers() for _ in range(3)]


def redlock_env(masters):
    return {"REDLOCK_URLS": ",".join(m.url for m in masters)}


async def test_quorum_one_master_down_locks_two_down_does_not(lockcache_factory, three_masters):
    client = await lockcache_factory(redlock_env(three_masters))
    three_masters[0].kill()
    assert (await client.locks.Acquire(acquire(unique("r:")), timeout=DEADLINE)).outcome == (
        pb.ACQUIRED
    )
    held = await client.locks.Acquire(acquire(unique("r:")), timeout=DEADLINE)
    three_masters[1].kill()
    refused = await client.locks.Acquire(acquire(unique("r:")), timeout=DEADLINE)
    assert refused.outcome == pb.UNAVAILABLE
    assert "1 of 3" in refused.message
    extend = await client.locks.Extend(
        pb.ExtendLockRequest(resources=list(held.resources), token=held.token, ttl_ms=5000),
        timeout=DEADLINE,
    )
    assert extend.outcome == pb.EXTEND_UNAVAILABLE
    not_held = await client.locks.Release(
        pb.ReleaseLockRequest(resources=[unique("r:")], token=held.token), timeout=DEADLINE
    )
    assert not_held.outcome == pb.RELEASE_UNAVAILABLE
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.locks_unavailable >= 1
    assert not stats.enabled  # no REDIS_URL: caching is off, locks are on
    three_masters[1].start()

    async def locks_again():
        answer = await client.locks.Acquire(acquire(unique("r:")), timeout=DEADLINE)
        return answer.outcome == pb.ACQUIRED

    await eventually(locks_again)


async def test_fencing_tokens_grow_across_master_restarts(lockcache_factory, three_masters):
    client = await lockcache_factory(redlock_env(three_masters))
    resource = unique("relationship_discovery:")
    tokens = [await cycle(client, resource) for _ in range(4)]
    for victim in (0, 1, 2, 0):
        # Crash without persistence: the master comes back empty.
        three_masters[victim].kill(signal.SIGKILL)
        three_masters[victim].start()
        for _ in range(3):
            tokens.append(await eventually(lambda: _try_cycle(client, resource)))
    assert tokens == sorted(set(tokens)), tokens


async def _try_cycle(client, resource):
    answer = await client.locks.Acquire(acquire(resource), timeout=DEADLINE)
    if answer.outcome != pb.ACQUIRED:
        return None
    await client.locks.Release(
        pb.ReleaseLockRequest(resources=[resource], token=answer.token), timeout=DEADLINE
    )
    return answer.fencing_token


# Managed and hardened Redis rename CONFIG away; the policy is then read from INFO memory.
NO_CONFIG = {"rename-command": 'CONFIG ""'}


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        *[({"maxmemory_policy": p}, f"maxmemory-policy {p}")
          for p in ("allkeys-lru", "volatile-ttl", "volatile-lru")],
        ({"maxmemory_policy": "allkeys-lru", "extra_conf": NO_CONFIG},
         "maxmemory-policy allkeys-lru"),
        ({"extra_conf": {"rename-command": ['CONFIG ""', 'INFO ""']}},
         "cannot read maxmemory_policy"),
    ],
)  # fmt: skip
async def test_an_evicting_or_unverifiable_lock_master_is_refused_at_start(
    redis_servers, options, reason
):
    master = redis_servers(**options)
    server = LockcacheServer(
        Config.from_env({"REDLOCK_URLS": master.url, "BIND_HOST": "127.0.0.1"})
    )
    with pytest.raises(StartupError, match=reason):
        await server.start()
    await server.close()


async def test_a_noeviction_lock_master_without_config_is_used(lockcache_factory, redis_servers):
    master = redis_servers(extra_conf=NO_CONFIG)
    client = await lockcache_factory(redlock_env([master]))
    assert await cycle(client, unique("r:")) >= 1


async def test_masters_down_at_start_join_once_they_answer(lockcache_factory, redis_servers):
    up = redis_servers()
    late = [redis_servers(started_now=False) for _ in range(2)]
    client = await lockcache_factory(redlock_env([up, *late]))
    refused = await client.locks.Acquire(acquire(unique("r:")), timeout=DEADLINE)
    assert refused.outcome == pb.UNAVAILABLE
    for server in late:
        server.start()

    async def locks():
        answer = await client.locks.Acquire(acquire(unique("r:")), timeout=DEADLINE)
        return answer.outcome == pb.ACQUIRED

    await eventually(locks)


async def test_an_evicting_master_found_after_start_is_never_used(
    lockcache_factory, redis_servers, caplog
):
    good = [redis_servers(), redis_servers()]
    evicting = redis_servers(started_now=False, maxmemory_policy="allkeys-lru")
    client = await lockcache_factory(redlock_env([*good, evicting]))
    evicting.start()
    await eventually(
        lambda: any("maxmemory-policy allkeys-lru" in r.getMessage() for r in caplog.records)
    )
    resource = unique("r:")
    answer = await client.locks.Acquire(acquire(resource), timeout=DEADLINE)
    assert answer.outcome == pb.ACQUIRED
    direct = aioredis.from_url(evicting.url)
    try:
        assert await direct.get(f"locks:{resource}") is None
    finally:
        await direct.aclose()


async def test_the_cache_may_evict(lockcache_factory, redis_servers):
    cache = redis_servers(maxmemory_policy="allkeys-lru")
    master = redis_servers()
    client = await lockcache_factory({"REDIS_URL": cache.url, "REDLOCK_URLS": master.url})
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.connected


async def test_outage_answers_promptly_is_logged_once_and_recovers(
    lockcache_factory, redis_servers, caplog
):
    caplog.set_level(logging.INFO, logger="kushim_lockcache")
    server = redis_servers()
    client = await lockcache_factory({"REDIS_URL": server.url})
    key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=unique("u"))
    await client.cache.Set(pb.SetCacheRequest(key=key, value=b"v"), timeout=DEADLINE)
    server.stop()
    for _ in range(5):
        miss = await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
        assert miss.status == pb.CACHE_UNAVAILABLE
    lock = await client.locks.Acquire(acquire(unique("r:")), timeout=DEADLINE)
    assert lock.outcome == pb.UNAVAILABLE
    stored = await client.cache.Set(pb.SetCacheRequest(key=key, value=b"v"), timeout=DEADLINE)
    assert not stored.stored and "unavailable" in stored.message
    invalidated = await client.cache.Invalidate(
        pb.InvalidateCacheRequest(scope=pb.USER_PROFILE_SCOPE, user_id=key.user_id),
        timeout=DEADLINE,
    )
    assert not invalidated.invalidated
    many = await client.cache.GetMany(pb.GetManyCacheRequest(keys=[key, key]), timeout=DEADLINE)
    assert [e.status for e in many.entries] == [pb.CACHE_UNAVAILABLE] * 2
    lease = await client.cache.GetOrLease(pb.GetOrLeaseRequest(key=key), timeout=DEADLINE)
    assert (lease.status, lease.lease_token) == (pb.CACHE_UNAVAILABLE, "")
    filled = await client.cache.Fill(
        pb.FillCacheRequest(key=key, lease_token=unique("lease") + ".gen", value=b"v"),
        timeout=DEADLINE,
    )
    assert not filled.stored and "unavailable" in filled.message
    deleted = await client.cache.Delete(pb.DeleteCacheRequest(key=key), timeout=DEADLINE)
    assert not deleted.deleted
    counter = await client.cache.Increment(
        pb.IncrementCounterRequest(
            key=pb.CacheKey(namespace=pb.RATE_LIMIT, subject="login:ip:9"), window_seconds=5
        ),
        timeout=DEADLINE,
    )
    assert not counter.available
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.enabled and not stats.connected
    outage_lines = [r for r in caplog.records if r.getMessage().startswith(FAILED_LINE)]
    assert len(outage_lines) == 1

    server.start()

    async def back():
        answer = await client.cache.Set(pb.SetCacheRequest(key=key, value=b"w"), timeout=DEADLINE)
        return answer.stored

    await eventually(back)
    hit = await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
    assert (hit.status, hit.value) == (pb.HIT, b"w")
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.connected and stats.reconnects >= 1
    connected = [r for r in caplog.records if "Redis connected successfully" in r.getMessage()]
    assert len(connected) == 2  # at start, and once after the outage


async def test_a_frozen_redis_costs_bounded_time_not_a_hang(lockcache_factory, redis_servers):
    server = redis_servers()
    client = await lockcache_factory({"REDIS_URL": server.url})
    key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=unique("u"))
    server.pause()
    try:
        answers = await asyncio.gather(
            client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE),
            client.locks.Acquire(acquire(unique("r:")), timeout=DEADLINE),
        )
    finally:
        server.resume()
    assert answers[0].status == pb.CACHE_UNAVAILABLE
    assert answers[1].outcome == pb.UNAVAILABLE


async def test_out_of_memory_is_reported_and_counted(lockcache_factory, redis_servers):
    server = redis_servers(maxmemory="2mb", maxmemory_policy="noeviction")
    client = await lockcache_factory({"REDIS_URL": server.url})
    user = unique("u")
    answers = []
    for i in range(30):
        key = pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id=f"r{i}", depth=1)
        answers.append(
            await client.cache.Set(
                pb.SetCacheRequest(key=key, value=os.urandom(200_000)), timeout=DEADLINE
            )
        )
    refused = [a for a in answers if not a.stored]
    assert refused and all("out of memory" in a.message for a in refused)
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.oom_errors == len(refused)
    key = pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id="r0", depth=1)
    assert (await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)).status == (
        pb.HIT
    )
