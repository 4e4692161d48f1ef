"""The chaos smoke: the scenarios marked SMOKE run as in `make chaos`, with the same checks,
on the suite's PostgreSQL and Neo4j and on a cache Redis and three lock masters of their own,
so whatever they kill belongs to them alone."""

import json
from pathlib import Path

import pytest

from chaos.runner import discover, run_scenario
from chaos.world import Site
from devstack.launch import migrate
from devstack.redis import RedisServer
from tests.integration.api.support import free_port, required_env

pytestmark = pytest.mark.slow

INFRA = ("DATABASE_URL", "NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    infra = {name: required_env(name) for name in INFRA}
    migrate(infra["DATABASE_URL"])
    root: Path = tmp_path_factory.mktemp("chaos")
    servers = {
        "redis-cache": RedisServer(root / "redis-cache", free_port(), name="redis-cache",
                                   maxmemory_policy="allkeys-lru", maxmemory="64mb"),
        **{
            f"redis-lock-{i}": RedisServer(root / f"redis-lock-{i}", free_port(),
                                           name=f"redis-lock-{i}")
            for i in (1, 2, 3)
        },
    }
    try:
        for server in servers.values():
            server.start()
        infra["REDIS_URL"] = servers["redis-cache"].url
        infra["REDLOCK_URLS"] = ",".join(
            servers[f"redis-lock-{i}"].url for i in (1, 2, 3)
        )
        yield Site(infra, servers, free_port, root, smoke=True)
    finally:
        for server in servers.values():
            server.stop()


@pytest.mark.parametrize("scenario", discover(smoke=True), ids=lambda m: m.NAME)
async def test_scenario_is_survived(site, scenario):
    result = await run_scenario(scenario, site)
    assert result["passed"], json.dumps(result, indent=2)
