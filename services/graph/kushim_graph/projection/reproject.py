"""Rebuilds the Neo4j projection from PostgreSQL, for one user or for everyone."""

import logging

import asyncpg

from kushim_graph.db import outbox
from kushim_graph.db.neo4j_store import Neo4jStore
from kushim_graph.projection.worker import read_changes

log = logging.getLogger(__name__)

BATCH = 1000
_USER = "($1::uuid is null or user_id = $1)"
RECORD_IDS = f"select user_id, id from records where {_USER} order by id"
LINK_IDS = f"select user_id, id from links where {_USER} order by id"
GROUP_IDS = f"select user_id, id from context_groups where {_USER} order by id"
SESSION_LOCK = "select pg_advisory_lock($1)"
SESSION_UNLOCK = "select pg_advisory_unlock($1)"


async def reproject(pool: asyncpg.Pool, store: Neo4jStore, user_id: str | None) -> dict:
    """Wipes and rebuilds; the outbox rows it covers are dropped. Answers the counts."""
    counts = {"records": 0, "links": 0, "groups": 0}
    async with pool.acquire() as conn:
        # Holding the outbox lock keeps the worker from applying older state meanwhile.
        await conn.execute(SESSION_LOCK, outbox.LOCK_KEY)
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=False):
                up_to = await outbox.max_id(conn, user_id)
                await store.delete_user(user_id)
                for entity, query in (
                    ("record", RECORD_IDS), ("link", LINK_IDS), ("group", GROUP_IDS)
                ):
                    pairs = [(r["user_id"], r["id"]) for r in await conn.fetch(query, user_id)]
                    for start in range(0, len(pairs), BATCH):
                        chunk = {entity: set(pairs[start:start + BATCH])}
                        await store.apply(await read_changes(conn, chunk))
                    counts[f"{entity}s"] = len(pairs)
                await outbox.done_up_to(conn, up_to, user_id)
        finally:
            await conn.execute(SESSION_UNLOCK, outbox.LOCK_KEY)
    log.info("Reprojected %s: %s", user_id or "all users", counts)
    return counts
