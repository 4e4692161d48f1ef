"""Which cached contexts a committed write reaches, named by the records they contain.

A cached context (projection/context.py) is the topology of Neo4j (of PostgreSQL while Neo4j
is down) with the content of PostgreSQL: record fields, link confidence and feedback, group
name, topics, coherence and size. Why invalidate at commit as well as after the projection:
content is read from PostgreSQL, so a context computed between the commit and the projection
already shows the new content, and one cached before the commit must go at the commit, not
only once the outbox worker has run (and when Neo4j is down the PostgreSQL traversal shows
new links at the commit too). The projection's invalidation (projection/reach.py) then names
only the records whose topology in Neo4j changed, so a write is not paid for twice.

At the commit a write reaches the records it changed, the endpoints of the links it changed
(a context shows a link only with both endpoints) and the members of the groups it changed (a
context shows a group for its members). Records that a split leaves in no group are reached
when their membership changes in Neo4j; while Neo4j is down, their contexts may show the
group's new figures until they expire or a write reaches them.
"""

import asyncpg

from kushim_graph.db import groups
from kushim_graph.lockcache import LockCacheClient


async def records_reached(conn: asyncpg.Connection, user_id: str, record_ids=(),
                          group_ids=()) -> set[str]:
    """The records themselves and every member of the groups."""
    reached = {str(r) for r in record_ids}
    reached |= {str(r) for r in await groups.members_of_many(conn, user_id, list(group_ids))}
    return reached


async def invalidate(lockcache: LockCacheClient, conn: asyncpg.Connection, user_id: str,
                     record_ids=(), group_ids=()) -> bool:
    """Drops the cached contexts that contain one of the records or a member of the groups."""
    reached = await records_reached(conn, user_id, record_ids, group_ids)
    return await lockcache.invalidate_records(user_id, reached)
