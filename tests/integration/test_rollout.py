"""Rollout rehearsal: processes stand in for pods, small TCP proxies for Services.

Under steady load through two gateway instances, each service is rolled the way
a Deployment with maxSurge 1 / maxUnavailable 0 rolls it (deploy/k8s): start the
new instance, wait until its readiness probe passes, add it to the Service, drop
the old one from the Service, wait out the preStop sleep, then SIGTERM the old
one and let it drain. Every request must succeed, every old instance must exit
cleanly, and every record the gateway acknowledged must be readable afterwards.
"""

import asyncio
import itertools
import logging
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
import pytest

from devstack.process import StartError
from devstack.services import ServiceProcess
from tests.integration.api.support import (
    LogBuffer,
    base_env,
    free_port,
    grpc_serving,
    migrate,
    required_env,
)

log = logging.getLogger(__name__)

pytestmark = pytest.mark.slow

TOKEN_SECRET = "rollout-rehearsal-token-secret-0123456789"  # noqa: S105
REPLICAS = {"lockcache": 2, "graph": 2, "api": 2}
ROLL_ORDER = ("lockcache", "graph", "api")
PRE_STOP_S = 1.0  # the manifests sleep 5 s; locally the "endpoints" update at once
WORKERS = 4
PACE_S = 0.02  # between one worker's iterations: steady load, not saturation
WARMUP_S = 2.0
STOP_TIMEOUT_S = 30.0  # above every service's drain (api 20 s, graph 10 s, lockcache 5 s)


LAST_READINESS: dict[int, str] = {}


def http_ready(port: int) -> bool:
    """The api's readinessProbe: GET /health/ready answers 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.settimeout(5)
            sock.sendall(b"GET /health/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError as exc:
        LAST_READINESS[port] = repr(exc)
        return False
    LAST_READINESS[port] = answer.decode(errors="replace")
    status_line = answer.split(b"\r\n", 1)[0].split()
    return len(status_line) > 1 and status_line[1] == b"200"


class ServiceProxy:
    """A Service stand-in: one stable address; each new connection goes to one of the
    current endpoints, round robin; established connections stay where they are (as
    kube-proxy's do) until either side closes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.endpoints: list[int] = []
        self.refused = 0
        self._turn = itertools.count()
        self._tasks: set[asyncio.Task] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        endpoints = list(self.endpoints)
        if not endpoints:
            self.refused += 1
            writer.close()
            return
        port = endpoints[next(self._turn) % len(endpoints)]
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            self.refused += 1
            writer.close()
            return
        tasks = [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]
        self._tasks.update(tasks)
        try:
            await asyncio.gather(*tasks)
        finally:
            self._tasks.difference_update(tasks)
            for w in (writer, up_writer):
                w.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass
class Instance:
    process: ServiceProcess
    port: int


@dataclass
class Fleet:
    """The instances ("pods") of the three services and their Services."""

    log: LogBuffer
    proxies: dict[str, ServiceProxy]
    instances: dict[str, list[Instance]] = field(default_factory=dict)
    generation: itertools.count = field(default_factory=lambda: itertools.count(1))
    exit_codes: list[tuple[str, int | None]] = field(default_factory=list)

    def _env(self, service: str, port: int) -> dict[str, str]:
        lockcache = self.proxies["lockcache"].address
        if service == "lockcache":
            return base_env(
                LOCKCACHE_PORT=str(port),
                REDIS_URL=required_env("REDIS_URL"),
                REDLOCK_URLS=required_env("REDLOCK_URLS"),
            )
        if service == "graph":
            return base_env(
                GRAPH_PORT=str(port),
                LOCKCACHE_ADDR=lockcache,
                DATABASE_URL=required_env("DATABASE_URL"),
                NEO4J_URI=required_env("NEO4J_URI"),
                NEO4J_USER=required_env("NEO4J_USER"),
                NEO4J_PASSWORD=required_env("NEO4J_PASSWORD"),
                DB_POOL_SIZE="4",
            )
        return base_env(
            PORT=str(port),
            LOCKCACHE_ADDR=lockcache,
            GRAPH_ADDR=self.proxies["graph"].address,
            AUTH_TOKEN_SECRET=TOKEN_SECRET,
            KUSHIM_ENV="development",
            PASSWORD_HASH_PROFILE="cheapest",  # noqa: S106 - a hash profile, not a password
            LOGIN_RATE_LIMIT_PER_IP="1000000",
            UPSTREAM_TIMEOUT_MS="20000",
            SHUTDOWN_GRACE_SECONDS="20",
        )

    def start_instance(self, service: str) -> Instance:
        """Blocking: start one instance and wait for its readiness probe."""
        port = free_port()
        if service == "api":
            ready = lambda: http_ready(port)  # noqa: E731
        else:
            ready = lambda: grpc_serving(f"127.0.0.1:{port}")  # noqa: E731
        process = ServiceProcess(
            f"{service}-{next(self.generation)}",
            [sys.executable, "-m", f"kushim_{service}"],
            self._env(service, port),
            ready,
            out=self.log,
            start_timeout=90,
            stop_timeout=STOP_TIMEOUT_S,
        )
        try:
            process.start()
        except StartError as exc:
            recent = "\n".join(self.log.lines()[-15:])
            raise StartError(f"{exc}\nreadiness: {LAST_READINESS.get(port)}\n{recent}") from None
        return Instance(process, port)

    def stop_instance(self, instance: Instance) -> None:
        """Blocking: SIGTERM, wait for the drain, remember how it ended."""
        instance.process.stop()
        self.exit_codes.append((instance.process.name, instance.process.returncode))

    async def scale_up(self, service: str, replicas: int) -> None:
        for _ in range(replicas):
            instance = await asyncio.to_thread(self.start_instance, service)
            self.instances.setdefault(service, []).append(instance)
            self.proxies[service].endpoints.append(instance.port)

    async def roll(self, service: str) -> None:
        proxy = self.proxies[service]
        for old in list(self.instances[service]):
            new = await asyncio.to_thread(self.start_instance, service)
            proxy.endpoints.append(new.port)
            proxy.endpoints.remove(old.port)
            await asyncio.sleep(PRE_STOP_S)
            await asyncio.to_thread(self.stop_instance, old)
            replicas = self.instances[service]
            replicas[replicas.index(old)] = new

    def stop_all(self) -> None:
        for service in reversed(ROLL_ORDER):
            for instance in self.instances.get(service, []):
                instance.process.stop()


@dataclass
class Load:
    base_url: str
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    # record id -> (token, title) for every record the gateway acknowledged
    acknowledged: dict[str, tuple[str, str]] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def _call(self, session, method: str, path: str, expect: int, **kwargs) -> dict | None:
        self.requests += 1
        try:
            async with session.request(method, self.base_url + path, **kwargs) as response:
                body = await response.json(content_type=None)
                if response.status != expect:
                    self.failures.append(f"{method} {path}: {response.status} {body}")
                    return None
                return body
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.failures.append(f"{method} {path}: {type(exc).__name__}: {exc}")
            return None

    async def worker(self, session: aiohttp.ClientSession, n: int) -> None:
        email = f"rollout-{uuid.uuid4().hex[:12]}@example.com"
        registered = await self._call(
            session,
            "POST",
            "/auth/register",
            201,
            json={"email": email, "password": "correct horse battery"},
        )
        if registered is None:
            return
        token = registered["token"]
        headers = {"Authorization": f"Bearer {token}"}
        for i in itertools.count():
            if self.stop.is_set():
                return
            key = f"ROLL-{n}-{i}"
            record = {
                "externalId": key,
                "sourcePlatform": "jira",
                "artifactType": "task",
                "title": f"{key}: checkout fails during deploy",
                "body": "seen in staging",
                "author": "ada",
                "timestamp": "2024-05-01T12:00:00+02:00",
                "participants": ["ada"],
                "metadata": {"ticketId": key},
            }
            made = await self._call(session, "POST", "/records", 201, json=record, headers=headers)
            if made is not None:
                record_id = made["record"]["id"]
                self.acknowledged[record_id] = (token, record["title"])
                await self._call(session, "GET", f"/records/{record_id}", 200, headers=headers)
            await asyncio.sleep(PACE_S)


async def test_rolling_every_service_loses_nothing():
    migrate(required_env("DATABASE_URL"))
    proxies = {name: ServiceProxy(name) for name in ROLL_ORDER}
    for proxy in proxies.values():
        await proxy.start()
    fleet = Fleet(LogBuffer(), proxies)
    # Every request opens its own connection, as behind an ingress: which gateway
    # serves it is the Service's choice, made per connection.
    connector = aiohttp.TCPConnector(force_close=True)
    timeout = aiohttp.ClientTimeout(total=60)
    load = Load(f"http://{proxies['api'].address}")
    try:
        for service in ROLL_ORDER:
            await fleet.scale_up(service, REPLICAS[service])
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            workers = [asyncio.create_task(load.worker(session, n)) for n in range(WORKERS)]
            started = time.monotonic()
            await asyncio.sleep(WARMUP_S)
            before = load.requests
            for service in ROLL_ORDER:
                await fleet.roll(service)
            during = load.requests - before
            await asyncio.sleep(WARMUP_S)
            load.stop.set()
            await asyncio.gather(*workers)
            elapsed = time.monotonic() - started

            lost = []
            for record_id, (token, title) in load.acknowledged.items():
                async with session.get(
                    f"{load.base_url}/records/{record_id}",
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    body = await response.json(content_type=None)
                    if response.status != 200 or body.get("title") != title:
                        lost.append(f"{record_id}: {response.status}")
    finally:
        await asyncio.to_thread(fleet.stop_all)
        for proxy in proxies.values():
            await proxy.close()

    summary = (
        f"rollout rehearsal: {load.requests} requests in {elapsed:.1f} s "
        f"({during} while rolling {', '.join(ROLL_ORDER)}), {len(load.failures)} failed; "
        f"{len(load.acknowledged)} records acknowledged, {len(lost)} lost; "
        f"old instances' exit codes {sorted({c for _, c in fleet.exit_codes})}"
    )
    log.warning("%s", summary)
    assert during > 0, f"the load ran while rolling; {summary}"
    upstream = [line for line in fleet.log.lines() if "Upstream" in line or "Traceback" in line]
    assert not load.failures, "\n".join([summary, *load.failures[:20], *upstream[-20:]])
    assert not lost, summary + "\n" + "\n".join(lost[:20])
    assert len(fleet.exit_codes) == sum(REPLICAS.values()), summary
    assert all(code == 0 for _, code in fleet.exit_codes), f"{fleet.exit_codes}; {summary}"
    assert sum(p.refused for p in proxies.values()) == 0, f"a Service had no endpoint; {summary}"
