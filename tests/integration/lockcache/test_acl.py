"""lockcache works as the Redis ACL user the prod manifests give it, and that user can do
nothing else: the command list lives in deploy/k8s/overlays/prod/redis/lockcache.acl."""

import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb
from redis.exceptions import NoPermissionError

from tests.integration.lockcache.support import unique

ACL = Path(__file__).parents[3] / "deploy" / "k8s" / "overlays" / "prod" / "redis" / "lockcache.acl"
ADMIN_PASSWORD = "admin-password-0123456789"  # noqa: S105
PASSWORD = "lockcache-password-0123456789"  # noqa: S105
DEADLINE = 10


def acl_servers(redis_servers, count: int, **options):
    user = f"lockcache on >{PASSWORD} {ACL.read_text().strip()}"
    servers = [
        redis_servers(password=ADMIN_PASSWORD, extra_conf={"user": user}, **options)
        for _ in range(count)
    ]
    return [f"redis://lockcache:{PASSWORD}@127.0.0.1:{s.port}/0" for s in servers]


@pytest.fixture
async def client(lockcache_factory, redis_servers):
    (cache,) = acl_servers(redis_servers, 1, maxmemory_policy="allkeys-lru")
    masters = acl_servers(redis_servers, 3)
    return await lockcache_factory({"REDIS_URL": cache, "REDLOCK_URLS": ",".join(masters)})


async def test_locks_work_as_the_lockcache_acl_user(client):
    resource = unique("relationship_discovery:")
    lock = await client.locks.Acquire(
        pb.AcquireLockRequest(resources=[resource], ttl_ms=5000, fencing_floors={resource: 7}),
        timeout=DEADLINE,
    )
    assert lock.outcome == pb.ACQUIRED, lock.message
    assert lock.fencing_token == 8
    extended = await client.locks.Extend(
        pb.ExtendLockRequest(resources=[resource], token=lock.token, ttl_ms=5000),
        timeout=DEADLINE,
    )
    assert extended.outcome == pb.EXTENDED
    released = await client.locks.Release(
        pb.ReleaseLockRequest(resources=[resource], token=lock.token), timeout=DEADLINE
    )
    assert released.outcome == pb.RELEASED


async def test_caches_work_as_the_lockcache_acl_user(client):
    user, record = str(uuid.uuid4()), str(uuid.uuid4())
    key = pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id=record, depth=1)
    lease = await client.cache.GetOrLease(pb.GetOrLeaseRequest(key=key), timeout=DEADLINE)
    assert lease.status == pb.MISS and lease.lease_token
    filled = await client.cache.Fill(
        pb.FillCacheRequest(key=key, lease_token=lease.lease_token, value=b"ctx",
                            dependency_record_ids=[record]),
        timeout=DEADLINE,
    )
    assert filled.stored
    hit = await client.cache.GetMany(pb.GetManyCacheRequest(keys=[key]), timeout=DEADLINE)
    assert [(e.status, e.value) for e in hit.entries] == [(pb.HIT, b"ctx")]
    dropped = await client.cache.Invalidate(
        pb.InvalidateCacheRequest(scope=pb.RECORDS, user_id=user, record_ids=[record]),
        timeout=DEADLINE,
    )
    assert dropped.invalidated
    after = await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
    assert after.status == pb.MISS
    counter = pb.CacheKey(namespace=pb.RATE_LIMIT, subject=f"login:ip:{record}")
    counted = await client.cache.Increment(
        pb.IncrementCounterRequest(key=counter, window_seconds=60), timeout=DEADLINE
    )
    assert counted.available and counted.count == 1
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.enabled and stats.connected


@pytest.mark.parametrize(
    "command",
    [("FLUSHALL",), ("CONFIG", "GET", "*"), ("KEYS", "*"), ("SHUTDOWN",), ("ACL", "LIST")],
)
async def test_the_lockcache_acl_user_can_do_nothing_else(redis_servers, command):
    (url,) = acl_servers(redis_servers, 1)
    direct = aioredis.from_url(url)
    try:
        with pytest.raises(NoPermissionError):
            await direct.execute_command(*command)
    finally:
        await direct.aclose()
