"""Real lockcache and graph processes for the gateway's integration tests."""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devstack.services import ServiceProcess

REPO = Path(__file__).resolve().parents[3]
PORT_BASE = int(os.environ.get("KUSHIM_TEST_PORT_BASE", "55400"))
# The top of the suite's spare range (base+40..99), handed out downwards.
OWN_PORTS = range(PORT_BASE + 99, PORT_BASE + 39, -1)
_next = [0]
PYTHONPATH = os.pathsep.join(
    str(REPO / p) for p in ("gen", "services/api", "services/lockcache", "services/graph",
                            "services/common", "cli")
)
TOKEN_SECRET = "integration-token-secret-0123456789abcdef"  # noqa: S105


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(f"{name} is not set: run the suite with `python -m devstack test`")
    return value


def free_port() -> int:
    for _ in range(len(OWN_PORTS)):
        port = OWN_PORTS[_next[0] % len(OWN_PORTS)]
        _next[0] += 1
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {OWN_PORTS}")


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


def grpc_serving(addr: str) -> bool:
    try:
        with grpc.insecure_channel(addr) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1
            )
            return answer.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def http_ready(port: int, path: str = "/health") -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            return sock.recv(64).split(b"\r\n")[0].endswith(b" 200 OK")
    except OSError:
        return False


def base_env(**extra: str) -> dict[str, str]:
    """Every service a test starts shares the suite's Redis, and so the gateways' per-address
    counters (all tests come from 127.0.0.1): those limits are lifted unless a test sets them."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": PYTHONPATH,
        "BIND_HOST": "127.0.0.1",
        "METRICS_PORT": "0",
        "LOGIN_RATE_LIMIT_PER_IP": "1000000",
        "REGISTER_RATE_LIMIT_PER_IP": "1000000",
        **extra,
    }


def start_lockcache(out: LogBuffer, *, redis_url: str | None, redlock_urls: str | None,
                    name: str = "lockcache") -> tuple[ServiceProcess, str]:
    port = free_port()
    env = base_env(LOCKCACHE_PORT=str(port), LOG_LEVEL="DEBUG")
    if redis_url:
        env["REDIS_URL"] = redis_url
    if redlock_urls:
        env["REDLOCK_URLS"] = redlock_urls
    addr = f"127.0.0.1:{port}"
    process = ServiceProcess(name, [sys.executable, "-m", "kushim_lockcache"], env,
                             lambda: grpc_serving(addr), out=out, start_timeout=60)
    process.start()
    return process, addr


def migrate(database_url: str) -> None:
    subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "kushim_graph.migrate"],
        env=base_env(DATABASE_URL=database_url), check=True, cwd=REPO,
        capture_output=True, timeout=120,
    )


def start_graph(out: LogBuffer, lockcache_addr: str, name: str = "graph",
                **extra: str) -> tuple[ServiceProcess, str]:
    port = free_port()
    env = base_env(
        DATABASE_URL=required_env("DATABASE_URL"),
        NEO4J_URI=required_env("NEO4J_URI"),
        NEO4J_USER=required_env("NEO4J_USER"),
        NEO4J_PASSWORD=required_env("NEO4J_PASSWORD"),
        LOCKCACHE_ADDR=lockcache_addr,
        GRAPH_PORT=str(port),
        DB_POOL_SIZE="8",
        **extra,
    )
    addr = f"127.0.0.1:{port}"
    process = ServiceProcess(name, [sys.executable, "-m", "kushim_graph"], env,
                             lambda: grpc_serving(addr), out=out, start_timeout=90)
    process.start()
    return process, addr


def gateway_env(graph_addr: str, lockcache_addr: str, port: int,
                extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return base_env(
        PORT=str(port), GRAPH_ADDR=graph_addr, LOCKCACHE_ADDR=lockcache_addr,
        AUTH_TOKEN_SECRET=TOKEN_SECRET, KUSHIM_ENV="development",
        PASSWORD_HASH_PROFILE="cheapest",  # noqa: S106 - a hash profile
        UPSTREAM_TIMEOUT_MS="20000", **(extra or {}),
    )


def start_gateway(out: LogBuffer, graph_addr: str, lockcache_addr: str, name: str = "api",
                  **extra: str) -> tuple[ServiceProcess, int]:
    port = free_port()
    process = ServiceProcess(
        name, [sys.executable, "-m", "kushim_api"],
        gateway_env(graph_addr, lockcache_addr, port, extra), lambda: http_ready(port),
        out=out, start_timeout=60,
    )
    process.start()
    return process, port


def unique_email() -> str:
    return f"u{uuid.uuid4().hex[:16]}@example.com"


def wait_for(check, within: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        time.sleep(interval)


async def eventually(check, within: float = 20.0, interval: float = 0.05):
    """Polls an async condition until it holds or time runs out."""
    import asyncio

    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(interval)
