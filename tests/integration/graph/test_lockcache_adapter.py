"""Graph's lockcache module over the client package, against the real lockcache process."""

import uuid

from kushim_graph.lockcache import ACQUIRED, HELD, LockCacheClient


async def test_several_resources_are_locked_together_with_a_fencing_token_each(lockcache_addr):
    resources = [f"relationship_discovery:{uuid.uuid4()}" for _ in range(3)]
    first, second = LockCacheClient(lockcache_addr), LockCacheClient(lockcache_addr)
    try:
        lock = await first.acquire(resources, 15_000)
        assert lock.outcome == ACQUIRED
        assert set(lock.fencing_tokens) == set(resources)
        assert lock.fencing_token == max(lock.fencing_tokens.values())
        assert (await second.acquire(resources[1], 15_000)).outcome == HELD
        await first.release(resources, lock.token)
        again = await second.acquire(resources[1], 15_000)
        assert again.outcome == ACQUIRED
        assert again.fencing_token > lock.fencing_tokens[resources[1]]
        await second.release(resources[1], again.token)
    finally:
        await first.close()
        await second.close()
