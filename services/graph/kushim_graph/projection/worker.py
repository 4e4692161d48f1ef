"""Applies the outbox to Neo4j in the background, with backoff while Neo4j is down.

A batch is read in one REPEATABLE READ snapshot: the outbox rows and the current state of the
entities they name. Neo4j is brought in line with that state (MERGE, so applying twice changes
nothing) and the rows are deleted in the same transaction. One worker of all replicas applies
at a time (an advisory transaction lock), so Neo4j sees a single writer.
"""

import logging
from dataclasses import dataclass, field

import asyncpg
from kushim_common.statelog import StateLog

from kushim_graph.background import PG_ERRORS, BackgroundLoop
from kushim_graph.contexts import invalidate, reach
from kushim_graph.db import outbox, projection
from kushim_graph.db.neo4j_store import NEO4J_DOWN, Neo4jStore
from kushim_graph.metrics import NEO4J_UP, OUTBOX_APPLIED

log = logging.getLogger(__name__)

@dataclass
class Changes:
    records: list = field(default_factory=list)
    deleted_records: list = field(default_factory=list)
    links: list = field(default_factory=list)
    deleted_links: list = field(default_factory=list)
    groups: list = field(default_factory=list)
    deleted_groups: list = field(default_factory=list)


def _record(row) -> dict:
    return {
        "id": str(row["id"]), "user_id": str(row["user_id"]), "title": row["title"],
        "source_platform": row["source_platform"], "artifact_type": row["artifact_type"],
        "external_id": row["external_id"], "url": row["url"], "timestamp": row["occurred_at"],
    }


def _link(row) -> dict:
    return {
        "id": str(row["id"]), "user_id": str(row["user_id"]),
        "source": str(row["source_record_id"]), "target": str(row["target_record_id"]),
        "confidence": row["confidence"], "link_type": row["link_type"], "method": row["method"],
    }


def _group(row) -> dict:
    return {
        "id": str(row["id"]), "user_id": str(row["user_id"]), "name": row["name"],
        "coherence": row["coherence"], "topics": list(row["topics"]),
        "members": sorted(str(m) for m in row["members"]),
    }


async def read_changes(conn: asyncpg.Connection, named: dict[str, set]) -> Changes:
    """Current state of the named (user_id, id) pairs per entity; absent ones are deletions."""
    changes = Changes()
    for entity, convert, present, deleted in (
        ("record", _record, changes.records, changes.deleted_records),
        ("link", _link, changes.links, changes.deleted_links),
        ("group", _group, changes.groups, changes.deleted_groups),
    ):
        pairs = named.get(entity, set())
        if not pairs:
            continue
        rows = await projection.state_of(conn, entity, pairs)
        found = {row["id"] for row in rows}
        present.extend(convert(row) for row in rows)
        deleted.extend(str(i) for _, i in pairs if i not in found)
    return changes


class OutboxWorker(BackgroundLoop):
    retried = (*NEO4J_DOWN, *PG_ERRORS)

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: Neo4jStore,
        *,
        batch: int,
        on_applied=None,  # awaited with the invalidations a batch owes, once committed
        idle_poll_s: float = 1.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        super().__init__(idle_s=idle_poll_s, max_backoff_s=max_backoff_s)
        self.pool = pool
        self.store = store
        self.batch = batch
        self.on_applied = on_applied
        self._neo4j = StateLog(
            log, up="Neo4j projection connected; applying the outbox",
            down="Neo4j unavailable (%s); the outbox keeps changes until it returns",
            initially=None,
        )
        self.applied_total = 0

    def _neo4j_state(self, up: bool, *args: object) -> None:
        if self._neo4j.report(up, *args):
            NEO4J_UP.set(1 if up else 0)

    async def step(self) -> bool:
        return await self.apply_once() >= self.batch

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, NEO4J_DOWN):
            self._neo4j_state(False, exc)
        else:
            log.warning("Outbox worker: PostgreSQL error: %s", exc)

    async def apply_once(self) -> int:
        """Applies one batch; answers how many outbox rows it applied."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            if not await outbox.try_lock(conn):
                return 0
            rows = await outbox.pending(conn, self.batch)
            if not rows:
                return 0
            named: dict[str, set] = {}
            owners: dict[str, str] = {}
            for row in rows:
                named.setdefault(row["entity"], set()).add((row["user_id"], row["entity_id"]))
                owners[str(row["entity_id"])] = str(row["user_id"])
            changes = await read_changes(conn, named)
            held = await reach.before(self.store, changes)
            await self.store.apply(changes)
            owed = await invalidate.topology_changed(
                conn, reach.projected(changes, held, owners)
            )
            await outbox.done(conn, [row["id"] for row in rows])
        self._neo4j_state(True)
        self.applied_total += len(rows)
        OUTBOX_APPLIED.inc(len(rows))
        if self.on_applied is not None:
            await self.on_applied(owed)
        return len(rows)
