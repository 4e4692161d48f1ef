"""Starting one Kushim service (`python -m kushim_<service>`) as a child process: the one way
`devstack run`, the integration suites, chaos and bench do it, with ServiceProcess underneath.
Also what such a start needs: an isolated environment, the gateway's readiness probe, a buffer
that keeps what the service prints, and the migrations run beforehand."""

# ruff: noqa: S603 -- starting processes from fixed argv lists (no shell) is the job here

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TextIO

from devstack.paths import REPO_ROOT
from devstack.probes import HOST
from devstack.services import ServiceProcess

PYTHONPATH = os.pathsep.join(
    str(REPO_ROOT / p) for p in ("gen", "services/api", "services/lockcache", "services/graph",
                                 "services/common", "cli")
)
MIGRATE_MODULE = "kushim_graph.migrate"


def service_process(service: str, env: Mapping[str, str], ready: Callable[[], bool], *,
                    name: str | None = None, out: TextIO = sys.stdout,
                    start_timeout: float = 60.0, stop_timeout: float = 15.0) -> ServiceProcess:
    """`python -m kushim_<service>` (lockcache, graph, api), not started yet; `name` prefixes
    its output lines (default: the service)."""
    return ServiceProcess(
        name or service, [sys.executable, "-m", f"kushim_{service}"], env, ready,
        out=out, start_timeout=start_timeout, stop_timeout=stop_timeout,
    )  # fmt: skip


def start_service(service: str, env: Mapping[str, str], ready: Callable[[], bool],
                  **options) -> ServiceProcess:
    """Start `python -m kushim_<service>` and return once `ready()` is true; StartError (one
    line naming it and its last output) when it exits or is not ready in time. `options` are
    service_process's."""
    process = service_process(service, env, ready, **options)
    process.start()
    return process


class LogBuffer:
    """A TextIO stand-in that keeps the lines a ServiceProcess relays."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._lines.extend(line for line in text.splitlines() if line.strip())
        return len(text)

    def flush(self) -> None:
        return None

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)


def base_env(**extra: str) -> dict[str, str]:
    """An environment of its own (not the caller's) for a service on loopback. Services
    started together share one Redis, and so the gateways' per-address counters (every client
    comes from 127.0.0.1): those limits are lifted unless a caller sets them."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": PYTHONPATH,
        "BIND_HOST": HOST,
        "METRICS_PORT": "0",
        "LOGIN_RATE_LIMIT_PER_IP": "1000000",
        "REGISTER_RATE_LIMIT_PER_IP": "1000000",
        **extra,
    }


LAST_READINESS: dict[int, str] = {}  # per port, what the last http_ready probe got


def http_ready(port: int, path: str = "/health/ready") -> bool:
    """The gateway answers GET `path` with 200 (by default its readinessProbe's path)."""
    try:
        with socket.create_connection((HOST, port), timeout=2) as sock:
            sock.settimeout(5)
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError as exc:
        LAST_READINESS[port] = repr(exc)
        return False
    LAST_READINESS[port] = answer.decode(errors="replace")
    status_line = answer.split(b"\r\n", 1)[0].split()
    return len(status_line) > 1 and status_line[1] == b"200"


def migrate(database_url: str) -> None:
    """Apply graph's migrations to database_url; CalledProcessError if they fail."""
    subprocess.run(
        [sys.executable, "-m", MIGRATE_MODULE],
        env=base_env(DATABASE_URL=database_url), check=True, cwd=REPO_ROOT,
        capture_output=True, timeout=120,
    )
