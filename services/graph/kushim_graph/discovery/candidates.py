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

# Already linked (linked = true), then referenced in either direction (linked = false).
LINKED_OR_REFERENCED = """
(select case when source_record_id = $2 then target_record_id else source_record_id end
        as record_id, true as linked
   from links
  where user_id = $1 and method = 'deterministic'
    and (source_record_id = $2 or target_record_id = $2)
  limit $3)
union all
(select distinct c.record_id, false
   from record_keys m
   cross join lateral (
       select rk.record_id from record_keys rk
        where rk.user_id = $1 and rk.key = m.key
          and (rk.kind = 'mention' or m.kind = 'mention')
          and rk.record_id <> $2
        limit $4
   ) c
  where m.user_id = $1 and m.record_id = $2
  limit $3)
"""

BY_TIME = f"""
select c.record_id
  from record_features m
  cross join lateral (
      (select f.record_id, f.occurred_at from record_features f
        where f.user_id = $1 and f.feature = m.feature and f.record_id <> $2
          and f.occurred_at >= $3 and f.occurred_at <= $3 + interval '{WINDOW}'
        order by f.occurred_at limit $5)
      union all
      (select f.record_id, f.occurred_at from record_features f
        where f.user_id = $1 and f.feature = m.feature and f.record_id <> $2
          and f.occurred_at < $3 and f.occurred_at >= $3 - interval '{WINDOW}'
        order by f.occurred_at desc limit $5)
  ) c
 where m.user_id = $1 and m.record_id = $2
 group by c.record_id
 order by count(*) desc, min(abs(extract(epoch from c.occurred_at - $3))), c.record_id
 limit $4
"""

LOAD = """
select id, occurred_at, author, participants, refs, identity_keys, metadata_keys
  from records where user_id = $1 and id = any($2::uuid[])
"""
TERM_FREQS = "select id, term_freqs from records where user_id = $1 and id = any($2::uuid[])"


async def find(conn: asyncpg.Connection, user_id: str, record_id, occurred_at, limit: int,
               *, nearby: bool = True):
    """(candidate ids, the subset already linked). The linked ones do not count against
    `limit`; then at most `limit` more: referenced ones first, then (if `nearby`) close in
    time."""
    found: dict = {}
    linked = set()
    for row in await conn.fetch(LINKED_OR_REFERENCED, user_id, record_id, limit, PER_KEY):
        found.setdefault(row["record_id"])
        if row["linked"]:
            linked.add(row["record_id"])
    if nearby and len(found) - len(linked) < limit:
        nearby = await conn.fetch(BY_TIME, user_id, record_id, occurred_at, limit, PER_KEY)
        for row in nearby:
            if len(found) - len(linked) >= limit:
                break
            found.setdefault(row["record_id"])
    return list(found), linked


async def load(conn: asyncpg.Connection, user_id: str, record_ids) -> list:
    return await conn.fetch(LOAD, user_id, list(record_ids))


async def term_freqs(conn: asyncpg.Connection, user_id: str, record_ids) -> dict:
    rows = await conn.fetch(TERM_FREQS, user_id, list(record_ids))
    return {row["id"]: row["term_freqs"] for row in rows}
