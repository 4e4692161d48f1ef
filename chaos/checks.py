"""What must hold once a fault is over: every acknowledged record reads back as written, no
record pair is linked twice, the outbox drains and Neo4j holds exactly what PostgreSQL holds
for the load's users."""

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
import asyncpg
import neo4j

from chaos.load import Load

DUPLICATE_LINKS = """
select count(*) from (
  select 1 from links where user_id = any($1::uuid[])
   group by user_id, least(source_record_id, target_record_id),
            greatest(source_record_id, target_record_id)
  having count(*) > 1) pairs
"""
OUTBOX_PENDING = "select count(*) from outbox where user_id = any($1::uuid[])"
PG_RECORDS = "select id::text from records where user_id = any($1::uuid[])"
PG_LINKS = "select id::text from links where user_id = any($1::uuid[])"
PG_GROUPS = "select id::text from context_groups where user_id = any($1::uuid[])"
NEO4J_ARTIFACTS = "MATCH (a:Artifact) WHERE a.user_id IN $users RETURN a.id AS id"
NEO4J_LINKS = "MATCH ()-[r:RELATED_TO]->() WHERE r.user_id IN $users RETURN r.id AS id"
NEO4J_GROUPS = "MATCH (g:ContextGroup) WHERE g.user_id IN $users RETURN g.id AS id"


async def missing_records(session: aiohttp.ClientSession, load: Load) -> list[str]:
    """Acknowledged records that do not read back through the gateway as they were written."""
    lost = []
    for record_id, acked in load.acknowledged.items():
        headers = {"Authorization": f"Bearer {acked.token}"}
        async with session.get(f"{load.base_url}/records/{record_id}", headers=headers) as answer:
            body = await answer.json(content_type=None)
            if answer.status != 200 or (body.get("title"), body.get("body")) != (
                acked.title, acked.body
            ):
                lost.append(f"{record_id}: {answer.status}")
    return lost


@dataclass
class Projection:
    """Ids on each side, per kind; equal when Neo4j matches PostgreSQL."""

    postgres: dict[str, set[str]]
    neo4j: dict[str, set[str]]
    outbox: int

    @property
    def matches(self) -> bool:
        return self.outbox == 0 and self.postgres == self.neo4j

    def summary(self) -> str:
        parts = [
            f"{kind} pg {len(self.postgres[kind])} neo4j {len(self.neo4j[kind])}"
            for kind in self.postgres
        ]
        return f"{', '.join(parts)}, outbox {self.outbox}"


async def projection(db: asyncpg.Connection, graph: neo4j.AsyncDriver,
                     users: list[str]) -> Projection:
    ids = [uuid.UUID(u) for u in users]
    postgres, projected = {}, {}
    for kind, sql, cypher in (
        ("records", PG_RECORDS, NEO4J_ARTIFACTS),
        ("links", PG_LINKS, NEO4J_LINKS),
        ("groups", PG_GROUPS, NEO4J_GROUPS),
    ):
        postgres[kind] = {row[0] for row in await db.fetch(sql, ids)}
        result = await graph.execute_query(cypher, users=users)
        projected[kind] = {record["id"] for record in result.records}
    return Projection(postgres, projected, await db.fetchval(OUTBOX_PENDING, ids))


@dataclass
class Verdict:
    lost: list[str]
    duplicate_links: int
    projection: Projection
    converged_s: float  # how long the outbox took to drain and Neo4j to match

    @property
    def passed(self) -> bool:
        return not self.lost and self.duplicate_links == 0 and self.projection.matches


async def verify(session: aiohttp.ClientSession, load: Load, infra: Mapping[str, str],
                 within_s: float = 60.0) -> Verdict:
    """Polls until Neo4j matches PostgreSQL (or `within_s` passes), then checks the rest."""
    users = sorted(load.users)
    started = time.monotonic()
    db = await asyncpg.connect(infra["DATABASE_URL"])
    graph = neo4j.AsyncGraphDatabase.driver(
        infra["NEO4J_URI"], auth=(infra["NEO4J_USER"], infra["NEO4J_PASSWORD"])
    )
    try:
        while True:
            seen = await projection(db, graph, users)
            if seen.matches or time.monotonic() - started > within_s:
                break
            await asyncio.sleep(0.5)
        converged = time.monotonic() - started
        duplicates = await db.fetchval(DUPLICATE_LINKS, [uuid.UUID(u) for u in users])
    finally:
        await graph.close()
        await db.close()
    lost = await missing_records(session, load)
    return Verdict(lost, duplicates, seen, converged)
