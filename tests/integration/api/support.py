"""Real lockcache and graph processes for the gateway's integration tests."""

import os
import socket
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest

# migrate: the suite's conftests import it from here
from chaos.processes import LogBuffer, base_env, grpc_serving, migrate  # noqa: F401
from chaos.world import PortPool
from devstack.services import ServiceProcess

REPO = Path(__file__).resolve().parents[3]
PORT_BASE = int(os.environ.get("KUSHIM_TEST_PORT_BASE", "55400"))
# The top of the suite's spare range (base+40..99), handed out downwards.
OWN_PORTS = range(PORT_BASE + 99, PORT_BASE + 39, -1)
TOKEN_SECRET = "integration-token-secret-0123456789abcdef"  # noqa: S105


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(f"{name} is not set: run the suite with `python -m devstack test`")
    return value


free_port = PortPool(OWN_PORTS)


def http_ready(port: int, path: str = "/health") -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            return sock.recv(64).split(b"\r\n")[0].endswith(b" 200 OK")
    except OSError:
        return False


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
