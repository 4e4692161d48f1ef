"""Links of method 'semantic' and the pairs people marked unrelated (link_suppressions).

A semantic link never replaces a deterministic or manual one (those are kept as they are), and
is never written for a suppressed pair.
"""

import json

import asyncpg

UPSERT = """
insert into links (user_id, source_record_id, target_record_id, confidence, link_type, method,
                   signals)
select $1, s, t, c, lt, 'semantic', sig::jsonb
  from unnest($2::uuid[], $3::uuid[], $4::float8[], $5::text[], $6::text[]) as x(s, t, c, lt, sig)
 where not exists (select 1 from link_suppressions p
                    where p.user_id = $1 and p.low = least(s, t) and p.high = greatest(s, t))
on conflict (user_id, least(source_record_id, target_record_id),
             greatest(source_record_id, target_record_id))
do update set confidence = excluded.confidence, link_type = excluded.link_type,
              signals = excluded.signals, updated_at = now()
        where links.method = 'semantic'
returning id
"""
# The record's semantic links that scoring no longer proposes; confirmed ones stay.
DELETE_STALE = """
delete from links l
 where l.user_id = $1 and l.method = 'semantic'
   and (l.source_record_id = $2 or l.target_record_id = $2)
   and (case when l.source_record_id = $2 then l.target_record_id
             else l.source_record_id end) <> all($3::uuid[])
   and not exists (select 1 from link_feedback f
                    where f.user_id = l.user_id and f.link_id = l.id
                      and f.feedback = 'positive')
returning l.id
"""
SUPPRESS = """
insert into link_suppressions (user_id, low, high)
values ($1, least($2::uuid, $3::uuid), greatest($2::uuid, $3::uuid))
on conflict do nothing
"""

UNSUPPRESS = """
delete from link_suppressions
 where user_id = $1 and low = least($2::uuid, $3::uuid) and high = greatest($2::uuid, $3::uuid)
"""


async def upsert(conn: asyncpg.Connection, user_id, proposals) -> list:
    """proposals: (source, target, confidence, link_type, signals)."""
    if not proposals:
        return []
    rows = await conn.fetch(
        UPSERT, user_id,
        [p[0] for p in proposals], [p[1] for p in proposals], [p[2] for p in proposals],
        [p[3] for p in proposals],
        [json.dumps(p[4], ensure_ascii=False) for p in proposals],
    )
    return [row["id"] for row in rows]


async def delete_stale(conn: asyncpg.Connection, user_id, record_id, kept) -> list:
    rows = await conn.fetch(DELETE_STALE, user_id, record_id, list(kept))
    return [row["id"] for row in rows]


async def suppress(conn: asyncpg.Connection, user_id, a, b) -> None:
    await conn.execute(SUPPRESS, user_id, a, b)


async def unsuppress(conn: asyncpg.Connection, user_id, a, b) -> None:
    await conn.execute(UNSUPPRESS, user_id, a, b)
