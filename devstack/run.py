"""`python -m devstack run`: the whole system on loopback, in the foreground, until Ctrl-C."""

# ruff: noqa: S603 -- starting processes from fixed argv lists (no shell) is the job here

import logging
import os
import subprocess
import sys
import threading
import time

from devstack.foreground import Shutdown
from devstack.install import InstallError, ensure_installed
from devstack.launch import MIGRATE_MODULE, service_process
from devstack.paths import REPO_ROOT, embedding_model_dir
from devstack.ports import reserve_ports
from devstack.probes import HOST, http_ok, tcp_accepts
from devstack.process import StartAborted, StartError
from devstack.profilelock import AlreadyRunning
from devstack.services import ServiceProcess, relay_line
from devstack.stack import Stack, masked
from devstack.tls import ServiceCerts, ensure_certs

log = logging.getLogger(__name__)

LOCKCACHE_PORT, GRAPH_PORT, API_PORT = 50051, 50052, 3001
WATCH_INTERVAL = 0.5


def service_env(stack: Stack) -> dict[str, str]:
    infra = stack.env()
    env = {
        # Defaults a developer's own environment may override:
        "KUSHIM_ENV": "development",
        "LOG_LEVEL": "DEBUG",
        "EMBEDDING_MODEL_DIR": str(embedding_model_dir()),  # unpacked by the install step
        **os.environ,
        **infra,
        "PYTHONUNBUFFERED": "1",  # lines reach the console as they are written
        "BIND_HOST": HOST,  # the services default to all interfaces, as pods do
        "LOCKCACHE_PORT": str(LOCKCACHE_PORT),
        "GRAPH_PORT": str(GRAPH_PORT),
        "PORT": str(API_PORT),
        "LOCKCACHE_ADDR": f"{HOST}:{LOCKCACHE_PORT}",
        "GRAPH_ADDR": f"{HOST}:{GRAPH_PORT}",
    }
    if "RUNTIME_DATABASE_URL" in infra:
        # The services run as the DML-only role; migrations as the owner
        # (MIGRATION_DATABASE_URL). A DATABASE_URL given in the environment is used as given.
        env["DATABASE_URL"] = infra["RUNTIME_DATABASE_URL"]
    return env


def _module_exists(module: str, env: dict[str, str]) -> bool:
    probe = (
        "import importlib.util, sys\n"
        "try:\n"
        f"    found = importlib.util.find_spec({module!r}) is not None\n"
        "except ImportError:\n"
        "    found = False\n"
        "sys.exit(0 if found else 3)\n"
    )
    return (
        subprocess.run(
            [sys.executable, "-c", probe], env=env, cwd=REPO_ROOT, check=False
        ).returncode
        == 0
    )


def run_migrations(env: dict[str, str]) -> None:
    if not _module_exists(MIGRATE_MODULE, env):
        log.warning("migrations skipped: %s does not exist yet", MIGRATE_MODULE)
        return
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", MIGRATE_MODULE],
        env=env,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    with proc.stdout:
        for line in proc.stdout:
            relay_line("migrate", line, sys.stdout)
    if proc.wait() != 0:
        log.error(
            "*** migrations FAILED (exit code %s); starting the services anyway ***",
            proc.returncode,
        )
    else:
        log.info("migrations applied in %.1f s", time.monotonic() - started)


def make_services(env: dict[str, str], certs: ServiceCerts) -> list[list[ServiceProcess]]:
    """Stages: lockcache and graph start together, then the api that calls both. The three
    speak mutual TLS, each with its own certificate; reflection is on for local grpcurl."""

    def env_of(service: str) -> dict[str, str]:
        return {"GRPC_REFLECTION": "true", **env, **certs.env(service)}

    lockcache = service_process(
        "lockcache", env_of("lockcache"), lambda: tcp_accepts(LOCKCACHE_PORT)
    )
    graph = service_process("graph", env_of("graph"), lambda: tcp_accepts(GRAPH_PORT))
    api = service_process(
        "api",
        env_of("api"),
        lambda: tcp_accepts(API_PORT) and http_ok(f"http://{HOST}:{API_PORT}/health"),
    )
    return [[lockcache, graph], [api]]


def start_services(stages: list[list[ServiceProcess]], shutdown: Shutdown) -> None:
    """Start stage after stage; a service that fails is reported loudly and the rest go on.
    A stop request makes the services still starting give up."""
    for stage in stages:
        if shutdown.requested.is_set():
            return
        threads = [
            threading.Thread(
                target=_start_loudly, args=(service, shutdown), name=f"start-{service.name}"
            )
            for service in stage
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def _start_loudly(service: ServiceProcess, shutdown: Shutdown) -> None:
    try:
        service.start(abort=shutdown.requested)
    except StartAborted:
        pass
    except StartError as error:
        log.error("*** %s FAILED to start: %s ***", service.name, error)


def print_table(stack: Stack, services: list[ServiceProcess]) -> None:
    what = {
        stack.postgres.name: stack.postgres.url,
        stack.cache_redis.name: f"{stack.cache_redis.url}  (allkeys-lru, 256mb)",
        **{r.name: f"{r.url}  (noeviction, Redlock)" for r in stack.lock_redis},
        stack.neo4j.name: f"{stack.neo4j.url}  (user neo4j, password {stack.neo4j.password})",
    }
    rows = [
        ("web page", f"http://{HOST}:{API_PORT}/ui/  (sign up there)", services[-1].running()),
        ("api", f"http://{HOST}:{API_PORT}  (GET /health)", services[-1].running()),
        ("lockcache", f"{HOST}:{LOCKCACHE_PORT}  (gRPC)", services[0].running()),
        ("graph", f"{HOST}:{GRAPH_PORT}  (gRPC)", services[1].running()),
        *[(server.name, what[server.name], server.running()) for server in stack.servers],
    ]
    # Servers of one's own are not watched here: lockcache and graph report them.
    rows += [
        (name, f"{masked(value)}  (yours, not started)", True)
        for name, value in stack.external.items()
        if name.endswith(("_URL", "_URLS", "_URI"))
    ]
    lines = ["", f"  {'':<12} {'status':<7} listens on"]
    lines += [f"  {name:<12} {'up' if up else 'DOWN':<7} {where}" for name, where, up in rows]
    lines += [f"  data and logs: {stack.dir}/ (<server>.log)", ""]
    print("\n".join(lines), flush=True)


def watch(stack: Stack, services: list[ServiceProcess], shutdown: Shutdown) -> None:
    """Report, loudly and once, every child that dies; return when a stop is requested."""
    reported = {s.name for s in services if not s.running()}
    while not shutdown.wait(WATCH_INTERVAL):
        for service in services:
            if service.name not in reported and not service.running():
                reported.add(service.name)
                log.error(
                    "*** %s DIED (exit code %s); the rest keeps running ***",
                    service.name,
                    service.returncode,
                )
        for server in stack.servers:
            if server.name not in reported and not server.running():
                reported.add(server.name)
                log.error(
                    "*** %s DIED: %s; the rest keeps running ***", server.name, server.log_tail()
                )


def run() -> int:
    shutdown = Shutdown().install()
    stack = Stack.for_profile("run")
    services: list[ServiceProcess] = []
    infra_up = False
    code = 0
    started = time.monotonic()
    try:
        stack.lock.check_free()  # before the port checks, to name the real cause
        ensure_installed()
        for port in (LOCKCACHE_PORT, GRAPH_PORT, API_PORT):
            if tcp_accepts(port):
                raise StartError(
                    f"port {HOST}:{port} is already in use; is another kushim running?"
                )
        # The services' own ports, like the infra's, must not be handed out as source ports.
        reserve_ports([(port, port) for port in (LOCKCACHE_PORT, GRAPH_PORT, API_PORT)])
        stack.start(mode="run")
        infra_up = True
        # From here a signal only sets shutdown.requested: each step checks it, so no
        # half-launched service escapes the stop below.
        shutdown.phase = Shutdown.RUNNING
        env = service_env(stack)
        if not shutdown.requested.is_set():
            run_migrations(env)
        stages = make_services(env, ensure_certs(stack.dir / "tls"))
        services = [service for stage in stages for service in stage]
        start_services(stages, shutdown)
        stack.lock.update(children={s.name: s.pid for s in services if s.pid})
        if not shutdown.requested.is_set():
            print_table(stack, services)
            log.info("ready in %.1f s; Ctrl-C stops everything", time.monotonic() - started)
            watch(stack, services, shutdown)
    except KeyboardInterrupt:
        pass
    except (StartError, AlreadyRunning, InstallError) as error:
        log.error("%s", error)
        code = 1
    finally:
        shutdown.phase = Shutdown.STOPPING
        stopping = time.monotonic()
        for service in reversed(services):
            service.stop()
        if infra_up:
            stack.stop()
        if infra_up or services:
            log.info("everything stopped in %.1f s", time.monotonic() - stopping)
    return code
