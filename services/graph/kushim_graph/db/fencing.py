"""The records' stored fencing tokens and the discovery advisory locks (writes/fencing.py
holds the rule)."""

import asyncpg

READ_FLOORS = """
select id, fencing_token, clock_timestamp() as now
  from records where user_id = $1 and id = any($2::uuid[])
"""
# In id order, so two transactions locking overlapping sets cannot deadlock on these.
LOCK_RECORDS = """
select pg_advisory_xact_lock(hashtextextended('discovery:' || id::text, 0))
  from (select unnest($1::uuid[]) as id order by 1) ordered
"""
# A null token: the fallback path, which advances the stored token by one. Otherwise the token
# is accepted only if newer than every token that wrote its record before, and before its
# limit. A record is done unless it changed again meanwhile (then its next discovery is due).
ADVANCE_AND_MARK_DONE = """
update records r
   set fencing_token = coalesce(x.token, r.fencing_token + 1),
       discovery_state = case when r.checksum = x.checksum then 'done' else r.discovery_state end
  from unnest($2::uuid[], $3::text[], $4::bigint[], $5::timestamptz[])
       as x(id, checksum, token, until)
 where r.user_id = $1 and r.id = x.id
   and (x.token is null
        or (r.fencing_token < x.token
            and clock_timestamp() < coalesce(x.until, 'infinity'::timestamptz)))
returning r.id
"""
STORED_TOKENS = """
select id, fencing_token from records where user_id = $1 and id = any($2::uuid[])
"""


async def read_floors(conn: asyncpg.Connection, user_id: str, record_ids):
    """(id, fencing_token, now) of the records that exist, `now` on PostgreSQL's clock."""
    return await conn.fetch(READ_FLOORS, user_id, list(record_ids))


async def lock_records(conn: asyncpg.Connection, record_ids) -> None:
    await conn.execute(LOCK_RECORDS, list(record_ids))


async def advance_and_mark_done(conn: asyncpg.Connection, user_id: str, ids, checksums, tokens,
                                limits) -> set:
    """The ids whose token was accepted."""
    rows = await conn.fetch(ADVANCE_AND_MARK_DONE, user_id, ids, checksums, tokens, limits)
    return {row["id"] for row in rows}


async def stored_tokens(conn: asyncpg.Connection, user_id: str, record_ids) -> dict:
    rows = await conn.fetch(STORED_TOKENS, user_id, list(record_ids))
    return {row["id"]: row["fencing_token"] or 0 for row in rows}
