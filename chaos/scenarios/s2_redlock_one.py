"""One of three Redlock masters SIGKILLed and restarted: two still make a quorum, so
discovery keeps its locks and fencing tokens; clients see no error."""

import asyncio
import signal

NAME = "redlock_one_down"
FAULT = "1 of 3 Redlock masters SIGKILLed, restarted 8 s later"
SMOKE = True
DOWN_S = 8.0
VICTIMS = ("redis-lock-1",)


async def kill_lock_masters(world, names: tuple[str, ...], down_s: float) -> None:
    servers = [world.servers[name] for name in names]
    async with world.fault():
        for server in servers:
            server.kill(signal.SIGKILL)
        await world.hold(down_s)
        await asyncio.gather(*(asyncio.to_thread(server.start) for server in servers))


async def inject(world) -> None:
    await kill_lock_masters(world, VICTIMS, DOWN_S)
