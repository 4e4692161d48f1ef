"""What the fuzz must leave as it was: row counts in PostgreSQL and nodes in Neo4j, read once
the outbox has projected every write."""

import asyncio
import uuid
from typing import Any

import asyncpg
import neo4j

from tests.integration.api.fuzz_world import World
from tests.integration.api.support import required_env, wait_for


def stored_state(world: World) -> dict:
    """Row counts and node sets once the outbox has projected everything to Neo4j."""
    wait_for(lambda: world.victim.send("setup", "GET", "/health/ready").json().get(
        "outboxPending", 0) == 0, within=120)
    return {**asyncio.run(_postgres_state(world)), **_neo4j_state(world)}


async def _postgres_state(world: World) -> dict:
    db = await asyncpg.connect(required_env("DATABASE_URL"))
    try:
        tables = [r["table_name"] for r in await db.fetch(
            "select table_name from information_schema.columns where column_name = 'user_id'"
            " and table_schema = 'public' and table_name not in ('outbox', 'webhook_deliveries')"
            " order by table_name")]
        victim = uuid.UUID(world.victim_id)
        rows = {t: await db.fetchval(f"select count(*) from {t} where user_id = $1",  # noqa: S608
                                     victim) for t in tables}
        attacker = await db.fetch("select id from records where user_id = $1",
                                  uuid.UUID(world.attacker_id))
        return {"victim_rows": rows, "users": await db.fetchval("select count(*) from users"),
                "attacker_records": {str(r["id"]) for r in attacker}}
    finally:
        await db.close()


def _neo4j_state(world: World) -> dict:
    auth = (required_env("NEO4J_USER"), required_env("NEO4J_PASSWORD"))
    with neo4j.GraphDatabase.driver(required_env("NEO4J_URI"), auth=auth) as driver:
        def nodes(query: str, **params: Any) -> set:
            records, _, _ = driver.execute_query(query, **params)
            return {tuple(map(str, r.values())) for r in records}
        fuzzed = sorted(world.users_created)
        return {
            "victim_nodes": nodes("MATCH (n {user_id: $u}) RETURN n.id, labels(n), "
                                  "coalesce(n.title, n.name)", u=world.victim_id),
            "other_nodes": len(nodes("MATCH (n) WHERE NOT n.user_id IN $users RETURN n.id",
                                     users=fuzzed)),
            "attacker_artifacts": {r[0] for r in nodes(
                "MATCH (n:Artifact {user_id: $u}) RETURN n.id", u=world.attacker_id)},
        }
