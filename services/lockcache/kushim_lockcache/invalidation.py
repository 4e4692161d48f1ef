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

Records invalidation (context values only) works the same way one level down:
each record has a generation key, a context value records the tokens of the
records it contains, and invalidating records gives their keys a new value,
so only the contexts that contain one of them miss. The same script moves the
user's write epoch on, which drops the contexts too large to name their
records, and lets a fill in flight tell whether one of its records was
written since its lease (see lease.py).
"""

import secrets

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


MAX_RECORDS = 10_000

# KEYS[1]: the user's write epoch, KEYS[2..]: generation keys of the written records.
# ARGV[1]: a fresh token, ARGV[2]: ttl in ms of the keys it sets.
# The epoch is "<n>-<incarnation>": n counts the records invalidations of the user since the
# epoch key was (re)created with a fresh incarnation. Each invalidation sets the epoch to the
# next count and every written record's generation to the same value, so a fill can tell
# whether one of its records was written after its lease (lease.py). Returns 1.
RECORDS_SCRIPT = """
local e = redis.call('GET', KEYS[1])
local dash = e and string.find(e, '-', 1, true)
local n, incarnation = 0, ARGV[1]
if dash then
  n = tonumber(string.sub(e, 1, dash - 1)) or 0
  incarnation = string.sub(e, dash + 1)
end
local value = (n + 1) .. '-' .. incarnation
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], value, 'PX', ARGV[2])
end
return 1
"""


async def invalidate_records(
    node: RedisNode | None, user_id: str, record_ids, ttl_ms: int
) -> bool:
    """Drops the cached contexts of the user that contain one of the records (all of them
    when there are more than MAX_RECORDS). ttl_ms: how long the new generations are kept,
    longer than any context value lives. False when Redis is unavailable or refused."""
    if len(record_ids) > MAX_RECORDS:
        return await invalidate(node, keys.SCOPE_USER_CONTEXT_GROUPS, user_id, "")
    names = [keys.write_epoch(user_id)]
    names += sorted({keys.record_generation(user_id, r) for r in record_ids})
    if node is None:
        return False
    script = node.client.register_script(RECORDS_SCRIPT)
    try:
        await node.run(lambda c: script(names, [secrets.token_hex(8), ttl_ms], client=c))
    except (Unavailable, RedisError):
        return False
    return True
