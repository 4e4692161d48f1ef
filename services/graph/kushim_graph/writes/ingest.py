"""Ingesting records: store them (store.py), discover their relationships within the caller's
deadline, hand what the deadline left to the sweeper, invalidate what both changed."""

from dataclasses import dataclass, field

import asyncpg

from kushim_graph.contexts.invalidate import Invalidator, Owed
from kushim_graph.db import users
from kushim_graph.errors import NotFound
from kushim_graph.writes import store
from kushim_graph.writes.coalesce import Coalescer
from kushim_graph.writes.sweeper import Sweeper


@dataclass
class Ingested:
    """Per request item, what storing it gave (store.Outcome); per record whose content
    changed, its discovery's outcome (absent: left pending, discovered right after)."""

    stored: list
    discovered: dict = field(default_factory=dict)


class Ingestion:
    def __init__(self, pool: asyncpg.Pool, discovery: Coalescer, sweeper: Sweeper,
                 invalidator: Invalidator, *, on_commit, max_records: int = 0) -> None:
        self.pool = pool
        self.max_records = max_records  # per user; 0: no limit (quota.py)
        self.discovery = discovery
        self.sweeper = sweeper
        self.invalidator = invalidator
        self.on_commit = on_commit

    async def ingest(self, user_id: str, items, delivery: store.Delivery | None,
                     until: float | None) -> Ingested | None:
        """None: the delivery was stored before."""
        owed: list[Owed] = []
        async with self.pool.acquire() as conn:
            if not await users.exists(conn, user_id):
                raise NotFound(f"user {user_id} not found")
            if delivery is None:
                outcomes = await store.store_batch(
                    conn, user_id, items, owed, self.max_records
                )
            else:
                outcomes = await store.store_delivery(
                    conn, user_id, delivery, items, owed, self.max_records
                )
        if outcomes is None:
            return None
        changed = [o.row["id"] for o in outcomes if isinstance(o, store.Stored) and o.changed]
        if not changed:
            await self.invalidator.send(owed)
            return Ingested(outcomes)
        self.on_commit()
        # A record sent twice in one batch is discovered once.
        latest = list(dict.fromkeys(changed))
        discovered = await self.discovery.run_batch(user_id, latest, until=until)
        left = [record_id for record_id in latest if record_id not in discovered]
        if left:
            self.sweeper.hand_over(user_id, left)
        await self.invalidator.send(owed, {outcome.owed for outcome in discovered.values()})
        return Ingested(outcomes, discovered)
