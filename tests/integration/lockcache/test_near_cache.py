"""Near caches kept correct by WatchInvalidations, on real lockcache replicas and Redis."""

import asyncio
import json
import os
import sys
from pathlib import Path

import grpc
import pytest
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_lockcache_client import (
    LockCacheClient,
    NearCache,
    context_group_key,
    user_profile_key,
)
from kushim_lockcache_client.near_cache import identity

from tests.integration.lockcache.support import eventually, unique

WRITER = Path(__file__).with_name("near_race_writer.py")
RACE_WRITES = 300


def addr(replica) -> str:
    return f"127.0.0.1:{replica.server.port}"


async def delivered(near: NearCache, write, *, own: bool = False) -> None:
    """Awaits a write and its event's arrival: a read begun before the event arrives is
    (rightly) not stored, which would make a test's hit a miss. The caller's own write also
    drops its entry twice itself."""
    expected = near.stats.invalidations + (3 if own else 1)
    assert await write
    await eventually(lambda: near.stats.invalidations >= expected)


@pytest.fixture
async def replicas(lockcache_factory, shared_env):
    """Two lockcache replicas on the shared Redis."""
    return [await lockcache_factory(shared_env) for _ in range(2)]


@pytest.fixture
async def near_client(replicas):
    async with LockCacheClient(addr(replicas[0]), near_cache=NearCache()) as client:
        await client.get(user_profile_key(unique()))  # starts the stream
        await eventually(lambda: client.near.usable)
        yield client


@pytest.fixture
async def other(replicas):
    """A client of the other replica, without a near cache."""
    async with LockCacheClient(addr(replicas[1])) as client:
        yield client


async def test_a_hot_entry_is_served_from_memory(near_client, other):
    key = user_profile_key(unique())
    await delivered(near_client.near, other.set(key, b"v1"))
    assert await near_client.get(key) == b"v1"
    hits = near_client.near.stats.hits
    assert await near_client.get(key) == b"v1"
    assert near_client.near.stats.hits == hits + 1


async def test_a_write_through_another_replica_reaches_the_near_cache(near_client, other):
    key = user_profile_key(unique())
    await delivered(near_client.near, other.set(key, b"v1"))
    assert await near_client.get(key) == b"v1"
    assert identity(key) in near_client.near._entries
    assert await other.set(key, b"v2")
    assert await eventually(lambda: identity(key) not in near_client.near._entries)
    assert await near_client.get(key) == b"v2"
    assert await other.delete(key)
    await eventually(lambda: identity(key) not in near_client.near._entries)
    assert await near_client.get(key) is None


async def test_an_invalidation_through_another_replica_drops_the_users_entries(
    near_client, other
):
    user = unique()
    key = context_group_key(user, "r1", 2)
    lease = await other.get_or_lease(key)
    assert await other.fill(key, lease.lease_token, b"ctx", dependencies=["r1"])
    assert (await near_client.get_or_lease(key)).value == b"ctx"
    assert identity(key) in near_client.near._entries
    assert await other.invalidate(
        pb.InvalidateCacheRequest(scope=pb.RECORDS, user_id=user, record_ids=["r1"])
    )
    await eventually(lambda: identity(key) not in near_client.near._entries)
    assert (await near_client.get_or_lease(key)).value is None


async def test_the_callers_own_write_is_seen_at_once(near_client):
    key = user_profile_key(unique())
    assert await near_client.set(key, b"v1")
    assert await near_client.get(key) == b"v1"
    assert await near_client.get(key) == b"v1"  # now from memory
    assert await near_client.set(key, b"v2")
    assert await near_client.get(key) == b"v2"  # no waiting for the stream
    assert await near_client.invalidate(
        pb.InvalidateCacheRequest(scope=pb.USER_PROFILE_SCOPE, user_id=key.user_id)
    )
    assert await near_client.get(key) is None


async def test_reads_racing_writes_from_another_process_are_never_older_than_delivered(
    near_client, replicas
):
    """The raced check at a small count: a writer process writes 1..N (and checks its own
    reads); this process reads through its near cache, and a read is stale when it is older
    than the writes whose invalidations its stream had delivered when the read began."""
    key = user_profile_key(unique())
    near = near_client.near
    delivered = 0
    apply = near.apply

    def counting(event):
        nonlocal delivered
        apply(event)
        if event.kind == pb.InvalidationEvent.KEY and identity(event.key) == identity(key):
            delivered += 1

    near.apply = counting
    writer = await asyncio.create_subprocess_exec(
        sys.executable, str(WRITER), stdout=asyncio.subprocess.PIPE,
        env=os.environ | {
            "LOCKCACHE_ADDR": addr(replicas[1]), "USER_ID": key.user_id,
            "COUNT": str(RACE_WRITES),
        },
    )  # fmt: skip
    stale, reads, last = [], 0, 0
    try:
        while last < RACE_WRITES:
            floor = delivered
            value = await near_client.get(key)
            reads += 1
            last = int(value) if value is not None else 0
            if last < floor:
                stale.append((last, floor))
            await asyncio.sleep(0)  # a hit never yields: let the stream and the servers run
            if writer.returncode is not None and last < RACE_WRITES:
                await writer.wait()
                pytest.fail(f"the writer exited ({writer.returncode}) at read {reads}")
        out, _ = await asyncio.wait_for(writer.communicate(), 60)
    finally:
        if writer.returncode is None:
            writer.kill()
            await writer.wait()
    assert stale == []
    assert json.loads(out)["own_stale"] == 0
    assert near.stats.hits > 0  # the check went through the near cache
    assert delivered == RACE_WRITES


async def test_an_answer_in_flight_when_its_invalidation_arrives_is_not_stored(near_client):
    key = user_profile_key(unique())
    assert await near_client.set(key, b"old")
    near = near_client.near
    begun = near.begin()
    old = await near_client.cache_service.Get(pb.GetCacheRequest(key=key))  # in flight...
    assert await near_client.set(key, b"new")  # ...while the key is written and invalidated
    assert not near.put(key, old.value, begun)
    assert await near_client.get(key) == b"new"


async def test_the_near_cache_is_bypassed_while_redis_is_down_and_resumes(
    lockcache_factory, redis_servers
):
    redis = redis_servers()
    replica = await lockcache_factory({"REDIS_URL": redis.url})
    near = NearCache()
    async with LockCacheClient(addr(replica), near_cache=near) as client:
        key = user_profile_key(unique())
        await client.get(key)
        await eventually(lambda: near.usable)
        await delivered(near, client.set(key, b"v"), own=True)
        assert await client.get(key) == b"v"
        assert len(near) == 1
        redis.kill()
        await eventually(lambda: not near.usable)
        assert len(near) == 0
        bypassed = near.stats.bypassed
        assert await client.get(key) is None
        assert near.stats.bypassed == bypassed + 1
        redis.start()
        await eventually(lambda: near.usable)
        assert await client.set(key, b"w")
        assert await client.get(key) == b"w"


async def test_a_silent_stream_counts_as_broken(lockcache_factory, redis_servers):
    """A paused Redis answers nothing and closes nothing: only the missing heartbeats tell."""
    redis = redis_servers()
    replica = await lockcache_factory({"REDIS_URL": redis.url})
    near = NearCache()
    async with LockCacheClient(addr(replica), near_cache=near) as client:
        await client.get(user_profile_key(unique()))
        await eventually(lambda: near.usable)
        redis.pause()
        try:
            await eventually(lambda: not near.usable)
            assert near.state.startswith("no message for")
        finally:
            redis.resume()
        await eventually(lambda: near.usable)


async def test_watching_without_a_cache_redis_is_refused_and_the_near_cache_stays_off(
    lockcache_factory, shared_env
):
    replica = await lockcache_factory({"REDLOCK_URLS": shared_env["REDLOCK_URLS"]})
    stub = pb_grpc.InvalidationServiceStub(replica.channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        async for _ in stub.WatchInvalidations(pb.WatchInvalidationsRequest()):
            pass
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "REDIS_URL" in refused.value.details()
    near = NearCache()
    async with LockCacheClient(addr(replica), near_cache=near) as client:
        assert await client.get(user_profile_key(unique())) is None
        await eventually(lambda: near.state.startswith("FAILED_PRECONDITION"))
        assert not near.usable
