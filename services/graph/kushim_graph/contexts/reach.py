"""Which cached contexts a write reaches, named by the records they contain: at the commit
(content) and once the projection applied it to Neo4j (topology). One rule, two moments.

A cached context (reader.py) is the topology of Neo4j (of PostgreSQL while Neo4j is down) with
the content of PostgreSQL: record fields, link confidence and feedback, group name, topics,
coherence and size. Why invalidate at commit as well as after the projection: content is read
from PostgreSQL, so a context computed between the commit and the projection already shows
the new content, and one cached before the commit must go at the commit, not only once the
outbox worker has run (and when Neo4j is down the PostgreSQL traversal shows new links at the
commit too).

At the commit a write reaches the records it changed, the endpoints of the links it changed
(a context shows a link only with both endpoints) and the members of the groups it changed (a
context shows a group for its members), before and after the change. Records that discovery
leaves in no group are reached when their membership changes in Neo4j.

After the projection only the topology a context is traversed from has changed: which records
are linked and which belong to which group. So a batch of the outbox reaches the endpoints of
the links it creates or deletes in Neo4j, the records whose group membership it changes, and
the records it deletes with their neighbours. A record's new fields, a link's new confidence,
a group's new name change nothing here: re-applying an existing link or an unchanged
membership reaches no one, which is what keeps a write from invalidating the same contexts
twice. What Neo4j held before is read just before the batch is applied; the outbox worker is
Neo4j's only writer (an advisory lock), so nothing changes in between.
"""

from collections import defaultdict

import asyncpg

from kushim_graph.db import groups, links


async def records_reached(conn: asyncpg.Connection, user_id: str, record_ids=(),
                          group_ids=()) -> set[str]:
    """At the commit: the records themselves and every member of the groups."""
    reached = {str(r) for r in record_ids}
    reached |= {str(r) for r in await groups.members_of_many(conn, user_id, list(group_ids))}
    return reached


async def deletion_reached(conn: asyncpg.Connection, user_id: str, record_id) -> set[str]:
    """At the commit of a record's deletion, read before it: the record, the other end of
    each of its links and the members of its group (whose figures change)."""
    neighbours = [other for _, other in await links.ends_of_record(conn, user_id, record_id)]
    grouped = await groups.groups_of(conn, user_id, [record_id])
    return await records_reached(
        conn, user_id, [record_id, *neighbours], [group for group, _ in grouped.values()]
    )


async def before(store, changes) -> dict:
    """What Neo4j holds now of the links, groups and deleted records of `changes`."""
    link_ids = [link["id"] for link in changes.links] + list(changes.deleted_links)
    group_ids = [group["id"] for group in changes.groups] + list(changes.deleted_groups)
    record_ids = list(changes.deleted_records)
    if not (link_ids or group_ids or record_ids):
        return {"links": {}, "members": {}, "neighbours": {}}
    row = await store.topology_of(link_ids, group_ids, record_ids)
    members: dict[str, set] = defaultdict(set)
    for group_id, record_id in row["members"]:
        members[group_id].add(record_id)
    neighbours: dict[str, set] = defaultdict(set)
    for record_id, other in row["neighbours"]:
        neighbours[record_id].add(other)
    return {
        "links": {link_id: (s, t) for link_id, s, t in row["links"]},
        "members": members,
        "neighbours": neighbours,
    }


def projected(changes, held: dict, owners: dict[str, str]) -> dict[str, set[str]]:
    """After the projection: user id -> the records whose contexts the applied batch changed.

    held: before()'s answer; owners: entity id -> user id, for the deleted entities."""
    out: dict[str, set[str]] = defaultdict(set)
    for link in changes.links:
        if link["id"] not in held["links"]:
            out[link["user_id"]] |= {link["source"], link["target"]}
    for link_id in changes.deleted_links:
        if link_id in held["links"]:
            out[owners[link_id]] |= set(held["links"][link_id])
    for group in changes.groups:
        was = held["members"].get(group["id"], set())
        out[group["user_id"]] |= was ^ set(group["members"])
    for group_id in changes.deleted_groups:
        out[owners[group_id]] |= held["members"].get(group_id, set())
    for record_id in changes.deleted_records:
        out[owners[record_id]] |= {record_id} | held["neighbours"].get(record_id, set())
    return {user: ids for user, ids in out.items() if ids}
