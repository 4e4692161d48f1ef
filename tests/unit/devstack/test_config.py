"""Generated server configs and the URLs handed to the services."""

# ruff: noqa: S106 -- throwaway passwords of unit-test fixtures

from pathlib import Path

import pytest

from devstack.neo4j import Neo4jServer
from devstack.postgres import PostgresServer
from devstack.redis import RedisServer, RedisTLS, SentinelServer, sentinel_url


def test_redis_config_binds_loopback_and_keeps_policies(tmp_path):
    server = RedisServer(
        tmp_path / "r",
        6400,
        maxmemory_policy="allkeys-lru",
        maxmemory="256mb",
        password="pw",
        replicaof=("127.0.0.1", 6401),
        extra_conf={"save": ["60 1", "300 10"]},
    )
    lines = server.config_lines()
    for expected in [
        "bind 127.0.0.1",
        "protected-mode yes",
        "daemonize no",
        "port 6400",
        "maxmemory-policy allkeys-lru",
        "maxmemory 256mb",
        'requirepass "pw"',
        'masterauth "pw"',
        "replicaof 127.0.0.1 6401",
        "save 60 1",
        "save 300 10",
        f'dir "{tmp_path / "r"}"',
    ]:
        assert expected in lines
    assert server.url == "redis://:pw@127.0.0.1:6400/0"


def test_redis_tls_listens_on_the_tls_port_only(tmp_path):
    tls = RedisTLS(Path("c.pem"), Path("k.pem"), Path("ca.pem"))
    server = RedisServer(tmp_path / "r", 6400, tls=tls)
    lines = server.config_lines()
    assert "port 0" in lines and "tls-port 6400" in lines
    assert server.url == "rediss://127.0.0.1:6400/0"


def test_sentinel_config_and_url(tmp_path):
    sentinels = [
        SentinelServer(tmp_path / f"s{i}", 26380 + i, "mymaster", "127.0.0.1", 6400, 2)
        for i in range(3)
    ]
    lines = sentinels[0].config_lines()
    assert "sentinel monitor mymaster 127.0.0.1 6400 2" in lines
    assert "sentinel down-after-milliseconds mymaster 2000" in lines
    assert sentinel_url(sentinels) == (
        "redis://127.0.0.1:26380,127.0.0.1:26381,127.0.0.1:26382?sentinelMasterId=mymaster"
    )


def test_postgres_url_quotes_the_password(tmp_path):
    server = PostgresServer(tmp_path / "pg", 5999, password="a/b@c")
    assert server.url == "postgresql://kushim:a%2Fb%40c@127.0.0.1:5999/kushim"
    with pytest.raises(ValueError):
        server.create_database("bad; drop")


def test_neo4j_password_must_satisfy_neo4j():
    with pytest.raises(ValueError, match="8 characters"):
        Neo4jServer("/nonexistent", 7687, "short")
