"""Latency and resets on the Redis links under the steady load: lockcache reaches the cache
Redis and each Redlock master through a fault proxy of its own (devstack/netfault.py).

Phases: 200 ms (+ up to 50 ms jitter) each way on the cache link and one master's; then
those links reset every open connection each second and one chunk in twenty; then every
Redis link slow, jittery and resetting at once. lockcache answers each call within its
caller's deadline (a miss, not stored, or a lock from the quorum) and replaces dropped
connections, so clients see no error: no 503 is allowed, since nothing is down."""

from urllib.parse import urlsplit, urlunsplit

from devstack.netfault import FaultProxy, Faults

NAME = "redis_netfaults"
FAULT = "Redis links: 200 ms latency, then resets, then both (cache + Redlock masters)"
SMOKE = True
PHASE_S = 5
SLOW = Faults(latency_ms=200, jitter_ms=50)
RESETTING = Faults(reset_per_chunk=0.05)
EVERYTHING = Faults(latency_ms=50, jitter_ms=100, reset_per_chunk=0.02)


def through(url: str, link: FaultProxy) -> str:
    """The Redis URL with the proxy's address in place of the server's."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{link.address}"))


async def proxy(world, url: str, seed: int) -> FaultProxy:
    parts = urlsplit(url)
    link = FaultProxy(parts.port, upstream_host=parts.hostname, listen_port=world.port(), seed=seed)
    await link.start()
    world.cleanups.append(link.close)
    return link


async def prepare(world) -> None:
    links = {"cache": await proxy(world, world.infra["REDIS_URL"], 1)}
    masters = world.infra["REDLOCK_URLS"].split(",")
    for i, url in enumerate(masters, 1):
        links[f"lock-{i}"] = await proxy(world, url, 1 + i)
    world.infra["REDIS_URL"] = through(world.infra["REDIS_URL"], links["cache"])
    world.infra["REDLOCK_URLS"] = ",".join(
        through(url, links[f"lock-{i}"]) for i, url in enumerate(masters, 1)
    )
    world.state["links"] = links


async def inject(world) -> None:
    links: dict[str, FaultProxy] = world.state["links"]
    faulty = [links["cache"], links["lock-1"]]
    before = {name: link.stats.bytes_upstream for name, link in links.items()}
    async with world.fault():
        for link in faulty:
            link.set(SLOW)
        await world.hold(PHASE_S)
        for link in faulty:
            link.set(RESETTING)
        for _ in range(PHASE_S):
            for link in faulty:
                link.reset_existing()
            await world.hold(1)
        for link in links.values():
            link.set(EVERYTHING)
        await world.hold(PHASE_S)
        for link in links.values():
            link.clear()
    for name, link in links.items():
        if link.stats.bytes_upstream == before[name]:
            world.fail(f"no traffic crossed the {name} link during the fault")
        world.note(f"{name} link: {link.stats.accepted} connections, {link.stats.resets} reset")
    outages = [line for line in world.log.lines() if "Failed to connect to Redis: " in line]
    world.note(f"lockcache logged {len(outages)} Redis outage line(s)")
