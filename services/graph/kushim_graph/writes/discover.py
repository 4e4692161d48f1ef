"""Relationship discovery for a batch of one user's records, under lockcache locks and fencing
tokens.

The records' `relationship_discovery:{recordId}` locks are taken in groups (locking.py): records
another instance holds stay pending (the sweeper retries them later); a group lockcache cannot
lock (Redis down or lockcache unreachable) proceeds without fencing tokens. The records' stored
fencing tokens, read first, are the floors of the Acquire. Then, per group and in one
transaction under every record's PostgreSQL advisory lock (both paths): candidates for all of
its records in set-based queries, scoring (a pair two records of the group find is written
once), the fencing rule of fencing.py for every record (a refused record's result is
discarded, the others go on), links, one group recomputation, outbox rows, and the records
marked done. A record discovered alone is a batch of one: the same path.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from kushim_graph.contexts import invalidate
from kushim_graph.db import candidates, groups, links, outbox, records
from kushim_graph.discovery.signals import (
    KEYWORD_SIMILARITY_WEIGHT,
    SHARED_PEOPLE_WEIGHT,
    TEMPORAL_PROXIMITY_WEIGHT,
)
from kushim_graph.errors import StaleFencingToken
from kushim_graph.lockcache import LockCacheClient
from kushim_graph.metrics import DISCOVERY_RUNS, LINKS_WRITTEN
from kushim_graph.writes import fencing, group_changes
from kushim_graph.writes.batch_score import score_batch
from kushim_graph.writes.locking import MAX_RESOURCES, BatchLocks, Grant

log = logging.getLogger(__name__)

NEARBY_MAX_SCORE = SHARED_PEOPLE_WEIGHT + KEYWORD_SIMILARITY_WEIGHT + TEMPORAL_PROXIMITY_WEIGHT

DONE = "done"
SKIPPED = "skipped"  # lock held elsewhere
STALE = "stale"  # fenced out
GONE = "gone"  # deleted meanwhile
FAILED = "failed"  # rolled back by a lock conflict; the sweeper retries


# Records discovered in one transaction when no deadline bounds the work (a backlog, what a
# request handed over): bigger groups recompute the context groups they touch less often.
BACKLOG_GROUP = 4 * MAX_RESOURCES
# A first guess of how long one group of records takes, before any was measured.
FIRST_GROUP_ESTIMATE_S = 0.5


@dataclass
class Outcome:
    state: str
    links: list = field(default_factory=list)
    data_source_id: object = None
    groups: set = field(default_factory=set)  # ids of the groups it changed
    stored_token: int = 0  # STALE: the fencing token stored for the record
    owed: invalidate.Owed = invalidate.NOTHING  # DONE: its transaction's invalidations
    expired: bool = False  # STALE: refused for its age, not for being older


class Discovery:
    def __init__(
        self,
        pool: asyncpg.Pool,
        lockcache: LockCacheClient,
        *,
        threshold: float,
        max_candidates: int,
        lock_ttl_ms: int,
        lock_attempts: int = 3,
        lock_retry_delay_ms: int = 200,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.pool = pool
        self.locks = BatchLocks(
            lockcache, ttl_ms=lock_ttl_ms, attempts=lock_attempts,
            retry_delay_ms=lock_retry_delay_ms,
        )
        self.threshold = threshold
        self.max_candidates = max_candidates
        self.on_commit = on_commit
        # Only the reference index finds records that mention (or are mentioned by) this one,
        # share a URL or share labelled metadata. A record found only by time shares at most
        # people, keywords and proximity: below the threshold it cannot link, so the time
        # window is searched only when the threshold lets such a candidate link.
        self.search_nearby = threshold <= NEARBY_MAX_SCORE
        self.group_estimate_s = FIRST_GROUP_ESTIMATE_S

    async def run(self, user_id: str, record_id) -> Outcome:
        return (await self.run_batch(user_id, [record_id]))[record_id]

    async def run_batch(self, user_id: str, record_ids, *, until: float | None = None) -> dict:
        """Outcome per record id. With `until` (a time.monotonic() instant) a group is begun
        only if it is expected to end by then; the records not begun are left out of the
        answer and stay pending."""
        ids = list(dict.fromkeys(record_ids))
        outcomes: dict = {}
        size = MAX_RESOURCES if until is not None else BACKLOG_GROUP
        late = False
        for first in range(0, len(ids), size):
            if late or until is not None and time.monotonic() + self.group_estimate_s > until:
                break
            started = time.monotonic()
            chunk = ids[first : first + size]
            async with self.pool.acquire() as conn:
                floors = await fencing.read_floors(conn, user_id, chunk)
            plan = await self.locks.take(chunk, {r: floor.token for r, floor in floors.items()})
            outcomes.update({record_id: Outcome(SKIPPED) for record_id in plan.held})
            if plan.grants and until is None:
                outcomes.update(await self._discover_grants(user_id, plan.grants, floors))
            elif plan.grants:
                try:
                    # A group can still wait (the user's group lock) past what was expected:
                    # rolled back at the deadline, its records stay pending.
                    async with asyncio.timeout(max(0.0, until - time.monotonic())):
                        outcomes.update(
                            await self._discover_grants(user_id, plan.grants, floors)
                        )
                except TimeoutError:
                    log.info("Discovery of %d record(s) reached the deadline: left pending",
                             sum(len(grant.record_ids) for grant in plan.grants))
                    late = True
            if until is not None:
                # The slower of the last group and a decaying memory of slower ones.
                self.group_estimate_s = max(
                    time.monotonic() - started, self.group_estimate_s * 0.8
                )
        for outcome in outcomes.values():
            DISCOVERY_RUNS.labels(outcome.state).inc()
            LINKS_WRITTEN.inc(len(outcome.links))
        return outcomes

    async def _discover_grants(self, user_id: str, grants: list[Grant], floors: dict) -> dict:
        """The records of every grant in one transaction, then every lock released. A
        token is accepted until half its counter's TTL after its floor was read."""
        tokens = {
            record_id: grant.fencing.get(record_id)
            for grant in grants for record_id in grant.record_ids
        }
        limits = {
            record_id: floors[record_id].accept_until(grant.fencing_ttl_ms)
            for grant in grants if grant.token
            for record_id in grant.record_ids if record_id in floors
        }
        try:
            async with self.pool.acquire() as conn:
                outcomes = await self.discover_batch(conn, user_id, tokens, limits)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as exc:
            # The records stay pending; the sweeper runs their discovery again.
            log.warning("Discovery for %d record(s) rolled back, retried later: %s",
                        len(tokens), exc)
            outcomes = {record_id: Outcome(FAILED) for record_id in tokens}
        finally:
            for grant in grants:
                await self.locks.release(grant)
        for record_id, outcome in outcomes.items():
            if outcome.state == STALE:
                log.warning("Discovery result discarded: %s", StaleFencingToken(
                    record_id, tokens[record_id], outcome.stored_token, expired=outcome.expired
                ))
        return outcomes

    async def discover(
        self, conn, user_id: str, record_id, token: int | None, *, accept_until=None
    ) -> Outcome:
        """One record; `token` None means no lockcache lock (the fallback path).
        StaleFencingToken when fenced out."""
        outcome = (
            await self.discover_batch(conn, user_id, {record_id: token}, {record_id: accept_until})
        )[record_id]
        if outcome.state == STALE:
            raise StaleFencingToken(
                record_id, token, outcome.stored_token, expired=outcome.expired
            )
        return outcome

    async def discover_batch(
        self, conn, user_id: str, tokens: dict, accept_until: dict | None = None
    ) -> dict:
        """One transaction for the records of `tokens` (record id -> fencing token, None
        when not locked by lockcache), under every record's advisory lock. `accept_until`:
        record id -> the time its token stops being accepted (fencing.py)."""
        started = time.monotonic()
        async with conn.transaction():
            await fencing.lock_records(conn, list(tokens))
            rows = {
                row["id"]: row for row in await records.for_discovery(conn, user_id, tokens)
            }
            outcomes = {record_id: Outcome(GONE) for record_id in tokens if record_id not in rows}
            if not rows:
                return outcomes
            found = await candidates.find_many(
                conn, user_id, {record_id: row["occurred_at"] for record_id, row in rows.items()},
                self.max_candidates, nearby=self.search_nearby,
            )
            wanted = {other for ids, _ in found.values() for other in ids}
            others = {row["id"]: row for row in await candidates.load(conn, user_id, wanted)}
            scored = await score_batch(conn, user_id, rows, found, others, self.threshold)
            await groups.lock_user(conn, user_id)
            refused = await fencing.advance(
                conn, user_id, {r: row["checksum"] for r, row in rows.items()}, tokens,
                accept_until,
            )
            live = [record_id for record_id in rows if record_id not in refused]
            pairs: dict = {}
            removed = []
            for record_id in live:
                linked, below = scored[record_id]
                for link in linked:
                    pairs.setdefault((link[0], link[1]), link)  # one row for a pair found twice
                already = found[record_id][1]
                dropped = [other for other in below if other in already]
                removed += await links.delete_unsupported(conn, user_id, record_id, dropped)
            link_ids = await links.upsert_deterministic(conn, user_id, list(pairs.values()))
            touched = await group_changes.apply_links(conn, user_id, list(pairs))
            await outbox.add_many(
                conn, user_id, {"link": [*link_ids, *removed], "group": touched}
            )
            made = await links.get_many(conn, user_id, link_ids) if link_ids else []
            # The records (their state, their links) and the far ends of their links: a
            # context showing a removed link holds the record, one showing a new link may not.
            owed = await invalidate.links_changed(
                conn, user_id,
                [*live, *(end for link in made
                          for end in (link["source_record_id"], link["target_record_id"]))],
                touched,
                [rows[r]["data_source_id"] for r in live if rows[r]["data_source_id"]],
            )
        self.on_commit()
        log.debug(
            "Discovery for %d record(s): %d candidates, %d links, %.1f ms",
            len(rows), len(others), len(made), (time.monotonic() - started) * 1000,
        )
        made = sorted(made, key=lambda r: (-r["confidence"], str(r["id"])))
        for record_id in live:
            own = [
                link for link in made
                if record_id in (link["source_record_id"], link["target_record_id"])
            ]
            outcomes[record_id] = Outcome(
                DONE, own, rows[record_id]["data_source_id"], touched, owed=owed
            )
        for record_id, refusal in refused.items():
            outcomes[record_id] = Outcome(STALE, stored_token=refusal.stored,
                                          expired=refusal.expired)
        return outcomes
