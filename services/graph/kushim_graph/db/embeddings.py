"""Record embeddings of the semantic pass (migration 004)."""

import json

import asyncpg

# Records whose embedding is missing or was computed from another text (checksum).
PENDING = """
select r.id, r.user_id, r.title, r.body, r.checksum
  from records r left join record_embeddings e on e.record_id = r.id
 where e.record_id is null or e.checksum <> r.checksum
 order by r.created_at
 limit $1
"""
UPSERT = """
insert into record_embeddings (record_id, user_id, checksum, vector, quotes)
select r, u, c, v, q::jsonb
  from unnest($1::uuid[], $2::uuid[], $3::text[], $4::bytea[], $5::text[]) as x(r, u, c, v, q)
on conflict (record_id) do update
   set checksum = excluded.checksum, vector = excluded.vector, quotes = excluded.quotes,
       computed_at = now()
"""
# What scoring needs of every record of one user: no bodies, the quotes stand for them.
OF_USER = """
select r.id, r.title, extract(epoch from r.occurred_at) as occurred_at, r.source_platform,
       r.artifact_type, r.identity_keys, e.vector, e.quotes
  from record_embeddings e join records r on r.id = e.record_id
 where e.user_id = $1 and r.user_id = $1
"""


async def pending(conn: asyncpg.Connection, limit: int):
    return await conn.fetch(PENDING, limit)


async def upsert(conn: asyncpg.Connection, rows) -> None:
    """rows: (record_id, user_id, checksum, vector bytes, quotes list)."""
    await conn.execute(
        UPSERT,
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
        [r[3] for r in rows], [json.dumps(r[4], ensure_ascii=False) for r in rows],
    )


async def of_user(conn: asyncpg.Connection, user_id):
    return await conn.fetch(OF_USER, user_id)

