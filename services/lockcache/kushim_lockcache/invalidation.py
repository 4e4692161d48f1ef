"""Scope invalidation in O(1), without KEYS or SCAN.

Why generations rather than per-scope key sets: every scope (a user's context
groups, a user's profile, a user's platform data, one data source) has one
generation key holding a random token. Each cached value records the tokens
of its scopes when it was written, and reads compare them atomically (one Lua
script) with the current ones. Invalidating a scope deletes its generation
key: one DEL, whatever the number of entries, and once it returns every read
of an older entry is a miss (the read also deletes the stale entry). The next
write creates a fresh random token, so a deleted or evicted generation can
never match an older value again (eviction of a generation key is therefore
an invalidation too, never a stale read). Key sets would need an SADD per
write and a DEL per entry, and could miss entries written concurrently with
the invalidation.

Fills that started before an invalidation are discarded by lease.py, which
compares the generations recorded with the lease against the current ones.
"""

from redis.exceptions import RedisError

from kushim_lockcache import keys
from kushim_lockcache.connection import RedisNode, Unavailable


async def invalidate(node: RedisNode | None, scope: str, user_id: str, data_source_id: str) -> bool:
    """Drops every cached value of the scope. False when Redis is unavailable
    or refused."""
    generation = keys.scope_generation(scope, user_id, data_source_id)
    if node is None:
        return False
    try:
        await node.run(lambda c: c.delete(generation))
    except (Unavailable, RedisError):
        # RedisError: e.g. READONLY from a master demoted by a failover.
        return False
    return True
