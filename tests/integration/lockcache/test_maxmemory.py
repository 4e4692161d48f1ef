"""The cache Redis at maxmemory: LRU keeps storing by evicting; noeviction
refuses writes, which callers see as "not cached" (logged once per state
change); lock keys and rate-limit counters live on the noeviction masters and
are never touched."""

import logging
import os

from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_lockcache import connection

from tests.integration.lockcache.support import eventually, unique

DEADLINE = 10
VALUE = os.urandom(100_000)  # incompressible: it fills Redis as it is
REFUSING = "Redis refuses writes (cache"
ACCEPTING = "Redis accepts writes again (cache"


def key(user: str, i: int) -> pb.CacheKey:
    return pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id=f"r{i}", depth=1)


async def put(client, user: str, i: int) -> pb.SetCacheResponse:
    return await client.cache.Set(
        pb.SetCacheRequest(key=key(user, i), value=VALUE), timeout=DEADLINE
    )


async def status(client, user: str, i: int) -> int:
    answer = await client.cache.Get(pb.GetCacheRequest(key=key(user, i)), timeout=DEADLINE)
    return answer.status


async def full_cache(lockcache_factory, redis_servers, policy: str):
    """(a 2 MB cache Redis with `policy`, a lock master, lockcache using both)."""
    cache = redis_servers(maxmemory="2mb", maxmemory_policy=policy)
    master = redis_servers()
    client = await lockcache_factory({"REDIS_URL": cache.url, "REDLOCK_URLS": master.url})
    return cache, master, client


async def count(client, subject: str) -> pb.IncrementCounterResponse:
    return await client.cache.Increment(
        pb.IncrementCounterRequest(
            key=pb.CacheKey(namespace=pb.RATE_LIMIT, subject=subject), window_seconds=60
        ),
        timeout=DEADLINE,
    )


async def hold(client, resource: str) -> pb.AcquireLockResponse:
    answer = await client.locks.Acquire(
        pb.AcquireLockRequest(resources=[resource], ttl_ms=60_000), timeout=DEADLINE
    )
    assert answer.outcome == pb.ACQUIRED, answer.message
    return answer


async def test_an_lru_cache_at_maxmemory_keeps_storing_by_evicting(
    lockcache_factory, redis_servers, direct
):
    cache, master, client = await full_cache(lockcache_factory, redis_servers, "allkeys-lru")
    resource = unique("relationship_discovery:")
    lock = await hold(client, resource)
    user = unique("u")
    subject = f"login:account:{user}"
    assert (await count(client, subject)).count == 1
    answers = [await put(client, user, i) for i in range(60)]  # 6 MB into 2 MB
    assert all(a.stored for a in answers), [a.message for a in answers if not a.stored]
    stats = await direct(cache).info("stats")
    assert stats["evicted_keys"] > 0
    assert await status(client, user, 0) == pb.MISS  # evicted, answered as a miss
    # Which entries survive is Redis's call: every command over the limit evicts first, with an
    # approximate LRU of one-second resolution, and evicting the user's tiny generation key
    # drops all their entries at once (a miss, never a stale read). Once memory is back, the
    # cache that went through all that stores and serves again.
    await direct(cache).config_set("maxmemory", "0")
    assert (await put(client, user, 60)).stored
    assert await status(client, user, 60) == pb.HIT
    lockcache_stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert lockcache_stats.oom_errors == 0
    # The lock lives on the master, untouched; the cache never held a lock key.
    assert await direct(master).get(f"locks:{resource}") == lock.token.encode()
    assert [k async for k in direct(cache).scan_iter(match="locks:*")] == []
    assert [k async for k in direct(cache).scan_iter(match="fencing:*")] == []
    # So does the rate-limit counter: its window survives the eviction.
    assert (await count(client, subject)).count == 2
    assert await direct(master).get(f"rate_limit:{subject}") == b"2"
    assert [k async for k in direct(cache).scan_iter(match="rate_limit:*")] == []


async def test_a_noeviction_cache_at_maxmemory_refuses_writes_quietly(
    lockcache_factory, redis_servers, direct, caplog, monkeypatch
):
    caplog.set_level(logging.INFO, logger="kushim_lockcache")
    monkeypatch.setattr(connection, "REFUSALS_SETTLE_S", 1.0)  # the test need not wait 10 s
    cache, master, client = await full_cache(lockcache_factory, redis_servers, "noeviction")
    resource = unique("relationship_discovery:")
    lock = await hold(client, resource)
    user = unique("u")
    answers = [await put(client, user, i) for i in range(40)]
    refused = [a for a in answers if not a.stored]
    assert refused and all(a.message.startswith("out of memory") for a in refused)
    # Near the limit small writes still pass; below the memory in use none does.
    await direct(cache).config_set("maxmemory", "1mb")
    # Every kind of write is refused as an answer, never a gRPC error.
    lease = await client.cache.GetOrLease(
        pb.GetOrLeaseRequest(key=key(user, 99), wait_ms=0), timeout=DEADLINE
    )
    assert (lease.status, lease.lease_token) == (pb.CACHE_UNAVAILABLE, "")
    # Rate-limit counters are on the master, which is not full.
    counter = await count(client, f"login:ip:{user}")
    assert counter.available and counter.count == 1
    # Reads and invalidations still work on a full server.
    assert await status(client, user, 0) == pb.HIT
    many = await client.cache.GetMany(
        pb.GetManyCacheRequest(keys=[key(user, 0), key(user, 99)]), timeout=DEADLINE
    )
    assert [e.status for e in many.entries] == [pb.HIT, pb.MISS]
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.oom_errors == len(refused) + 1  # the sets, the lease
    metrics = client.server.stats.registry
    assert metrics.get_sample_value("lockcache_redis_oom_errors_total") == stats.oom_errors
    assert len([r for r in caplog.records if r.getMessage().startswith(REFUSING)]) == 1
    # Locks are on the master, which is not full.
    assert (await hold(client, unique("relationship_discovery:"))).fencing_token >= 1
    assert await direct(master).get(f"locks:{resource}") == lock.token.encode()

    await direct(cache).config_set("maxmemory", "0")
    assert (await put(client, user, 100)).stored

    async def accepting_logged():
        assert (await put(client, user, 101)).stored
        return any(r.getMessage().startswith(ACCEPTING) for r in caplog.records)

    await eventually(accepting_logged)
    await direct(cache).config_set("maxmemory", "1mb")
    assert not (await put(client, user, 102)).stored
    assert len([r for r in caplog.records if r.getMessage().startswith(REFUSING)]) == 2
    assert len([r for r in caplog.records if r.getMessage().startswith(ACCEPTING)]) == 1


async def test_invalidating_a_full_noeviction_cache_still_works(lockcache_factory, redis_servers):
    cache = redis_servers(maxmemory="2mb", maxmemory_policy="noeviction")
    client = await lockcache_factory({"REDIS_URL": cache.url, "REDLOCK_URLS": redis_servers().url})
    user = unique("u")
    i = 0
    while (await put(client, user, i)).stored:
        i += 1
    assert await status(client, user, 0) == pb.HIT
    answer = await client.cache.Invalidate(
        pb.InvalidateCacheRequest(scope=pb.USER_CONTEXT_GROUPS, user_id=user), timeout=DEADLINE
    )
    assert answer.invalidated
    assert await status(client, user, 0) == pb.MISS
    # The stale values were deleted by the reads: memory is back for writes.
    await eventually(lambda: _stored(client, user))


async def _stored(client, user: str) -> bool:
    return (await put(client, user, 1000)).stored


LOCKS_OFF = "Distributed locking disabled"


async def assert_cache_works_and_locks_are_off(client, user: str) -> None:
    assert (await put(client, user, 0)).stored
    assert await status(client, user, 0) == pb.HIT
    for _ in range(3):
        lock = await client.locks.Acquire(
            pb.AcquireLockRequest(resources=[unique("r:")], ttl_ms=5000, retry_count=0),
            timeout=DEADLINE,
        )
        assert lock.outcome == pb.UNAVAILABLE
        assert "locks disabled" in lock.message and "allkeys-lru" in lock.message
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.enabled and stats.connected
    assert "maxmemory-policy allkeys-lru" in stats.locks_disabled


async def test_one_lru_redis_caches_and_turns_locks_off_with_one_warning(
    lockcache_factory, redis_servers, direct, caplog
):
    """The guide's production config: one Redis, allkeys-lru, no REDLOCK_URLS."""
    caplog.set_level(logging.INFO, logger="kushim_lockcache")
    shared = redis_servers(maxmemory="2mb", maxmemory_policy="allkeys-lru")
    client = await lockcache_factory({"REDIS_URL": shared.url})
    await assert_cache_works_and_locks_are_off(client, unique("u"))
    assert not [k async for k in direct(shared).scan_iter("locks:*")]
    warnings = [r for r in caplog.records if r.getMessage().startswith(LOCKS_OFF)]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "REDLOCK_URLS" in warnings[0].getMessage()


async def test_one_lru_redis_found_after_start_turns_locks_off_once_it_answers(
    lockcache_factory, redis_servers, caplog
):
    caplog.set_level(logging.INFO, logger="kushim_lockcache")
    shared = redis_servers(started_now=False, maxmemory="2mb", maxmemory_policy="allkeys-lru")
    client = await lockcache_factory({"REDIS_URL": shared.url})
    shared.start()

    async def locks_off() -> bool:
        stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
        return stats.connected and bool(stats.locks_disabled)

    await eventually(locks_off)
    await assert_cache_works_and_locks_are_off(client, unique("u"))
    assert len([r for r in caplog.records if r.getMessage().startswith(LOCKS_OFF)]) == 1


async def test_a_full_server_for_cache_and_locks_refuses_locks_quietly(
    lockcache_factory, redis_servers, direct, caplog
):
    caplog.set_level(logging.INFO, logger="kushim_lockcache")
    shared = redis_servers(maxmemory="2mb", maxmemory_policy="noeviction")
    client = await lockcache_factory({"REDIS_URL": shared.url})
    user = unique("u")
    i = 0
    while (await put(client, user, i)).stored:
        i += 1
    await direct(shared).config_set("maxmemory", "1mb")  # below what is in use
    for _ in range(5):
        answer = await client.locks.Acquire(
            pb.AcquireLockRequest(resources=[unique("r:")], ttl_ms=5000, retry_count=0),
            timeout=DEADLINE,
        )
        assert answer.outcome == pb.UNAVAILABLE
        assert "out of memory" in answer.message
    refusals = [r for r in caplog.records if r.getMessage().startswith("Redis refuses writes")]
    assert len(refusals) == 1
