"""Large cache values are stored compressed on the real cache Redis; values stored
uncompressed (before compression, or below the threshold) read side by side with them."""

import logging

import pytest
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_lockcache import keys
from kushim_lockcache.compression import MARKER

from bench.context_entry import subgraph
from tests.integration.lockcache.support import shared_env_on_redis_and_cluster, unique

DEADLINE = 10

shared_env = pytest.fixture(params=["redis", "cluster"])(shared_env_on_redis_and_cluster)
ENTRY = subgraph()  # a realistic context entry, about 40 KB


def context_key(user: str, record: str) -> pb.CacheKey:
    return pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id=record, depth=2)


async def stored_bytes(cache_redis, user: str, record: str) -> bytes:
    raw = await cache_redis.get(keys.context_group_key(user, record, 2))
    return raw.partition(b"\n")[2]  # after the generations header


async def test_old_and_compressed_entries_read_side_by_side(
    lockcache_factory, shared_env, cache_redis
):
    user = unique("u")
    before = await lockcache_factory(shared_env | {"CACHE_COMPRESS_MIN_BYTES": "0"})
    after = await lockcache_factory(shared_env)
    old = await before.cache.Set(
        pb.SetCacheRequest(key=context_key(user, "old"), value=ENTRY), timeout=DEADLINE
    )
    new = await after.cache.Set(
        pb.SetCacheRequest(key=context_key(user, "new"), value=ENTRY), timeout=DEADLINE
    )
    assert old.stored and new.stored
    assert await stored_bytes(cache_redis, user, "old") == ENTRY
    compressed = await stored_bytes(cache_redis, user, "new")
    assert compressed.startswith(MARKER) and len(compressed) * 2 < len(ENTRY)

    answers = await after.cache.GetMany(
        pb.GetManyCacheRequest(keys=[context_key(user, "old"), context_key(user, "new")]),
        timeout=DEADLINE,
    )
    assert [(e.status, e.value) for e in answers.entries] == [(pb.HIT, ENTRY)] * 2
    # A lockcache that does not compress still reads what one that does stored.
    back = await before.cache.Get(
        pb.GetCacheRequest(key=context_key(user, "new")), timeout=DEADLINE
    )
    assert (back.status, back.value) == (pb.HIT, ENTRY)


async def test_a_filled_context_is_compressed_and_served_by_get_or_lease(lockcache, cache_redis):
    user = unique("u")
    key = context_key(user, "r1")
    lease = await lockcache.cache.GetOrLease(pb.GetOrLeaseRequest(key=key), timeout=DEADLINE)
    assert lease.status == pb.MISS and lease.lease_token
    filled = await lockcache.cache.Fill(
        pb.FillCacheRequest(key=key, lease_token=lease.lease_token, value=ENTRY,
                            dependency_record_ids=["r1", "r2"]),
        timeout=DEADLINE,
    )  # fmt: skip
    assert filled.stored, filled.message
    assert (await stored_bytes(cache_redis, user, "r1")).startswith(MARKER)
    hit = await lockcache.cache.GetOrLease(pb.GetOrLeaseRequest(key=key), timeout=DEADLINE)
    assert (hit.status, hit.value) == (pb.HIT, ENTRY)


async def test_a_small_value_is_stored_as_given(lockcache, cache_redis):
    user = unique("u")
    answer = await lockcache.cache.Set(
        pb.SetCacheRequest(key=context_key(user, "s"), value=b"\x0a\x02hi"), timeout=DEADLINE
    )
    assert answer.stored
    assert await stored_bytes(cache_redis, user, "s") == b"\x0a\x02hi"


async def test_a_corrupt_compressed_value_is_a_miss_and_logged(lockcache, cache_redis, caplog):
    caplog.set_level(logging.WARNING, logger="kushim_lockcache")
    user = unique("u")
    key = context_key(user, "c")
    assert (
        await lockcache.cache.Set(pb.SetCacheRequest(key=key, value=ENTRY), timeout=DEADLINE)
    ).stored
    name = keys.context_group_key(user, "c", 2)
    header = (await cache_redis.get(name)).partition(b"\n")[0]
    await cache_redis.set(name, header + b"\n" + MARKER + b"garbage", keepttl=True)
    got = await lockcache.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
    assert (got.status, got.value) == (pb.MISS, b"")
    assert any("unreadable" in r.getMessage() for r in caplog.records)
