"""Graph's maintenance pass: re-runs discovery for records left pending past the lock TTL (a
crashed or skipped holder) and deletes webhook delivery claims past their retention."""

import asyncio
import logging

import asyncpg

from kushim_graph.db import deliveries
from kushim_graph.discovery.run import Discovery

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


class Sweeper:
    def __init__(self, pool: asyncpg.Pool, discovery: Discovery, lockcache, *,
                 interval_s: float, stale_after_s: float, batch: int = 100) -> None:
        self.pool = pool
        self.discovery = discovery
        self.lockcache = lockcache
        self.interval_s = interval_s
        self.stale_after_s = stale_after_s
        self.batch = batch

    async def sweep_once(self) -> int:
        """One pass; answers how many records had discovery re-run."""
        await self.expire_deliveries()
        async with self.pool.acquire() as conn:
            claimed = await conn.fetch(CLAIM, self.stale_after_s, self.batch)
        users = set()
        for row in claimed:
            outcome = await self.discovery.run(str(row["user_id"]), row["id"])
            users.add(str(row["user_id"]))
            if outcome.data_source_id is not None:
                await self.lockcache.invalidate_data_source(
                    str(row["user_id"]), str(outcome.data_source_id)
                )
        for user_id in sorted(users):
            await self.lockcache.invalidate_context_groups(user_id)
        if claimed:
            log.info("Sweeper re-ran discovery for %d pending record(s)", len(claimed))
        return len(claimed)

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
            await asyncio.sleep(self.interval_s)
