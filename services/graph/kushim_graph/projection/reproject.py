"""Rebuilds the Neo4j projection from PostgreSQL, for one user or for everyone."""

import logging

import asyncpg

from kushim_graph.db import outbox, projection
from kushim_graph.db.neo4j_store import Neo4jStore
from kushim_graph.projection.worker import read_changes

log = logging.getLogger(__name__)

BATCH = 1000


async def reproject(pool: asyncpg.Pool, store: Neo4jStore, user_id: str | None) -> dict:
    """Wipes and rebuilds; the outbox rows it covers are dropped. Answers the counts."""
    counts = {"records": 0, "links": 0, "groups": 0}
    async with pool.acquire() as conn:
        # Holding the outbox lock keeps the worker from applying older state meanwhile.
        await outbox.lock_session(conn)
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=False):
                up_to = await outbox.max_id(conn, user_id)
                await store.delete_user(user_id)
                for entity in ("record", "link", "group"):
                    pairs = await projection.ids_of(conn, entity, user_id)
                    for start in range(0, len(pairs), BATCH):
                        chunk = {entity: set(pairs[start:start + BATCH])}
                        await store.apply(await read_changes(conn, chunk))
                    counts[f"{entity}s"] = len(pairs)
                await outbox.done_up_to(conn, up_to, user_id)
        finally:
            await outbox.unlock_session(conn)
    log.info("Reprojected %s: %s", user_id or "all users", counts)
    return counts
