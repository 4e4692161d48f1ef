"""TTL caches under the key names of ARCHITECTURE.md: reads, writes, scope invalidation and
rate-limit counters, with Redis outages and refusals turned into answers.

When a stored value is still current, and what an invalidation drops, is the staleness
protocol (staleness.py). Large payloads are stored compressed (compression.py).
"""

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError, ResponseError

from kushim_lockcache import compression, keys, staleness
from kushim_lockcache.connection import RedisNode, Unavailable, is_oom
from kushim_lockcache.stats import Stats

log = logging.getLogger(__name__)

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
        self.protocol = staleness.Protocol(node) if node is not None else None

    @property
    def available(self) -> bool:
        """Redis is configured (it may still be down: calls then answer unavailable)."""
        return self.node is not None

    def missed(self, entry: keys.CacheEntry) -> None:
        self.stats.miss(entry.namespace)

    def ttl_ms(self, namespace: str, ttl_seconds: int) -> int:
        return (ttl_seconds if ttl_seconds > 0 else self.ttls[namespace]) * 1000

    async def get(self, entry: keys.CacheEntry) -> tuple[str, bytes]:
        if self.node is None:
            self.stats.miss(entry.namespace)
            return UNAVAILABLE, b""
        try:
            value = await self.protocol.read(entry)
        except (Unavailable, RedisError) as exc:
            self.read_failed(exc)
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
        try:
            values = await self.protocol.read_many(entries)
        except (Unavailable, RedisError) as exc:
            self.read_failed(exc)
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
        return await self.write(self.protocol.store(entry, stored, ttl_ms))

    async def write(self, command: Awaitable[int]) -> Stored:
        """Awaits a write; outages and refusals (out of memory) are answers, not errors."""
        try:
            result = await command
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

    async def invalidate(self, scope: str, user_id: str, data_source_id: str) -> bool:
        """Drops every cached value of the scope. False when Redis is unavailable or refused
        (e.g. READONLY from a master demoted by a failover)."""
        generation = keys.scope_generation(scope, user_id, data_source_id)
        if self.node is None:
            return False
        try:
            await self.protocol.invalidate(generation)
        except (Unavailable, RedisError):
            return False
        return True

    async def invalidate_records(self, user_id: str, record_ids: Sequence[str]) -> bool:
        """Drops the cached contexts of the user that contain one of the records (all of them
        when there are more than staleness.MAX_RECORDS). False when Redis is unavailable or
        refused."""
        if len(record_ids) > staleness.MAX_RECORDS:
            return await self.invalidate(keys.SCOPE_USER_CONTEXT_GROUPS, user_id, "")
        names = staleness.records_keys(user_id, record_ids)
        if self.node is None:
            return False
        try:
            # The new record generations outlive any context value that names them.
            await self.protocol.invalidate_records(names, 2 * self.ttl_ms(keys.CONTEXT_GROUP, 0))
        except (Unavailable, RedisError):
            return False
        return True

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

    def read_failed(self, exc: BaseException) -> None:
        if isinstance(exc, RedisError):
            self.refused(exc)
