"""Relationship discovery for one record, under the lockcache lock and a fencing token.

Acquire `relationship_discovery:{recordId}`. HELD: another instance is doing it; the record
stays pending (the sweeper retries it later). UNAVAILABLE (Redis down or lockcache
unreachable): proceed without it. Then, in one transaction under the record's advisory lock:
find candidates, score them, apply the fencing rule (discovery/fencing.py, one rule for both
paths), write links, group changes and outbox rows, and mark the record done.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg

from kushim_graph import groups as group_changes
from kushim_graph.db import groups, links, outbox, records
from kushim_graph.discovery import candidates, fencing
from kushim_graph.discovery.derive import features
from kushim_graph.discovery.scoring import link_type, score
from kushim_graph.discovery.signals import (
    KEYWORD_SIMILARITY_WEIGHT,
    SHARED_PEOPLE_WEIGHT,
    TEMPORAL_PROXIMITY_WEIGHT,
)
from kushim_graph.discovery.tfidf import cosine
from kushim_graph.errors import StaleFencingToken
from kushim_graph.lockcache import ACQUIRED, HELD, LockCacheClient
from kushim_graph.metrics import DISCOVERY_RUNS, LINKS_WRITTEN

log = logging.getLogger(__name__)

LOAD_RECORD = """
select id, user_id, occurred_at, author, participants, refs, identity_keys, metadata_keys,
       term_freqs, title, checksum, fencing_token, data_source_id
  from records where user_id = $1 and id = $2
"""
NEARBY_MAX_SCORE = SHARED_PEOPLE_WEIGHT + KEYWORD_SIMILARITY_WEIGHT + TEMPORAL_PROXIMITY_WEIGHT

DONE = "done"
SKIPPED = "skipped"  # lock held elsewhere
STALE = "stale"  # fenced out
GONE = "gone"  # deleted meanwhile
FAILED = "failed"  # rolled back by a lock conflict; the sweeper retries


@dataclass
class Outcome:
    state: str
    links: list = field(default_factory=list)
    data_source_id: object = None
    groups: set = field(default_factory=set)  # ids of the groups it changed


class Discovery:
    def __init__(
        self,
        pool: asyncpg.Pool,
        lockcache: LockCacheClient,
        *,
        threshold: float,
        max_candidates: int,
        lock_ttl_ms: int,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.pool = pool
        self.lockcache = lockcache
        self.threshold = threshold
        self.max_candidates = max_candidates
        self.lock_ttl_ms = lock_ttl_ms
        self.on_commit = on_commit
        # Only the reference index finds records that mention (or are mentioned by) this one,
        # share a URL or share labelled metadata. A record found only by time shares at most
        # people, keywords and proximity: below the threshold it cannot link, so the time
        # window is searched only when the threshold lets such a candidate link.
        self.search_nearby = threshold <= NEARBY_MAX_SCORE

    async def run(self, user_id: str, record_id) -> Outcome:
        resource = f"relationship_discovery:{record_id}"
        async with self.pool.acquire() as conn:
            floor = await fencing.read_floor(conn, user_id, record_id)
        if floor is None:
            DISCOVERY_RUNS.labels(GONE).inc()
            return Outcome(GONE)
        lock = await self.lockcache.acquire(resource, self.lock_ttl_ms, floor=floor.token)
        if lock.outcome == HELD:
            DISCOVERY_RUNS.labels(SKIPPED).inc()
            return Outcome(SKIPPED)
        token = lock.fencing_token if lock.outcome == ACQUIRED else None
        until = floor.accept_until(lock.fencing_ttl_ms) if lock.outcome == ACQUIRED else None
        try:
            async with self.pool.acquire() as conn:
                outcome = await self.discover(
                    conn, user_id, record_id, token, accept_until=until
                )
        except StaleFencingToken as exc:
            log.warning("Discovery result discarded: %s", exc)
            outcome = Outcome(STALE)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as exc:
            # The record stays pending; the sweeper runs its discovery again.
            log.warning("Discovery for %s rolled back, retried later: %s", record_id, exc)
            outcome = Outcome(FAILED)
        finally:
            if lock.outcome == ACQUIRED:
                await self.lockcache.release(resource, lock.token)
        DISCOVERY_RUNS.labels(outcome.state).inc()
        LINKS_WRITTEN.inc(len(outcome.links))
        return outcome

    async def discover(
        self, conn, user_id: str, record_id, token: int | None, *, accept_until=None
    ) -> Outcome:
        """One transaction; `token` None means no lockcache lock (the fallback path)."""
        started = time.monotonic()
        async with conn.transaction():
            await fencing.lock_record(conn, record_id)
            row = await conn.fetchrow(LOAD_RECORD, user_id, record_id)
            if row is None:
                return Outcome(GONE)
            found, already = await candidates.find(
                conn, user_id, record_id, row["occurred_at"], self.max_candidates,
                nearby=self.search_nearby,
            )
            rows = await candidates.load(conn, user_id, found)
            linked, below = await self._score(conn, user_id, row, rows)
            await groups.lock_user(conn, user_id)
            await fencing.advance(
                conn, user_id, record_id, row["checksum"], token, accept_until
            )
            link_ids = await links.upsert_deterministic(conn, user_id, linked)
            dropped = [other for other in below if other in already]
            removed = await links.delete_unsupported(conn, user_id, record_id, dropped)
            pairs = [(s, t) for s, t, *_ in linked]
            touched = await group_changes.apply_links(conn, user_id, pairs)
            await outbox.add_many(
                conn, user_id, {"link": [*link_ids, *removed], "group": touched}
            )
            made = await links.get_many(conn, user_id, link_ids) if link_ids else []
        self.on_commit()
        log.debug(
            "Discovery for %s: %d candidates, %d links, %.1f ms",
            record_id, len(rows), len(made), (time.monotonic() - started) * 1000,
        )
        made = sorted(made, key=lambda r: (-r["confidence"], str(r["id"])))
        return Outcome(DONE, made, row["data_source_id"], touched)

    async def _score(self, conn, user_id: str, row, rows):
        """(links to write, ids of candidates below the threshold).

        The TF-IDF cosine is the costly signal; it is computed only for candidates whose
        other signals leave it able to decide, or to explain, a link.
        """
        mine = features(row)
        scored = []
        for other in rows:
            theirs = features(other)
            confidence, signals = score(mine, theirs, keyword_cosine=0.0)
            needs_cosine = confidence + KEYWORD_SIMILARITY_WEIGHT >= self.threshold
            scored.append((other, theirs, needs_cosine, confidence, signals))
        similarity: dict = {}
        wanted = [other["id"] for other, _, needs, *_ in scored if needs]
        if wanted:
            tfs = await candidates.term_freqs(conn, user_id, wanted)
            terms = set(row["term_freqs"])
            for tf in tfs.values():
                terms.update(tf)
            df, n_docs = await records.document_frequencies(conn, user_id, sorted(terms))
            for other_id, tf in tfs.items():
                similarity[other_id] = cosine(row["term_freqs"], tf, df, n_docs)
        linked, below = [], []
        for other, theirs, needs_cosine, confidence, signals in scored:
            if needs_cosine:
                confidence, signals = score(
                    mine, theirs, keyword_cosine=similarity.get(other["id"], 0.0)
                )
            if confidence < self.threshold:
                below.append(other["id"])
                continue
            first, second = sorted(
                (row, other), key=lambda r: (r["occurred_at"], str(r["id"]))
            )
            explanation = [
                {"name": s.name, "weight": s.weight, "detail": s.detail} for s in signals
            ]
            linked.append(
                (first["id"], second["id"], confidence, link_type(confidence), explanation)
            )
        return linked, below
