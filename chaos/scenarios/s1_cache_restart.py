"""The cache Redis SIGKILLed and restarted (empty: the test profile keeps no snapshot) while
the load reads contexts through it: lockcache reports the cache unavailable and reconnects,
the gateway and graph bypass the cache meanwhile, so clients see no error."""

NAME = "cache_restart"
FAULT = "cache Redis SIGKILLed, restarted 5 s later"
DOWN_S = 5.0


async def inject(world) -> None:
    await world.servers_down(("redis-cache",), DOWN_S)
