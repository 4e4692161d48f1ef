"""lockcache and graph as real processes on the test infra, for the suites that call them over
the network: started by devstack's start_service, ready once gRPC health says SERVING.

By default they speak mutual TLS with the devstack test profile's certificates, as the
services do in `make run` and in the cluster; readiness is then probed on the plaintext
health-only port. `tls=False` is for suites whose clients are plaintext (fakes, in-process
servers of one component)."""

from pathlib import Path

from kushim_common.grpctls import GrpcTls

from devstack.grpc_probe import grpc_serving
from devstack.launch import LogBuffer, base_env, start_service
from devstack.services import ServiceProcess
from devstack.tls import ServiceCerts
from tests.integration.profile import free_port, required_env


def tls_env(service: str) -> dict[str, str]:
    """The settings that give `service` its certificate from the test profile."""
    return ServiceCerts(Path(required_env("KUSHIM_TEST_GRPC_TLS_DIR"))).env(service)


def client_tls(service: str) -> GrpcTls:
    """What an in-process `service` (e.g. the gateway under test) calls the others with."""
    env = tls_env(service)
    return GrpcTls(env["GRPC_TLS_CA_CERT"], env["GRPC_TLS_CERT"], env["GRPC_TLS_KEY"])


def _serving(service: str, addr: str, env: dict[str, str], tls: bool):
    """Adds the TLS settings to `env`; the readiness probe to use."""
    if not tls:
        return lambda: grpc_serving(addr)
    health = free_port()
    env.update(tls_env(service), GRPC_HEALTH_PORT=str(health))
    return lambda: grpc_serving(f"127.0.0.1:{health}")


def start_lockcache(out: LogBuffer, *, redis_url: str | None, redlock_urls: str | None,
                    name: str = "lockcache", tls: bool = True) -> tuple[ServiceProcess, str]:
    port = free_port()
    env = base_env(LOCKCACHE_PORT=str(port), LOG_LEVEL="DEBUG")
    if redis_url:
        env["REDIS_URL"] = redis_url
    if redlock_urls:
        env["REDLOCK_URLS"] = redlock_urls
    addr = f"127.0.0.1:{port}"
    ready = _serving("lockcache", addr, env, tls)
    return start_service("lockcache", env, ready, name=name, out=out), addr


def start_graph(out: LogBuffer, lockcache_addr: str, name: str = "graph", *, tls: bool = True,
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
    ready = _serving("graph", addr, env, tls)
    return start_service("graph", env, ready, name=name, out=out, start_timeout=90), addr
