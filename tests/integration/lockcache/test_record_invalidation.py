"""RECORDS invalidation: a write drops only the cached contexts that contain a written record."""

import grpc
import pytest
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_lockcache import keys

from tests.integration.lockcache.support import shared_env_on_redis_and_cluster, unique

DEADLINE = 10

shared_env = pytest.fixture(params=["redis", "cluster"])(shared_env_on_redis_and_cluster)


def context_key(user, record):
    return pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id=record, depth=2)


async def lease(lockcache, key):
    return await lockcache.cache.GetOrLease(pb.GetOrLeaseRequest(key=key), timeout=DEADLINE)


async def fill(lockcache, key, token, value, dependencies=()):
    return await lockcache.cache.Fill(
        pb.FillCacheRequest(
            key=key, lease_token=token, value=value, dependency_record_ids=list(dependencies)
        ),
        timeout=DEADLINE,
    )


async def invalidate(lockcache, user, *record_ids):
    answer = await lockcache.cache.Invalidate(
        pb.InvalidateCacheRequest(scope=pb.RECORDS, user_id=user, record_ids=list(record_ids)),
        timeout=DEADLINE,
    )
    assert answer.invalidated


async def cached(lockcache, user, record, value, dependencies=()):
    key = context_key(user, record)
    granted = await lease(lockcache, key)
    assert granted.lease_token
    assert (await fill(lockcache, key, granted.lease_token, value, dependencies)).stored
    return key


async def hit(lockcache, key) -> bool:
    answer = await lockcache.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
    return answer.status == pb.HIT


async def test_a_write_drops_the_contexts_containing_the_record_and_no_other(lockcache):
    user = unique("u")
    a = await cached(lockcache, user, "a", b"A", ["a", "c"])
    b = await cached(lockcache, user, "b", b"B", ["b", "d"])
    await invalidate(lockcache, user, "c")
    assert not await hit(lockcache, a)
    assert await hit(lockcache, b)
    again = await lease(lockcache, b)
    assert (again.status, again.value) == (pb.HIT, b"B")


async def test_a_link_between_two_records_drops_the_contexts_of_both_ends(lockcache):
    user = unique("u")
    with_a = await cached(lockcache, user, "x", b"X", ["x", "a"])
    with_c = await cached(lockcache, user, "y", b"Y", ["y", "c"])
    elsewhere = await cached(lockcache, user, "z", b"Z", ["z"])
    await invalidate(lockcache, user, "a", "c")
    assert not await hit(lockcache, with_a)
    assert not await hit(lockcache, with_c)
    assert await hit(lockcache, elsewhere)


async def test_another_users_write_to_the_same_record_id_drops_nothing(lockcache):
    user = unique("u")
    key = await cached(lockcache, user, "a", b"A", ["a"])
    await invalidate(lockcache, unique("other"), "a")
    assert await hit(lockcache, key)


async def test_a_fill_racing_an_invalidation_of_one_of_its_records_is_discarded(lockcache):
    user = unique("u")
    await cached(lockcache, user, "b", b"B", ["a", "b"])  # a's generation exists
    key = context_key(user, "a")
    granted = await lease(lockcache, key)
    # The write commits and invalidates while the context is being computed: the value may
    # hold the state from before the write.
    await invalidate(lockcache, user, "a")
    answer = await fill(lockcache, key, granted.lease_token, b"stale", ["a", "b"])
    assert not answer.stored
    assert "invalidated" in answer.message
    assert not await hit(lockcache, key)
    fresh = await lease(lockcache, key)
    assert fresh.lease_token
    assert (await fill(lockcache, key, fresh.lease_token, b"fresh", ["a", "b"])).stored
    assert await hit(lockcache, key)


async def test_a_fill_racing_a_write_to_another_record_is_stored(lockcache):
    user = unique("u")
    await cached(lockcache, user, "b", b"B", ["a", "b"])
    key = context_key(user, "a")
    granted = await lease(lockcache, key)
    await invalidate(lockcache, user, "elsewhere")
    assert (await fill(lockcache, key, granted.lease_token, b"A", ["a", "b"])).stored
    assert await hit(lockcache, key)


async def test_a_fill_racing_a_write_is_discarded_when_it_cannot_tell_what_was_written(
    lockcache, cache_redis
):
    user = unique("u")
    await cached(lockcache, user, "b", b"B", ["b"])
    key = context_key(user, "a")
    # "a" has no generation yet: it may have expired after a write.
    granted = await lease(lockcache, key)
    await invalidate(lockcache, user, "elsewhere")
    assert not (await fill(lockcache, key, granted.lease_token, b"A", ["a", "b"])).stored
    # Every record of the user: any write may have changed it.
    granted = await lease(lockcache, key)
    await invalidate(lockcache, user, "elsewhere")
    assert not (await fill(lockcache, key, granted.lease_token, b"A")).stored
    # The epoch expired and started again: its count says nothing about the lease's.
    granted = await lease(lockcache, key)
    await cache_redis.delete(keys.write_epoch(user))
    await invalidate(lockcache, user, "elsewhere")
    assert not (await fill(lockcache, key, granted.lease_token, b"A", ["b"])).stored
    assert not await hit(lockcache, key)


async def test_contexts_filled_without_dependencies_depend_on_every_record(lockcache):
    user = unique("u")
    wide = await cached(lockcache, user, "a", b"A")
    many = await cached(lockcache, user, "b", b"B", [f"r{i}" for i in range(300)])
    narrow = await cached(lockcache, user, "c", b"C", ["c"])
    await invalidate(lockcache, user, "unrelated")
    assert not await hit(lockcache, wide)
    assert not await hit(lockcache, many)
    assert await hit(lockcache, narrow)


async def test_a_user_scope_invalidation_still_drops_every_context(lockcache):
    user = unique("u")
    key = await cached(lockcache, user, "a", b"A", ["a"])
    await lockcache.cache.Invalidate(
        pb.InvalidateCacheRequest(scope=pb.USER_CONTEXT_GROUPS, user_id=user), timeout=DEADLINE
    )
    assert not await hit(lockcache, key)


async def test_a_lost_record_generation_is_a_miss_never_a_stale_hit(lockcache, cache_redis):
    user = unique("u")
    key = await cached(lockcache, user, "a", b"A", ["a", "b"])
    await cache_redis.delete(keys.record_generation(user, "b"))  # evicted
    assert not await hit(lockcache, key)


async def test_set_stores_a_context_that_depends_on_every_record(lockcache):
    user = unique("u")
    key = context_key(user, "a")
    stored = await lockcache.cache.Set(pb.SetCacheRequest(key=key, value=b"A"), timeout=DEADLINE)
    assert stored.stored
    assert await hit(lockcache, key)
    await invalidate(lockcache, user, "unrelated")
    assert not await hit(lockcache, key)


@pytest.mark.parametrize("bad", ["a=b", "a;b", "a,b", "a|b", "a:b", ""])
async def test_dependencies_that_could_forge_a_header_are_invalid_argument(lockcache, bad):
    key = context_key(unique("u"), "a")
    granted = await lease(lockcache, key)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await fill(lockcache, key, granted.lease_token, b"A", ["a", bad])
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_dependencies_of_values_that_are_not_contexts_are_invalid_argument(lockcache):
    key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=unique("u"))
    granted = await lease(lockcache, key)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await fill(lockcache, key, granted.lease_token, b"P", ["a"])
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
