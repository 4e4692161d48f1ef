"""Links between records: one per unordered pair, the source being the earlier record."""

import json

import asyncpg

COLUMNS = """
l.id, l.source_record_id, l.target_record_id, l.confidence, l.link_type, l.method, l.signals,
l.created_at, f.feedback, f.comment as feedback_comment
"""
_FROM = "from links l left join link_feedback f on f.user_id = l.user_id and f.link_id = l.id"

UPSERT_DETERMINISTIC = """
insert into links (user_id, source_record_id, target_record_id, confidence, link_type, method,
                   signals)
select $1, s, t, c, lt, 'deterministic', sig::jsonb
  from unnest($2::uuid[], $3::uuid[], $4::float8[], $5::text[], $6::text[]) as x(s, t, c, lt, sig)
 where not exists (select 1 from link_suppressions p  -- pairs a person marked unrelated
                    where p.user_id = $1 and p.low = least(s, t) and p.high = greatest(s, t))
on conflict (user_id, least(source_record_id, target_record_id),
             greatest(source_record_id, target_record_id))
do update set confidence = excluded.confidence, link_type = excluded.link_type,
              signals = excluded.signals, updated_at = now()
        where links.method = 'deterministic'
returning id
"""
# Deterministic links to candidates that were scored again and fell below the threshold;
# links a person confirmed (positive feedback) stay.
DELETE_UNSUPPORTED = """
delete from links l
 where l.user_id = $1 and l.method = 'deterministic'
   and ((l.source_record_id = $2 and l.target_record_id = any($3::uuid[]))
     or (l.target_record_id = $2 and l.source_record_id = any($3::uuid[])))
   and not exists (select 1 from link_feedback f
                    where f.user_id = l.user_id and f.link_id = l.id
                      and f.feedback = 'positive')
returning l.id
"""
INSERT_MANUAL = """
insert into links (user_id, source_record_id, target_record_id, confidence, link_type, method,
                   signals)
values ($1, $2, $3, 1.0, 'strong_contextual', 'manual', $4)
on conflict do nothing
returning id
"""
GET = f"select {COLUMNS} {_FROM} where l.user_id = $1 and l.id = $2"
GET_MANY = f"select {COLUMNS} {_FROM} where l.user_id = $1 and l.id = any($2::uuid[])"
BETWEEN = f"""
select {COLUMNS} {_FROM}
 where l.user_id = $1
   and least(l.source_record_id, l.target_record_id) = least($2::uuid, $3::uuid)
   and greatest(l.source_record_id, l.target_record_id) = greatest($2::uuid, $3::uuid)
"""
_OF_RECORD = "l.user_id = $1 and (l.source_record_id = $2 or l.target_record_id = $2)"
FOR_RECORD = f"""
select {COLUMNS} {_FROM} where {_OF_RECORD}
 order by l.confidence desc, l.created_at, l.id
 limit $3 offset $4
"""
# A record's links and, for each, the record at the other end.
ENDS_OF_RECORD = f"""
select l.id, case when l.source_record_id = $2 then l.target_record_id
                  else l.source_record_id end as other
  from links l where {_OF_RECORD}
"""
COUNT_FOR_RECORD = f"select count(*) from links l where {_OF_RECORD}"
AMONG = f"""
select {COLUMNS} {_FROM}
 where l.user_id = $1 and l.source_record_id = any($2::uuid[])
   and l.target_record_id = any($2::uuid[])
"""
# Records within `depth` links of one record, nearest first: the context traversal when Neo4j
# cannot answer. `union` drops repeated (record, depth) rows, which bounds the walk.
NEIGHBORHOOD = """
with recursive walk (record_id, depth) as (
    select $2::uuid, 0
    union
    select next.record_id, walk.depth + 1
      from walk
     cross join lateral (
        select l.target_record_id from links l
         where l.user_id = $1 and l.source_record_id = walk.record_id
        union all
        select l.source_record_id from links l
         where l.user_id = $1 and l.target_record_id = walk.record_id
     ) as next (record_id)
     where walk.depth < $3
)
select record_id from walk group by record_id order by min(depth), record_id limit $4
"""
OF_USER = f"select {COLUMNS} {_FROM} where l.user_id = $1 order by l.created_at, l.id limit $2"
DELETE = """
delete from links where user_id = $1 and id = $2
returning id, source_record_id, target_record_id
"""
SET_FEEDBACK = """
insert into link_feedback (link_id, user_id, feedback, comment)
select id, user_id, $3, $4 from links where user_id = $1 and id = $2
on conflict (link_id) do update
   set feedback = excluded.feedback, comment = excluded.comment, updated_at = now()
returning link_id
"""
STATS = """
select l.method, l.link_type, coalesce(f.feedback, 'none') as feedback, count(*) as n
  from links l left join link_feedback f on f.user_id = l.user_id and f.link_id = l.id
 where l.user_id = $1
 group by 1, 2, 3
"""


async def upsert_deterministic(conn: asyncpg.Connection, user_id: str, scored) -> list:
    """scored: (source_id, target_id, confidence, link_type, signals as dicts)."""
    if not scored:
        return []
    rows = await conn.fetch(
        UPSERT_DETERMINISTIC,
        user_id,
        [s[0] for s in scored],
        [s[1] for s in scored],
        [s[2] for s in scored],
        [s[3] for s in scored],
        [json.dumps(s[4], ensure_ascii=False) for s in scored],
    )
    return [row["id"] for row in rows]


async def delete_unsupported(conn: asyncpg.Connection, user_id: str, record_id, others) -> list:
    if not others:
        return []
    rows = await conn.fetch(DELETE_UNSUPPORTED, user_id, record_id, list(others))
    return [row["id"] for row in rows]


async def insert_manual(conn: asyncpg.Connection, user_id: str, source, target, signals):
    return await conn.fetchval(INSERT_MANUAL, user_id, source, target, signals)


async def get(conn: asyncpg.Connection, user_id: str, link_id):
    return await conn.fetchrow(GET, user_id, link_id)


async def get_many(conn: asyncpg.Connection, user_id: str, link_ids):
    return await conn.fetch(GET_MANY, user_id, list(link_ids))


async def between(conn: asyncpg.Connection, user_id: str, a, b):
    return await conn.fetchrow(BETWEEN, user_id, a, b)


async def for_record(conn: asyncpg.Connection, user_id: str, record_id, limit: int, offset: int):
    rows = await conn.fetch(FOR_RECORD, user_id, record_id, limit, offset)
    return rows, await conn.fetchval(COUNT_FOR_RECORD, user_id, record_id)


async def among(conn: asyncpg.Connection, user_id: str, record_ids):
    return await conn.fetch(AMONG, user_id, list(record_ids))


async def neighborhood(conn: asyncpg.Connection, user_id: str, record_id, depth: int,
                       limit: int) -> list:
    """Ids of the record and of up to `limit` - 1 others within `depth` links of it."""
    rows = await conn.fetch(NEIGHBORHOOD, user_id, record_id, depth, limit)
    return [row["record_id"] for row in rows]


async def ends_of_record(conn: asyncpg.Connection, user_id: str, record_id) -> list:
    """(link id, the other record) of each of the record's links."""
    rows = await conn.fetch(ENDS_OF_RECORD, user_id, record_id)
    return [(row["id"], row["other"]) for row in rows]


async def of_user(conn: asyncpg.Connection, user_id: str, limit: int):
    return await conn.fetch(OF_USER, user_id, limit)


async def delete(conn: asyncpg.Connection, user_id: str, link_id):
    return await conn.fetchrow(DELETE, user_id, link_id)


async def set_feedback(conn: asyncpg.Connection, user_id: str, link_id, feedback, comment) -> bool:
    return await conn.fetchval(SET_FEEDBACK, user_id, link_id, feedback, comment) is not None


async def stats(conn: asyncpg.Connection, user_id: str):
    return await conn.fetch(STATS, user_id)
