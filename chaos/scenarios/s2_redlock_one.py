"""One of three Redlock masters SIGKILLed and restarted: two still make a quorum, so
discovery keeps its locks and fencing tokens; clients see no error."""

NAME = "redlock_one_down"
FAULT = "1 of 3 Redlock masters SIGKILLed, restarted 8 s later"
SMOKE = True
DOWN_S = 8.0
VICTIMS = ("redis-lock-1",)


async def inject(world) -> None:
    await world.servers_down(VICTIMS, DOWN_S)
