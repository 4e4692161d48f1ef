"""Redis as in production: TLS only, client certificates required (tls-auth-clients yes), a
password, and Sentinels that are themselves on TLS with a password of their own. lockcache
locks, caches and counts through them; a client in plaintext, without a certificate or without
the sentinels' password is refused."""

import ssl
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ConnectionError, ResponseError

from devstack.redis import RedisTLS, SentinelServer, sentinel_url
from devstack.tls import ServiceCerts, ensure_certs
from tests.integration.lockcache.support import eventually, free_port, required_env, unique
from tests.integration.lockcache.test_connections import DEADLINE, round_trip

DATA_PASSWORD = unique("data-pw")
SENTINEL_PASSWORD = unique("sentinel-pw")
MASTER = "kushim-lock"
# One attempt: redis-py retries a refused connection three times with backoff by default.
ONCE = {"socket_timeout": 2, "retry": Retry(NoBackoff(), 0)}


@pytest.fixture(scope="module")
def certs() -> ServiceCerts:
    # The local CA devstack makes for the services' mutual TLS; it also signs Redis's certificate.
    return ensure_certs(Path(required_env("KUSHIM_TEST_GRPC_TLS_DIR")))


def server_tls(certs: ServiceCerts) -> RedisTLS:
    return RedisTLS(
        cert_file=certs.cert("redis"), key_file=certs.key("redis"), ca_file=certs.ca,
        auth_clients="yes",
    )  # fmt: skip


def client_env(certs: ServiceCerts) -> dict[str, str]:
    return {
        "REDIS_TLS_CA_CERT": str(certs.ca),
        "REDIS_TLS_CERT": str(certs.cert("lockcache")),
        "REDIS_TLS_KEY": str(certs.key("lockcache")),
    }


def client_kwargs(certs: ServiceCerts, *, certificate: bool = True) -> dict:
    kwargs = {"ssl": True, "ssl_ca_certs": str(certs.ca), **ONCE}
    if certificate:
        kwargs |= {"ssl_certfile": str(certs.cert("lockcache")),
                   "ssl_keyfile": str(certs.key("lockcache"))}  # fmt: skip
    return kwargs


async def use_everything(client) -> None:
    """A cached value, a lock and a rate-limit counter, each through the servers."""
    await round_trip(client)
    counted = await client.cache.Increment(
        pb.IncrementCounterRequest(
            key=pb.CacheKey(namespace=pb.RATE_LIMIT, subject=unique("login:ip:")),
            window_seconds=60,
        ),
        timeout=DEADLINE,
    )
    assert counted.available and counted.count == 1


async def refused(client: aioredis.Redis) -> BaseException:
    try:
        with pytest.raises((ConnectionError, AuthenticationError, ResponseError, ssl.SSLError,
                            OSError)) as error:  # fmt: skip
            await client.ping()
        return error.value
    finally:
        await client.aclose()


async def test_lockcache_uses_a_tls_redis_that_requires_client_certificates(
    lockcache_factory, redis_servers, certs
):
    server = redis_servers(password=DATA_PASSWORD, tls=server_tls(certs))
    assert server.url.startswith("rediss://")
    client = await lockcache_factory({"REDIS_URL": server.url} | client_env(certs))
    await use_everything(client)


async def test_a_tls_redis_refuses_plaintext_and_clients_without_a_certificate(
    redis_servers, certs
):
    server = redis_servers(password=DATA_PASSWORD, tls=server_tls(certs))
    port = server.port
    await refused(aioredis.Redis(port=port, password=DATA_PASSWORD, **ONCE))
    await refused(
        aioredis.Redis(port=port, password=DATA_PASSWORD, **client_kwargs(certs, certificate=False))
    )
    wrong = await refused(aioredis.Redis(port=port, password="wrong", **client_kwargs(certs)))  # noqa: S106
    assert isinstance(wrong, AuthenticationError)
    good = aioredis.Redis(port=port, password=DATA_PASSWORD, **client_kwargs(certs))
    assert await good.ping()
    await good.aclose()


@pytest.fixture
async def sentinels(redis_servers, certs, tmp_path):
    """A TLS master with a password, its replica, and three TLS sentinels with their own
    password, the replica known to them."""
    master = redis_servers(password=DATA_PASSWORD, tls=server_tls(certs))
    redis_servers(
        password=DATA_PASSWORD, tls=server_tls(certs), replicaof=("127.0.0.1", master.port)
    )
    started = [
        SentinelServer(
            tmp_path / f"sentinel{i}", free_port(), MASTER, "127.0.0.1", master.port, 2,
            master_password=DATA_PASSWORD, password=SENTINEL_PASSWORD, tls=server_tls(certs),
        )  # fmt: skip
        for i in range(3)
    ]
    try:
        for sentinel in started:
            sentinel.start()
        probe = aioredis.Redis(
            port=started[0].port, password=SENTINEL_PASSWORD, **client_kwargs(certs)
        )

        async def replica_known():
            return await probe.execute_command("SENTINEL", "REPLICAS", MASTER)

        await eventually(replica_known, within=15)
        await probe.aclose()
        yield started
    finally:
        for sentinel in started:
            sentinel.stop()


async def test_lockcache_follows_tls_sentinels_with_a_password(
    lockcache_factory, sentinels, certs
):
    url = sentinel_url(sentinels, DATA_PASSWORD).replace("redis://", "rediss://", 1)
    env = {"REDIS_URL": url, "REDIS_SENTINEL_PASSWORD": SENTINEL_PASSWORD} | client_env(certs)
    client = await lockcache_factory(env)
    await use_everything(client)


async def test_sentinels_refuse_clients_without_their_password(
    lockcache_factory, sentinels, certs
):
    port = sentinels[0].port
    unauthenticated = await refused(aioredis.Redis(port=port, **client_kwargs(certs)))
    assert isinstance(unauthenticated, AuthenticationError)
    await refused(aioredis.Redis(port=port, password=SENTINEL_PASSWORD, **ONCE))
    # lockcache without the sentinels' password cannot find the master: nothing is cached.
    url = sentinel_url(sentinels, DATA_PASSWORD).replace("redis://", "rediss://", 1)
    client = await lockcache_factory({"REDIS_URL": url} | client_env(certs))
    key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=unique("u"))
    stored = await client.cache.Set(pb.SetCacheRequest(key=key, value=b"v"), timeout=DEADLINE)
    assert not stored.stored
    assert (await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)).status == (
        pb.CACHE_UNAVAILABLE
    )
