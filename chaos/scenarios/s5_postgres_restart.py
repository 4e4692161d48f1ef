"""PostgreSQL SIGKILLed (every backend with it) and started again after 5 s: requests in the
gap answer 503, the services' pools reconnect, and every acknowledged record survives the
crash recovery."""

NAME = "postgres_restart"
FAULT = "PostgreSQL SIGKILLed, started 5 s later (crash recovery)"
DOWN_S = 5.0


async def inject(world) -> None:
    await world.servers_down(("postgres",), DOWN_S, outage="postgres")
