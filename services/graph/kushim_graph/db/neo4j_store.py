"""The Neo4j side of the projection: idempotent MERGE writes and context traversal.

(:Artifact {id, user_id, ...})-[:RELATED_TO {id, user_id, ...}]->(:Artifact)
(:Artifact)-[:BELONGS_TO]->(:ContextGroup {id, user_id, ...})
"""

import asyncio
import time

import neo4j
from neo4j.exceptions import ClientError, DriverError, Neo4jError

from kushim_graph.errors import Unavailable

# What a Neo4j outage looks like to the driver.
NEO4J_DOWN = (Neo4jError, DriverError, OSError)
# A context read gives Neo4j this long (the driver alone would retry for many seconds), and
# after a failure the next reads skip it for a while: callers fall back to PostgreSQL fast.
SUBGRAPH_TIMEOUT_S = 3.0
READ_COOLDOWN_S = 5.0

SCHEMA = (
    "CREATE CONSTRAINT artifact_id IF NOT EXISTS FOR (a:Artifact) REQUIRE a.id IS UNIQUE",
    "CREATE CONSTRAINT context_group_id IF NOT EXISTS "
    "FOR (g:ContextGroup) REQUIRE g.id IS UNIQUE",
    "CREATE INDEX artifact_user IF NOT EXISTS FOR (a:Artifact) ON (a.user_id)",
    "CREATE INDEX context_group_user IF NOT EXISTS FOR (g:ContextGroup) ON (g.user_id)",
    "CREATE INDEX related_to_id IF NOT EXISTS FOR ()-[r:RELATED_TO]-() ON (r.id)",
)

UPSERT_ARTIFACTS = """
UNWIND $rows AS row
MERGE (a:Artifact {id: row.id})
SET a.user_id = row.user_id, a.title = row.title, a.source_platform = row.source_platform,
    a.artifact_type = row.artifact_type, a.external_id = row.external_id, a.url = row.url,
    a.timestamp = row.timestamp
"""
DELETE_ARTIFACTS = """
UNWIND $ids AS id
MATCH (a:Artifact {id: id})
DETACH DELETE a
"""
UPSERT_LINKS = """
UNWIND $rows AS row
MERGE (s:Artifact {id: row.source}) ON CREATE SET s.user_id = row.user_id
MERGE (t:Artifact {id: row.target}) ON CREATE SET t.user_id = row.user_id
MERGE (s)-[r:RELATED_TO {id: row.id}]->(t)
SET r.user_id = row.user_id, r.confidence = row.confidence, r.link_type = row.link_type,
    r.method = row.method
"""
DELETE_LINKS = """
UNWIND $ids AS id
MATCH ()-[r:RELATED_TO {id: id}]->()
DELETE r
"""
UPSERT_GROUPS = """
UNWIND $rows AS row
MERGE (g:ContextGroup {id: row.id})
SET g.user_id = row.user_id, g.name = row.name, g.coherence = row.coherence,
    g.topics = row.topics
WITH g, row
OPTIONAL MATCH (a:Artifact)-[b:BELONGS_TO]->(g)
WHERE NOT a.id IN row.members
DELETE b
WITH DISTINCT g, row
UNWIND row.members AS member
MERGE (a:Artifact {id: member}) ON CREATE SET a.user_id = row.user_id
MERGE (a)-[:BELONGS_TO]->(g)
"""
DELETE_GROUPS = """
UNWIND $ids AS id
MATCH (g:ContextGroup {id: id})
DETACH DELETE g
"""
DELETE_USER_BATCH = """
MATCH (n) WHERE (n:Artifact OR n:ContextGroup) AND ($user_id IS NULL OR n.user_id = $user_id)
WITH n LIMIT 5000
DETACH DELETE n
RETURN count(*) AS deleted
"""
# Variable-length bounds cannot be parameters: one query per depth (1-3).
SUBGRAPH = """
MATCH (start:Artifact {{id: $record_id, user_id: $user_id}})
OPTIONAL MATCH (start)-[:RELATED_TO*1..{depth}]-(other:Artifact)
WHERE other.user_id = $user_id
WITH start, collect(DISTINCT other)[..$limit] AS others
WITH [start] + others AS nodes
UNWIND nodes AS n
OPTIONAL MATCH (n)-[r:RELATED_TO]->(m:Artifact)
WHERE m IN nodes AND r.user_id = $user_id
OPTIONAL MATCH (n)-[:BELONGS_TO]->(g:ContextGroup {{user_id: $user_id}})
RETURN collect(DISTINCT n.id) AS nodes, collect(DISTINCT r.id) AS links,
       collect(DISTINCT g.id) AS groups
"""
SUBGRAPH_BY_DEPTH = {depth: SUBGRAPH.format(depth=depth) for depth in (1, 2, 3)}
# What Neo4j holds of some links, groups and records (contexts/reach.py compares it with a
# batch of the outbox to name the records whose topology the batch changes).
TOPOLOGY_OF = """
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
USER_IDS = """
MATCH (a:Artifact {user_id: $user_id}) WITH collect(a.id) AS artifacts
OPTIONAL MATCH (:Artifact {user_id: $user_id})-[r:RELATED_TO]->()
WITH artifacts, collect(r.id) AS links
OPTIONAL MATCH (g:ContextGroup {user_id: $user_id})
WITH artifacts, links, collect(g.id) AS groups
OPTIONAL MATCH (a:Artifact {user_id: $user_id})-[:BELONGS_TO]->(g:ContextGroup)
RETURN artifacts, links, groups, collect([a.id, g.id]) AS memberships
"""


class Neo4jStore:
    def __init__(self, uri: str, user: str, password: str) -> None:
        self.driver = neo4j.AsyncGraphDatabase.driver(
            uri,
            auth=(user, password),
            connection_timeout=3.0,
            connection_acquisition_timeout=5.0,
            max_transaction_retry_time=2.0,
        )
        self._schema_ready = False
        self._reads_skipped_until = 0.0

    async def close(self) -> None:
        await self.driver.close()

    async def ping(self) -> bool:
        try:
            await self.driver.execute_query("RETURN 1")
        except NEO4J_DOWN:
            return False
        return True

    async def ensure_schema(self) -> None:
        if self._schema_ready:
            return
        for statement in SCHEMA:
            try:
                await self.driver.execute_query(statement)
            except ClientError as exc:
                # Another replica created it at the same moment: IF NOT EXISTS races.
                if "AlreadyExists" not in (exc.code or ""):
                    raise
        self._schema_ready = True

    async def apply(self, changes) -> None:
        """Brings Neo4j in line with `changes` (a projection.worker.Changes) in one transaction."""
        await self.ensure_schema()
        async with self.driver.session() as session:
            await session.execute_write(self._apply, changes)

    @staticmethod
    async def _apply(tx, changes) -> None:
        steps = (
            (UPSERT_ARTIFACTS, "rows", changes.records),
            (UPSERT_LINKS, "rows", changes.links),
            (DELETE_LINKS, "ids", changes.deleted_links),
            (UPSERT_GROUPS, "rows", changes.groups),
            (DELETE_GROUPS, "ids", changes.deleted_groups),
            (DELETE_ARTIFACTS, "ids", changes.deleted_records),
        )
        for query, name, values in steps:
            if values:
                result = await tx.run(query, {name: values})
                await result.consume()

    async def delete_user(self, user_id: str | None) -> None:
        """Removes one user's nodes (or everyone's, for None), in bounded batches."""
        await self.ensure_schema()
        while True:
            records, _, _ = await self.driver.execute_query(
                DELETE_USER_BATCH, {"user_id": user_id}
            )
            if records[0]["deleted"] == 0:
                return

    async def subgraph(self, user_id: str, record_id: str, depth: int, limit: int):
        """(record ids, link ids, group ids) around a record; None if it is not projected."""
        if time.monotonic() < self._reads_skipped_until:
            raise Unavailable("Neo4j unavailable: a recent read failed")
        try:
            async with asyncio.timeout(SUBGRAPH_TIMEOUT_S):
                records, _, _ = await self.driver.execute_query(
                    SUBGRAPH_BY_DEPTH[depth],
                    {"user_id": user_id, "record_id": record_id, "limit": limit},
                    routing_=neo4j.RoutingControl.READ,
                )
        except (*NEO4J_DOWN, TimeoutError) as exc:
            self._reads_skipped_until = time.monotonic() + READ_COOLDOWN_S
            raise Unavailable(f"Neo4j unavailable: {type(exc).__name__}") from exc
        if not records:
            return None
        row = records[0]
        return row["nodes"], row["links"], row["groups"]

    async def topology_of(self, link_ids, group_ids, record_ids):
        """Endpoints of the links, members of the groups, neighbours of the records."""
        found, _, _ = await self.driver.execute_query(
            TOPOLOGY_OF,
            {"link_ids": link_ids, "group_ids": group_ids, "record_ids": record_ids},
            routing_=neo4j.RoutingControl.READ,
        )
        return found[0]

    async def user_ids(self, user_id: str) -> dict:
        """Every id the projection holds for one user (for checks and tests)."""
        records, _, _ = await self.driver.execute_query(
            USER_IDS, {"user_id": user_id}, routing_=neo4j.RoutingControl.READ
        )
        row = records[0]
        return {
            "artifacts": set(row["artifacts"]),
            "links": set(row["links"]),
            "groups": set(row["groups"]),
            "memberships": {tuple(pair) for pair in row["memberships"] if None not in pair},
        }
