"""Every graph instance SIGKILLed at once, then replaced: the gateway retries while none
runs, and answers 503 (never 500) to whatever outlasts its deadline."""

NAME = "graph_restart"
FAULT = "all graph instances SIGKILLed, replaced 5 s later"
DOWN_S = 5.0


async def inject(world) -> None:
    async with world.fault(outage="graph"):
        killed = world.fleet.kill("graph")
        await world.hold(DOWN_S)
        await world.fleet.scale_up("graph", len(killed))
