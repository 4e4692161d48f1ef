"""The staleness protocol: when a cached value may be served, and when a fill is discarded.

Every Lua script of the protocol lives here; the design note in services/lockcache/README.md
walks through it. In short:

- A *generation* is a random token in one key per scope (a user's context groups, profile or
  platform data, one data source). A stored value is "<header>\\n<payload>", the header naming
  the generations of its scopes when it was written; a read serves it only while they are
  unchanged. Invalidating a scope deletes its generation key: one DEL whatever the number of
  entries, no KEYS or SCAN, no key sets that could miss an entry written concurrently. The next
  write creates a fresh token, so a deleted or evicted generation never matches an older value
  again (eviction of a generation key is an invalidation too, never a stale read).
- Records work the same way one level down (context values only): each record has a
  generation key, a context names the tokens of the records it was computed from, and
  invalidating records sets new ones, so only the contexts holding one of them miss.
- The user's *write epoch* "<n>-<incarnation>" counts records invalidations. A context too
  large to name its records is served only under the epoch it was filled under; a fill tells
  by it whether one of its records was written since its lease.
- A *lease* (GetOrLease) records the generations (and epoch) current when it was granted; Fill
  stores only if they are still current, so a fill that began before an invalidation is
  discarded instead of undoing it.

On Redis Cluster all the keys a script touches share the value key's hash tag ({userId}, see
keys.py), so each script runs on one node in one round trip.
"""

import asyncio
import secrets
from collections.abc import Sequence

from redis.asyncio.cluster import RedisCluster

from kushim_lockcache import keys
from kushim_lockcache.autopipeline import AutoPipeline
from kushim_lockcache.connection import RedisNode

# Lua functions the read scripts start with. A stored value's header is "<generations>"
# (values that are not contexts) or "<generations>|<dependencies>" (contexts), dependencies
# being "e<token>" (every record of the user: served while the user's write epoch is <token>)
# or "r<id>=<token>;..." (served while each record's generation key <prefix><id> still holds
# <token>). epoch and prefix are empty for values that are not contexts. The record keys are
# built here from the value, so the read stays one round trip.
CURRENT_HEADER = """
local function current_header(header, generations, epoch, prefix)
  local bar = string.find(header, '|', 1, true)
  if epoch == '' then
    return bar == nil and header == generations
  end
  if not bar or string.sub(header, 1, bar - 1) ~= generations then
    return false
  end
  local kind = string.sub(header, bar + 1, bar + 1)
  local rest = string.sub(header, bar + 2)
  if kind == 'e' then
    return redis.call('GET', epoch) == rest
  end
  if kind ~= 'r' then
    return false
  end
  local names, tokens = {}, {}
  for id, token in string.gmatch(rest, '([^=;]+)=([^;]+)') do
    names[#names + 1] = prefix .. id
    tokens[#tokens + 1] = token
  end
  if #names == 0 then
    return true
  end
  local found = redis.call('MGET', unpack(names))
  for i = 1, #names do
    if found[i] ~= tokens[i] then
      return false
    end
  end
  return true
end
local function current_payload(stored, generations, epoch, prefix)
  local nl = string.find(stored, '\\n', 1, true)
  if nl and current_header(string.sub(stored, 1, nl - 1), generations, epoch, prefix) then
    return string.sub(stored, nl + 1)
  end
  return nil
end
"""

# A Lua function: the current tokens of the generation keys KEYS[first..], comma-joined, and
# the set of indexes that were missing. A missing key reads as `fresh` (a token the caller is
# about to create), or, when fresh is false, makes the answer nil: no value can be current
# under a generation that is gone.
CURRENT_GENERATIONS = """
local function current_generations(first, fresh)
  local current, missing = {}, {}
  for i = first, #KEYS do
    local g = redis.call('GET', KEYS[i])
    if not g then
      if not fresh then
        return nil, missing
      end
      g = fresh
      missing[i] = true
    end
    current[#current + 1] = g
  end
  return table.concat(current, ','), missing
end
"""

# A Lua function the write scripts start with: creates a generation key that is missing (with
# token) or keeps an existing one alive for at least ttl ms past the value it guards.
KEEP_ALIVE = """
local function keep_alive(name, missing, token, ttl)
  if missing then
    redis.call('SET', name, token, 'PX', 2 * ttl)
  elseif redis.call('PTTL', name) < ttl then
    redis.call('PEXPIRE', name, 2 * ttl)
  end
end
"""

# KEYS[1]: value key, KEYS[2..]: generation keys of its scopes.
# ARGV[1]: the user's write epoch key, ARGV[2]: the prefix of its record generation keys
# (both empty for values that are not contexts).
# Returns the payload if the value exists and was written under the current generations (and
# its dependencies are current); otherwise deletes a stale value and returns false.
GET_SCRIPT = (
    CURRENT_HEADER
    + CURRENT_GENERATIONS
    + """
local v = redis.call('GET', KEYS[1])
if not v then
  return false
end
local generations = current_generations(2, false)
local payload = generations and current_payload(v, generations, ARGV[1], ARGV[2])
if not payload then
  redis.call('DEL', KEYS[1])
  return false
end
return payload
"""
)

# KEYS[1]: value key, KEYS[2..]: generation keys of its scopes.
# ARGV[1]: payload, ARGV[2]: ttl in ms, ARGV[3]: a fresh generation token used for any
# generation key that does not exist yet, ARGV[4]: the user's write epoch key for a context
# (empty otherwise): a context stored by Set depends on every record of its user.
# Stores the value under the current generations, then creates missing generation keys and
# keeps each alive for at least the value's ttl. The value is the first write, so a Redis out
# of memory refuses the script before it changed anything (Redis checks OOM only up to a
# script's first write). Returns 1.
SET_SCRIPT = (
    CURRENT_GENERATIONS
    + KEEP_ALIVE
    + """
local header, missing = current_generations(2, ARGV[3])
local epoch = false
if ARGV[4] ~= '' then
  epoch = redis.call('GET', ARGV[4])
  header = header .. '|e' .. (epoch or ('0-' .. ARGV[3]))
end
redis.call('SET', KEYS[1], header .. '\\n' .. ARGV[1], 'PX', ARGV[2])
local ttl = tonumber(ARGV[2])
if ARGV[4] ~= '' then
  keep_alive(ARGV[4], not epoch, '0-' .. ARGV[3], ttl)
end
for i = 2, #KEYS do
  keep_alive(KEYS[i], missing[i], ARGV[3], ttl)
end
return 1
"""
)

# KEYS[1]: value key, KEYS[2]: lease key, KEYS[3..]: generation keys.
# ARGV[1]: lease id, ARGV[2]: lease ttl in ms, ARGV[3]: a fresh generation token for
# generation keys that do not exist, ARGV[4]: their ttl in ms, ARGV[5]: the user's write epoch
# key and ARGV[6]: the prefix of its record generation keys for a context (both empty
# otherwise).
# Returns {1, payload} on a current hit (a stale value is deleted); {2} while another caller
# holds the lease; {3, generations, epoch} when this caller is granted the lease (missing
# generation and epoch keys are created so the lease can name them; epoch is empty for values
# that are not contexts).
LEASE_SCRIPT = (
    CURRENT_HEADER
    + CURRENT_GENERATIONS
    + KEEP_ALIVE
    + """
local generations, missing = current_generations(3, ARGV[3])
local v = redis.call('GET', KEYS[1])
if v then
  local payload = next(missing) == nil and current_payload(v, generations, ARGV[5], ARGV[6])
  if payload then
    return {1, payload}
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
)

# A Lua function the fill script starts with. True when no record of `ids` (comma-separated;
# empty: every record of the user) was invalidated since the lease saw the write epoch
# `leased` ("<n>-<incarnation>", see RECORDS_SCRIPT). Either the epoch did not move, or it
# moved within the same incarnation and each record's generation exists and was not set by an
# invalidation of this incarnation after n. A missing generation (expired, or never set) or a
# new incarnation could hide a write: then it answers false.
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
# ARGV[1]: lease id, ARGV[2]: generations recorded with the lease, ARGV[3]: payload, ARGV[4]:
# ttl in ms, ARGV[5]: the user's write epoch key and ARGV[6]: the prefix of its record
# generation keys for a context (both empty otherwise), ARGV[7]: the epoch recorded with the
# lease, ARGV[8]: a fresh token for record generation keys that do not exist, ARGV[9]: the ids
# of the records the context was computed from, comma-separated; empty: it depends on every
# record of the user (the epoch).
# Stores the value only if the generations are unchanged since the lease was granted and, for
# a context, none of its records was invalidated since (UNWRITTEN_SINCE): such a value may have
# been computed before that write (the value is the first write, so out of memory refuses it
# cleanly), and ends the lease if it is ours. The value records the current token of each
# record it names, creating the missing ones. Returns 1 if stored, else 0.
FILL_SCRIPT = (
    CURRENT_GENERATIONS
    + KEEP_ALIVE
    + UNWRITTEN_SINCE
    + """
local generations = current_generations(3, false)
local ours = redis.call('GET', KEYS[2]) == ARGV[1]
if generations ~= ARGV[2]
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
)

# KEYS[1]: the user's write epoch, KEYS[2..]: generation keys of the written records.
# ARGV[1]: a fresh token, ARGV[2]: ttl in ms of the keys it sets.
# n of the epoch "<n>-<incarnation>" counts the records invalidations of the user since the
# epoch key was (re)created with a fresh incarnation. Each invalidation sets the epoch to the
# next count and every written record's generation to the same value, so a fill can tell
# whether one of its records was written after its lease (UNWRITTEN_SINCE). Returns 1.
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

# More records than this in one invalidation drop all the user's contexts instead.
MAX_RECORDS = 10_000


def new_generation() -> str:
    return secrets.token_hex(8)


class Protocol:
    """The scripts above, registered once on the cache Redis. Each method is one round trip
    and raises what RedisNode.run raises (Unavailable, RedisError). On one Redis server the
    scripts of concurrent calls share a pipeline (autopipeline.py); a Redis Cluster runs
    each on its own (its pipelines run no scripts)."""

    def __init__(self, node: RedisNode) -> None:
        self.node = node
        register = node.client.register_script
        self._get = register(GET_SCRIPT)
        self._set = register(SET_SCRIPT)
        self._lease = register(LEASE_SCRIPT)
        self._fill = register(FILL_SCRIPT)
        self._records = register(RECORDS_SCRIPT)
        self._pipeline = None if isinstance(node.client, RedisCluster) else AutoPipeline(node)

    async def _eval(self, script, script_keys: list[str], args: list):
        if self._pipeline is not None:
            return await self._pipeline.eval(script, script_keys, args)
        return await self.node.run(lambda c: script(script_keys, args))

    async def read(self, entry: keys.CacheEntry) -> bytes | None:
        """The payload of a current value; a stale one is deleted and answers None."""
        return await self._eval(
            self._get, [entry.key, *entry.generations], [entry.epoch, entry.record_prefix]
        )

    async def read_many(self, entries: list[keys.CacheEntry]) -> list[bytes | None]:
        """read() of each entry, in one pipeline (not on Redis Cluster); raises the first
        error."""
        return list(await asyncio.gather(*(self.read(e) for e in entries)))

    async def store(self, entry: keys.CacheEntry, packed: bytes, ttl_ms: int) -> int:
        return await self._eval(
            self._set,
            [entry.key, *entry.generations],
            [packed, ttl_ms, new_generation(), entry.epoch],
        )

    async def lease(
        self, entry: keys.CacheEntry, lease_id: str, lease_ttl_ms: int, generation_ttl_ms: int
    ) -> list:
        """LEASE_SCRIPT's answer: {1, payload}, {2} or {3, generations, epoch}."""
        script_keys = [entry.key, keys.lease_key(entry.key), *entry.generations]
        args = [
            lease_id, lease_ttl_ms, new_generation(), generation_ttl_ms,
            entry.epoch, entry.record_prefix,
        ]  # fmt: skip
        return await self._eval(self._lease, script_keys, args)

    async def fill(
        self,
        entry: keys.CacheEntry,
        lease: tuple[str, str, str],
        packed: bytes,
        ttl_ms: int,
        dependencies: str,
    ) -> int:
        """lease: (id, generations, epoch) from the lease token; 1 if stored, 0 if discarded."""
        lease_id, generations, epoch = lease
        script_keys = [entry.key, keys.lease_key(entry.key), *entry.generations]
        args = [
            lease_id, generations, packed, ttl_ms, entry.epoch, entry.record_prefix, epoch,
            new_generation(), dependencies,
        ]  # fmt: skip
        return await self._eval(self._fill, script_keys, args)

    async def invalidate(self, generation: str) -> None:
        await self.node.run(lambda c: c.delete(generation))

    async def invalidate_records(self, names: list[str], ttl_ms: int) -> None:
        """names: records_keys() of one user."""
        args = [new_generation(), ttl_ms]
        await self.node.run(lambda c: self._records(names, args, client=c))


def records_keys(user_id: str, record_ids: Sequence[str]) -> list[str]:
    """RECORDS_SCRIPT's KEYS: the user's write epoch, then each record's generation once."""
    names = [keys.write_epoch(user_id)]
    return names + sorted({keys.record_generation(user_id, r) for r in record_ids})
