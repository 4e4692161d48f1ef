"""Links by hand: create, delete, feedback. Each is one transaction under the user's group
lock (discovery takes it too); the groups of the link's ends are recomputed, outbox rows name
what Neo4j must change, and the invalidation reaches both ends and the changed groups."""

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from kushim_graph.contexts import invalidate
from kushim_graph.contexts.invalidate import Invalidator
from kushim_graph.db import groups, links, outbox, records, semantic_links
from kushim_graph.errors import AlreadyExists, NotFound
from kushim_graph.writes import group_changes

MANUAL_SIGNALS = [{"name": "manual", "weight": 1.0, "detail": "linked by hand"}]


async def _remove(conn, user_id: str, link_id) -> invalidate.Owed:
    """Deletes a link and refreshes the groups of its ends; answers what it invalidates."""
    await groups.lock_user(conn, user_id)
    row = await links.delete(conn, user_id, link_id)
    if row is None:
        raise NotFound(f"link {link_id} not found")
    ends = [row["source_record_id"], row["target_record_id"]]
    touched = set()
    for group_id in {group for group, _ in (await groups.groups_of(conn, user_id, ends)).values()}:
        touched |= await group_changes.refresh(conn, user_id, group_id, split=False)
    await outbox.add_many(conn, user_id, {"link": [link_id], "group": touched})
    return await invalidate.links_changed(conn, user_id, ends, touched)


@dataclass
class LinkEdits:
    pool: asyncpg.Pool
    invalidator: Invalidator
    on_commit: Callable[[], None]

    async def _committed(self, owed: invalidate.Owed) -> None:
        self.on_commit()
        await self.invalidator.send(owed)

    async def create(self, user_id: str, a: str, b: str):
        """The new manual link's row; linking by hand lifts an "unrelated" verdict."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = {str(r["id"]): r for r in await records.get_many(conn, user_id, [a, b])}
            for record_id in (a, b):
                if record_id not in rows:
                    raise NotFound(f"record {record_id} not found")
            first, second = sorted(
                (rows[a], rows[b]), key=lambda r: (r["occurred_at"], str(r["id"]))
            )
            await groups.lock_user(conn, user_id)
            await semantic_links.unsuppress(conn, user_id, a, b)
            link_id = await links.insert_manual(
                conn, user_id, first["id"], second["id"], MANUAL_SIGNALS
            )
            if link_id is None:
                raise AlreadyExists("these records are already linked")
            touched = await group_changes.apply_links(conn, user_id, [(first["id"], second["id"])])
            await outbox.add_many(conn, user_id, {"link": [link_id], "group": touched})
            row = await links.get(conn, user_id, link_id)
            owed = await invalidate.links_changed(conn, user_id, [a, b], touched)
        await self._committed(owed)
        return row

    async def delete(self, user_id: str, link_id: str) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            owed = await _remove(conn, user_id, link_id)
        await self._committed(owed)

    async def feedback(self, user_id: str, link_id: str, feedback: str, comment: str):
        """The link's row with its feedback. Negative: the link is removed, and the pair kept
        from every discovery from now on."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await links.set_feedback(conn, user_id, link_id, feedback, comment):
                raise NotFound(f"link {link_id} not found")
            row = await links.get(conn, user_id, link_id)
            ends = [row["source_record_id"], row["target_record_id"]]
            if feedback == "negative":
                await semantic_links.suppress(conn, user_id, *ends)
                owed = await _remove(conn, user_id, link_id)
            else:
                # Contexts show a link's feedback; Neo4j does not hold it: no projection.
                owed = await invalidate.links_changed(conn, user_id, ends)
        if feedback == "negative":
            await self._committed(owed)
        else:
            await self.invalidator.send(owed)
        return row
