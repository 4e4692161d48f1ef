"""Fixtures: graph servers in-process on the real PostgreSQL and Neo4j of the test infra,
talking to a real lockcache process on the test Redis servers.

Variables come from `python -m devstack test`; a missing one fails the test. Servers a test
starts for itself (a dedicated Neo4j, lockcache) use ports KUSHIM_TEST_PORT_BASE+40..99.
"""

import asyncio
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kushim_graph import migrate
from kushim_graph.config import Config
from kushim_graph.db.pool import connect
from kushim_graph.server import GraphServer

from devstack.launch import LogBuffer
from tests.integration.graph.support import Graph, eventually, graph_env, required_env
from tests.integration.service_processes import start_lockcache


@pytest.fixture(scope="session")
def database_url() -> str:
    url = required_env("DATABASE_URL")
    asyncio.run(migrate.run(url))
    return url


@pytest.fixture(scope="session")
def lockcache_addr():
    """A real lockcache process on the test Redis servers."""
    process, addr = start_lockcache(
        LogBuffer(), redis_url=required_env("REDIS_URL"), redlock_urls=required_env("REDLOCK_URLS"),
        tls=False,  # the graph servers of this suite run in-process, in plaintext
    )
    yield addr
    process.stop()


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

        async def serving() -> bool:
            answer = await health.Check(health_pb2.HealthCheckRequest())
            return answer.status == health_pb2.HealthCheckResponse.SERVING

        await eventually(serving, within=20)
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
    try:
        yield url
        try:
            await admin.execute(f'drop database "{name}" with (force)')
        except asyncpg.InsufficientPrivilegeError:
            # An autovacuum worker on the database has no role, so FORCE may not end it;
            # a plain drop stops autovacuum itself, and the test's servers are gone by now.
            await admin.execute(f'drop database "{name}"')
    finally:
        await admin.close()


@pytest.fixture
async def own_db(own_database):
    conn = await connect(own_database)
    yield conn
    await conn.close()
