"""The gateway on real services: a lockcache and a graph process on the devstack test infra
(PostgreSQL, Redis, Neo4j), and the app under test in-process via aiohttp_client."""

import pytest
from kushim_api.app import create_app
from kushim_api.config import Config

from tests.integration.api.support import (
    TOKEN_SECRET,
    LogBuffer,
    migrate,
    required_env,
    start_graph,
    start_lockcache,
    unique_email,
)
from tests.integration.service_processes import client_tls


class Backends:
    def __init__(self) -> None:
        self.log = LogBuffer()
        self.processes = []
        self.lockcache_addr = self.graph_addr = ""

    def start(self) -> "Backends":
        migrate(required_env("DATABASE_URL"))
        lockcache, self.lockcache_addr = start_lockcache(
            self.log, redis_url=required_env("REDIS_URL"),
            redlock_urls=required_env("REDLOCK_URLS"),
        )
        self.processes.append(lockcache)
        graph, self.graph_addr = start_graph(self.log, self.lockcache_addr)
        self.processes.append(graph)
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture(scope="session")
def backends():
    started = Backends()
    try:
        yield started.start()
    finally:
        started.stop()


@pytest.fixture
def config(backends) -> Config:
    return Config(
        bind_host="127.0.0.1", graph_addr=backends.graph_addr,
        lockcache_addr=backends.lockcache_addr, auth_token_secret=TOKEN_SECRET,
        environment="development", password_hash_profile="cheapest",  # noqa: S106
        upstream_timeout_ms=20_000, login_rate_limit_per_ip=100_000,
        register_rate_limit_per_ip=100_000, readiness_cache_ms=0, grpc_tls=client_tls("api"),
    )


@pytest.fixture
async def client(aiohttp_client, config):
    return await aiohttp_client(create_app(config))


async def register(client, email: str | None = None) -> tuple[str, dict]:
    response = await client.post("/auth/register", json={
        "email": email or unique_email(), "password": "correct horse battery"})
    assert response.status == 201, await response.text()
    body = await response.json()
    return body["user"]["id"], {"Authorization": f"Bearer {body['token']}"}


@pytest.fixture
async def alice(client):
    return await register(client)


@pytest.fixture
async def bob(client):
    return await register(client)
