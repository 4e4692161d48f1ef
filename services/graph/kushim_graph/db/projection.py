"""What the projection reads of PostgreSQL: the current state of the entities the outbox
names (absent ones were deleted), and every entity of a user for a rebuild."""

import asyncpg

_PAIRS = "select * from unnest($1::uuid[], $2::uuid[]) as p(user_id, id)"
RECORDS = f"""
select id, user_id, title, source_platform, artifact_type, external_id, url, occurred_at
  from records where (user_id, id) in ({_PAIRS})
"""
LINKS = f"""
select id, user_id, source_record_id, target_record_id, confidence, link_type, method
  from links where (user_id, id) in ({_PAIRS})
"""
GROUPS = f"""
select g.id, g.user_id, g.name, g.coherence, g.topics,
       coalesce(array_agg(m.record_id) filter (where m.record_id is not null), '{{}}') as members
  from context_groups g left join group_members m on m.group_id = g.id and m.user_id = g.user_id
 where (g.user_id, g.id) in ({_PAIRS})
 group by g.id
"""
_USER = "($1::uuid is null or user_id = $1)"
RECORD_IDS = f"select user_id, id from records where {_USER} order by id"
LINK_IDS = f"select user_id, id from links where {_USER} order by id"
GROUP_IDS = f"select user_id, id from context_groups where {_USER} order by id"
_STATE = {"record": RECORDS, "link": LINKS, "group": GROUPS}
_IDS = {"record": RECORD_IDS, "link": LINK_IDS, "group": GROUP_IDS}


async def state_of(conn: asyncpg.Connection, entity: str, pairs) -> list:
    """The rows of the (user id, id) pairs that exist."""
    pairs = list(pairs)
    return await conn.fetch(_STATE[entity], [u for u, _ in pairs], [i for _, i in pairs])


async def ids_of(conn: asyncpg.Connection, entity: str, user_id: str | None) -> list:
    """(user id, id) of the user's entities, of everyone's when user_id is None."""
    return [(row["user_id"], row["id"]) for row in await conn.fetch(_IDS[entity], user_id)]
