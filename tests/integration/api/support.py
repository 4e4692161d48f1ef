"""What the gateway's integration tests use: real gateway processes beside the lockcache and
graph ones, the profile's variables and ports, and polling."""

import uuid
from collections.abc import Mapping

# The suites import these from here: one place names what an api test may use.
from devstack.launch import LogBuffer, base_env, http_ready, migrate, start_service  # noqa: F401
from devstack.services import ServiceProcess
from tests.integration.polling import eventually, wait_for  # noqa: F401
from tests.integration.profile import free_port, required_env  # noqa: F401
from tests.integration.service_processes import (  # noqa: F401
    start_graph,
    start_lockcache,
    tls_env,
)

TOKEN_SECRET = "integration-token-secret-0123456789abcdef"  # noqa: S105


def gateway_env(graph_addr: str, lockcache_addr: str, port: int,
                extra: Mapping[str, str] | None = None, tls: bool = True) -> dict[str, str]:
    return base_env(**{
        "PORT": str(port), "GRAPH_ADDR": graph_addr, "LOCKCACHE_ADDR": lockcache_addr,
        "AUTH_TOKEN_SECRET": TOKEN_SECRET, "KUSHIM_ENV": "development",
        "PASSWORD_HASH_PROFILE": "cheapest", "UPSTREAM_TIMEOUT_MS": "20000",
        # The suites poll outboxPending to see the outbox drained: no cached answer.
        "READINESS_CACHE_MS": "0", **(tls_env("api") if tls else {}), **(extra or {}),
    })


def start_gateway(out: LogBuffer, graph_addr: str, lockcache_addr: str, name: str = "api",
                  *, tls: bool = True, **extra: str) -> tuple[ServiceProcess, int]:
    """`tls`: whether graph and lockcache speak mutual TLS (the default; see
    service_processes.py)."""
    port = free_port()
    env = gateway_env(graph_addr, lockcache_addr, port, extra, tls)
    return start_service("api", env, lambda: http_ready(port, "/health"), name=name, out=out), port


def unique_email() -> str:
    return f"u{uuid.uuid4().hex[:16]}@example.com"
