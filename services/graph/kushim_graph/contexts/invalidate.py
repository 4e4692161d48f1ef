"""What a write invalidates in lockcache's caches: the one module of graph that invalidates.

One function per kind of write, called inside the write's transaction: it decides what the
change makes stale (reach.py names the cached contexts by the records they contain; platform
data goes by data source; a profile by user) and writes it to `cache_invalidations` in that
transaction, so an invalidation commits exactly when its change does. Once the transaction
committed, the writer hands the answer to `Invalidator.send`: the caller reads its own write,
and the rows lockcache acknowledged are deleted. What lockcache did not acknowledge (down,
unreachable, a failed call, or this process stopped in between) stays, and the relay
(`Invalidator.run`, in every replica) sends it again with backoff until it is acknowledged.
Invalidating twice is harmless: the relay's `FOR UPDATE SKIP LOCKED` keeps replicas from
sending one row together, and a fresh row is left to its writer for a moment first (the
migration's default `next_attempt_at`).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from kushim_graph.background import PG_ERRORS, BackgroundLoop
from kushim_graph.contexts import reach
from kushim_graph.db import invalidations
from kushim_graph.lockcache import LockCacheClient
from kushim_graph.metrics import CACHE_INVALIDATIONS_PENDING

log = logging.getLogger(__name__)

RECORDS = "records"  # the cached contexts containing one of the records
DATA_SOURCE = "data_source"  # the platform data of a data source
PROFILE = "profile"  # a user's profile


@dataclass(frozen=True)
class Owed:
    """Invalidations a transaction wrote: what to send once it committed, and their rows."""

    user_id: str
    requests: tuple[tuple[str, frozenset[str], str], ...] = ()  # (scope, records, source)
    row_ids: tuple[int, ...] = ()


NOTHING = Owed("")


async def _owe(conn: asyncpg.Connection, user_id: str, *, records: Iterable = (),
               data_sources: Iterable = (), profile: bool = False) -> Owed:
    requests = []
    records = frozenset(str(r) for r in records)
    if records:
        requests.append((RECORDS, records, ""))
    requests += [(DATA_SOURCE, frozenset(), str(s)) for s in sorted({str(s) for s in data_sources})]
    if profile:
        requests.append((PROFILE, frozenset(), ""))
    if not requests:
        return Owed(user_id)
    return Owed(user_id, tuple(requests), tuple(await invalidations.add(conn, user_id, requests)))


async def record_stored(conn: asyncpg.Connection, user_id: str, record_ids,
                        data_source_ids=()) -> Owed:
    """New or changed records: the contexts that show them and their data sources' data."""
    return await _owe(conn, user_id, records=record_ids, data_sources=data_source_ids)


async def record_deleted(conn: asyncpg.Connection, user_id: str, record_id,
                         data_source_id=None) -> Owed:
    """Called before the record is deleted: its contexts, its neighbours' (they show its
    links), its group members' (they show the group's size) and its data source's data."""
    return await _owe(
        conn, user_id, records=await reach.deletion_reached(conn, user_id, record_id),
        data_sources=[data_source_id] if data_source_id is not None else [],
    )


async def links_changed(conn: asyncpg.Connection, user_id: str, record_ids, group_ids=(),
                        data_source_ids=()) -> Owed:
    """Discovery, manual links, feedback: `record_ids` the discovered records and the links'
    endpoints, `group_ids` the groups the links changed (after the change), and the data
    sources of the discovered records (their discovery state shows in platform data)."""
    return await _owe(
        conn, user_id, records=await reach.records_reached(conn, user_id, record_ids, group_ids),
        data_sources=data_source_ids,
    )


async def group_changed(conn: asyncpg.Connection, user_id: str, group_ids,
                        members_before=()) -> Owed:
    """Group edits: the groups' members after the change and `members_before` (read before
    it: the members a removal, merge, split or deletion leaves elsewhere or in no group)."""
    return await _owe(
        conn, user_id,
        records=await reach.records_reached(conn, user_id, members_before, group_ids),
    )


async def profile_changed(conn: asyncpg.Connection, user_id: str) -> Owed:
    return await _owe(conn, user_id, profile=True)


async def data_source_changed(conn: asyncpg.Connection, user_id: str, data_source_id,
                              detached_records: Iterable = ()) -> Owed:
    """An updated or deleted data source: its platform data, and the contexts holding the
    records that named a deleted one (they name none now)."""
    return await _owe(conn, user_id, records=detached_records, data_sources=[data_source_id])


async def topology_changed(conn: asyncpg.Connection, reached: dict[str, set[str]]) -> list[Owed]:
    """After the projection applied a batch to Neo4j (reach.projected): per user, the
    contexts whose traversal changed."""
    return [await _owe(conn, user_id, records=ids) for user_id, ids in sorted(reached.items())]


def merged(owed: Iterable[Owed]) -> list[Owed]:
    """One request per scope and source for each user: a write's several transactions (a
    request's storing and discovery) are sent as one invalidation per cache."""
    by_user: dict[str, dict] = {}
    rows: dict[str, list[int]] = {}
    for one in owed:
        if not one.requests:
            continue
        requests = by_user.setdefault(one.user_id, {})
        for scope, records, source in one.requests:
            requests[(scope, source)] = requests.get((scope, source), frozenset()) | records
        rows.setdefault(one.user_id, []).extend(one.row_ids)
    return [
        Owed(user, tuple((scope, records, source)
                         for (scope, source), records in sorted(requests.items())),
             tuple(rows[user]))
        for user, requests in by_user.items()
    ]


class Invalidator(BackgroundLoop):
    batch = 200  # rows per pass
    max_row_backoff_s = 60.0  # between attempts of a row lockcache did not acknowledge

    def __init__(self, pool: asyncpg.Pool, lockcache: LockCacheClient) -> None:
        # A pass a second while nothing is due.
        super().__init__(idle_s=1.0, max_backoff_s=5.0)
        self.pool = pool
        self.lockcache = lockcache
        self._failing = False

    async def _deliver(self, user_id: str, scope: str, records, source: str) -> bool:
        if scope == RECORDS:
            return await self.lockcache.invalidate_records(user_id, records)
        if scope == DATA_SOURCE:
            return await self.lockcache.invalidate_data_source(user_id, source)
        return await self.lockcache.invalidate_profile(user_id)

    async def send(self, *owed: Owed | Iterable[Owed]) -> None:
        """After the commit: every invalidation now; the rows of those acknowledged go.
        Never raises: what is not acknowledged or not deleted is the relay's."""
        flat = [o for item in owed for o in ([item] if isinstance(item, Owed) else item)]
        done: list[int] = []
        for one in merged(flat):
            acked = [
                await self._deliver(one.user_id, scope, records, source)
                for scope, records, source in one.requests
            ]
            if all(acked):
                done.extend(one.row_ids)
        if not done:
            return
        try:
            async with self.pool.acquire() as conn:
                await invalidations.done(conn, done)
        except PG_ERRORS as exc:
            log.warning("Acknowledged cache invalidations left for the relay: %s", exc)

    async def relay_once(self) -> int:
        """Sends the due rows, deleting those acknowledged and putting the others off with
        backoff; answers how many were acknowledged."""
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                rows = await invalidations.due(conn, self.batch)
                acked, failed = [], []
                for row in rows:
                    # After one refusal the rest wait too: the rows stay locked meanwhile.
                    if not failed and await self._deliver(
                        str(row["user_id"]), row["scope"], row["record_ids"],
                        row["data_source_id"],
                    ):
                        acked.append(row["id"])
                    else:
                        failed.append(row["id"])
                await invalidations.done(conn, acked)
                await invalidations.retry_later(conn, failed, self.max_row_backoff_s)
            CACHE_INVALIDATIONS_PENDING.set(await invalidations.count(conn))
        if bool(failed) != self._failing:  # logged once per change
            self._failing = bool(failed)
            log.log(logging.WARNING if failed else logging.INFO, "Cache invalidations %s",
                    "not acknowledged: kept, retried with backoff" if failed
                    else "acknowledged again: the relay caught up")
        return len(acked)

    async def step(self) -> bool:
        return await self.relay_once() >= self.batch

    def failed(self, exc: BaseException) -> None:
        log.warning("Invalidation relay: PostgreSQL error: %s", exc)
