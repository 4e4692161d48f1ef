"""Fencing counters expire on the lock masters; the caller's floor keeps tokens growing."""

import pytest
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb

from tests.integration.lockcache.support import unique

DEADLINE = 10
COUNTER_TTL_S = 120


@pytest.fixture
async def master_and_client(lockcache_factory, redis_servers):
    master = redis_servers()
    client = await lockcache_factory(
        {"REDLOCK_URLS": master.url, "FENCING_COUNTER_TTL_S": str(COUNTER_TTL_S)}
    )
    direct = aioredis.from_url(master.url)
    yield direct, client
    await direct.aclose()


async def acquire_and_release(client, resource, floor=None):
    floors = {resource: floor} if floor is not None else {}
    answer = await client.locks.Acquire(
        pb.AcquireLockRequest(resources=[resource], ttl_ms=5000, fencing_floors=floors),
        timeout=DEADLINE,
    )
    assert answer.outcome == pb.ACQUIRED, answer.message
    await client.locks.Release(
        pb.ReleaseLockRequest(resources=[resource], token=answer.token), timeout=DEADLINE
    )
    return answer


async def test_a_fencing_counter_expires_after_the_configured_ttl(master_and_client):
    direct, client = master_and_client
    resource = unique("relationship_discovery:")
    answer = await acquire_and_release(client, resource)
    assert answer.fencing_ttl_ms == COUNTER_TTL_S * 1000
    remaining_ms = await direct.pttl(f"fencing:{resource}")
    assert 0 < remaining_ms <= COUNTER_TTL_S * 1000


async def test_every_acquisition_renews_the_counter_ttl(master_and_client):
    direct, client = master_and_client
    resource = unique("relationship_discovery:")
    await acquire_and_release(client, resource)
    await direct.pexpire(f"fencing:{resource}", 1000)
    await acquire_and_release(client, resource)
    assert await direct.pttl(f"fencing:{resource}") > 1000


async def test_a_token_is_above_the_callers_floor(master_and_client):
    _, client = master_and_client
    resource = unique("relationship_discovery:")
    assert (await acquire_and_release(client, resource, floor=41)).fencing_token == 42
    # A lower floor never lowers the counter.
    assert (await acquire_and_release(client, resource, floor=3)).fencing_token == 43


async def test_after_a_counter_expired_the_floor_keeps_tokens_growing(master_and_client):
    direct, client = master_and_client
    resource = unique("relationship_discovery:")
    first = (await acquire_and_release(client, resource)).fencing_token
    await direct.delete(f"fencing:{resource}")  # what its expiry does
    again = (await acquire_and_release(client, resource, floor=first)).fencing_token
    assert again > first


@pytest.mark.parametrize(
    ("floors", "reason"),
    [({"other": 1}, "not locked"), ({"mine": -1}, "fencing floors must be in")],
)
async def test_a_bad_floor_is_refused(master_and_client, floors, reason):
    _, client = master_and_client
    resource = unique("relationship_discovery:")
    floors = {resource if k == "mine" else k: v for k, v in floors.items()}
    answer = await client.locks.Acquire(
        pb.AcquireLockRequest(resources=[resource], ttl_ms=5000, fencing_floors=floors),
        timeout=DEADLINE,
    )
    assert answer.outcome == pb.INVALID
    assert reason in answer.message


async def test_a_lagging_master_is_raised_with_the_counter_ttl(lockcache_factory, redis_servers):
    masters = [redis_servers() for _ in range(3)]
    client = await lockcache_factory(
        {
            "REDLOCK_URLS": ",".join(m.url for m in masters),
            "FENCING_COUNTER_TTL_S": str(COUNTER_TTL_S),
        }
    )
    resource = unique("relationship_discovery:")
    lagging = aioredis.from_url(masters[0].url)
    try:
        await acquire_and_release(client, resource, floor=10)
        await lagging.delete(f"fencing:{resource}")  # lost by a restart without data
        token = (await acquire_and_release(client, resource)).fencing_token
        assert int(await lagging.get(f"fencing:{resource}")) == token
        assert 0 < await lagging.pttl(f"fencing:{resource}") <= COUNTER_TTL_S * 1000
    finally:
        await lagging.aclose()
