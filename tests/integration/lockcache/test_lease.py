"""GetOrLease / Fill: stampede protection and fills racing invalidations."""

import asyncio

import grpc
import pytest
from kushim.lockcache.v1 import lockcache_pb2 as pb

from tests.integration.lockcache.support import eventually, shared_env_on_redis_and_cluster, unique

DEADLINE = 10

shared_env = pytest.fixture(params=["redis", "cluster"])(shared_env_on_redis_and_cluster)


def context_key(user, record="rec"):
    return pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id=record, depth=1)


async def lease(lockcache, key, wait_ms=0, lease_ttl_ms=0):
    return await lockcache.cache.GetOrLease(
        pb.GetOrLeaseRequest(key=key, wait_ms=wait_ms, lease_ttl_ms=lease_ttl_ms),
        timeout=DEADLINE,
    )


async def fill(lockcache, key, token, value):
    return await lockcache.cache.Fill(
        pb.FillCacheRequest(key=key, lease_token=token, value=value), timeout=DEADLINE
    )


async def test_stampede_of_100_callers_leads_to_exactly_one_fill(lockcache):
    key = context_key(unique("u"))
    fills = 0
    release_fill = asyncio.Event()

    async def caller():
        nonlocal fills
        answer = await lease(lockcache, key, wait_ms=8000)
        if answer.status == pb.HIT:
            return answer.value
        assert answer.lease_token, "a caller ran out of waiting"
        fills += 1
        await release_fill.wait()  # the "database query" of the one filler
        stored = await fill(lockcache, key, answer.lease_token, b"computed")
        assert stored.stored
        return b"computed"

    callers = [asyncio.ensure_future(caller()) for _ in range(100)]
    await eventually(lambda: fills > 0)
    release_fill.set()
    values = await asyncio.gather(*callers)
    assert fills == 1
    assert values == [b"computed"] * 100


async def test_hit_after_fill(lockcache):
    key = context_key(unique("u"))
    first = await lease(lockcache, key)
    assert (first.status, bool(first.lease_token)) == (pb.MISS, True)
    assert (await fill(lockcache, key, first.lease_token, b"v")).stored
    second = await lease(lockcache, key)
    assert (second.status, second.value, second.lease_token) == (pb.HIT, b"v", "")


async def test_a_waiter_that_runs_out_of_time_gets_a_miss_without_lease(lockcache):
    key = context_key(unique("u"))
    leader = await lease(lockcache, key)
    assert leader.lease_token
    waiter = await lease(lockcache, key, wait_ms=50)
    assert (waiter.status, waiter.lease_token) == (pb.MISS, "")


async def test_an_abandoned_lease_passes_to_the_next_caller(lockcache):
    key = context_key(unique("u"))
    leader = await lease(lockcache, key, lease_ttl_ms=100)
    assert leader.lease_token
    successor = await lease(lockcache, key, wait_ms=5000)
    assert successor.status == pb.MISS
    assert successor.lease_token and successor.lease_token != leader.lease_token


async def test_a_fill_that_began_before_an_invalidate_is_discarded(lockcache):
    user = unique("u")
    key = context_key(user)
    slow = await lease(lockcache, key)
    await lockcache.cache.Invalidate(
        pb.InvalidateCacheRequest(scope=pb.USER_CONTEXT_GROUPS, user_id=user), timeout=DEADLINE
    )
    answer = await fill(lockcache, key, slow.lease_token, b"stale")
    assert not answer.stored
    assert "invalidated" in answer.message
    fresh = await lease(lockcache, key)
    assert fresh.status == pb.MISS and fresh.lease_token
    assert (await fill(lockcache, key, fresh.lease_token, b"fresh")).stored
    hit = await lockcache.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
    assert hit.value == b"fresh"


async def test_invalidate_drops_values_stored_by_fill(lockcache):
    user = unique("u")
    key = pb.CacheKey(
        namespace=pb.PLATFORM_DATA, user_id=user, platform="slack", data_source_id="d1"
    )
    granted = await lease(lockcache, key)
    assert (await fill(lockcache, key, granted.lease_token, b"v")).stored
    await lockcache.cache.Invalidate(
        pb.InvalidateCacheRequest(scope=pb.DATA_SOURCE, user_id=user, data_source_id="d1"),
        timeout=DEADLINE,
    )
    again = await lease(lockcache, key)
    assert again.status == pb.MISS and again.lease_token


async def test_fill_with_a_foreign_token_is_invalid_argument(lockcache):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await fill(lockcache, context_key(unique("u")), "not-a-lease", b"v")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_fill_over_the_size_limit_is_refused(lockcache_factory, shared_env):
    client = await lockcache_factory(shared_env | {"CACHE_MAX_VALUE_BYTES": "10"})
    key = context_key(unique("u"))
    granted = await lease(client, key)
    answer = await fill(client, key, granted.lease_token, b"x" * 11)
    assert not answer.stored
    assert "too large" in answer.message


@pytest.mark.parametrize(
    "limits", [{"wait_ms": -1}, {"wait_ms": 10**7}, {"lease_ttl_ms": -5}, {"lease_ttl_ms": 10**9}]
)
async def test_waits_and_lease_ttls_out_of_range_are_invalid_argument(lockcache, limits):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await lease(lockcache, context_key(unique("u")), **limits)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_fill_with_a_bad_ttl_is_invalid_argument(lockcache):
    key = context_key(unique("u"))
    granted = await lease(lockcache, key)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await lockcache.cache.Fill(
            pb.FillCacheRequest(
                key=key, lease_token=granted.lease_token, value=b"v", ttl_seconds=-1
            ),
            timeout=DEADLINE,
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
