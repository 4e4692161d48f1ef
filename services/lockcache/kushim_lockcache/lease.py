"""GetOrLease / Fill: read-through with stampede protection.

On a miss exactly one caller gets a fill lease (a short-lived lease key set inside the lease
script); concurrent callers wait for its fill, polling Redis (and woken at once when the fill
happens in this process). The lease token carries the generations (and, for a context, the
write epoch) current when it was granted; Fill stores only if the staleness protocol
(staleness.py) says nothing the value depends on was invalidated since.
"""

import asyncio
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from redis.exceptions import RedisError

from kushim_lockcache import deadline, keys
from kushim_lockcache.cache import MISS, UNAVAILABLE, Cache, Stored
from kushim_lockcache.connection import Unavailable

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

    async def get_or_lease(
        self, entry: keys.CacheEntry, wait_ms: int, lease_ttl_ms: int
    ) -> LeaseAnswer:
        if not self.cache.available:
            self.cache.missed(entry)
            return LeaseAnswer(UNAVAILABLE)
        wait_ms = min(wait_ms or DEFAULT_WAIT_MS, MAX_WAIT_MS)
        lease_ttl_ms = lease_ttl_ms or DEFAULT_LEASE_TTL_MS
        left = deadline.remaining()
        if left is not None:
            wait_ms = max(0, min(wait_ms, int(left * 1000)))  # waiters answer in time too
        until = time.monotonic() + wait_ms / 1000
        generation_ttl_ms = max(self.cache.ttl_ms(entry.namespace, 0), lease_ttl_ms)
        lease_id = secrets.token_hex(12)
        poll = POLL_FIRST_S
        while True:
            try:
                answer = await self.cache.protocol.lease(
                    entry, lease_id, lease_ttl_ms, generation_ttl_ms
                )
            except (Unavailable, RedisError) as exc:
                self.cache.read_failed(exc)
                self.cache.missed(entry)
                return LeaseAnswer(UNAVAILABLE)
            kind = int(answer[0])
            if kind == 1:
                status, value = self.cache.served(entry, answer[1])
                return LeaseAnswer(status, value)
            if kind == 3:
                self.cache.accepted()  # the lease key was written
                self.cache.missed(entry)
                token = f"{lease_id}.{answer[1].decode()}"
                if entry.epoch:
                    token += f".{answer[2].decode()}"
                return LeaseAnswer(MISS, lease_token=token)
            remaining = until - time.monotonic()
            if remaining <= 0:
                self.cache.missed(entry)
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
        lease = parse_lease_token(entry, lease_token)
        deps = dependency_list(entry, dependencies)
        refused = self.cache.too_large(value)
        if refused:
            return refused
        if not self.cache.available:
            return Stored(False, "unavailable: Redis not configured")
        ttl_ms = self.cache.ttl_ms(entry.namespace, ttl_seconds)
        packed = self.cache.packed(value)
        stored = await self.cache.write(
            self.cache.protocol.fill(entry, lease, packed, ttl_ms, deps)
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
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            pass
        finally:
            self._waiting[key] -= 1
            if self._waiting[key] == 0:
                del self._waiting[key]
                if self._filled.get(key) is event:
                    del self._filled[key]
