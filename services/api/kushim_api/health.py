"""Readiness from the dependencies' own answers: graph's CheckDependencies, lockcache's
Stats, and the standard gRPC health service of both."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from kushim.graph.v1 import graph_pb2
from kushim.lockcache.v1 import lockcache_pb2

from kushim_api.upstream import HEALTH_CHECK, SERVING, Upstream

UP, DOWN, UNKNOWN, DISABLED = "up", "down", "unknown", "disabled"


@dataclass
class Readiness:
    status: str
    dependencies: dict[str, str] = field(default_factory=dict)
    outbox_pending: int | None = None

    @property
    def http_status(self) -> int:
        return 503 if self.status == "down" else 200

    def as_json(self) -> dict:
        body: dict = {"status": self.status, "dependencies": self.dependencies}
        if self.outbox_pending is not None:
            body["outboxPending"] = self.outbox_pending
        return body


async def _serving(call) -> bool:
    try:
        return (await call(HEALTH_CHECK)).status == SERVING
    except grpc.aio.AioRpcError:
        return False


async def _graph(upstream: Upstream) -> graph_pb2.CheckDependenciesResponse | None:
    try:
        return await upstream.admin.CheckDependencies(graph_pb2.CheckDependenciesRequest())
    except grpc.aio.AioRpcError:
        return None


async def _stats(upstream: Upstream) -> lockcache_pb2.GetStatsResponse | None:
    try:
        return await upstream.cache.Stats(lockcache_pb2.GetStatsRequest())
    except grpc.aio.AioRpcError:
        return None


Checks = tuple[bool, bool, graph_pb2.CheckDependenciesResponse | None,
               lockcache_pb2.GetStatsResponse | None]


async def _check(upstream: Upstream) -> Checks:
    return await asyncio.gather(
        _serving(upstream.graph_health.Check), _serving(upstream.lockcache_health.Check),
        _graph(upstream), _stats(upstream),
    )


class ReadinessProbe:
    """The backend checks, run at most once per `ttl_seconds` and by one caller at a time: every
    kubelet and load balancer probing every replica costs the backends one round per interval.
    Draining is read fresh on every call."""

    def __init__(self, upstream: Upstream, ttl_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._upstream = upstream
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._checks: Checks | None = None
        self._checked_at = 0.0

    async def readiness(self, draining: bool) -> Readiness:
        async with self._lock:
            if self._checks is None or self._clock() - self._checked_at >= self._ttl:
                self._checks = await _check(self._upstream)
                self._checked_at = self._clock()
            return _assess(self._checks, draining)


def _assess(checks: Checks, draining: bool) -> Readiness:
    graph_ok, lockcache_ok, deps, stats = checks
    graph_up = graph_ok and deps is not None
    lockcache_up = lockcache_ok and stats is not None
    reported = dict(deps.dependencies) if deps is not None else {}
    dependencies = {
        "graph": UP if graph_up else DOWN,
        "lockcache": UP if lockcache_up else DOWN,
        "postgres": reported.get("postgres", UNKNOWN),
        "neo4j": reported.get("neo4j", UNKNOWN),
        "redis": _redis_state(stats),
    }
    if draining:
        status = "down"
        dependencies["gateway"] = "draining"
    elif not graph_up or not lockcache_up or dependencies["postgres"] != UP:
        status = "down"
    elif dependencies["neo4j"] != UP or dependencies["redis"] == DOWN:
        status = "degraded"
    else:
        status = "ok"
    return Readiness(status, dependencies, deps.outbox_pending if deps is not None else None)


def _redis_state(stats: lockcache_pb2.GetStatsResponse | None) -> str:
    if stats is None:
        return UNKNOWN
    if not stats.enabled:
        return DISABLED
    return UP if stats.connected else DOWN


NAMESPACES = ("context_group", "user_profile", "platform")
# The Redis guide's "info" fields, as Redis reports them (text).
INFO_FIELDS = (
    "total_commands_processed",
    "instantaneous_ops_per_sec",
    "used_memory_human",
    "connected_clients",
)


def redis_report(stats: lockcache_pb2.GetStatsResponse) -> dict:
    """The guide's shape ("enabled", "info", "cache"), our extras ("connected",
    per-namespace counts, "locks") beside it. "info" is empty while Redis is down."""
    if not stats.enabled:
        return {"enabled": False}
    cache: dict = {"hit_rate": stats.hit_rate}
    for name in NAMESPACES:
        ns = stats.namespaces.get(name, lockcache_pb2.NamespaceStats())
        cache[name] = {"hits": ns.hits, "misses": ns.misses, "hit_rate": ns.hit_rate}
    locks: dict = {"enabled": not stats.locks_disabled}
    if stats.locks_disabled:
        locks["reason"] = stats.locks_disabled
    locks |= {
        "acquired": stats.locks_acquired,
        "contended": stats.locks_contended,
        "unavailable": stats.locks_unavailable,
    }
    return {
        "enabled": True,
        "connected": stats.connected,
        "info": {name: stats.info[name] for name in INFO_FIELDS if name in stats.info},
        "cache": cache,
        "locks": locks,
    }
