"""The world a scenario acts on: the infra servers it may kill, the service fleet behind its
Service proxies, the load running through both gateways, and a log of what happened."""

import asyncio
import contextlib
import shutil
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chaos.fleet import SERVICES, Fleet
from chaos.load import Load
from chaos.proxy import ServiceProxy
from devstack.launch import LogBuffer
from devstack.polling import until
from devstack.ports import PortPool
from devstack.process import ServerProcess

TOKEN_SECRET = "chaos-suite-token-secret-0123456789abcdef"  # noqa: S105 - a throwaway stack's


@dataclass
class Site:
    """What every world of a run shares: the servers' variables, the servers scenarios may
    kill (by name: postgres, redis-cache, redis-lock-1..3, neo4j; a smoke run lists only the
    ones it started itself), spare ports and a directory for extra servers."""

    infra: Mapping[str, str]
    servers: dict[str, ServerProcess]
    ports: PortPool
    dir: Path
    smoke: bool = False


@dataclass
class World:
    site: Site
    name: str
    infra: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=lambda: {s: 2 for s in SERVICES})
    log: LogBuffer = field(default_factory=LogBuffer)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # a scenario's own failed checks
    state: dict = field(default_factory=dict)  # what a scenario's prepare leaves for inject
    extra_servers: list[ServerProcess] = field(default_factory=list)
    # A scenario's own async clean-ups (fault proxies, say), run at stop, last added first.
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    proxies: dict[str, ServiceProxy] = field(default_factory=dict)
    fleet: Fleet | None = None
    load: Load | None = None
    fault_started: float | None = None
    fault_ended: float | None = None
    requests_in_fault: int = 0  # the load's requests while a fault was on

    def __post_init__(self) -> None:
        self.infra = dict(self.site.infra)
        # A Sentinel keeps what it learned in its config: extra servers start from scratch.
        shutil.rmtree(self.site.dir / self.name, ignore_errors=True)

    @property
    def servers(self) -> dict[str, ServerProcess]:
        return self.site.servers

    @property
    def smoke(self) -> bool:
        return self.site.smoke

    def port(self) -> int:
        return self.site.ports()

    def data_dir(self, name: str) -> Path:
        return self.site.dir / self.name / name

    def note(self, text: str) -> None:
        self.notes.append(text)

    def fail(self, text: str) -> None:
        self.problems.append(text)

    async def add_server(self, server: ServerProcess) -> ServerProcess:
        """Start a server of this scenario's own; it is stopped with the world."""
        self.extra_servers.append(server)
        await asyncio.to_thread(server.start)
        return server

    async def start(self) -> None:
        for name in SERVICES:
            self.proxies[name] = ServiceProxy(name)
            await self.proxies[name].start()
        self.fleet = Fleet(self.log, self.proxies, self.infra, self.port, TOKEN_SECRET,
                           self.overrides)
        for name in SERVICES:
            await self.fleet.scale_up(name, self.replicas[name])
        self.load = Load(f"http://{self.proxies['api'].address}")

    async def stop(self) -> None:
        if self.fleet is not None:
            await asyncio.to_thread(self.fleet.stop_all)
        for proxy in self.proxies.values():
            await proxy.close()
        for cleanup in reversed(self.cleanups):
            await cleanup()
        for server in reversed(self.extra_servers):
            await asyncio.to_thread(server.stop)

    @contextlib.asynccontextmanager
    async def fault(self, outage: str | None = None):
        """The span of a fault. `outage` names a dependency that is really down meanwhile:
        only then (and for the load's grace period after) may clients see 503s."""
        self.fault_started = self.fault_started or time.monotonic()
        before = self.load.requests
        if outage is not None:
            self.load.begin_outage(outage)
        try:
            yield
        finally:
            if outage is not None:
                self.load.end_outage()
            self.fault_ended = time.monotonic()
            self.requests_in_fault += self.load.requests - before

    async def servers_down(self, names: tuple[str, ...], seconds: float,
                           outage: str | None = None, graceful: bool = False) -> None:
        """SIGKILL the named servers at once (or stop them gracefully), keep them down
        `seconds`, start them again."""
        servers = [self.servers[name] for name in names]
        async with self.fault(outage):
            for server in servers:
                if graceful:
                    await asyncio.to_thread(server.stop)
                else:
                    server.kill(signal.SIGKILL)
            await self.hold(seconds)
            await asyncio.gather(*(asyncio.to_thread(server.start) for server in servers))

    async def wait_for(self, check: Callable[[], bool | Awaitable[bool]], what: str,
                       within: float = 30.0, interval: float = 0.2):
        """Poll check (sync or async) until it is truthy; TimeoutError naming `what`."""
        try:
            return await until(check, within, interval)
        except TimeoutError as exc:
            raise TimeoutError(f"{what}: {exc}") from None

    async def hold(self, seconds: float) -> None:
        """Let the load run for `seconds` (a fault's duration, not a synchronization)."""
        await asyncio.sleep(seconds)

    async def acknowledged_grows(self, by: int = 3, within: float = 30.0) -> None:
        """Wait until the load has had `by` more records acknowledged: it is flowing."""
        target = len(self.load.acknowledged) + by
        await self.wait_for(lambda: len(self.load.acknowledged) >= target,
                            f"{by} more acknowledged records", within)
