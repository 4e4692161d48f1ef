"""A cache Redis that refuses writes for another reason than memory: a read-only replica
(what a demoted master answers in a failover). Writes are answers, never gRPC errors."""

import logging

from kushim.lockcache.v1 import lockcache_pb2 as pb

from tests.integration.lockcache.support import unique

DEADLINE = 10


async def test_a_read_only_cache_refuses_writes_as_answers(
    lockcache_factory, redis_servers, caplog
):
    caplog.set_level(logging.INFO, logger="kushim_lockcache")
    primary = redis_servers(maxmemory_policy="allkeys-lru")
    replica = redis_servers(maxmemory_policy="allkeys-lru", replicaof=("127.0.0.1", primary.port))
    client = await lockcache_factory(
        {"REDIS_URL": replica.url, "REDLOCK_URLS": redis_servers().url}
    )
    user = unique("u")
    key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=user)
    stored = await client.cache.Set(pb.SetCacheRequest(key=key, value=b"v"), timeout=DEADLINE)
    assert not stored.stored and "read only replica" in stored.message
    deleted = await client.cache.Delete(pb.DeleteCacheRequest(key=key), timeout=DEADLINE)
    assert not deleted.deleted
    invalidated = await client.cache.Invalidate(
        pb.InvalidateCacheRequest(scope=pb.USER_PROFILE_SCOPE, user_id=user), timeout=DEADLINE
    )
    assert not invalidated.invalidated
    counter = await client.cache.Increment(
        pb.IncrementCounterRequest(
            key=pb.CacheKey(namespace=pb.RATE_LIMIT, subject=f"login:ip:{user}"),
            window_seconds=60,
        ),
        timeout=DEADLINE,
    )
    assert counter.available and counter.count == 1  # counters live on the lock master
    lease = await client.cache.GetOrLease(pb.GetOrLeaseRequest(key=key), timeout=DEADLINE)
    assert lease.status == pb.CACHE_UNAVAILABLE
    refusals = [r for r in caplog.records if r.getMessage().startswith("Redis refuses writes")]
    assert len(refusals) == 1 and "read only replica" in refusals[0].getMessage()
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.oom_errors == 0  # refused, but not for memory

    read = await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
    assert read.status == pb.MISS  # reads still work on the replica
