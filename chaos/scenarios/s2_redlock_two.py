"""Two of three Redlock masters SIGKILLed: no quorum, so locks answer UNAVAILABLE and graph
serializes discovery with PostgreSQL advisory locks instead; clients see no error and no
pair is linked twice."""

NAME = "redlock_two_down"
FAULT = "2 of 3 Redlock masters SIGKILLed, restarted 8 s later"
DOWN_S = 8.0
VICTIMS = ("redis-lock-1", "redis-lock-2")


async def inject(world) -> None:
    await world.servers_down(VICTIMS, DOWN_S)
