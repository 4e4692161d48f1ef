"""Cache invalidations owed to lockcache (contexts/invalidate.py decides them, the relay
sends what the writer could not)."""

import asyncpg

ADD = """
insert into cache_invalidations (user_id, scope, record_ids, data_source_id)
select $1, scope, string_to_array(records, ','), source
  from unnest($2::text[], $3::text[], $4::text[]) as x(scope, records, source)
returning id
"""
# Due rows, oldest first; a row another relay holds is skipped, not waited for.
DUE = """
select id, user_id, scope, record_ids, data_source_id, attempts from cache_invalidations
 where next_attempt_at <= now()
 order by id
 limit $1
 for update skip locked
"""
DONE = "delete from cache_invalidations where id = any($1::bigint[])"
# Exponential backoff from one second, at most `$2` seconds.
RETRY_LATER = """
update cache_invalidations
   set attempts = attempts + 1,
       next_attempt_at = now() + make_interval(secs => least($2, power(2, attempts)))
 where id = any($1::bigint[])
"""
COUNT = "select count(*) from cache_invalidations"


async def add(conn: asyncpg.Connection, user_id: str, rows) -> list[int]:
    """rows: (scope, record ids, data source id); answers their ids."""
    rows = list(rows)
    if not rows:
        return []
    found = await conn.fetch(
        ADD, user_id, [scope for scope, _, _ in rows],
        [",".join(sorted(record_ids)) for _, record_ids, _ in rows],
        [source for _, _, source in rows],
    )
    return [row["id"] for row in found]


async def due(conn: asyncpg.Connection, limit: int):
    return await conn.fetch(DUE, limit)


async def done(conn: asyncpg.Connection, ids) -> None:
    await conn.execute(DONE, list(ids))


async def retry_later(conn: asyncpg.Connection, ids, max_backoff_s: float) -> None:
    await conn.execute(RETRY_LATER, list(ids), max_backoff_s)


async def count(conn: asyncpg.Connection) -> int:
    return await conn.fetchval(COUNT)
