"""Which cached contexts a batch of the outbox reaches once Neo4j has it, named by records.

The projection changes only the topology a context is traversed from: which records are
linked and which belong to which group (content comes from PostgreSQL and was invalidated at
the commit, see context_reach.py). So a batch reaches the endpoints of the links it creates or
deletes in Neo4j, the records whose group membership it changes, and the records it deletes
with their neighbours. A record's new fields, a link's new confidence, a group's new name
change nothing here: re-applying an existing link or an unchanged membership reaches no one,
which is what keeps a write from invalidating the same contexts twice.

What Neo4j held before is read just before the batch is applied; the outbox worker is Neo4j's
only writer (an advisory lock), so nothing changes in between.
"""

from collections import defaultdict

import neo4j

BEFORE = """
CALL () {
  UNWIND $link_ids AS id
  MATCH (s:Artifact)-[r:RELATED_TO {id: id}]->(t:Artifact)
  RETURN collect([id, s.id, t.id]) AS links
}
CALL () {
  UNWIND $group_ids AS id
  MATCH (a:Artifact)-[:BELONGS_TO]->(g:ContextGroup {id: id})
  RETURN collect([id, a.id]) AS members
}
CALL () {
  UNWIND $record_ids AS id
  MATCH (a:Artifact {id: id})-[:RELATED_TO]-(n:Artifact)
  RETURN collect([id, n.id]) AS neighbours
}
RETURN links, members, neighbours
"""


async def before(store, changes) -> dict:
    """What Neo4j holds now of the links, groups and deleted records of `changes`."""
    link_ids = [link["id"] for link in changes.links] + list(changes.deleted_links)
    group_ids = [group["id"] for group in changes.groups] + list(changes.deleted_groups)
    record_ids = list(changes.deleted_records)
    if not (link_ids or group_ids or record_ids):
        return {"links": {}, "members": {}, "neighbours": {}}
    records, _, _ = await store.driver.execute_query(
        BEFORE,
        {"link_ids": link_ids, "group_ids": group_ids, "record_ids": record_ids},
        routing_=neo4j.RoutingControl.READ,
    )
    row = records[0]
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


def reached(changes, held: dict, owners: dict[str, str]) -> dict[str, set[str]]:
    """user id -> the records whose contexts the applied batch changed.

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
