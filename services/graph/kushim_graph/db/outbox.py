"""Outbox: names of entities whose Neo4j projection must be brought up to date."""

import asyncpg

ADD = """
insert into outbox (user_id, entity, entity_id)
select $1, entity, entity_id from unnest($2::text[], $3::uuid[]) as x(entity, entity_id)
"""
PENDING = """
select id, user_id, entity, entity_id from outbox order by id limit $1
"""
DONE = "delete from outbox where id = any($1::bigint[])"
COUNT = "select count(*) from outbox"
# Backlog estimate from the id range: two index probes instead of a scan of every row. Entries
# are applied oldest first, so the range is close to the count; 0 exactly when the outbox is empty.
ESTIMATE = "select coalesce(max(id) - min(id) + 1, 0) from outbox"
MAX_ID_FOR_USER = "select coalesce(max(id), 0) from outbox where user_id = $1"
MAX_ID = "select coalesce(max(id), 0) from outbox"
DONE_UP_TO_FOR_USER = "delete from outbox where user_id = $1 and id <= $2"
DONE_UP_TO = "delete from outbox where id <= $1"
# Only one worker (of any replica) applies the outbox at a time, so Neo4j sees one writer.
LOCK_KEY = 7_305_421_002
TRY_LOCK = "select pg_try_advisory_xact_lock($1)"
LOCK = "select pg_advisory_xact_lock($1)"
SESSION_LOCK = "select pg_advisory_lock($1)"
SESSION_UNLOCK = "select pg_advisory_unlock($1)"


async def add(conn: asyncpg.Connection, user_id, entity: str, entity_ids) -> None:
    await add_many(conn, user_id, {entity: entity_ids})


async def add_many(conn: asyncpg.Connection, user_id, named: dict) -> None:
    """named: entity -> ids; one statement for all of them."""
    pairs = [(entity, i) for entity, ids in named.items() for i in ids]
    if pairs:
        await conn.execute(ADD, user_id, [e for e, _ in pairs], [i for _, i in pairs])


async def pending(conn: asyncpg.Connection, limit: int):
    return await conn.fetch(PENDING, limit)


async def done(conn: asyncpg.Connection, ids) -> None:
    await conn.execute(DONE, list(ids))


async def count(conn: asyncpg.Connection) -> int:
    return await conn.fetchval(COUNT)


async def estimate(conn: asyncpg.Connection) -> int:
    return await conn.fetchval(ESTIMATE)


async def try_lock(conn: asyncpg.Connection) -> bool:
    return await conn.fetchval(TRY_LOCK, LOCK_KEY)


async def lock(conn: asyncpg.Connection) -> None:
    await conn.execute(LOCK, LOCK_KEY)


async def lock_session(conn: asyncpg.Connection) -> None:
    """Until unlock_session: a rebuild keeps the worker from applying older state."""
    await conn.execute(SESSION_LOCK, LOCK_KEY)


async def unlock_session(conn: asyncpg.Connection) -> None:
    await conn.execute(SESSION_UNLOCK, LOCK_KEY)


async def max_id(conn: asyncpg.Connection, user_id=None) -> int:
    if user_id is None:
        return await conn.fetchval(MAX_ID)
    return await conn.fetchval(MAX_ID_FOR_USER, user_id)


async def done_up_to(conn: asyncpg.Connection, up_to: int, user_id=None) -> None:
    if user_id is None:
        await conn.execute(DONE_UP_TO, up_to)
    else:
        await conn.execute(DONE_UP_TO_FOR_USER, user_id, up_to)
