"""`REDIS_URL=... make run` (and DATABASE_URL, NEO4J_URI): the run profile starts none of
the servers it is given, and lockcache talks to the given Redis."""

import os

import grpc
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_lockcache import keys
from kushim_lockcache.config import Config
from kushim_lockcache.server import LockcacheServer

from devstack.ports import free_ports, test_port_base
from devstack.redis import RedisServer
from devstack.stack import Stack
from tests.integration.lockcache.support import unique

BASE = test_port_base(os.environ)


async def test_run_with_a_redis_of_ones_own_uses_it_and_starts_no_server(tmp_path):
    port, lockcache_port = free_ports(2, range(BASE + 40, BASE + 100))
    mine = RedisServer(tmp_path / "mine", port, name="mine")
    mine.start()
    try:
        given = {name: os.environ[name] for name in ("DATABASE_URL", "NEO4J_URI", "NEO4J_USER",
                                                     "NEO4J_PASSWORD")}  # fmt: skip
        given["REDIS_URL"] = mine.url
        stack = Stack.for_profile("run", root_dir=tmp_path, environ=given)
        assert stack.servers == []
        env = stack.env()
        assert env == given and "REDLOCK_URLS" not in env  # locks go to REDIS_URL
        server = LockcacheServer(Config.from_env(
            env | {"BIND_HOST": "127.0.0.1", "LOCKCACHE_PORT": str(lockcache_port),
                   "METRICS_PORT": "0"}
        ))  # fmt: skip
        await server.start()
        user = unique("u")
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{lockcache_port}") as channel:
                cache = pb_grpc.CacheServiceStub(channel)
                key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=user)
                stored = await cache.Set(pb.SetCacheRequest(key=key, value=b"v"), timeout=10)
                assert stored.stored, stored.message
                lock = await pb_grpc.LockServiceStub(channel).Acquire(
                    pb.AcquireLockRequest(resources=[f"r:{user}"]), timeout=10
                )
                assert lock.outcome == pb.ACQUIRED
        finally:
            await server.stop(0)
        direct = aioredis.from_url(mine.url)
        try:
            assert await direct.exists(keys.user_profile_key(user), keys.lock_key(f"r:{user}")) == 2
        finally:
            await direct.aclose()
    finally:
        mine.stop()
