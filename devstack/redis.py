"""Redis and Redis Sentinel as child processes, each with a generated config in its data dir."""

import shutil
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from devstack.probes import HOST, redis_ping
from devstack.process import ServerProcess, StartError


@dataclass(frozen=True)
class RedisTLS:
    """TLS for a Redis server: it then listens with TLS only (port 0, tls-port PORT)."""

    cert_file: Path
    key_file: Path
    ca_file: Path
    auth_clients: str = "no"  # "yes" makes clients present a certificate too

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.check_hostname = False  # local certificates rarely name 127.0.0.1
        if self.auth_clients != "no":
            context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context


def _quoted(value: object) -> str:
    """A config value as Redis's parser reads it: double-quoted with escapes."""
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _listen_lines(port: int, tls: RedisTLS | None) -> list[str]:
    """Plaintext on `port`, or TLS only on it (and TLS to the servers it connects to)."""
    if tls is None:
        return [f"port {port}"]
    return [
        "port 0",
        f"tls-port {port}",
        f"tls-cert-file {_quoted(tls.cert_file)}",
        f"tls-key-file {_quoted(tls.key_file)}",
        f"tls-ca-cert-file {_quoted(tls.ca_file)}",
        f"tls-auth-clients {tls.auth_clients}",
        "tls-replication yes",
    ]


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StartError(f"{name} is not installed; run python -m devstack install")
    return path


class _RedisProcess(ServerProcess):
    """What a Redis server and a sentinel share: a config file, a binary, a PING."""

    binary = "redis-server"
    config_path: Path
    password: str | None
    tls: RedisTLS | None

    def _command(self) -> Sequence[str]:
        return [_binary(self.binary), str(self.config_path)]

    def _server_lines(self) -> list[str]:
        return [
            f"bind {HOST}",
            "protected-mode yes",
            *_listen_lines(self.port, self.tls),
            "daemonize no",
            f"dir {_quoted(self.datadir)}",
            'logfile ""',
        ]

    def _ready(self) -> bool:
        context = self.tls.client_context() if self.tls else None
        return redis_ping(self.port, password=self.password, tls_context=context)


class RedisServer(_RedisProcess):
    """One redis-server. The config is regenerated at every start from the constructor's
    arguments, so a server always runs as the test that created it asked. `extra_conf` lines
    are written verbatim (`{"save": "60 1"}`; a list value repeats the directive)."""

    def __init__(
        self,
        datadir: Path | str,
        port: int,
        *,
        maxmemory_policy: str = "noeviction",
        maxmemory: str | None = None,
        password: str | None = None,
        appendonly: bool = False,
        extra_conf: Mapping[str, object] | None = None,
        replicaof: tuple[str, int] | None = None,
        tls: RedisTLS | None = None,
        name: str = "redis",
    ) -> None:
        super().__init__(name, datadir, port)
        self.config_path = self.datadir / "redis.conf"
        self.maxmemory_policy = maxmemory_policy
        self.maxmemory = maxmemory
        self.password = password
        self.appendonly = appendonly
        self.extra_conf = dict(extra_conf or {})
        self.replicaof = replicaof
        self.tls = tls

    @property
    def url(self) -> str:
        scheme = "rediss" if self.tls else "redis"
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"{scheme}://{auth}{HOST}:{self.port}/0"

    def config_lines(self) -> list[str]:
        lines = [
            *self._server_lines(),
            # No RDB snapshots unless asked: local data is disposable and a fork per save
            # costs CPU that the 2-core machine needs for tests.
            'save ""',
            f"appendonly {'yes' if self.appendonly else 'no'}",
            f"maxmemory-policy {self.maxmemory_policy}",
        ]
        if self.maxmemory:
            lines.append(f"maxmemory {self.maxmemory}")
        if self.password:
            lines += [
                f"requirepass {_quoted(self.password)}",
                f"masterauth {_quoted(self.password)}",
            ]
        if self.replicaof:
            host, port = self.replicaof
            lines.append(f"replicaof {host} {port}")
        for key, value in self.extra_conf.items():
            values = value if isinstance(value, list | tuple) else [value]
            lines += [f"{key} {item}" for item in values]
        return lines

    def _prepare(self) -> None:
        super()._prepare()
        self.config_path.write_text("\n".join(self.config_lines()) + "\n")


class SentinelServer(_RedisProcess):
    """One redis-sentinel watching `master_name`. Sentinel rewrites its own config with what
    it learns (replicas, epochs, a failed-over master), so the config is written only on the
    first start: a restarted sentinel resumes with that knowledge, as a real one would.
    Defaults detect failure in 2 s (Redis's own default is 30 s, too slow for tests).
    `password` is the sentinel's own (requirepass, and sentinel-pass towards the other
    sentinels, which share it); `master_password` the data servers'. With `tls` it listens
    with TLS only and reaches the servers and the other sentinels over TLS."""

    binary = "redis-sentinel"

    def __init__(
        self,
        datadir: Path | str,
        port: int,
        master_name: str,
        master_host: str,
        master_port: int,
        quorum: int,
        *,
        down_after_ms: int = 2000,
        failover_timeout_ms: int = 10000,
        master_password: str | None = None,
        tls: RedisTLS | None = None,
        password: str | None = None,
        name: str = "sentinel",
    ) -> None:
        super().__init__(name, datadir, port)
        self.master_name = master_name
        self.config_path = self.datadir / "sentinel.conf"
        self.master_host = master_host
        self.master_port = master_port
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.master_password = master_password
        self.password = password
        self.tls = tls

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://{HOST}:{self.port}"

    def config_lines(self) -> list[str]:
        name = self.master_name
        lines = [
            *self._server_lines(),
            f"sentinel monitor {name} {self.master_host} {self.master_port} {self.quorum}",
            f"sentinel down-after-milliseconds {name} {self.down_after_ms}",
            f"sentinel failover-timeout {name} {self.failover_timeout_ms}",
            f"sentinel parallel-syncs {name} 1",
        ]
        if self.master_password:
            lines.append(f"sentinel auth-pass {name} {_quoted(self.master_password)}")
        if self.password:
            lines += [
                f"requirepass {_quoted(self.password)}",
                f"sentinel sentinel-pass {_quoted(self.password)}",
            ]
        return lines

    def _prepare(self) -> None:
        super()._prepare()
        if not self.config_path.exists():
            self.config_path.write_text("\n".join(self.config_lines()) + "\n")


def sentinel_url(sentinels: Sequence[SentinelServer], password: str | None = None) -> str:
    """REDIS_URL in the Sentinel form of ARCHITECTURE.md:
    redis://[:password@]127.0.0.1:p1,127.0.0.1:p2?sentinelMasterId=name"""
    if not sentinels:
        raise ValueError("at least one sentinel is needed")
    auth = f":{quote(password, safe='')}@" if password else ""
    hosts = ",".join(f"{HOST}:{s.port}" for s in sentinels)
    return f"redis://{auth}{hosts}?sentinelMasterId={sentinels[0].master_name}"
