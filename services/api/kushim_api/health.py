"""Readiness from the dependencies' own answers: graph's CheckDependencies, lockcache's
Stats, and the standard gRPC health service of both."""

import asyncio
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


async def readiness(upstream: Upstream, draining: bool) -> Readiness:
    graph_ok, lockcache_ok, deps, stats = await asyncio.gather(
        _serving(upstream.graph_health.Check), _serving(upstream.lockcache_health.Check),
        _graph(upstream), _stats(upstream),
    )
    graph_up = graph_ok and deps is not None
    lockcache_up = lockcache_ok and stats is not None
    reported = dict(deps.dependencies) if deps is not None else {}
    dependencies = {
        "graph": UP if graph_up else DOWN,
        "lockcache": UP if lockcache_up else DOWN,
        "postgres": reported.get("postgres", UNKNOWN),
        "neo4j": reported.get("neo4j", UNKNOWN),
        "redis": _redis_state(stats),
        # up, loading, disabled (SEMANTIC_LINKS=off) or down (model files missing)
        "semantic_model": reported.get("semantic_model", UNKNOWN),
    }
    if draining:
        status = "down"
        dependencies["gateway"] = "draining"
    elif not graph_up or not lockcache_up or dependencies["postgres"] != UP:
        status = "down"
    elif dependencies["neo4j"] != UP or DOWN in (
        dependencies["redis"], dependencies["semantic_model"]
    ):
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


def redis_report(stats: lockcache_pb2.GetStatsResponse) -> dict:
    if not stats.enabled:
        return {"enabled": False}
    cache: dict = {"hit_rate": stats.hit_rate}
    for name in NAMESPACES:
        ns = stats.namespaces.get(name, lockcache_pb2.NamespaceStats())
        cache[name] = {"hits": ns.hits, "misses": ns.misses, "hit_rate": ns.hit_rate}
    return {
        "enabled": True,
        "connected": stats.connected,
        "info": {
            "total_commands_processed": stats.total_commands_processed,
            "instantaneous_ops_per_sec": stats.instantaneous_ops_per_sec,
            "used_memory_human": stats.used_memory_human,
            "connected_clients": stats.connected_clients,
        },
        "cache": cache,
        "locks": {
            "acquired": stats.locks_acquired,
            "contended": stats.locks_contended,
            "unavailable": stats.locks_unavailable,
        },
    }
