"""GetOrLease / Fill: read-through with stampede protection.

On a miss exactly one caller gets a fill lease (a short-lived lease key set
NX inside the lease script); concurrent callers wait for its fill, polling
Redis (and woken at once when the fill happens in this process). The lease
token carries the generations current when it was granted; Fill stores only
if they are still current, so a fill that began before an Invalidate of its
scope is discarded instead of undoing the invalidation.

A context also names the records it was computed from (dependencies); it is
served while none of them was written (invalidation.invalidate_records).
Such writes are not in any scope the lease records, so the lease records the
user's write epoch too, which counts the records invalidations: a fill is
discarded when one of its records was invalidated after the epoch its lease
saw. This is checked at fill time only, never on reads, and writes to other
records of the user discard no fill.
"""

import asyncio
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from redis.exceptions import RedisError

from kushim_lockcache import deadline, keys
from kushim_lockcache.cache import (
    CURRENT_HEADER,
    KEEP_ALIVE,
    MISS,
    UNAVAILABLE,
    Cache,
    Stored,
    new_generation,
)
from kushim_lockcache.connection import Unavailable

# KEYS[1]: value key, KEYS[2]: lease key, KEYS[3..]: generation keys.
# ARGV[1]: lease id, ARGV[2]: lease ttl in ms, ARGV[3]: a fresh generation
# token for generation keys that do not exist, ARGV[4]: their ttl in ms,
# ARGV[5]: the user's write epoch key and ARGV[6]: the prefix of its record
# generation keys for a context (both empty otherwise; see cache.CURRENT_HEADER).
# Returns {1, payload} on a current hit (a stale value is deleted); {2} while
# another caller holds the lease; {3, generations, epoch} when this caller is
# granted the lease (missing generation and epoch keys are created so the lease
# can name them; epoch is empty for values that are not contexts).
LEASE_SCRIPT = CURRENT_HEADER + KEEP_ALIVE + """
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
  if next(missing) == nil and nl
      and current_header(string.sub(v, 1, nl - 1), generations, ARGV[5], ARGV[6]) then
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
  keep_alive(KEYS[i], missing[i], ARGV[3], ttl)
end
local epoch = ''
if ARGV[5] ~= '' then
  epoch = redis.call('GET', ARGV[5])
  keep_alive(ARGV[5], not epoch, '0-' .. ARGV[3], ttl)
  epoch = epoch or ('0-' .. ARGV[3])
end
return {3, generations, epoch}
"""

# A Lua function the fill script starts with. True when no record of `ids` (comma-separated;
# empty: every record of the user) was invalidated since the lease saw the write epoch
# `leased` ("<n>-<incarnation>", see invalidation.RECORDS_SCRIPT). Either the epoch did not
# move, or it moved within the same incarnation and each record's generation exists and was
# not set by an invalidation of this incarnation after n. A missing generation (expired, or
# never set) or a new incarnation could hide a write: then it answers false.
UNWRITTEN_SINCE = """
local function counted(value)
  local dash = value and string.find(value, '-', 1, true)
  if not dash then
    return nil, nil
  end
  return tonumber(string.sub(value, 1, dash - 1)), string.sub(value, dash + 1)
end
local function unwritten_since(epoch, leased, prefix, ids)
  local now = redis.call('GET', epoch)
  if now == leased then
    return true
  end
  local n0, incarnation = counted(leased)
  local _, now_incarnation = counted(now)
  if ids == '' or not n0 or now_incarnation ~= incarnation then
    return false
  end
  for id in string.gmatch(ids, '[^,]+') do
    local n, written_in = counted(redis.call('GET', prefix .. id))
    if not n or (written_in == incarnation and n > n0) then
      return false
    end
  end
  return true
end
"""

# KEYS[1]: value key, KEYS[2]: lease key, KEYS[3..]: generation keys.
# ARGV[1]: lease id, ARGV[2]: generations recorded with the lease,
# ARGV[3]: payload, ARGV[4]: ttl in ms, ARGV[5]: the user's write epoch key and
# ARGV[6]: the prefix of its record generation keys for a context (both empty
# otherwise), ARGV[7]: the epoch recorded with the lease, ARGV[8]: a fresh
# token for record generation keys that do not exist, ARGV[9]: the ids of the
# records the context was computed from, comma-separated; empty: it depends on
# every record of the user (the epoch).
# Stores the value only if the generations are unchanged since the lease was
# granted and, for a context, none of its records was invalidated since (see
# UNWRITTEN_SINCE): such a value may have been computed before that write (the
# value is the first write, so out of memory refuses it cleanly), and ends the
# lease if it is ours. The value records the current token of each
# record it names, creating the missing ones. Returns 1 if stored, else 0.
FILL_SCRIPT = KEEP_ALIVE + UNWRITTEN_SINCE + """
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
if current == nil or table.concat(current, ',') ~= ARGV[2]
    or (ARGV[5] ~= '' and not unwritten_since(ARGV[5], ARGV[7], ARGV[6], ARGV[9])) then
  if ours then
    redis.call('DEL', KEYS[2])
  end
  return 0
end
local header = ARGV[2]
local names = {}
local missing = {}
if ARGV[5] ~= '' then
  if ARGV[9] == '' then
    header = header .. '|e' .. ARGV[7]
  else
    local parts = {}
    for id in string.gmatch(ARGV[9], '[^,]+') do
      local name = ARGV[6] .. id
      local g = redis.call('GET', name)
      if not g then
        g = '0-' .. ARGV[8]
        missing[#names + 1] = true
      end
      names[#names + 1] = name
      parts[#parts + 1] = id .. '=' .. g
    end
    header = header .. '|r' .. table.concat(parts, ';')
  end
end
redis.call('SET', KEYS[1], header .. '\\n' .. ARGV[3], 'PX', ARGV[4])
if ours then
  redis.call('DEL', KEYS[2])
end
local ttl = tonumber(ARGV[4])
for i = 3, #KEYS do
  keep_alive(KEYS[i], false, '', ttl)
end
if ARGV[5] ~= '' then
  keep_alive(ARGV[5], false, '', ttl)
end
for i = 1, #names do
  keep_alive(names[i], missing[i], '0-' .. ARGV[8], ttl)
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


def parse_lease_token(entry: keys.CacheEntry, lease_token: str) -> tuple[str, str, str]:
    """(lease id, generations, write epoch) of a token GetOrLease handed out for entry; the
    epoch is empty for values that are not contexts."""
    parts = lease_token.split(".")
    if len(parts) != (3 if entry.epoch else 2) or not parts[0]:
        raise BadLease("lease_token is not one GetOrLease handed out")
    return parts[0], parts[1], parts[2] if entry.epoch else ""


def dependency_list(entry: keys.CacheEntry, dependencies: Sequence[str]) -> str:
    """The fill script's ARGV: distinct record ids, comma-separated. Empty (the value depends
    on every record of its user) when none are given or more than MAX_DEPENDENCIES: checking
    hundreds of keys on every read would cost more than the rare misses it saves."""
    if not dependencies:
        return ""
    if not entry.epoch:
        raise keys.BadKey("dependency_record_ids are for CONTEXT_GROUP values only")
    distinct = list(dict.fromkeys(keys.dependency_id(d) for d in dependencies))
    if len(distinct) > keys.MAX_DEPENDENCIES:
        return ""
    return ",".join(distinct)


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
                        script_keys,
                        [
                            lease_id, lease_ttl_ms, new_generation(), generation_ttl_ms,
                            entry.epoch, entry.record_prefix,
                        ],
                    )
                )
            except (Unavailable, RedisError) as exc:
                if isinstance(exc, RedisError):
                    self.cache.refused(exc)
                stats.miss(entry.namespace)
                return LeaseAnswer(UNAVAILABLE)
            kind = int(answer[0])
            if kind == 1:
                status, value = self.cache.served(entry, answer[1])
                return LeaseAnswer(status, value)
            if kind == 3:
                self.cache.accepted()  # the lease key was written
                stats.miss(entry.namespace)
                token = f"{lease_id}.{answer[1].decode()}"
                if entry.epoch:
                    token += f".{answer[2].decode()}"
                return LeaseAnswer(MISS, lease_token=token)
            remaining = until - time.monotonic()
            if remaining <= 0:
                stats.miss(entry.namespace)
                return LeaseAnswer(MISS)
            await self._wait_for_fill(entry.key, min(poll, remaining))
            poll = min(poll * 2, POLL_MAX_S)

    async def fill(
        self,
        entry: keys.CacheEntry,
        lease_token: str,
        value: bytes,
        ttl_seconds: int,
        dependencies: Sequence[str] = (),
    ) -> Stored:
        """dependencies: for a context, the ids of the records it was computed from (see
        dependency_list); empty, it depends on every record of its user."""
        lease_id, generations, epoch = parse_lease_token(entry, lease_token)
        deps = dependency_list(entry, dependencies)
        refused = self.cache.too_large(value)
        if refused:
            return refused
        if self.cache.node is None:
            return Stored(False, "unavailable: Redis not configured")
        ttl_ms = self.cache.ttl_ms(entry.namespace, ttl_seconds)
        script_keys = [entry.key, keys.lease_key(entry.key), *entry.generations]
        args = [
            lease_id, generations, self.cache.packed(value), ttl_ms, entry.epoch,
            entry.record_prefix, epoch,
            new_generation(), deps,
        ]
        stored = await self.cache.write(lambda c: self._fill(script_keys, args))
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
