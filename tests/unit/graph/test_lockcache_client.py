"""An unreachable lockcache reads as "Redis unavailable", never as an error."""

import socket

from kushim_graph.lockcache import UNAVAILABLE, LockCacheClient, context_key


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unreachable_lockcache_degrades():
    client = LockCacheClient(f"127.0.0.1:{unused_port()}", timeout_s=0.5)
    try:
        assert (await client.acquire("relationship_discovery:x", 15_000)).outcome == UNAVAILABLE
        key = context_key("u", "r", 2)
        lease = await client.get_or_lease(key, wait_ms=10)
        assert lease.value is None and lease.lease_token == ""
        assert not await client.fill(key, "lease", b"v", 10)
        assert not await client.invalidate_profile("u")
        assert not await client.invalidate_records("u", ["r"])
        assert not await client.invalidate_data_source("u", "d")
        assert not await client.reachable()
        await client.release("relationship_discovery:x", "token")
    finally:
        await client.close()


def test_context_key_fields():
    key = context_key("user-1", "record-2", 3)
    assert (key.user_id, key.record_id, key.depth) == ("user-1", "record-2", 3)
