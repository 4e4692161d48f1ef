"""TTL caches under the key names of ARCHITECTURE.md.

A stored value is "<generations>\\n<payload>": the generation tokens of the
scopes the key belongs to (see invalidation.py) at the time it was written.
A read serves the payload only while those generations are unchanged; a stale
entry is deleted by the read that finds it. Large payloads are stored compressed
(compression.py).
"""

import asyncio
import logging
import secrets
from dataclasses import dataclass

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError, ResponseError

from kushim_lockcache import compression, keys
from kushim_lockcache.connection import RedisNode, Unavailable, is_oom
from kushim_lockcache.stats import Stats

log = logging.getLogger(__name__)

# A Lua function, not a script: the read scripts start with it. A stored value's header is
# "<generations>" (values that are not contexts) or "<generations>|<dependencies>" (contexts),
# dependencies being "e<token>" (every record of the user: served while the user's write
# epoch is <token>) or "r<id>=<token>;..." (served while each record's generation key
# <prefix><id> still holds <token>). epoch and prefix are empty for values that are not
# contexts. The keys of the records are built here from the value, so the read stays one round
# trip. On Redis Cluster the keys it builds share the value key's hash tag ({userId}, see
# keys.py), so they live in the value's slot, on the node the script runs on.
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
# Returns the payload if the value exists and was written under the current
# generations (and its dependencies are current); otherwise deletes a stale
# value and returns false.
GET_SCRIPT = CURRENT_HEADER + """
local v = redis.call('GET', KEYS[1])
if not v then
  return false
end
local current = {}
for i = 2, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if not g then
    redis.call('DEL', KEYS[1])
    return false
  end
  current[#current + 1] = g
end
local nl = string.find(v, '\\n', 1, true)
if not nl or not current_header(string.sub(v, 1, nl - 1), table.concat(current, ','),
                                 ARGV[1], ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return false
end
return string.sub(v, nl + 1)
"""

# KEYS[1]: value key, KEYS[2..]: generation keys of its scopes.
# ARGV[1]: payload, ARGV[2]: ttl in ms, ARGV[3]: a fresh generation token used
# for any generation key that does not exist yet, ARGV[4]: the user's write
# epoch key for a context (empty otherwise): a context stored by Set depends on
# every record of its user.
# Stores the value under the current generations, then creates missing
# generation keys and keeps each alive for at least the value's ttl. The value
# is the first write, so a Redis out of memory refuses the script before it
# changed anything (Redis checks OOM only up to a script's first write).
# Returns 1.
SET_SCRIPT = KEEP_ALIVE + """
local current = {}
local missing = {}
for i = 2, #KEYS do
  local g = redis.call('GET', KEYS[i])
  if not g then
    g = ARGV[3]
    missing[i] = true
  end
  current[#current + 1] = g
end
local header = table.concat(current, ',')
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

# KEYS[1]: counter. ARGV[1]: window in ms.
# Fixed window: INCR, and start the window's expiry on the first hit (or if
# the key somehow has none). Returns {count, ms until the window resets}.
HIT, MISS, UNAVAILABLE = "hit", "miss", "unavailable"

INFO_FIELDS = (
    "total_commands_processed",
    "instantaneous_ops_per_sec",
    "used_memory_human",
    "connected_clients",
    "keyspace_hits",
    "keyspace_misses",
)


@dataclass(frozen=True)
class Stored:
    stored: bool
    message: str = ""


def new_generation() -> str:
    return secrets.token_hex(8)


class Cache:
    def __init__(
        self,
        node: RedisNode | None,
        stats: Stats,
        ttls: dict[str, int],
        max_value_bytes: int,
        compress_min_bytes: int = 0,
    ) -> None:
        self.node = node
        self.stats = stats
        self.ttls = ttls  # seconds per namespace
        self.max_value_bytes = max_value_bytes
        self.compress_min_bytes = compress_min_bytes
        if node is not None:
            self._get = node.client.register_script(GET_SCRIPT)
            self._set = node.client.register_script(SET_SCRIPT)

    def ttl_ms(self, namespace: str, ttl_seconds: int) -> int:
        return (ttl_seconds if ttl_seconds > 0 else self.ttls[namespace]) * 1000

    async def get(self, entry: keys.CacheEntry) -> tuple[str, bytes]:
        if self.node is None:
            self.stats.miss(entry.namespace)
            return UNAVAILABLE, b""
        try:
            value = await self.node.run(
                lambda c: self._get(
                    [entry.key, *entry.generations], [entry.epoch, entry.record_prefix]
                )
            )
        except (Unavailable, RedisError) as exc:
            self._read_failed(exc)
            self.stats.miss(entry.namespace)
            return UNAVAILABLE, b""
        return self.served(entry, value)

    def served(self, entry: keys.CacheEntry, stored: bytes | None) -> tuple[str, bytes]:
        """(HIT, value) for a stored payload, counted; MISS for none or a corrupt one."""
        if stored is not None:
            try:
                value = compression.unpack(stored, self.max_value_bytes)
            except compression.CorruptValue as exc:
                log.warning("Cache value %s unreadable, answered as a miss: %s", entry.key, exc)
            else:
                self.stats.hit(entry.namespace)
                return HIT, value
        self.stats.miss(entry.namespace)
        return MISS, b""

    def packed(self, value: bytes) -> bytes:
        return compression.pack(value, self.compress_min_bytes)

    async def get_many(self, entries: list[keys.CacheEntry]) -> list[tuple[str, bytes]]:
        if self.node is None or not entries:
            return [await self.get(e) for e in entries]
        if isinstance(self.node.client, RedisCluster):
            # Its pipelines run no scripts; the entries may be on different nodes anyway.
            return list(await asyncio.gather(*(self.get(e) for e in entries)))

        async def pipelined(client):
            async with client.pipeline(transaction=False) as pipe:
                for e in entries:
                    await self._get(
                        [e.key, *e.generations], [e.epoch, e.record_prefix], client=pipe
                    )
                return await pipe.execute()

        try:
            values = await self.node.run(pipelined)
        except (Unavailable, RedisError) as exc:
            self._read_failed(exc)
            for e in entries:
                self.stats.miss(e.namespace)
            return [(UNAVAILABLE, b"")] * len(entries)
        return [self.served(e, value) for e, value in zip(entries, values, strict=True)]

    def too_large(self, value: bytes) -> Stored | None:
        if len(value) > self.max_value_bytes:
            return Stored(
                False, f"value too large: {len(value)} bytes > limit {self.max_value_bytes}"
            )
        return None

    async def set(self, entry: keys.CacheEntry, value: bytes, ttl_seconds: int) -> Stored:
        refused = self.too_large(value)
        if refused:
            return refused
        if self.node is None:
            return Stored(False, "unavailable: Redis not configured")
        ttl_ms = self.ttl_ms(entry.namespace, ttl_seconds)
        stored = self.packed(value)
        return await self.write(
            lambda c: self._set(
                [entry.key, *entry.generations], [stored, ttl_ms, new_generation(), entry.epoch]
            )
        )

    async def write(self, command) -> Stored:
        """Runs a write; outages and refusals (out of memory) are answers, not errors."""
        try:
            result = await self.node.run(command)
        except Unavailable as exc:
            return Stored(False, f"unavailable: {exc}")
        except RedisError as exc:
            return Stored(False, self.refused(exc))
        if result:
            self.accepted()
        return Stored(bool(result), "" if result else "discarded")

    def refused(self, exc: RedisError) -> str:
        """Counts a command Redis refused (out of memory on a full noeviction
        server, READONLY in a failover) and says why; logged per state change."""
        if is_oom(exc):
            self.stats.oom()
        return self.node.refusing(exc)

    def accepted(self) -> None:
        """A write went through: Redis takes writes (again)."""
        self.node.accepting()

    async def delete(self, entry: keys.CacheEntry) -> bool:
        return await self._delete(entry.key)

    async def _delete(self, key: str) -> bool:
        if self.node is None:
            return False
        try:
            return bool(await self.node.run(lambda c: c.delete(key)))
        except Unavailable:
            return False
        except RedisError as exc:
            self.refused(exc)
            return False

    async def info(self) -> dict[str, str]:
        """INFO_FIELDS as Redis reports them. redis-py parses INFO into numbers;
        these fields are integers or plain text, which str() gives back unchanged."""
        if self.node is None:
            return {}
        try:
            info = await self.node.run(lambda c: c.info())
        except (Unavailable, ResponseError):
            return {}
        return {name: str(info[name]) for name in INFO_FIELDS if name in info}

    def _read_failed(self, exc: BaseException) -> None:
        if isinstance(exc, RedisError):
            self.refused(exc)
