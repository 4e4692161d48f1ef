"""Group edits by hand: create, rename, delete, add or remove a member, merge, split.

Every edit is one transaction under the user's group lock (discovery takes it too): the edited
groups are locked and their members read first, the change is made, the groups' figures are
recomputed (group_changes.py), outbox rows name the changed groups, and the invalidation
reaches their members before and after (a removal, merge, split or deletion leaves records
elsewhere or in no group). `read` is called in the transaction with the changed groups, for
an answer consistent with the edit.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from kushim_graph.contexts import invalidate, reach
from kushim_graph.contexts.invalidate import Invalidator
from kushim_graph.db import groups, outbox, records
from kushim_graph.errors import FailedPrecondition, NotFound
from kushim_graph.writes import group_changes

Read = Callable[[asyncpg.Connection, list], Awaitable]


async def _free_records(conn, user_id: str, record_ids, *, into=None) -> list:
    """The records that may join a group: present, and in no other group."""
    found = {str(f) for f in await records.existing(conn, user_id, record_ids)}
    for record_id in record_ids:
        if record_id not in found:
            raise NotFound(f"record {record_id} not found")
    grouped = await groups.groups_of(conn, user_id, record_ids)
    for record_id, (group_id, _) in grouped.items():
        if str(group_id) != str(into):
            raise FailedPrecondition(f"record {record_id} is already in group {group_id}")
    return [r for r in record_ids if r not in {str(k) for k in grouped}]


@dataclass
class GroupEdits:
    pool: asyncpg.Pool
    invalidator: Invalidator
    on_commit: Callable[[], None]

    async def _edit(self, user_id: str, edited: list, change, read: Read | None):
        """change(conn) -> the ids of the groups it changed (the edited ones still present
        and those it made); answers read(conn, changed)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await groups.lock_user(conn, user_id)
            for group_id in edited:
                if not await groups.exists_for_update(conn, user_id, group_id):
                    raise NotFound(f"context group {group_id} not found")
            before = await reach.records_reached(conn, user_id, (), edited)
            changed = list(await change(conn))
            await outbox.add(conn, user_id, "group", list(dict.fromkeys([*edited, *changed])))
            owed = await invalidate.group_changed(conn, user_id, changed, before)
            answer = await read(conn, changed) if read is not None else None
        self.on_commit()
        await self.invalidator.send(owed)
        return answer

    async def create(self, user_id: str, name: str, record_ids, read: Read):
        async def change(conn):
            free = await _free_records(conn, user_id, record_ids)
            group_id = await groups.insert(conn, user_id, name)
            await groups.add_members(conn, user_id, group_id, free)
            await group_changes.refresh(conn, user_id, group_id, split=False)
            return [group_id]

        return await self._edit(user_id, [], change, read)

    async def rename(self, user_id: str, group_id, name: str, read: Read):
        async def change(conn):
            await groups.rename(conn, user_id, group_id, name)
            return [group_id]

        return await self._edit(user_id, [group_id], change, read)

    async def delete(self, user_id: str, group_id) -> None:
        async def change(conn):
            await groups.delete(conn, user_id, group_id)
            return []

        await self._edit(user_id, [group_id], change, None)

    async def add_member(self, user_id: str, group_id, record_id, read: Read):
        async def change(conn):
            free = await _free_records(conn, user_id, [record_id], into=group_id)
            await groups.add_members(conn, user_id, group_id, free)
            await group_changes.refresh(conn, user_id, group_id, split=False)
            return [group_id]

        return await self._edit(user_id, [group_id], change, read)

    async def remove_member(self, user_id: str, group_id, record_id, read: Read):
        async def change(conn):
            if not await groups.remove_members(conn, user_id, group_id, [record_id]):
                raise NotFound(f"record {record_id} is not in context group {group_id}")
            await group_changes.refresh(conn, user_id, group_id, split=False)
            return [group_id]

        return await self._edit(user_id, [group_id], change, read)

    async def merge(self, user_id: str, target, source, read: Read):
        async def change(conn):
            await groups.move_members(conn, user_id, source, target)
            await groups.delete(conn, user_id, source)
            await group_changes.refresh(conn, user_id, target, split=False)
            return [target]

        return await self._edit(user_id, [target, source], change, read)

    async def split(self, user_id: str, group_id, read: Read):
        async def change(conn):
            return await group_changes.split(conn, user_id, group_id)

        return await self._edit(user_id, [group_id], change, read)
