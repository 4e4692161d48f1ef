"""CacheService on the shared cache Redis (REDIS_URL), and the same suite on a Redis
Cluster (REDIS_URL=redis+cluster://..., the session's cluster of three masters)."""

import asyncio

import grpc
import pytest
from kushim.lockcache.v1 import lockcache_pb2 as pb

from tests.integration.lockcache.support import shared_env_on_redis_and_cluster, unique

DEADLINE = 10
shared_env = pytest.fixture(params=["redis", "cluster"])(shared_env_on_redis_and_cluster)


def context_key(user, record="rec", depth=2):
    return pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id=record, depth=depth)


def profile_key(user):
    return pb.CacheKey(namespace=pb.USER_PROFILE, user_id=user)


def platform_key(user, data_source="ds1", platform="github"):
    return pb.CacheKey(
        namespace=pb.PLATFORM_DATA, user_id=user, platform=platform, data_source_id=data_source
    )


async def put(lockcache, key, value=b"v", ttl=0):
    answer = await lockcache.cache.Set(
        pb.SetCacheRequest(key=key, value=value, ttl_seconds=ttl), timeout=DEADLINE
    )
    assert answer.stored, answer.message


async def get(lockcache, key):
    return await lockcache.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)


async def test_miss_then_set_then_hit(lockcache):
    key = context_key(unique("u"))
    assert (await get(lockcache, key)).status == pb.MISS
    await put(lockcache, key, b'{"group": 1}')
    hit = await get(lockcache, key)
    assert (hit.status, hit.value) == (pb.HIT, b'{"group": 1}')


async def test_values_are_opaque_bytes(lockcache):
    key = profile_key(unique("u"))
    value = bytes(range(256)) + b"\n\n\x00"
    await put(lockcache, key, value)
    assert (await get(lockcache, key)).value == value


@pytest.mark.parametrize(
    ("make_key", "redis_key", "ttl"),
    [
        (lambda u: context_key(u, "rec9", 3), "context_group:{{{u}}}:rec9:3", 300),
        (profile_key, "user_profile:{{{u}}}", 600),
        (lambda u: platform_key(u, "ds7", "jira"), "platform:jira:{{{u}}}:ds7", 180),
    ],
)
async def test_key_names_and_ttls_per_namespace(lockcache, cache_redis, make_key, redis_key, ttl):
    user = unique("u")
    await put(lockcache, make_key(user))
    remaining = await cache_redis.ttl(redis_key.format(u=user))
    assert ttl - 5 <= remaining <= ttl


async def test_ttl_override_per_call(lockcache, cache_redis):
    user = unique("u")
    await put(lockcache, profile_key(user), ttl=42)
    assert 37 <= await cache_redis.ttl(f"user_profile:{{{user}}}") <= 42


async def test_ttl_from_environment(lockcache_factory, shared_env, cache_redis):
    client = await lockcache_factory(shared_env | {"USER_PROFILE_CACHE_TTL": "77"})
    user = unique("u")
    await put(client, profile_key(user))
    assert 72 <= await cache_redis.ttl(f"user_profile:{{{user}}}") <= 77


async def test_delete(lockcache):
    key = profile_key(unique("u"))
    await put(lockcache, key)
    deleted = await lockcache.cache.Delete(pb.DeleteCacheRequest(key=key), timeout=DEADLINE)
    assert deleted.deleted
    assert (await get(lockcache, key)).status == pb.MISS
    again = await lockcache.cache.Delete(pb.DeleteCacheRequest(key=key), timeout=DEADLINE)
    assert not again.deleted


async def test_get_many_answers_in_order(lockcache):
    user = unique("u")
    keys = [context_key(user, f"r{i}") for i in range(4)]
    await put(lockcache, keys[1], b"one")
    await put(lockcache, keys[3], b"three")
    answer = await lockcache.cache.GetMany(pb.GetManyCacheRequest(keys=keys), timeout=DEADLINE)
    assert [(e.status, e.value) for e in answer.entries] == [
        (pb.MISS, b""),
        (pb.HIT, b"one"),
        (pb.MISS, b""),
        (pb.HIT, b"three"),
    ]


async def invalidate(lockcache, scope, user, data_source=""):
    answer = await lockcache.cache.Invalidate(
        pb.InvalidateCacheRequest(scope=scope, user_id=user, data_source_id=data_source),
        timeout=DEADLINE,
    )
    assert answer.invalidated


async def test_invalidating_context_groups_hits_only_that_user(lockcache):
    user, other = unique("u"), unique("u")
    mine = [context_key(user, f"r{i}", d) for i in range(3) for d in (1, 2)]
    theirs = context_key(other)
    for key in [*mine, theirs, profile_key(user)]:
        await put(lockcache, key)
    await invalidate(lockcache, pb.USER_CONTEXT_GROUPS, user)
    for key in mine:
        assert (await get(lockcache, key)).status == pb.MISS
    assert (await get(lockcache, theirs)).status == pb.HIT
    assert (await get(lockcache, profile_key(user))).status == pb.HIT
    # Writes after the invalidation are served again.
    await put(lockcache, mine[0], b"fresh")
    assert (await get(lockcache, mine[0])).value == b"fresh"


async def test_invalidating_the_profile(lockcache):
    user = unique("u")
    await put(lockcache, profile_key(user))
    await invalidate(lockcache, pb.USER_PROFILE_SCOPE, user)
    assert (await get(lockcache, profile_key(user))).status == pb.MISS


async def test_invalidating_platform_data_and_one_data_source(lockcache):
    user = unique("u")
    a, b = platform_key(user, "dsA"), platform_key(user, "dsB", "slack")
    await put(lockcache, a)
    await put(lockcache, b)
    await invalidate(lockcache, pb.DATA_SOURCE, user, "dsA")
    assert (await get(lockcache, a)).status == pb.MISS
    assert (await get(lockcache, b)).status == pb.HIT
    await put(lockcache, a)
    await invalidate(lockcache, pb.USER_PLATFORM_DATA, user)
    assert (await get(lockcache, a)).status == pb.MISS
    assert (await get(lockcache, b)).status == pb.MISS


async def test_reads_racing_an_invalidation_never_see_the_old_value_after_it(lockcache):
    user = unique("u")
    key = context_key(user)
    await put(lockcache, key, b"old")
    readers = [asyncio.ensure_future(get(lockcache, key)) for _ in range(20)]
    await invalidate(lockcache, pb.USER_CONTEXT_GROUPS, user)
    after = await asyncio.gather(*(get(lockcache, key) for _ in range(20)))
    await asyncio.gather(*readers)
    assert all(a.status == pb.MISS for a in after)


async def test_values_over_the_limit_are_refused(lockcache_factory, shared_env):
    client = await lockcache_factory(shared_env | {"CACHE_MAX_VALUE_BYTES": "1000"})
    key = profile_key(unique("u"))
    answer = await client.cache.Set(
        pb.SetCacheRequest(key=key, value=b"x" * 1001), timeout=DEADLINE
    )
    assert not answer.stored
    assert "too large" in answer.message
    assert (await get(client, key)).status == pb.MISS


@pytest.mark.parametrize(
    "key",
    [
        pb.CacheKey(user_id="u"),
        pb.CacheKey(namespace=pb.USER_PROFILE),
        pb.CacheKey(namespace=pb.USER_PROFILE, user_id="a:b"),
        pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id="u"),
        pb.CacheKey(namespace=pb.PLATFORM_DATA, user_id="u", platform="p"),
        pb.CacheKey(namespace=pb.RATE_LIMIT, subject="x"),
    ],
)
async def test_malformed_keys_are_invalid_argument(lockcache, key):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await get(lockcache, key)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "request_",
    [
        pb.InvalidateCacheRequest(user_id="u"),
        pb.InvalidateCacheRequest(scope=pb.USER_CONTEXT_GROUPS),
        pb.InvalidateCacheRequest(scope=pb.DATA_SOURCE, user_id="u"),
    ],
)
async def test_malformed_invalidations_are_invalid_argument(lockcache, request_):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await lockcache.cache.Invalidate(request_, timeout=DEADLINE)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_increment_counts_within_a_window(lockcache, lock_masters):
    subject = unique("login:ip:")
    key = pb.CacheKey(namespace=pb.RATE_LIMIT, subject=subject)
    counts = []
    for _ in range(3):
        answer = await lockcache.cache.Increment(
            pb.IncrementCounterRequest(key=key, window_seconds=60), timeout=DEADLINE
        )
        assert answer.available
        assert 0 < answer.reset_in_seconds <= 60
        counts.append(answer.count)
    assert counts == [1, 2, 3]
    # On every lock master (noeviction), where memory pressure cannot end a window early.
    for master in lock_masters:
        assert 0 < await master.ttl(f"rate_limit:{subject}") <= 60


async def test_a_master_that_lost_a_counter_does_not_lower_it(lockcache, lock_masters):
    subject = unique("login:ip:")
    increment = pb.IncrementCounterRequest(
        key=pb.CacheKey(namespace=pb.RATE_LIMIT, subject=subject), window_seconds=60
    )
    for _ in range(3):
        await lockcache.cache.Increment(increment, timeout=DEADLINE)
    await lock_masters[0].delete(f"rate_limit:{subject}")  # as after a restart
    assert (await lockcache.cache.Increment(increment, timeout=DEADLINE)).count == 4


async def test_delete_resets_a_rate_limit_counter(lockcache):
    key = pb.CacheKey(namespace=pb.RATE_LIMIT, subject=unique("login:account:"))
    increment = pb.IncrementCounterRequest(key=key, window_seconds=60)
    for _ in range(3):
        await lockcache.cache.Increment(increment, timeout=DEADLINE)
    reset = await lockcache.cache.Delete(pb.DeleteCacheRequest(key=key), timeout=DEADLINE)
    assert reset.deleted
    assert (await lockcache.cache.Increment(increment, timeout=DEADLINE)).count == 1
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await lockcache.cache.Delete(pb.DeleteCacheRequest(
            key=pb.CacheKey(namespace=pb.RATE_LIMIT)), timeout=DEADLINE)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "request_",
    [
        pb.IncrementCounterRequest(key=pb.CacheKey(namespace=pb.RATE_LIMIT, subject="s")),
        pb.IncrementCounterRequest(key=pb.CacheKey(namespace=pb.RATE_LIMIT), window_seconds=5),
        pb.IncrementCounterRequest(
            key=pb.CacheKey(namespace=pb.USER_PROFILE, subject="s"), window_seconds=5
        ),
    ],
)
async def test_malformed_increments_are_invalid_argument(lockcache, request_):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await lockcache.cache.Increment(request_, timeout=DEADLINE)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_stats_count_hits_and_misses_and_show_redis_info(lockcache):
    key = profile_key(unique("u"))
    await get(lockcache, key)
    await put(lockcache, key)
    await get(lockcache, key)
    stats = await lockcache.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.enabled and stats.connected
    profile = stats.namespaces["user_profile"]
    assert (profile.hits, profile.misses, profile.hit_rate) == (1, 1, 0.5)
    assert set(stats.namespaces) == {"context_group", "user_profile", "platform"}
    assert stats.total_commands_processed > 0
    assert stats.used_memory_human
    assert stats.connected_clients >= 1


@pytest.mark.parametrize("ttl", [-1, 10**9])
async def test_ttl_out_of_range_is_invalid_argument(lockcache, ttl):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await lockcache.cache.Set(
            pb.SetCacheRequest(key=profile_key(unique("u")), value=b"v", ttl_seconds=ttl),
            timeout=DEADLINE,
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
