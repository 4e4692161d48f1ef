"""GetOrLease / Fill: read-through with stampede protection.

On a miss exactly one caller gets a fill lease (a short-lived lease key set
NX inside the lease script); concurrent callers wait for its fill, polling
Redis (and woken at once when the fill happens in this process). The lease
token carries the generations current when it was granted; Fill stores only
if they are still current, so a fill that began before an Invalidate of its
scope is discarded instead of undoing the invalidation.
"""

import asyncio
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass

from redis.exceptions import RedisError

from kushim_lockcache import deadline, keys
from kushim_lockcache.cache import (
    HIT,
    MISS,
    UNAVAILABLE,
    Cache,
    Stored,
    new_generation,
)
from kushim_lockcache.connection import Unavailable

# KEYS[1]: value key, KEYS[2]: lease key, KEYS[3..]: generation keys.
# ARGV[1]: lease id, ARGV[2]: lease ttl in ms, ARGV[3]: a fresh generation
# token for generation keys that do not exist, ARGV[4]: their ttl in ms.
# Returns {1, payload} on a current hit (a stale value is deleted); {2} while
# another caller holds the lease; {3, generations} when this caller is granted
# the lease (missing generation keys are created so the lease can name them).
LEASE_SCRIPT = """
local current = {}
local missing = {}
for i = 3, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if not g then
    g = ARGV[3]
    missing[i] = true
  end
  current[#current + 1] = g
end
local generations = table.concat(current, ',')
local v = redis.call('GET', KEYS[1])
if v then
  local nl = string.find(v, '\\n', 1, true)
  if next(missing) == nil and nl and string.sub(v, 1, nl - 1) == generations then
    return {1, string.sub(v, nl + 1)}
  end
  redis.call('DEL', KEYS[1])
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {2}
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local ttl = tonumber(ARGV[4])
for i = 3, #KEYS do
  if missing[i] then
    redis.call('SET', KEYS[i], ARGV[3], 'PX', 2 * ttl)
  elseif redis.call('PTTL', KEYS[i]) < ttl then
    redis.call('PEXPIRE', KEYS[i], 2 * ttl)
  end
end
return {3, generations}
"""

# KEYS[1]: value key, KEYS[2]: lease key, KEYS[3..]: generation keys.
# ARGV[1]: lease id, ARGV[2]: generations recorded with the lease,
# ARGV[3]: payload, ARGV[4]: ttl in ms.
# Stores the value only if the generations are unchanged since the lease was
# granted (the value is the first write, so out of memory refuses it cleanly),
# and ends the lease if it is ours. Returns 1 if stored, else 0.
FILL_SCRIPT = """
local current = {}
for i = 3, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if not g then
    current = nil
    break
  end
  current[#current + 1] = g
end
local ours = redis.call('GET', KEYS[2]) == ARGV[1]
if current == nil or table.concat(current, ',') ~= ARGV[2] then
  if ours then
    redis.call('DEL', KEYS[2])
  end
  return 0
end
redis.call('SET', KEYS[1], ARGV[2] .. '\\n' .. ARGV[3], 'PX', ARGV[4])
if ours then
  redis.call('DEL', KEYS[2])
end
local ttl = tonumber(ARGV[4])
for i = 3, #KEYS do
  if redis.call('PTTL', KEYS[i]) < ttl then
    redis.call('PEXPIRE', KEYS[i], 2 * ttl)
  end
end
return 1
"""

DEFAULT_WAIT_MS = 2000
DEFAULT_LEASE_TTL_MS = 5000
MAX_WAIT_MS = 30_000
POLL_FIRST_S = 0.01
POLL_MAX_S = 0.1


class BadLease(ValueError):
    """A lease token that this service did not hand out."""


@dataclass(frozen=True)
class LeaseAnswer:
    status: str
    value: bytes = b""
    lease_token: str = ""


class Leases:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        # Wakes waiters of this process as soon as a fill lands here.
        self._filled: dict[str, asyncio.Event] = {}
        self._waiting: defaultdict[str, int] = defaultdict(int)
        node = cache.node
        if node is not None:
            self._lease = node.client.register_script(LEASE_SCRIPT)
            self._fill = node.client.register_script(FILL_SCRIPT)

    async def get_or_lease(
        self, entry: keys.CacheEntry, wait_ms: int, lease_ttl_ms: int
    ) -> LeaseAnswer:
        stats = self.cache.stats
        node = self.cache.node
        if node is None:
            stats.miss(entry.namespace)
            return LeaseAnswer(UNAVAILABLE)
        wait_ms = min(wait_ms or DEFAULT_WAIT_MS, MAX_WAIT_MS)
        lease_ttl_ms = lease_ttl_ms or DEFAULT_LEASE_TTL_MS
        left = deadline.remaining()
        if left is not None:
            wait_ms = max(0, min(wait_ms, int(left * 1000)))  # waiters answer in time too
        until = time.monotonic() + wait_ms / 1000
        generation_ttl_ms = max(self.cache.ttl_ms(entry.namespace, 0), lease_ttl_ms)
        lease_id = secrets.token_hex(12)
        script_keys = [entry.key, keys.lease_key(entry.key), *entry.generations]
        poll = POLL_FIRST_S
        while True:
            try:
                answer = await node.run(
                    lambda c: self._lease(
                        script_keys, [lease_id, lease_ttl_ms, new_generation(), generation_ttl_ms]
                    )
                )
            except (Unavailable, RedisError) as exc:
                if isinstance(exc, RedisError):
                    self.cache.refused(exc)
                stats.miss(entry.namespace)
                return LeaseAnswer(UNAVAILABLE)
            kind = int(answer[0])
            if kind == 1:
                stats.hit(entry.namespace)
                return LeaseAnswer(HIT, answer[1])
            if kind == 3:
                self.cache.accepted()  # the lease key was written
                stats.miss(entry.namespace)
                return LeaseAnswer(MISS, lease_token=f"{lease_id}.{answer[1].decode()}")
            remaining = until - time.monotonic()
            if remaining <= 0:
                stats.miss(entry.namespace)
                return LeaseAnswer(MISS)
            await self._wait_for_fill(entry.key, min(poll, remaining))
            poll = min(poll * 2, POLL_MAX_S)

    async def fill(
        self, entry: keys.CacheEntry, lease_token: str, value: bytes, ttl_seconds: int
    ) -> Stored:
        lease_id, dot, generations = lease_token.partition(".")
        if not dot or not lease_id:
            raise BadLease("lease_token is not one GetOrLease handed out")
        refused = self.cache.too_large(value)
        if refused:
            return refused
        if self.cache.node is None:
            return Stored(False, "unavailable: Redis not configured")
        ttl_ms = self.cache.ttl_ms(entry.namespace, ttl_seconds)
        script_keys = [entry.key, keys.lease_key(entry.key), *entry.generations]
        stored = await self.cache.write(
            lambda c: self._fill(script_keys, [lease_id, generations, value, ttl_ms])
        )
        if stored.stored:
            event = self._filled.pop(entry.key, None)
            if event is not None:
                event.set()
        elif stored.message == "discarded":
            return Stored(False, "discarded: the scope was invalidated since the lease")
        return stored

    async def _wait_for_fill(self, key: str, seconds: float) -> None:
        event = self._filled.setdefault(key, asyncio.Event())
        self._waiting[key] += 1
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                if self._filled.get(key) is event:
                    del self._filled[key]
