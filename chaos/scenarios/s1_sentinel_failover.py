"""Caching through Sentinel: a master, a replica and three sentinels of the scenario's own;
lockcache finds the master through the sentinels. The master is SIGKILLed, the sentinels
promote the replica, lockcache follows; clients see no error."""

import signal

import redis.asyncio as aioredis

from devstack.redis import RedisServer, SentinelServer, sentinel_url

NAME = "sentinel_failover"
FAULT = "Sentinel-watched cache master SIGKILLed, replica promoted"
MASTER = "chaoscache"
SENTINELS = 3


async def prepare(world) -> None:
    master = await world.add_server(RedisServer(
        world.data_dir("master"), world.port(), maxmemory_policy="allkeys-lru",
        maxmemory="64mb", name="cache-master",
    ))  # fmt: skip
    replica = await world.add_server(RedisServer(
        world.data_dir("replica"), world.port(), maxmemory_policy="allkeys-lru",
        maxmemory="64mb", replicaof=("127.0.0.1", master.port), name="cache-replica",
    ))  # fmt: skip
    sentinels = [
        await world.add_server(SentinelServer(
            world.data_dir(f"sentinel{i}"), world.port(), MASTER, "127.0.0.1", master.port,
            2, down_after_ms=1000, failover_timeout_ms=3000, name=f"sentinel{i}",
        ))  # fmt: skip
        for i in range(SENTINELS)
    ]
    world.state["sentinel"] = (master, replica, sentinels)
    for sentinel in sentinels:
        watcher = aioredis.Redis(port=sentinel.port)
        try:
            await world.wait_for(
                lambda w=watcher: w.execute_command("SENTINEL", "REPLICAS", MASTER),
                f"{sentinel.name} knows the replica",
            )
        finally:
            await watcher.aclose()
    world.infra["REDIS_URL"] = sentinel_url(sentinels)


async def inject(world) -> None:
    master, replica, sentinels = world.state["sentinel"]
    probe = aioredis.Redis(port=sentinels[0].port)

    async def promoted() -> bool:
        host, port = await probe.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
        return int(port) == replica.port

    promoted_cache = aioredis.Redis(port=replica.port)
    try:
        async with world.fault():
            master.kill(signal.SIGKILL)
            await world.wait_for(promoted, "the replica promoted", within=30)
            # lockcache follows: the context reads fill new keys on the promoted replica
            keys = await promoted_cache.dbsize()
            await world.wait_for(
                lambda: grew(promoted_cache, keys), "lockcache writing to the promoted replica"
            )
        world.note(f"replica :{replica.port} promoted; lockcache fills it")
    finally:
        await promoted_cache.aclose()
        await probe.aclose()


async def grew(cache, keys: int) -> bool:
    return await cache.dbsize() > keys
