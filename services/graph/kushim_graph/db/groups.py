"""Context groups and their members (a record belongs to at most one group)."""

import asyncpg

COLUMNS = """
g.id, g.name, g.topics, g.coherence, g.created_at, g.updated_at,
(select count(*) from group_members m
  where m.user_id = g.user_id and m.group_id = g.id)::int as member_count
"""

INSERT = "insert into context_groups (user_id, name) values ($1, $2) returning id"
GET = f"select {COLUMNS} from context_groups g where g.user_id = $1 and g.id = $2"
GET_MANY = f"select {COLUMNS} from context_groups g where g.user_id = $1 and g.id = any($2::uuid[])"
LIST = f"""
select {COLUMNS} from context_groups g where g.user_id = $1
 order by g.updated_at desc, g.id limit $2 offset $3
"""
COUNT = "select count(*) from context_groups where user_id = $1"
EXISTS_FOR_UPDATE = "select id from context_groups where user_id = $1 and id = $2 for update"
TOUCH = "update context_groups set updated_at = now() where user_id = $1 and id = $2"
RENAME = "update context_groups set name = $3, updated_at = now() where user_id = $1 and id = $2"
DELETE = "delete from context_groups where user_id = $1 and id = $2 returning id"
UPDATE_STATS = """
update context_groups set topics = $3, coherence = $4, updated_at = now()
 where user_id = $1 and id = $2
"""
MEMBERS = "select record_id from group_members where user_id = $1 and group_id = $2"
# A group's members with their records' times, driven from the group: each member's record is
# looked up by id. `offset 0` keeps the lateral subquery from being flattened, so the planner
# cannot turn the join around and walk the user's records by time instead, which it did for a
# user the statistics did not know yet (a new user's import): every record of the user for
# each member, seconds per group under the user's lock.
_MEMBER_TIMES = """
  from group_members m,
       lateral (select occurred_at from records
                 where user_id = m.user_id and id = m.record_id offset 0) r
 where m.user_id = $1 and m.group_id = $2
"""
FIRST_MEMBERS = f"""
select m.record_id {_MEMBER_TIMES}
 order by r.occurred_at, m.record_id limit $3 offset $4
"""
MEMBERS_OF_MANY = """
select record_id from group_members where user_id = $1 and group_id = any($2::uuid[])
"""
GROUPS_OF = """
select m.record_id, m.group_id,
       (select count(*) from group_members c
         where c.user_id = m.user_id and c.group_id = m.group_id)::int as size
  from group_members m
 where m.user_id = $1 and m.record_id = any($2::uuid[])
"""
ADD_MEMBERS = """
insert into group_members (user_id, group_id, record_id)
select $1, $2, record_id from unnest($3::uuid[]) as record_id
"""
REMOVE_MEMBERS = """
delete from group_members where user_id = $1 and group_id = $2 and record_id = any($3::uuid[])
returning record_id
"""
MOVE_MEMBERS = """
update group_members set group_id = $3, added_at = now()
 where user_id = $1 and group_id = $2
"""
# The newest members' text: their ids first, then the text of only those.
MEMBER_TEXT = f"""
with newest as (select m.record_id, r.occurred_at {_MEMBER_TIMES}
                 order by r.occurred_at desc limit $3)
select t.id, t.title, t.term_freqs
  from newest n,
       lateral (select id, title, term_freqs from records
                 where user_id = $1 and id = n.record_id offset 0) t
 order by n.occurred_at desc
"""
# Serializes every change to one user's groups (discovery and manual edits alike).
LOCK_USER = "select pg_advisory_xact_lock(hashtextextended('groups:' || $1::uuid::text, 0))"


async def lock_user(conn: asyncpg.Connection, user_id: str) -> None:
    await conn.execute(LOCK_USER, user_id)


async def insert(conn: asyncpg.Connection, user_id: str, name: str):
    return await conn.fetchval(INSERT, user_id, name)


async def get(conn: asyncpg.Connection, user_id: str, group_id):
    return await conn.fetchrow(GET, user_id, group_id)


async def get_many(conn: asyncpg.Connection, user_id: str, group_ids):
    return await conn.fetch(GET_MANY, user_id, list(group_ids))


async def list_page(conn: asyncpg.Connection, user_id: str, limit: int, offset: int):
    rows = await conn.fetch(LIST, user_id, limit, offset)
    return rows, await conn.fetchval(COUNT, user_id)


async def exists_for_update(conn: asyncpg.Connection, user_id: str, group_id) -> bool:
    return await conn.fetchval(EXISTS_FOR_UPDATE, user_id, group_id) is not None


async def touch(conn: asyncpg.Connection, user_id: str, group_id) -> None:
    await conn.execute(TOUCH, user_id, group_id)


async def rename(conn: asyncpg.Connection, user_id: str, group_id, name: str) -> None:
    await conn.execute(RENAME, user_id, group_id, name)


async def delete(conn: asyncpg.Connection, user_id: str, group_id) -> bool:
    return await conn.fetchval(DELETE, user_id, group_id) is not None


async def update_stats(conn, user_id: str, group_id, topics: list[str], coherence: float):
    await conn.execute(UPDATE_STATS, user_id, group_id, topics, coherence)


async def members(conn: asyncpg.Connection, user_id: str, group_id) -> list:
    return [row["record_id"] for row in await conn.fetch(MEMBERS, user_id, group_id)]


async def first_members(
    conn: asyncpg.Connection, user_id: str, group_id, limit: int, offset: int = 0
) -> list:
    """The group's members by record time, oldest first: the first `limit` are what a group
    answer shows of a large group; `offset` pages on."""
    rows = await conn.fetch(FIRST_MEMBERS, user_id, group_id, limit, offset)
    return [row["record_id"] for row in rows]


async def members_of_many(conn: asyncpg.Connection, user_id: str, group_ids) -> list:
    """The members of every one of the groups."""
    if not group_ids:
        return []
    rows = await conn.fetch(MEMBERS_OF_MANY, user_id, list(group_ids))
    return [row["record_id"] for row in rows]


async def groups_of(conn: asyncpg.Connection, user_id: str, record_ids) -> dict:
    """record id -> (group id, group size) for the records that are grouped."""
    rows = await conn.fetch(GROUPS_OF, user_id, list(record_ids))
    return {row["record_id"]: (row["group_id"], row["size"]) for row in rows}


async def add_members(conn: asyncpg.Connection, user_id: str, group_id, record_ids) -> None:
    if record_ids:
        await conn.execute(ADD_MEMBERS, user_id, group_id, list(record_ids))


async def remove_members(conn: asyncpg.Connection, user_id: str, group_id, record_ids) -> list:
    rows = await conn.fetch(REMOVE_MEMBERS, user_id, group_id, list(record_ids))
    return [row["record_id"] for row in rows]


async def move_members(conn: asyncpg.Connection, user_id: str, source, target) -> None:
    await conn.execute(MOVE_MEMBERS, user_id, source, target)


async def member_text(conn: asyncpg.Connection, user_id: str, group_id, limit: int):
    return await conn.fetch(MEMBER_TEXT, user_id, group_id, limit)
