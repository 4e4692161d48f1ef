"""A near cache: hot cache entries in process memory, kept correct by lockcache's
invalidation stream (invalidation_watch.py).

Bounded by entries and bytes (least recently used go first) and by age: an entry is never
served more than `max_age_s` after it was read from lockcache, which bounds staleness even
for an invalidation whose event was lost without a GAP (its PUBLISH failed).

Usable only while the stream is SYNCED: a GAP, a broken or silent stream empties it and
reads bypass it until the next SYNCED.

The race of a read from lockcache in flight while an invalidation arrives: the reader takes
`begin()` (the invalidation sequence) before it calls lockcache, and `put` stores the answer
only if no invalidation touching the entry's group, and no flush, came after that. A value
read before an invalidation is therefore never stored after it, whichever arrives first.
Groups are (namespace, user): an invalidation drops every entry of the user in the namespace
it concerns, more than lockcache drops (RECORDS names records, DATA_SOURCE one data source),
never less.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from kushim.lockcache.v1 import lockcache_pb2 as pb

Event = pb.InvalidationEvent

# The namespace each scope's entries live in.
SCOPE_NAMESPACES = {
    pb.USER_CONTEXT_GROUPS: pb.CONTEXT_GROUP,
    pb.RECORDS: pb.CONTEXT_GROUP,
    pb.USER_PROFILE_SCOPE: pb.USER_PROFILE,
    pb.USER_PLATFORM_DATA: pb.PLATFORM_DATA,
    pb.DATA_SOURCE: pb.PLATFORM_DATA,
}
# Past this many groups remembered, the memory of which group was invalidated when is
# replaced by one flush of the reads in flight.
MAX_TOUCHED_GROUPS = 10_000

HIT, MISS, BYPASS, FLUSH = "hit", "miss", "bypass", "flush"

Identity = tuple[int, str, str, int, str, str]
Group = tuple[int, str]


def identity(key: pb.CacheKey) -> Identity:
    return (
        key.namespace, key.user_id, key.record_id, key.depth, key.platform, key.data_source_id
    )


@dataclass
class NearCacheStats:
    hits: int = 0
    misses: int = 0
    bypassed: int = 0  # reads while the stream was not SYNCED
    flushes: int = 0
    refused: int = 0  # answers not stored: an invalidation came while they were read
    invalidations: int = 0  # events and own writes applied


@dataclass
class _Entry:
    value: bytes
    stored_at: float


@dataclass
class NearCache:
    max_entries: int = 10_000
    max_bytes: int = 64 * 1024 * 1024
    max_age_s: float = 2.0
    clock: Callable[[], float] = time.monotonic
    # Hears "hit", "miss", "bypass" and "flush" (metrics).
    on_count: Callable[[str], None] = lambda outcome: None
    stats: NearCacheStats = field(default_factory=NearCacheStats)

    def __post_init__(self) -> None:
        if self.max_entries < 1 or self.max_bytes < 1 or self.max_age_s <= 0:
            raise ValueError("a near cache needs room for an entry and a positive max age")
        self._entries: OrderedDict[Identity, _Entry] = OrderedDict()
        self._groups: dict[Group, set[Identity]] = {}
        self._bytes = 0
        self._seq = 0  # moves on with every invalidation and flush
        self._floor = 0  # reads begun before the last flush store nothing
        self._touched: dict[Group, int] = {}  # group -> seq of its last invalidation
        self.usable = False
        self.state = "not synced yet"

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    # ------------------------------------------------------------ reads

    def get(self, key: pb.CacheKey) -> bytes | None:
        if not self.usable:
            self._count(BYPASS)
            return None
        found = self._entries.get(identity(key))
        if found is None or self.clock() - found.stored_at > self.max_age_s:
            if found is not None:
                self._remove(identity(key))
            self._count(MISS)
            return None
        self._entries.move_to_end(identity(key))
        self._count(HIT)
        return found.value

    def begin(self) -> int:
        """Take before reading from lockcache; pass to `put`."""
        return self._seq

    def put(self, key: pb.CacheKey, value: bytes, begun: int) -> bool:
        """Stores what lockcache answered for a read begun at `begun`, unless an
        invalidation of its group or a flush came since (or the stream is not SYNCED)."""
        group = (key.namespace, key.user_id)
        if (
            not self.usable
            or begun < self._floor
            or self._touched.get(group, -1) > begun
            or len(value) > self.max_bytes
        ):
            self.stats.refused += 1
            return False
        name = identity(key)
        self._remove(name)
        self._entries[name] = _Entry(value, self.clock())
        self._groups.setdefault(group, set()).add(name)
        self._bytes += len(value)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._remove(next(iter(self._entries)))
        return True

    # ------------------------------------------------------------ invalidations

    def apply(self, event: pb.InvalidationEvent) -> None:
        """One event of the stream."""
        if event.kind == Event.SYNCED:
            self.flush("synced")
            self.usable = True
        elif event.kind == Event.GAP:
            self.broken(event.reason or "gap")
        elif event.kind == Event.KEY:
            self.drop_key(event.key)
        elif event.kind == Event.SCOPE:
            self.drop_scope(event.scope)

    def drop_key(self, key: pb.CacheKey) -> None:
        """A write of one entry (Set, Delete), ours or seen on the stream."""
        self._touch((key.namespace, key.user_id))
        self._remove(identity(key))

    def drop_scope(self, scope: pb.InvalidateCacheRequest) -> None:
        """An Invalidate, ours or seen on the stream."""
        namespace = SCOPE_NAMESPACES.get(scope.scope)
        if namespace is None:
            self.flush(f"unknown scope {scope.scope}")
            return
        group = (namespace, scope.user_id)
        self._touch(group)
        for name in list(self._groups.get(group, ())):
            self._remove(name)

    def broken(self, reason: str) -> None:
        """The stream broke or went silent: empty, and bypassed until SYNCED."""
        self.usable = False
        self.flush(reason)

    def flush(self, reason: str) -> None:
        self._entries.clear()
        self._groups.clear()
        self._touched.clear()
        self._bytes = 0
        self._seq += 1
        self._floor = self._seq
        self.state = reason
        self.stats.flushes += 1
        self.on_count(FLUSH)

    # ------------------------------------------------------------ internals

    def _touch(self, group: Group) -> None:
        self.stats.invalidations += 1
        self._seq += 1
        if len(self._touched) >= MAX_TOUCHED_GROUPS:
            self._touched.clear()
            self._floor = self._seq
        self._touched[group] = self._seq

    def _remove(self, name: Identity) -> None:
        found = self._entries.pop(name, None)
        if found is None:
            return
        self._bytes -= len(found.value)
        group = (name[0], name[1])
        members = self._groups.get(group)
        if members is not None:
            members.discard(name)
            if not members:
                del self._groups[group]

    def _count(self, outcome: str) -> None:
        if outcome == HIT:
            self.stats.hits += 1
        elif outcome == MISS:
            self.stats.misses += 1
        else:
            self.stats.bypassed += 1
        self.on_count(outcome)
