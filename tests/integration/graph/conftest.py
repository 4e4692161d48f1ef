"""Fixtures: graph servers in-process on the real PostgreSQL and Neo4j of the test infra,
talking to a real lockcache process on the test Redis servers.

Variables come from `python -m devstack test`; a missing one fails the test. Servers a test
starts for itself (a dedicated Neo4j, lockcache) use ports KUSHIM_TEST_PORT_BASE+40..99.
"""

import asyncio
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kushim_graph import migrate
from kushim_graph.config import Config
from kushim_graph.db.pool import connect
from kushim_graph.server import GraphServer

from tests.integration.graph.support import Graph, free_port, graph_env, required_env

REPO = Path(__file__).resolve().parents[3]


def _wait_serving(addr: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(addr) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                answer = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"lockcache at {addr} did not become SERVING")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def database_url() -> str:
    url = required_env("DATABASE_URL")
    asyncio.run(migrate.run(url))
    return url


@pytest.fixture(scope="session")
def lockcache_addr(tmp_path_factory) -> str:
    """A real lockcache process on the test Redis servers."""
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": required_env("REDIS_URL"),
        "REDLOCK_URLS": required_env("REDLOCK_URLS"),
        "LOCKCACHE_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "METRICS_PORT": "0",
        "PYTHONPATH": os.pathsep.join(
            str(REPO / p) for p in ("gen", "services/lockcache", "services/common")
        ),
    }
    log_path = tmp_path_factory.mktemp("lockcache") / "lockcache.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "kushim_lockcache"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO,
        )
    addr = f"127.0.0.1:{port}"
    try:
        _wait_serving(addr, 30)
    except RuntimeError:
        process.kill()
        process.wait()
        raise RuntimeError(f"lockcache did not start: {log_path.read_text()[-2000:]}") from None
    yield addr
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
async def graph_factory(database_url, lockcache_addr):
    """make(**env overrides) -> Graph: an in-process graph server, stopped after the test."""
    running: list[Graph] = []

    async def make(**overrides: str) -> Graph:
        config = Config.from_env(graph_env(database_url, lockcache_addr, **overrides))
        server = GraphServer(config)
        port = await server.start()
        graph = Graph.connect(server, port)
        running.append(graph)
        health = health_pb2_grpc.HealthStub(graph.channel)
        deadline = time.monotonic() + 20
        while (await health.Check(health_pb2.HealthCheckRequest())).status != 1:
            assert time.monotonic() < deadline, "graph did not become SERVING"
            await asyncio.sleep(0.05)
        return graph

    yield make
    for graph in running:
        await graph.channel.close()
        await graph.server.stop(0)


@pytest.fixture
async def graph(graph_factory) -> Graph:
    return await graph_factory()


@pytest.fixture
async def db(database_url):
    conn = await connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def own_database(database_url):
    """A migrated database of the test's own, for tests that count what background work
    leaves: the outbox and the sweeper's passes are shared by every graph instance of a
    database, and a graph of another suite may still run on the shared one."""
    name = f"kushim_own_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(database_url)
    await admin.execute(f'create database "{name}"')
    url = urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    await migrate.run(url)
    yield url
    await admin.execute(f'drop database "{name}" with (force)')
    await admin.close()


@pytest.fixture
async def own_db(own_database):
    conn = await connect(own_database)
    yield conn
    await conn.close()
