"""The Redis configurations and start scripts of the overlays, run for real on loopback.

Each script runs as its container would, with the container paths moved into a
temporary directory, `hostname` answering the pod's name, and the servers bound
to 127.0.0.1 on free ports. The prod servers speak TLS only, with certificates of
a local CA made as devstack makes its own (the "redis" one for the servers, the
"lockcache" one for clients). Cluster DNS names do not resolve here; where a test
needs a peer, the script's peer name is replaced by 127.0.0.1.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from devstack.tls import ServiceCerts, ensure_certs
from tests.deploy.support import K8S, Rendered, containers

PASSWORD = "test-password-0123456789"  # noqa: S105
CONFIG_COMMAND = "CONFIG_b7f2e1"
PROD = K8S / "overlays" / "prod" / "redis"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Scripted:
    """One container's start script, run in a sandbox directory. A `redis-server`
    shim first on PATH appends the loopback port, bind and data dir."""

    def __init__(
        self,
        tmp: Path,
        pod: str,
        script: str,
        replacements: dict[str, str],
        certs: ServiceCerts | None,
    ) -> None:
        self.dir = tmp / pod
        tls_dir = self.dir / "redis-tls"
        tls_dir.mkdir(parents=True, exist_ok=True)
        self.tls = certs is not None
        if certs is not None:
            for name, source in (("ca.crt", certs.ca), ("tls.crt", certs.cert("redis")),
                                 ("tls.key", certs.key("redis"))):  # fmt: skip
                shutil.copy(source, tls_dir / name)
        for sub in ("run", "etc", "data", "bin", "sentinel"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "etc" / "lockcache.acl").write_text((PROD / "lockcache.acl").read_text())
        for conf in (PROD / "cache.conf", PROD / "lock.conf", K8S / "overlays/dev/redis.conf"):
            text = conf.read_text().replace("dir /data", f"dir {self.dir / 'data'}")
            text = text.replace("/run/redis", str(self.dir / "run"))
            text = text.replace("/etc/redis-tls", str(tls_dir))
            (self.dir / "etc" / conf.name).write_text(text)
        self.port = free_port()
        real = shutil.which("redis-server")
        self._shim("hostname", f"echo {pod}")
        listen = f"--port 0 --tls-port {self.port}" if self.tls else f"--port {self.port}"
        self._shim(
            "redis-server",
            f'exec {real} "$@" {listen} --bind 127.0.0.1 --dir {self.dir / "data"}',
        )
        replacements = {
            "/run/redis": str(self.dir / "run"),
            "/run/sentinel": str(self.dir / "sentinel"),
            "/etc/redis-tls": str(tls_dir),
            "/etc/redis/": str(self.dir / "etc") + "/",
            **replacements,
        }
        for old, new in replacements.items():
            assert old in script or old.startswith("/"), f"{pod}: {old!r} not in the script"
            script = script.replace(old, new)
        self.script = script
        self.proc: subprocess.Popen | None = None
        self._out = None

    def _shim(self, name: str, body: str) -> None:
        path = self.dir / "bin" / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)

    def start(self, env: dict[str, str]) -> None:
        self._out = (self.dir / "out.log").open("w")
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
            ["/bin/sh", "-c", self.script],
            env={
                "PATH": f"{self.dir / 'bin'}:{os.environ['PATH']}",
                "POD_NAMESPACE": "kushim",
                **env,
            },
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.dir / "out.log").read_text()[-2000:]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"port {self.port} did not open within 15 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._out is not None:
            self._out.close()


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> ServiceCerts:
    return ensure_certs(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def sandbox(tmp_path, certs):
    for binary in ("redis-server", "redis-cli"):
        if shutil.which(binary) is None:
            pytest.fail(f"{binary} is not installed (`make test` installs it through devstack)")
    started: list[Scripted] = []

    def make(pod: str, script: str, *, tls: bool = True, **replacements: str) -> Scripted:
        s = Scripted(tmp_path, pod, script, replacements, certs if tls else None)
        started.append(s)
        return s

    yield make
    for s in reversed(started):
        s.stop()


def prod_script(name: str) -> str:
    return (PROD / name).read_text()


def client_tls(certs: ServiceCerts | None) -> dict:
    """A client's TLS settings: lockcache's certificate of the local CA."""
    if certs is None:
        return {}
    return {"ssl": True, "ssl_ca_certs": str(certs.ca),
            "ssl_certfile": str(certs.cert("lockcache")),
            "ssl_keyfile": str(certs.key("lockcache"))}  # fmt: skip


def client(
    port: int, password: str | None = PASSWORD, certs: ServiceCerts | None = None, **options
) -> redis.Redis:
    return redis.Redis(
        port=port,
        password=password,
        socket_timeout=5,
        decode_responses=True,
        retry=Retry(NoBackoff(), 0),
        **client_tls(certs),
        **options,
    )


LOCKCACHE_PASSWORD = "lockcache-password-0123456789"  # noqa: S105
SENTINEL_PASSWORD = "sentinel-password-0123456789"  # noqa: S105


def secrets() -> dict[str, str]:
    return {
        "REDIS_PASSWORD": PASSWORD,
        "REDIS_CONFIG_COMMAND": CONFIG_COMMAND,
        "LOCKCACHE_REDIS_PASSWORD": LOCKCACHE_PASSWORD,
        "SENTINEL_PASSWORD": SENTINEL_PASSWORD,
    }


def assert_lockcache_user_is_limited(port: int, certs: ServiceCerts) -> None:
    """The ACL user lockcache signs in as may run its scripts, and nothing that changes or
    reads the server's configuration (tests/integration/lockcache/test_acl.py runs lockcache
    itself as this user)."""
    r = redis.Redis(
        host="127.0.0.1", port=port, username="lockcache", password=LOCKCACHE_PASSWORD,
        socket_timeout=5, retry=Retry(NoBackoff(), 0), **client_tls(certs),
    )  # fmt: skip
    assert r.eval("return redis.call('SET', KEYS[1], ARGV[1])", 1, "acl:probe", "1")
    for command in (("KEYS", "*"), (CONFIG_COMMAND, "GET", "*"), ("SHUTDOWN",)):
        with pytest.raises(redis.exceptions.NoPermissionError):
            r.execute_command(*command)


def conf_get(r: redis.Redis, command: str, key: str) -> str:
    got = r.execute_command(command, "GET", key)
    return got[key] if isinstance(got, dict) else got[1]


def assert_hardened(r: redis.Redis, policy: str) -> None:
    for command in ("FLUSHALL", "FLUSHDB", "CONFIG GET maxmemory"):
        with pytest.raises(redis.ResponseError, match="unknown command"):
            r.execute_command(command)
    assert conf_get(r, CONFIG_COMMAND, "maxmemory-policy") == policy
    assert conf_get(r, CONFIG_COMMAND, "protected-mode") == "yes"


def assert_tls_only(port: int, certs: ServiceCerts, password: str = PASSWORD) -> None:
    """Plaintext and TLS without a client certificate are refused; so is a wrong password."""
    with pytest.raises(redis.ConnectionError):
        client(port, password, socket_connect_timeout=2).ping()
    no_certificate = {"ssl": True, "ssl_ca_certs": str(certs.ca)}
    with pytest.raises(redis.ConnectionError):
        client(port, password, socket_connect_timeout=2, **no_certificate).ping()
    with pytest.raises(redis.AuthenticationError):
        client(port, None, certs).set("k", "v")
    with pytest.raises(redis.AuthenticationError):
        client(port, "wrong-" + password, certs).ping()


def test_lock_master(sandbox, certs):
    lock = sandbox("redis-lock-0", prod_script("lock-start.sh"))
    lock.start(secrets())
    assert_tls_only(lock.port, certs)
    r = client(lock.port, certs=certs)
    assert_hardened(r, "noeviction")
    assert_lockcache_user_is_limited(lock.port, certs)
    assert conf_get(r, CONFIG_COMMAND, "appendonly") == "yes"
    assert conf_get(r, CONFIG_COMMAND, "appendfsync") == "always"
    assert conf_get(r, CONFIG_COMMAND, "tls-auth-clients") == "yes"
    assert conf_get(r, CONFIG_COMMAND, "port") == "0"


def test_cache_master_replica_and_sentinel(sandbox, certs):
    master = sandbox("redis-cache-0", prod_script("cache-start.sh"))
    master.start(secrets())
    assert_tls_only(master.port, certs)
    r = client(master.port, certs=certs)
    assert_hardened(r, "allkeys-lru")
    assert_lockcache_user_is_limited(master.port, certs)
    assert r.info("replication")["role"] == "master"
    assert conf_get(r, CONFIG_COMMAND, "tls-replication") == "yes"

    # A second cache pod, with no Sentinel answering, follows redis-cache-0 over TLS.
    replica = sandbox(
        "redis-cache-1",
        prod_script("cache-start.sh"),
        **{"redis-cache-0.redis-cache.$ns.svc": "127.0.0.1", "%s 6379": f"%s {master.port}"},
    )
    replica.start(secrets())
    r.set("seen-by-replica", "1")
    deadline = time.monotonic() + 15
    info = {}
    while time.monotonic() < deadline:
        info = client(replica.port, certs=certs).info("replication")
        if info.get("master_link_status") == "up":
            break
        time.sleep(0.1)
    assert info["role"] == "slave" and info.get("master_link_status") == "up", info

    # A Sentinel monitors the master over TLS through its password and renamed CONFIG, and
    # answers only clients with a certificate and the Sentinels' own password.
    sentinel = sandbox(
        "redis-sentinel-0",
        prod_script("sentinel-start.sh"),
        **{
            'master="redis-cache-0.redis-cache.$ns.svc"': 'master="127.0.0.1"',
            "$master 6379 2": f"$master {master.port} 2",
        },
    )
    sentinel.start(secrets())
    assert_tls_only(sentinel.port, certs, SENTINEL_PASSWORD)
    with pytest.raises(redis.AuthenticationError):  # the data password is not the Sentinels'
        client(sentinel.port, PASSWORD, certs).ping()
    s = client(sentinel.port, SENTINEL_PASSWORD, certs)
    deadline = time.monotonic() + 15
    state = {}
    while time.monotonic() < deadline:
        state = s.sentinel_master("mymaster")
        if state.get("num-slaves") == 1 and state.get("role-reported") == "master":
            break
        time.sleep(0.2)
    assert state.get("role-reported") == "master", state
    assert state.get("num-slaves") == 1, state
    assert "disconnected" not in state.get("flags", ""), state


def test_dev_redis(sandbox, rendered: dict[str, Rendered]):
    (container,) = containers(rendered["dev"].get("StatefulSet", "redis"))
    assert container["command"][:2] == ["sh", "-c"]
    dev = sandbox("redis-0", container["command"][2], tls=False)
    dev.start({"REDIS_PASSWORD": PASSWORD})
    r = client(dev.port)
    assert conf_get(r, "CONFIG", "maxmemory-policy") == "noeviction"
    assert conf_get(r, "CONFIG", "appendonly") == "yes"
    with pytest.raises(redis.AuthenticationError):
        client(dev.port, password=None).set("k", "v")
