"""PostgreSQL SIGKILLed (every backend with it) and started after 5 s, then restarted the
way an operator does (fast shutdown: sessions are told "terminating connection due to
administrator command"): requests in each gap answer 503, the services' pools reconnect,
and every acknowledged record survives the crash recovery."""

NAME = "postgres_restart"
FAULT = "PostgreSQL SIGKILLed, started 5 s later; then a fast-shutdown restart"
DOWN_S = 5.0


async def inject(world) -> None:
    await world.servers_down(("postgres",), DOWN_S, outage="postgres")
    await world.acknowledged_grows(3, within=60)
    await world.servers_down(("postgres",), DOWN_S, outage="postgres", graceful=True)
