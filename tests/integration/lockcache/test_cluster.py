"""lockcache on a Redis Cluster (the session's three masters with replicas): locks stay on
independent masters, and the cache rides through the loss of a master whose replica is
promoted."""

import asyncio
import logging

from kushim.lockcache.v1 import lockcache_pb2 as pb
from redis.crc import key_slot

from tests.integration.lockcache.support import eventually, required_env, unique

DEADLINE = 10


def profile(user: str) -> pb.CacheKey:
    return pb.CacheKey(namespace=pb.USER_PROFILE, user_id=user)


async def test_a_cluster_cache_alone_turns_locks_off_with_the_reason(
    lockcache_factory, redis_cluster, caplog
):
    caplog.set_level(logging.WARNING, logger="kushim_lockcache")
    client = await lockcache_factory({"REDIS_URL": redis_cluster.url})
    user = unique("u")
    stored = await client.cache.Set(
        pb.SetCacheRequest(key=profile(user), value=b"v"), timeout=DEADLINE
    )
    assert stored.stored, stored.message
    lock = await client.locks.Acquire(
        pb.AcquireLockRequest(resources=[unique("r:")], retry_count=0), timeout=DEADLINE
    )
    assert lock.outcome == pb.UNAVAILABLE
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.connected and "Redis Cluster" in stats.locks_disabled
    assert sum("Distributed locking disabled" in r.getMessage() for r in caplog.records) == 1


async def test_the_cache_rides_through_a_master_failover_under_load(
    lockcache_factory, redis_cluster, caplog
):
    caplog.set_level(logging.INFO, logger="kushim_lockcache")
    client = await lockcache_factory(
        {"REDIS_URL": redis_cluster.url, "REDLOCK_URLS": required_env("REDLOCK_URLS")}
    )
    users = [unique("u") for _ in range(30)]
    for user in users:
        stored = await client.cache.Set(
            pb.SetCacheRequest(key=profile(user), value=user.encode()), timeout=DEADLINE
        )
        assert stored.stored, stored.message
    victim = redis_cluster.master_of(key_slot(users[0].encode()))  # the first user's master
    answers: list[int] = []
    stop = asyncio.Event()

    async def load() -> None:
        while not stop.is_set():
            key = profile(users[0])
            got = await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
            answers.append(got.status)
            await asyncio.sleep(0.02)

    loader = asyncio.create_task(load())
    try:
        victim.kill()
        await asyncio.to_thread(redis_cluster.wait_until_ok)  # a replica took over its slots

        async def served_again() -> bool:
            user = unique("u")
            stored = await client.cache.Set(
                pb.SetCacheRequest(key=profile(user), value=b"after"), timeout=DEADLINE
            )
            got = await client.cache.Get(pb.GetCacheRequest(key=profile(user)), timeout=DEADLINE)
            return stored.stored and got.status == pb.HIT

        await eventually(served_again)

        def cluster_lines() -> list[str]:
            return [r.getMessage() for r in caplog.records if "redis+cluster://" in r.getMessage()]

        await eventually(lambda: cluster_lines()[-1].startswith("Redis connected successfully"))
        # The outage is logged when it starts and when it ends, not per call.
        failed = [m for m in cluster_lines() if m.startswith("Failed to connect to Redis")]
        assert len(failed) == 1, cluster_lines()
        # Replication is asynchronous: values written long before the failover survive it.
        got = await client.cache.Get(pb.GetCacheRequest(key=profile(users[0])), timeout=DEADLINE)
        assert (got.status, got.value) == (pb.HIT, users[0].encode())
        lock = await client.locks.Acquire(
            pb.AcquireLockRequest(resources=[unique("r:")]), timeout=DEADLINE
        )
        assert lock.outcome == pb.ACQUIRED  # locks never depended on the cluster
    finally:
        stop.set()
        await loader
        victim.start()  # it rejoins as a replica of its successor
        await asyncio.to_thread(redis_cluster.wait_until_ok)
    # Every call answered (a miss or unavailable during the failover, never an error).
    assert answers and set(answers) <= {pb.HIT, pb.MISS, pb.CACHE_UNAVAILABLE}
    assert answers[-1] == pb.HIT
