"""Graph's maintenance pass: discovery for the records a request handed over (what its deadline
left pending), then for records left pending past the lock TTL (a crashed or skipped holder),
each user's through the batched path; and deletion of webhook delivery claims past their
retention.

Handed-over records are only a head start: they are pending in PostgreSQL, so if this process
stops first, a pass of any instance finds them once they are stale."""

import asyncio
import contextlib
import logging
from collections import defaultdict

import asyncpg

from kushim_graph.db import deliveries
from kushim_graph.writes.discover import Discovery

log = logging.getLogger(__name__)

# Senders retry a failed delivery for a few days at most; a claim is kept a week. A pass
# deletes one bounded batch, so a backlog is worked off in short transactions.
DELIVERY_RETENTION_S = 7 * 24 * 3600.0
DELIVERY_EXPIRY_BATCH = 1000

# Claims stale pending records (across users: a maintenance pass over a partial index) and
# pushes their request time forward, so a record that keeps failing is retried, not spun on.
CLAIM = """
update records r set discovery_requested_at = now()
  from (select id from records
         where discovery_state = 'pending'
           and discovery_requested_at < now() - make_interval(secs => $1)
         order by discovery_requested_at
         limit $2
         for update skip locked) stale
 where r.id = stale.id
returning r.user_id, r.id
"""
# Handed-over records kept in memory at most; past it a record waits for a stale pass.
MAX_HANDED = 100_000
# Of the records a request handed over, those still pending: a pass over stale records may
# have discovered some meanwhile.
STILL_PENDING = """
select id from records
 where user_id = $1 and id = any($2::uuid[]) and discovery_state = 'pending'
"""


class Sweeper:
    def __init__(self, pool: asyncpg.Pool, discovery: Discovery, lockcache, *,
                 interval_s: float, stale_after_s: float, batch: int = 512) -> None:
        self.pool = pool
        self.discovery = discovery
        self.lockcache = lockcache
        self.interval_s = interval_s
        self.stale_after_s = stale_after_s
        self.batch = batch
        self._handed: dict[str, list] = defaultdict(list)
        self._wake = asyncio.Event()

    def hand_over(self, user_id: str, record_ids) -> None:
        """Records whose discovery a request left pending: run it at the next pass, now."""
        room = MAX_HANDED - sum(len(ids) for ids in self._handed.values())
        self._handed[user_id].extend(list(record_ids)[: max(0, room)])
        self._wake.set()

    async def sweep_once(self) -> int:
        """One pass; answers how many records had discovery run."""
        handed, self._handed = self._handed, defaultdict(list)
        ran = 0
        for user_id, record_ids in handed.items():
            async with self.pool.acquire() as conn:
                pending = {row["id"] for row in await conn.fetch(
                    STILL_PENDING, user_id, record_ids
                )}
            ran += await self._discover(user_id, [r for r in record_ids if r in pending])
        await self.expire_deliveries()
        async with self.pool.acquire() as conn:
            claimed = await conn.fetch(CLAIM, self.stale_after_s, self.batch)
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
        sources = {str(o.data_source_id) for o in outcomes.values() if o.data_source_id}
        for source_id in sorted(sources):
            await self.lockcache.invalidate_data_source(user_id, source_id)
        await self.lockcache.invalidate_context_groups(user_id)
        return len(outcomes)

    async def expire_deliveries(self) -> int:
        async with self.pool.acquire() as conn:
            expired = await deliveries.expire(conn, DELIVERY_RETENTION_S, DELIVERY_EXPIRY_BATCH)
        if expired:
            log.info("Sweeper deleted %d expired webhook delivery claim(s)", expired)
        return expired

    async def run(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
                log.warning("Sweeper: PostgreSQL error: %s", exc)
            if not self._handed:
                await self._next_pass()

    async def _next_pass(self) -> None:
        """After the interval, or at once when a request hands records over."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.interval_s)
