import dataclasses

import pytest
from kushim_api.app import create_app
from kushim_api.config import Config

from tests.unit.api.fakes_lockcache import FakeBackends

SECRET = "unit-test-token-secret-0123456789abcdef"  # noqa: S105


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def backends():
    fakes = await FakeBackends().start()
    yield fakes
    await fakes.stop()


@pytest.fixture
def config(backends) -> Config:
    return Config(
        bind_host="127.0.0.1",
        graph_addr=f"127.0.0.1:{backends.graph_port}",
        lockcache_addr=f"127.0.0.1:{backends.lockcache_port}",
        auth_token_secret=SECRET,
        environment="development",
        password_hash_profile="cheapest",  # noqa: S106
        upstream_timeout_ms=2_000,
        max_body_bytes=256 * 1024,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_client(aiohttp_client, config, clock):
    async def make(**overrides):
        return await aiohttp_client(
            create_app(dataclasses.replace(config, **overrides), clock=clock)
        )

    return make


@pytest.fixture
async def client(make_client):
    return await make_client()


async def register(client, email: str = "ada@example.com",
                   password: str = "correct horse"):  # noqa: S107
    response = await client.post("/auth/register", json={"email": email, "password": password})
    assert response.status == 201, await response.text()
    body = await response.json()
    return body["user"]["id"], {"Authorization": f"Bearer {body['token']}"}


async def login(client, password: str, email: str = "ada@example.com") -> int:
    """The status of a login attempt."""
    response = await client.post("/auth/login", json={"email": email, "password": password})
    return response.status


@pytest.fixture
async def alice(client):
    return await register(client, "alice@example.com")


@pytest.fixture
async def bob(client):
    return await register(client, "bob@example.com")
