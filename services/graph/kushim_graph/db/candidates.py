"""Candidate records for discovery, found through indexes only (never a scan of the user).

0. Records it is already linked to by discovery, so a link that no longer holds is dropped.
1. References, both directions: what this record mentions that others are (their identity
   keys) or also mention, and who mentions this record's identity keys.
2. Records within ±30 days of this record's own timestamp sharing a person or a keyword,
   nearest first in both directions, most shared features first.
"""

import asyncpg

WINDOW = "30 days"
# How many records one key or feature may contribute: a hot key cannot flood the candidates.
PER_KEY = 50

# One statement for a whole batch: each origin (o.id) gets the rows the single-record query
# gave it, with the same per-origin limits. Already linked (linked = true), then referenced
# in either direction (linked = false).
LINKED_OR_REFERENCED = """
select o.id as origin, c.record_id, c.linked
  from unnest($2::uuid[]) as o(id)
  cross join lateral (
    (select case when l.source_record_id = o.id then l.target_record_id
                 else l.source_record_id end as record_id, true as linked
       from links l
      where l.user_id = $1 and l.method = 'deterministic'
        and (l.source_record_id = o.id or l.target_record_id = o.id)
      limit $3)
    union all
    (select distinct r.record_id, false
       from record_keys m
       cross join lateral (
           select rk.record_id from record_keys rk
            where rk.user_id = $1 and rk.key = m.key
              and (rk.kind = 'mention' or m.kind = 'mention')
              and rk.record_id <> o.id
            limit $4
       ) r
      where m.user_id = $1 and m.record_id = o.id
      limit $3)
  ) c
"""

BY_TIME = f"""
select o.id as origin, n.record_id
  from unnest($2::uuid[], $3::timestamptz[]) as o(id, at)
  cross join lateral (
    select c.record_id,
           row_number() over (order by count(*) desc,
                                       min(abs(extract(epoch from c.occurred_at - o.at))),
                                       c.record_id) as rank
      from record_features m
      cross join lateral (
          (select f.record_id, f.occurred_at from record_features f
            where f.user_id = $1 and f.feature = m.feature and f.record_id <> o.id
              and f.occurred_at >= o.at and f.occurred_at <= o.at + interval '{WINDOW}'
            order by f.occurred_at limit $5)
          union all
          (select f.record_id, f.occurred_at from record_features f
            where f.user_id = $1 and f.feature = m.feature and f.record_id <> o.id
              and f.occurred_at < o.at and f.occurred_at >= o.at - interval '{WINDOW}'
            order by f.occurred_at desc limit $5)
      ) c
     where m.user_id = $1 and m.record_id = o.id
     group by c.record_id
     order by count(*) desc, min(abs(extract(epoch from c.occurred_at - o.at))), c.record_id
     limit $4
  ) n
 order by o.id, n.rank
"""

LOAD = """
select id, occurred_at, author, participants, refs, identity_keys, metadata_keys
  from records where user_id = $1 and id = any($2::uuid[])
"""
TERM_FREQS = "select id, term_freqs from records where user_id = $1 and id = any($2::uuid[])"


async def find_many(conn: asyncpg.Connection, user_id: str, origins: dict, limit: int,
                    *, nearby: bool = True) -> dict:
    """origins: record id -> its timestamp. Answers, per origin, (candidate ids, the subset
    already linked). The linked ones do not count against `limit`; then at most `limit` more:
    referenced ones first, then (if `nearby`) close in time."""
    found: dict = {origin: {} for origin in origins}
    linked: dict = {origin: set() for origin in origins}
    rows = await conn.fetch(LINKED_OR_REFERENCED, user_id, list(origins), limit, PER_KEY)
    for row in rows:
        found[row["origin"]].setdefault(row["record_id"])
        if row["linked"]:
            linked[row["origin"]].add(row["record_id"])
    short = [o for o in origins if len(found[o]) - len(linked[o]) < limit] if nearby else []
    if short:
        rows = await conn.fetch(
            BY_TIME, user_id, short, [origins[o] for o in short], limit, PER_KEY
        )
        for row in rows:
            origin = row["origin"]
            if len(found[origin]) - len(linked[origin]) < limit:
                found[origin].setdefault(row["record_id"])
    return {origin: (list(found[origin]), linked[origin]) for origin in origins}


async def load(conn: asyncpg.Connection, user_id: str, record_ids) -> list:
    return await conn.fetch(LOAD, user_id, list(record_ids))


async def term_freqs(conn: asyncpg.Connection, user_id: str, record_ids) -> dict:
    rows = await conn.fetch(TERM_FREQS, user_id, list(record_ids))
    return {row["id"]: row["term_freqs"] for row in rows}
