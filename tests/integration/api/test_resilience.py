"""Degraded dependencies: Redis down is still 200 (uncached), lockcache or graph down is a
fast 503 with Retry-After, never a hang or a 500."""

import asyncio
import dataclasses

import pytest
from kushim_api.app import create_app

from devstack.redis import RedisServer
from tests.integration.api.conftest import register
from tests.integration.api.support import LogBuffer, free_port, start_lockcache, unique_email
from tests.integration.api.test_flows import rec


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path / "redis", free_port(), name="redis-api-test")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_lockcache(own_redis):
    process, addr = start_lockcache(LogBuffer(), redis_url=own_redis.url,
                                    redlock_urls=own_redis.url, name="lockcache-own")
    yield process, addr
    process.stop()


async def test_redis_down_is_degraded_but_everything_works(aiohttp_client, config, own_redis,
                                                           own_lockcache):
    _, lockcache_addr = own_lockcache
    client = await aiohttp_client(create_app(dataclasses.replace(
        config, lockcache_addr=lockcache_addr, login_rate_limit_per_account=2)))
    email = unique_email()
    _, headers = await register(client, email)
    assert (await client.get("/users/me", headers=headers)).status == 200
    ready = await (await client.get("/health/ready")).json()
    assert ready["dependencies"]["redis"] == "up"

    await asyncio.to_thread(own_redis.stop)

    ready = await client.get("/health/ready")
    assert ready.status == 200
    body = await ready.json()
    assert body["status"] == "degraded" and body["dependencies"]["redis"] == "down"
    me = await client.get("/users/me", headers=headers)
    assert me.status == 200
    patched = await client.patch("/users/me", json={"displayName": "still works"},
                                 headers=headers)
    assert patched.status == 200
    assert (await (await client.get("/users/me", headers=headers)).json())["displayName"] == (
        "still works")
    created = await client.post("/records", json=rec("REDIS-DOWN-1"), headers=headers)
    assert created.status == 201
    bad = {"email": email, "password": "wrong password"}
    statuses = [(await client.post("/auth/login", json=bad)).status for _ in range(3)]
    assert statuses == [401, 401, 429]
    redis_report = await client.get("/health/redis")
    assert redis_report.status == 200
    assert (await redis_report.json())["enabled"] is True


async def test_lockcache_down_is_503_for_readiness_and_reads_still_served(
        aiohttp_client, config, own_lockcache):
    process, lockcache_addr = own_lockcache
    client = await aiohttp_client(create_app(dataclasses.replace(
        config, lockcache_addr=lockcache_addr, upstream_timeout_ms=1_000)))
    _, headers = await register(client)
    await asyncio.to_thread(process.stop)
    ready = await client.get("/health/ready")
    assert ready.status == 503
    assert (await ready.json())["dependencies"]["lockcache"] == "down"
    redis_report = await client.get("/health/redis")
    assert redis_report.status == 503 and redis_report.headers["Retry-After"] == "1"
    assert (await client.get("/users/me", headers=headers)).status == 200


async def test_graph_unreachable_is_a_fast_503(aiohttp_client, config):
    client = await aiohttp_client(create_app(dataclasses.replace(
        config, graph_addr=f"127.0.0.1:{free_port()}", upstream_timeout_ms=1_000)))
    for method, path, body in (("post", "/auth/register",
                                {"email": unique_email(), "password": "long enough"}),
                               ("get", "/health/ready", None)):
        response = await client.request(method, path, json=body)
        assert response.status == 503, path
    response = await client.post("/auth/register", json={"email": unique_email(),
                                                         "password": "long enough"})
    assert response.headers["Retry-After"] == "1"
    assert (await response.json())["error"]["code"] == "unavailable"
