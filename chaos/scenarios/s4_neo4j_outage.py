"""Neo4j SIGKILLed for 30 s, then started again: PostgreSQL keeps taking records and the
outbox keeps what Neo4j missed; once it is back the outbox drains and Neo4j matches."""

NAME = "neo4j_outage"
FAULT = "Neo4j SIGKILLed for 30 s, then started"
DOWN_S = 30.0


async def inject(world) -> None:
    await world.servers_down(("neo4j",), DOWN_S, outage="neo4j")
