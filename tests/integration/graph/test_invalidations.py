"""Invalidations are written with their change and sent until lockcache acknowledges them."""

import uuid

from kushim.graph.v1 import graph_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2 as lpb
from kushim_graph.lockcache import LockCacheClient

from devstack.ports import free_ports, test_port_base
from tests.integration.graph.support import eventually, record


async def cached_profile(graph, user: str) -> bool:
    """Fills the user's profile entry when it is missing; answers whether it was there."""
    key = lpb.CacheKey(namespace=lpb.USER_PROFILE, user_id=user)
    lease = await graph.server.lockcache.get_or_lease(key)
    if lease.value is not None:
        return True
    assert await graph.server.lockcache.fill(key, lease.lease_token, b"{}", 60)
    return False


async def context_cached(graph, user: str, record_id: str) -> bool:
    answer = await graph.records.GetRecordContext(
        pb.GetRecordContextRequest(user_id=user, record_id=record_id, depth=1))
    return answer.cached


async def owed_rows(db, user: str) -> int:
    return await db.fetchval(
        "select count(*) from cache_invalidations where user_id = $1", uuid.UUID(user))


async def test_a_profile_update_invalidates_the_profile_and_no_context(graph, db):
    user = await graph.new_user()
    (ticket,) = await graph.ingest(user, record("PRO-1", title="PRO-1 ticket"))
    assert not await context_cached(graph, user, ticket.record.id)
    assert not await cached_profile(graph, user)
    assert await cached_profile(graph, user)
    await graph.users.UpdateUser(pb.UpdateUserRequest(user_id=user, display_name="Ada"))
    assert not await cached_profile(graph, user)
    assert await context_cached(graph, user, ticket.record.id)
    assert await owed_rows(db, user) == 0


async def test_an_invalidation_lockcache_missed_is_relayed_once_it_is_back(graph, db):
    user = await graph.new_user()
    (ticket,) = await graph.ingest(user, record("DUR-1", title="DUR-1 ticket"))
    record_id = ticket.record.id
    assert not await context_cached(graph, user, record_id)
    assert not await cached_profile(graph, user)
    invalidator = graph.server.invalidator
    reachable = invalidator.lockcache
    # Nothing listens there: every invalidation fails as with lockcache down.
    (nowhere,) = free_ports(1, range(test_port_base() + 90, test_port_base() + 100))
    invalidator.lockcache = LockCacheClient(f"127.0.0.1:{nowhere}", timeout_s=0.5)
    try:
        await graph.users.UpdateUser(pb.UpdateUserRequest(user_id=user, display_name="Ada"))
        await graph.ingest(user, record("DUR-1", title="DUR-1 edited",
                                        when="2024-04-01T10:00:00+00:00"))
        # Nothing acknowledged: the entries are stale and what they owe is kept.
        assert await owed_rows(db, user) >= 2
        assert await cached_profile(graph, user)
        assert await context_cached(graph, user, record_id)
        assert await invalidator.relay_once() == 0
        assert await owed_rows(db, user) >= 2
    finally:
        await invalidator.lockcache.close()
        invalidator.lockcache = reachable

    async def relayed() -> bool:
        return await owed_rows(db, user) == 0

    await eventually(relayed, within=30)
    assert not await cached_profile(graph, user)
    fresh = await graph.records.GetRecordContext(
        pb.GetRecordContextRequest(user_id=user, record_id=record_id, depth=1))
    assert not fresh.cached
    assert fresh.subgraph.nodes[0].title == "DUR-1 edited"
