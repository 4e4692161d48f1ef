"""Every REDIS_URL form, a rejected password that heals, Sentinel failover."""

import logging
import signal
import subprocess
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_lockcache.connection import FAILED_LINE

from tests.integration.lockcache.support import eventually, free_port, unique

DEADLINE = 10
REPO = Path(__file__).resolve().parents[3]
ADMIN_PASSWORD = unique("pw")
NOT_CONFIGURED = "Redis not configured - caching and distributed locking disabled"


async def round_trip(client) -> None:
    key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=unique("u"))
    stored = await client.cache.Set(pb.SetCacheRequest(key=key, value=b"v"), timeout=DEADLINE)
    assert stored.stored, stored.message
    hit = await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
    assert (hit.status, hit.value) == (pb.HIT, b"v")
    lock = await client.locks.Acquire(
        pb.AcquireLockRequest(resources=[unique("r:")]), timeout=DEADLINE
    )
    assert lock.outcome == pb.ACQUIRED, lock.message


async def test_password(lockcache_factory, redis_servers):
    server = redis_servers(password="s3cret pass")  # noqa: S106
    await round_trip(await lockcache_factory({"REDIS_URL": server.url}))


async def test_user_password_and_database(lockcache_factory, redis_servers):
    server = redis_servers(
        password=ADMIN_PASSWORD, extra_conf={"user": "app on >app-pw ~* &* +@all"}
    )
    url = f"redis://app:app-pw@127.0.0.1:{server.port}/3"
    client = await lockcache_factory({"REDIS_URL": url})
    await round_trip(client)
    direct = aioredis.from_url(url)
    try:
        assert await direct.dbsize() > 0
        assert await direct.execute_command("SELECT", 0) and await direct.dbsize() == 0
    finally:
        await direct.aclose()


@pytest.mark.parametrize("wrong", ["redis://:wrong@127.0.0.1:{port}", "redis://127.0.0.1:{port}"])
async def test_a_rejected_password_degrades_and_heals_once_the_server_takes_it(
    lockcache_factory, redis_servers, direct, caplog, wrong
):
    caplog.set_level(logging.INFO, logger="kushim_lockcache")
    server = redis_servers(password=ADMIN_PASSWORD)
    client = await lockcache_factory({"REDIS_URL": wrong.format(port=server.port)})
    key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=unique("u"))
    for _ in range(3):
        got = await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
        assert got.status == pb.CACHE_UNAVAILABLE
    stored = await client.cache.Set(pb.SetCacheRequest(key=key, value=b"v"), timeout=DEADLINE)
    assert not stored.stored and "password rejected" in stored.message
    lock = await client.locks.Acquire(
        pb.AcquireLockRequest(resources=[unique("r:")], retry_count=0), timeout=DEADLINE
    )
    assert lock.outcome == pb.UNAVAILABLE
    stats = await client.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.enabled and not stats.connected
    failures = [r for r in caplog.records if r.getMessage().startswith(FAILED_LINE)]
    assert len(failures) == 1  # once per outage, not per call
    assert failures[0].levelno == logging.ERROR
    assert f"127.0.0.1:{server.port}" in failures[0].getMessage()
    assert "WRONGPASS" in failures[0].getMessage() or "NOAUTH" in failures[0].getMessage()
    assert ADMIN_PASSWORD not in caplog.text and ":wrong@" not in caplog.text

    # The password is fixed on the server's side (a rotated Secret): no restart needed.
    admin = direct(server)
    await admin.config_set("requirepass", "wrong" if ":wrong@" in wrong else "")

    async def healed() -> bool:
        answer = await client.cache.Set(pb.SetCacheRequest(key=key, value=b"v"), timeout=DEADLINE)
        return answer.stored

    await eventually(healed)
    await round_trip(client)
    assert caplog.text.count("Redis connected successfully") == 1


def make_certificates(directory: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1."""
    files = {n: directory / f"{n}" for n in ("ca.key", "ca.crt", "srv.key", "srv.csr", "srv.crt")}
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: S603, S607

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=kushim test CA", "-keyout", str(files["ca.key"]),
            "-out", str(files["ca.crt"]))  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", str(files["srv.key"]), "-out", str(files["srv.csr"]))  # fmt: skip
    openssl("x509", "-req", "-in", str(files["srv.csr"]), "-CA", str(files["ca.crt"]),
            "-CAkey", str(files["ca.key"]), "-CAcreateserial", "-days", "1",
            "-extfile", str(ext), "-out", str(files["srv.crt"]))  # fmt: skip
    return files


def tls_files(cert_file: Path, key_file: Path, ca_file: Path):
    from devstack.redis import RedisTLS

    return RedisTLS(cert_file=cert_file, key_file=key_file, ca_file=ca_file)


async def test_tls_with_ca_from_environment(lockcache_factory, redis_servers, tmp_path):
    certs = make_certificates(tmp_path)
    server = redis_servers(
        password=ADMIN_PASSWORD,
        tls=tls_files(
            cert_file=certs["srv.crt"], key_file=certs["srv.key"], ca_file=certs["ca.crt"]
        ),
    )
    assert server.url.startswith("rediss://")
    client = await lockcache_factory(
        {"REDIS_URL": server.url, "REDIS_TLS_CA_CERT": str(certs["ca.crt"])}
    )
    await round_trip(client)


async def test_tls_without_the_ca_is_not_trusted(lockcache_factory, redis_servers, tmp_path):
    certs = make_certificates(tmp_path)
    server = redis_servers(
        tls=tls_files(
            cert_file=certs["srv.crt"], key_file=certs["srv.key"], ca_file=certs["ca.crt"]
        )
    )
    client = await lockcache_factory({"REDIS_URL": server.url})
    key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=unique("u"))
    answer = await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
    assert answer.status == pb.CACHE_UNAVAILABLE


@pytest.mark.slow
async def test_sentinel_failover(lockcache_factory, redis_servers, tmp_path):
    from devstack.redis import SentinelServer, sentinel_url

    master = redis_servers()
    replica = redis_servers(replicaof=("127.0.0.1", master.port))
    sentinels = [
        SentinelServer(
            tmp_path / f"sentinel{i}",
            free_port(),
            "mymaster",
            "127.0.0.1",
            master.port,
            2,
            down_after_ms=1000,
            failover_timeout_ms=3000,
        )  # fmt: skip
        for i in range(3)
    ]
    try:
        for sentinel in sentinels:
            sentinel.start()
        probe = aioredis.Redis(port=sentinels[0].port)

        async def replica_known():
            return await probe.execute_command("SENTINEL", "REPLICAS", "mymaster")

        await eventually(replica_known, within=15)
        client = await lockcache_factory({"REDIS_URL": sentinel_url(sentinels)})
        await round_trip(client)

        master.kill(signal.SIGKILL)

        async def promoted():
            address = await probe.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
            return int(address[1]) == replica.port

        await eventually(promoted, within=30, interval=0.2)

        async def cache_works():
            key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=unique("u"))
            stored = await client.cache.Set(
                pb.SetCacheRequest(key=key, value=b"after"), timeout=DEADLINE
            )
            if not stored.stored:
                return False
            hit = await client.cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
            return hit.value == b"after"

        await eventually(cache_works, within=15, interval=0.2)
        await round_trip(client)
        await probe.aclose()
    finally:
        for sentinel in sentinels:
            sentinel.stop()
