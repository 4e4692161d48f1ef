"""Every lockcache instance SIGKILLed at once, then replaced: while none runs, graph takes its
discovery locks in PostgreSQL and the gateway bypasses the caches, so clients see no error."""

NAME = "lockcache_restart"
FAULT = "all lockcache instances SIGKILLed, replaced 5 s later"
SMOKE = True
DOWN_S = 5.0


async def inject(world) -> None:
    async with world.fault():
        killed = world.fleet.kill("lockcache")
        await world.hold(DOWN_S)
        await world.fleet.scale_up("lockcache", len(killed))
