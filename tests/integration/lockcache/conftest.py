"""Fixtures: lockcache servers in-process on real Redis servers.

Tests on the shared infrastructure read REDIS_URL / REDLOCK_URLS (exported by
`python -m devstack test`) and fail when they are missing. Tests that kill,
restart or reconfigure Redis start their own servers on ports
KUSHIM_TEST_PORT_BASE+40..99.
"""

import grpc
import pytest
import redis
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_lockcache.config import Config, split_url_list
from kushim_lockcache.server import LockcacheServer

from tests.integration.lockcache.support import Client, free_port, required_env


@pytest.fixture
def redis_servers(tmp_path):
    """start(**RedisServer options) -> a started server, stopped after the test."""
    from devstack.redis import RedisServer

    started: list[RedisServer] = []

    class Server(RedisServer):
        def _ready(self) -> bool:
            if self.tls is None:
                return super()._ready()
            # A probe that closes its TLS socket (warnings are errors here); it presents the
            # server's own certificate where clients must have one.
            certificate = {}
            if self.tls.auth_clients != "no":
                certificate = {"ssl_certfile": str(self.tls.cert_file),
                               "ssl_keyfile": str(self.tls.key_file)}  # fmt: skip
            probe = redis.Redis(
                host="127.0.0.1", port=self.port, password=self.password, ssl=True,
                ssl_ca_certs=str(self.tls.ca_file), socket_timeout=1, **certificate,
            )  # fmt: skip
            try:
                return bool(probe.ping())
            except redis.RedisError:
                return False
            finally:
                probe.close()

    def start(*, started_now: bool = True, **options) -> RedisServer:
        server = Server(tmp_path / f"redis{len(started)}", free_port(), **options)
        if started_now:
            server.start()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
async def lockcache_factory():
    """make(env) -> Client for an in-process lockcache configured by `env`."""
    running: list[Client] = []

    async def make(env: dict[str, str]) -> Client:
        config = Config.from_env(
            {"BIND_HOST": "127.0.0.1", "LOCKCACHE_PORT": str(free_port()), "METRICS_PORT": "0"}
            | env
        )
        server = LockcacheServer(config)
        port = await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        client = Client(
            server, channel, pb_grpc.LockServiceStub(channel), pb_grpc.CacheServiceStub(channel)
        )
        running.append(client)
        return client

    yield make
    for client in running:
        await client.channel.close()
        await client.server.stop(0)


@pytest.fixture
def shared_env() -> dict[str, str]:
    return {"REDIS_URL": required_env("REDIS_URL"), "REDLOCK_URLS": required_env("REDLOCK_URLS")}


@pytest.fixture
async def lockcache(lockcache_factory, shared_env) -> Client:
    """lockcache on the shared cache Redis and lock masters."""
    return await lockcache_factory(shared_env)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    """One local Redis Cluster (three masters, one replica each) for the whole session:
    forming one costs seconds, and tests isolate themselves by their own user ids."""
    from devstack.ports import free_ports
    from devstack.redis_cluster import RedisCluster

    base = int(required_env("KUSHIM_TEST_PORT_BASE"))
    ports = free_ports(12, range(base + 40, base + 100))
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"), ports[:6], bus_ports=ports[6:])
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def cache_redis(shared_env):
    """A plain client of the cache REDIS_URL (a cluster client for the cluster form)."""
    url = shared_env["REDIS_URL"]
    if url.startswith("redis+cluster://"):
        client = aioredis.RedisCluster.from_url(url.split(",")[0].replace("+cluster", ""))
    else:
        client = aioredis.from_url(url)
    yield client
    await client.aclose()


@pytest.fixture
async def lock_masters(shared_env):
    clients = [aioredis.from_url(u) for u in split_url_list(shared_env["REDLOCK_URLS"])]
    yield clients
    for client in clients:
        await client.aclose()


@pytest.fixture
async def direct():
    """direct(server) -> a plain client of that server, closed after the test."""
    opened = []

    def open_(server):
        client = aioredis.from_url(server.url)
        opened.append(client)
        return client

    yield open_
    for client in opened:
        await client.aclose()
