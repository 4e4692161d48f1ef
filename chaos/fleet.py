"""Processes stand in for pods: the instances of lockcache, graph and api, each service behind
a ServiceProxy, started, rolled, killed and replaced the way a Deployment would."""

import asyncio
import itertools
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from chaos.proxy import ServiceProxy
from devstack.grpc_probe import grpc_serving
from devstack.launch import LAST_READINESS, LogBuffer, base_env, http_ready, start_service
from devstack.process import StartError
from devstack.services import ServiceProcess

SERVICES = ("lockcache", "graph", "api")  # in the order they start
PRE_STOP_S = 1.0  # the manifests sleep 5 s; locally the "endpoints" update at once
STOP_TIMEOUT_S = 30.0  # above every service's drain (api 20 s, graph 10 s, lockcache 5 s)


@dataclass
class Instance:
    process: ServiceProcess
    port: int


@dataclass
class Fleet:
    """`infra` holds the servers' variables (DATABASE_URL, REDIS_URL, REDLOCK_URLS, NEO4J_*);
    `overrides` adds variables per service; `port` hands out a free loopback port."""

    log: LogBuffer
    proxies: dict[str, ServiceProxy]
    infra: Mapping[str, str]
    port: Callable[[], int]
    token_secret: str
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    instances: dict[str, list[Instance]] = field(default_factory=dict)
    generation: itertools.count = field(default_factory=lambda: itertools.count(1))
    exit_codes: list[tuple[str, int | None]] = field(default_factory=list)
    last_words: dict[str, str] = field(default_factory=dict)  # of instances that exited badly

    def _env(self, service: str, port: int) -> dict[str, str]:
        lockcache = self.proxies["lockcache"].address
        extra = self.overrides.get(service, {})
        if service == "lockcache":
            return base_env(
                LOCKCACHE_PORT=str(port),
                REDIS_URL=self.infra["REDIS_URL"],
                REDLOCK_URLS=self.infra["REDLOCK_URLS"],
                **extra,
            )
        if service == "graph":
            return base_env(
                GRAPH_PORT=str(port),
                LOCKCACHE_ADDR=lockcache,
                DATABASE_URL=self.infra["DATABASE_URL"],
                NEO4J_URI=self.infra["NEO4J_URI"],
                NEO4J_USER=self.infra["NEO4J_USER"],
                NEO4J_PASSWORD=self.infra["NEO4J_PASSWORD"],
                DB_POOL_SIZE="4",
                **extra,
            )
        return base_env(
            PORT=str(port),
            LOCKCACHE_ADDR=lockcache,
            GRAPH_ADDR=self.proxies["graph"].address,
            AUTH_TOKEN_SECRET=self.token_secret,
            KUSHIM_ENV="development",
            PASSWORD_HASH_PROFILE="cheapest",  # noqa: S106 - a hash profile, not a password
            UPSTREAM_TIMEOUT_MS="20000",
            SHUTDOWN_GRACE_SECONDS="20",
            **extra,
        )

    def start_instance(self, service: str, port: int) -> Instance:
        """Blocking: start one instance on `port` and wait for its readiness probe. Ports are
        handed out before the threads start: two instances given one port would both pass
        the probe (the first one answers it) and the second would die binding it."""
        if service == "api":
            ready = lambda: http_ready(port)  # noqa: E731
        else:
            ready = lambda: grpc_serving(f"127.0.0.1:{port}")  # noqa: E731
        try:
            process = start_service(
                service, self._env(service, port), ready,
                name=f"{service}-{next(self.generation)}", out=self.log,
                start_timeout=90, stop_timeout=STOP_TIMEOUT_S,
            )  # fmt: skip
        except StartError as exc:
            recent = "\n".join(self.log.lines()[-15:])
            raise StartError(f"{exc}\nreadiness: {LAST_READINESS.get(port)}\n{recent}") from None
        return Instance(process, port)

    def stop_instance(self, instance: Instance) -> None:
        """Blocking: SIGTERM, wait for the drain, remember how it ended."""
        instance.process.stop()
        self.exit_codes.append((instance.process.name, instance.process.returncode))
        if instance.process.returncode != 0:
            self.last_words[instance.process.name] = instance.process.last_output()

    async def scale_up(self, service: str, replicas: int) -> None:
        """Start `replicas` more instances at once and put each in the Service when ready."""
        ports = [self.port() for _ in range(replicas)]
        started = await asyncio.gather(
            *(asyncio.to_thread(self.start_instance, service, port) for port in ports)
        )
        for instance in started:
            self.instances.setdefault(service, []).append(instance)
            self.proxies[service].endpoints.append(instance.port)

    async def roll(self, service: str) -> None:
        proxy = self.proxies[service]
        for old in list(self.instances[service]):
            new = await asyncio.to_thread(self.start_instance, service, self.port())
            proxy.endpoints.append(new.port)
            proxy.endpoints.remove(old.port)
            await asyncio.sleep(PRE_STOP_S)
            await asyncio.to_thread(self.stop_instance, old)
            replicas = self.instances[service]
            replicas[replicas.index(old)] = new

    def kill(self, service: str, count: int | None = None) -> list[Instance]:
        """SIGKILL `count` instances of service (all by default), as a node failure would; the
        Service drops them at once. Returns the killed instances."""
        victims = self.instances.get(service, [])[:count]
        for instance in victims:
            instance.process.kill(signal.SIGKILL)
            self.proxies[service].endpoints.remove(instance.port)
            self.instances[service].remove(instance)
        return victims

    def stop_all(self) -> None:
        for service in reversed(SERVICES):
            for instance in self.instances.get(service, []):
                instance.process.stop()
