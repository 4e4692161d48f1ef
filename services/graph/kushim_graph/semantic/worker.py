"""Embeds new and changed records in batches and writes their semantic links.

A loop like the outbox worker's: it reads records whose embedding is missing or stale (their
checksum changed), embeds them in a thread (onnxruntime releases the GIL), then in one
transaction stores the vectors, scores each record against all of its user's records and
brings the record's semantic links in line, with the group changes and the outbox rows for
Neo4j. Two replicas may embed the same record twice (wasted work, not wrong data: the writes
are upserts, serialized per user by the group lock, and the links' pair index keeps one link).
"""

import asyncio
import logging
import uuid

import asyncpg
import numpy as np

from kushim_graph.background import BackgroundLoop
from kushim_graph.contexts import invalidate
from kushim_graph.db import embeddings, groups, outbox, semantic_links
from kushim_graph.discovery.references import standard_like_keys
from kushim_graph.discovery.scoring import link_type
from kushim_graph.metrics import SEMANTIC_EMBEDDED, SEMANTIC_LINKS_WRITTEN
from kushim_graph.semantic.conventions import KEY_REFERENCE, Text, quoted_titles
from kushim_graph.semantic.model import DIMENSIONS, Embedder
from kushim_graph.semantic.scoring import UserCorpus
from kushim_graph.semantic.text import embedding_text
from kushim_graph.writes import group_changes

log = logging.getLogger(__name__)


def _corpus(rows) -> UserCorpus:
    texts = [
        Text(
            str(row["id"]), row["title"], float(row["occurred_at"]),
            f"{row['source_platform']}/{row['artifact_type']}",
            tuple((rule, value) for rule, value in row["quotes"]),
            tuple(k for k in row["identity_keys"] if k.startswith("key:")),
        )
        for row in rows
    ]
    vectors = np.frombuffer(b"".join(row["vector"] for row in rows), dtype="<f4")
    return UserCorpus(texts, vectors.reshape(len(rows), DIMENSIONS))


def _named(title: str, body: str) -> list[tuple[str, str]]:
    """What a record's text names by convention, kept with its embedding."""
    keys = standard_like_keys(f"{title}\n{body}")
    return [*quoted_titles(title, body), *((KEY_REFERENCE, key) for key in keys)]


class SemanticWorker(BackgroundLoop):
    def __init__(
        self,
        pool: asyncpg.Pool,
        embedder: Embedder,
        *,
        batch: int,
        on_commit=None,  # awaited after links changed, with the invalidations they owe
        idle_poll_s: float = 1.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        super().__init__(idle_s=idle_poll_s, max_backoff_s=max_backoff_s)
        self.pool = pool
        self.embedder = embedder
        self.batch = batch
        self.on_commit = on_commit

    async def step(self) -> bool:
        return await self.run_once() >= self.batch

    def failed(self, exc: BaseException) -> None:
        log.warning("Semantic worker: PostgreSQL error: %s", exc)

    async def run_once(self) -> int:
        """Embeds and links one batch; returns how many records it embedded."""
        async with self.pool.acquire() as conn:
            rows = await embeddings.pending(conn, self.batch)
            if not rows:
                return 0
            # No lock is held while the model runs: a record changed meanwhile keeps a
            # checksum that no longer matches and is embedded again by the next batch.
            vectors = await asyncio.to_thread(
                self.embedder.embed, [embedding_text(r["title"], r["body"]) for r in rows]
            )
            by_user: dict = {}
            for row in rows:
                by_user.setdefault(row["user_id"], []).append(str(row["id"]))
            async with conn.transaction():
                # The users' group locks first, as discovery and the link RPCs take them
                # before any row; sorted, so two workers never wait on each other.
                for user_id in sorted(by_user):
                    await groups.lock_user(conn, user_id)
                await embeddings.upsert(conn, [
                    (row["id"], row["user_id"], row["checksum"], vector.astype("<f4").tobytes(),
                     _named(row["title"], row["body"]))
                    for row, vector in zip(rows, vectors, strict=True)
                ])
                owed = [
                    await self._link(conn, user_id, by_user[user_id]) for user_id in sorted(by_user)
                ]
        SEMANTIC_EMBEDDED.inc(len(rows))
        owed = [one for one in owed if one is not None]
        if owed and self.on_commit is not None:
            await self.on_commit(owed)
        return len(rows)

    async def _link(self, conn: asyncpg.Connection, user_id, record_ids: list[str]
                    ) -> invalidate.Owed | None:
        """None when no link changed."""
        corpus = _corpus(await embeddings.of_user(conn, user_id))
        written: list = []
        removed: list = []
        pairs: list = []
        for record_id in record_ids:
            proposals = corpus.propose(record_id)
            others = [p.target if p.source == record_id else p.source for p in proposals]
            removed += await semantic_links.delete_stale(conn, user_id, record_id, others)
            made = await semantic_links.upsert(conn, user_id, [
                (p.source, p.target, p.confidence, link_type(p.confidence), p.signals)
                for p in proposals
            ])
            written += made
            if made:
                pairs += [(uuid.UUID(p.source), uuid.UUID(p.target)) for p in proposals]
        if not (written or removed):
            return None
        # A removed semantic link leaves groups as they are, as a deterministic link that falls
        # below the threshold does; people split groups by hand.
        touched = await group_changes.apply_links(conn, user_id, pairs) if pairs else set()
        await outbox.add_many(conn, user_id, {"link": written + removed, "group": touched})
        SEMANTIC_LINKS_WRITTEN.inc(len(written))
        # The records (a removed link's contexts hold them) and the far ends of new links.
        ends = [str(end) for pair in pairs for end in pair]
        return await invalidate.links_changed(conn, str(user_id), [*record_ids, *ends], touched)
