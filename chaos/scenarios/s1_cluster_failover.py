"""Caching on a Redis Cluster of the scenario's own (three masters, a replica each; locks
stay on the world's Redlock masters). A master is SIGKILLed under load, its replica is
promoted, lockcache follows the new slot map; clients see no error. The killed master then
rejoins as a replica."""

import asyncio
import signal

import redis.asyncio as aioredis

from chaos.scenarios.s1_sentinel_failover import grew
from devstack.redis_cluster import MASTERS, RedisCluster

NAME = "cluster_failover"
FAULT = "Redis Cluster master SIGKILLed, its replica promoted"


async def prepare(world) -> None:
    cluster = RedisCluster(
        world.data_dir("cluster"),
        [world.port() for _ in range(2 * MASTERS)],
        bus_ports=[world.port() for _ in range(2 * MASTERS)],
    )
    for node in cluster.nodes:
        await world.add_server(node)
    await asyncio.to_thread(cluster.form)
    world.state["cluster"] = cluster
    world.infra["REDIS_URL"] = cluster.url


async def inject(world) -> None:
    cluster = world.state["cluster"]
    victim = (await asyncio.to_thread(cluster.masters))[0]
    before = set(await asyncio.to_thread(cluster.masters))
    async with world.fault():
        victim.kill(signal.SIGKILL)
        await asyncio.to_thread(cluster.wait_until_ok)
        (promoted,) = set(await asyncio.to_thread(cluster.masters)) - before
        # lockcache follows: the context reads fill new keys on the promoted replica
        new_master = aioredis.Redis(port=promoted.port)
        try:
            keys = await new_master.dbsize()
            await world.wait_for(
                lambda: grew(new_master, keys), "lockcache writing to the promoted replica"
            )
        finally:
            await new_master.aclose()
    world.note(f"master :{victim.port} killed; replica :{promoted.port} promoted and filled")
    await asyncio.to_thread(victim.start)  # rejoins as a replica
    await asyncio.to_thread(cluster.wait_until_ok)
