"""Graph's maintenance pass: discovery for the records a request handed over (what its deadline
left pending), then for records left pending past the lock TTL (a crashed or skipped holder),
each user's through the batched path; and deletion of webhook delivery claims past their
retention.

Handed-over records are only a head start: they are pending in PostgreSQL, so if this process
stops first, a pass of any instance finds them once they are stale."""

import logging
import uuid
from collections import defaultdict

import asyncpg

from kushim_graph.background import BackgroundLoop
from kushim_graph.contexts.invalidate import Invalidator
from kushim_graph.db import deliveries, records
from kushim_graph.writes.discover import Discovery

log = logging.getLogger(__name__)

# Senders retry a failed delivery for a few days at most; a claim is kept a week. A pass
# deletes one bounded batch, so a backlog is worked off in short transactions.
DELIVERY_RETENTION_S = 7 * 24 * 3600.0
DELIVERY_EXPIRY_BATCH = 1000

# Handed-over records kept in memory at most; past it a record waits for a stale pass.
MAX_HANDED = 100_000


class Sweeper(BackgroundLoop):
    """A pass after the interval, or at once when a request hands records over."""

    def __init__(self, pool: asyncpg.Pool, discovery: Discovery, invalidator: Invalidator, *,
                 interval_s: float, stale_after_s: float, batch: int = 512) -> None:
        # A failed pass is retried with backoff up to the interval.
        super().__init__(idle_s=interval_s, max_backoff_s=interval_s)
        self.pool = pool
        self.discovery = discovery
        self.invalidator = invalidator
        self.stale_after_s = stale_after_s
        self.batch = batch
        self._handed: dict[str, list] = defaultdict(list)

    def hand_over(self, user_id: str, record_ids) -> None:
        """Records whose discovery a request left pending: run it at the next pass, now."""
        room = MAX_HANDED - sum(len(ids) for ids in self._handed.values())
        # As UUIDs, the type PostgreSQL answers with: a pass keeps those still pending.
        ids = [r if isinstance(r, uuid.UUID) else uuid.UUID(str(r)) for r in record_ids]
        self._handed[user_id].extend(ids[: max(0, room)])
        self.wake()

    async def sweep_once(self) -> int:
        """One pass; answers how many records had discovery run."""
        handed, self._handed = self._handed, defaultdict(list)
        ran = 0
        for user_id, record_ids in handed.items():
            async with self.pool.acquire() as conn:
                pending = await records.still_pending(conn, user_id, record_ids)
            ran += await self._discover(user_id, [r for r in record_ids if r in pending])
        await self.expire_deliveries()
        async with self.pool.acquire() as conn:
            claimed = await records.claim_stale_pending(conn, self.stale_after_s, self.batch)
        by_user = defaultdict(list)
        for row in claimed:
            by_user[str(row["user_id"])].append(row["id"])
        for user_id, record_ids in by_user.items():
            await self._discover(user_id, record_ids)
        if claimed:
            log.info("Sweeper re-ran discovery for %d pending record(s)", len(claimed))
        return ran + len(claimed)

    async def _discover(self, user_id: str, record_ids) -> int:
        if not record_ids:
            return 0
        outcomes = await self.discovery.run_batch(user_id, record_ids)
        await self.invalidator.send({outcome.owed for outcome in outcomes.values()})
        return len(outcomes)

    async def expire_deliveries(self) -> int:
        async with self.pool.acquire() as conn:
            expired = await deliveries.expire(conn, DELIVERY_RETENTION_S, DELIVERY_EXPIRY_BATCH)
        if expired:
            log.info("Sweeper deleted %d expired webhook delivery claim(s)", expired)
        return expired

    async def step(self) -> bool:
        await self.sweep_once()
        return bool(self._handed)

    def failed(self, exc: BaseException) -> None:
        log.warning("Sweeper: PostgreSQL error: %s", exc)
