"""lockcache and graph as real processes on the test infra, for the suites that call them over
the network: started by devstack's ServiceProcess, ready once gRPC health says SERVING."""

import sys

from chaos.processes import LogBuffer, base_env, grpc_serving
from devstack.services import ServiceProcess
from tests.integration.profile import free_port, required_env


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
