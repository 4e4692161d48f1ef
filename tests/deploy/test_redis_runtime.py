"""The Redis configurations and start scripts of the overlays, run for real on loopback.

Each script runs as its container would, with the container paths moved into a
temporary directory, `hostname` answering the pod's name, and the servers bound
to 127.0.0.1 on free ports. Cluster DNS names do not resolve here; where a test
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

    def __init__(self, tmp: Path, pod: str, script: str, replacements: dict[str, str]) -> None:
        self.dir = tmp / pod
        for sub in ("run", "etc", "data", "bin", "sentinel"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "etc" / "lockcache.acl").write_text((PROD / "lockcache.acl").read_text())
        for conf in (PROD / "cache.conf", PROD / "lock.conf", K8S / "overlays/dev/redis.conf"):
            text = conf.read_text().replace("dir /data", f"dir {self.dir / 'data'}")
            text = text.replace("/run/redis", str(self.dir / "run"))
            (self.dir / "etc" / conf.name).write_text(text)
        self.port = free_port()
        real = shutil.which("redis-server")
        self._shim("hostname", f"echo {pod}")
        self._shim(
            "redis-server",
            f'exec {real} "$@" --port {self.port} --bind 127.0.0.1 --dir {self.dir / "data"}',
        )
        replacements = {
            "/run/redis": str(self.dir / "run"),
            "/run/sentinel": str(self.dir / "sentinel"),
            "/etc/redis": str(self.dir / "etc"),
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


@pytest.fixture
def sandbox(tmp_path):
    for binary in ("redis-server", "redis-cli"):
        if shutil.which(binary) is None:
            pytest.fail(f"{binary} is not installed (`make test` installs it through devstack)")
    started: list[Scripted] = []

    def make(pod: str, script: str, **replacements: str) -> Scripted:
        s = Scripted(tmp_path, pod, script, replacements)
        started.append(s)
        return s

    yield make
    for s in reversed(started):
        s.stop()


def prod_script(name: str) -> str:
    return (PROD / name).read_text()


def client(port: int, password: str | None = PASSWORD) -> redis.Redis:
    return redis.Redis(
        port=port,
        password=password,
        socket_timeout=5,
        decode_responses=True,
        retry=Retry(NoBackoff(), 0),
    )


LOCKCACHE_PASSWORD = "lockcache-password-0123456789"  # noqa: S105


def secrets() -> dict[str, str]:
    return {
        "REDIS_PASSWORD": PASSWORD,
        "REDIS_CONFIG_COMMAND": CONFIG_COMMAND,
        "LOCKCACHE_REDIS_PASSWORD": LOCKCACHE_PASSWORD,
    }


def assert_lockcache_user_is_limited(port: int) -> None:
    """The ACL user lockcache signs in as may run its scripts, and nothing that changes or
    reads the server's configuration (tests/integration/lockcache/test_acl.py runs lockcache
    itself as this user)."""
    r = redis.Redis(
        host="127.0.0.1", port=port, username="lockcache", password=LOCKCACHE_PASSWORD,
        socket_timeout=5, retry=Retry(NoBackoff(), 0),
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


def test_lock_master(sandbox):
    lock = sandbox("redis-lock-0", prod_script("lock-start.sh"))
    lock.start(secrets())
    with pytest.raises(redis.AuthenticationError):
        client(lock.port, password=None).set("k", "v")
    r = client(lock.port)
    assert_hardened(r, "noeviction")
    assert_lockcache_user_is_limited(lock.port)
    assert conf_get(r, CONFIG_COMMAND, "appendonly") == "yes"
    assert conf_get(r, CONFIG_COMMAND, "appendfsync") == "always"


def test_cache_master_replica_and_sentinel(sandbox):
    master = sandbox("redis-cache-0", prod_script("cache-start.sh"))
    master.start(secrets())
    r = client(master.port)
    assert_hardened(r, "allkeys-lru")
    assert_lockcache_user_is_limited(master.port)
    assert r.info("replication")["role"] == "master"

    # A second cache pod, with no Sentinel answering, follows redis-cache-0.
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
        info = client(replica.port).info("replication")
        if info.get("master_link_status") == "up":
            break
        time.sleep(0.1)
    assert info["role"] == "slave" and info.get("master_link_status") == "up", info

    # A Sentinel monitors the master through its password and renamed CONFIG.
    sentinel = sandbox(
        "redis-sentinel-0",
        prod_script("sentinel-start.sh"),
        **{
            'master="redis-cache-0.redis-cache.$ns.svc"': 'master="127.0.0.1"',
            "$master 6379 2": f"$master {master.port} 2",
        },
    )
    sentinel.start(secrets())
    s = client(sentinel.port, password=None)
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
    dev = sandbox("redis-0", container["command"][2])
    dev.start({"REDIS_PASSWORD": PASSWORD})
    r = client(dev.port)
    assert conf_get(r, "CONFIG", "maxmemory-policy") == "noeviction"
    assert conf_get(r, "CONFIG", "appendonly") == "yes"
    with pytest.raises(redis.AuthenticationError):
        client(dev.port, password=None).set("k", "v")
