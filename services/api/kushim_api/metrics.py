"""Prometheus metrics of one gateway instance, in a registry of its own."""

import time

import grpc
from aiohttp import web
from kushim.lockcache.v1 import lockcache_pb2
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from kushim_api import keys

UNMATCHED_ROUTE = "unmatched"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "kushim_http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.in_flight = Gauge(
            "kushim_http_requests_in_flight", "HTTP requests being served",
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "kushim_upstream_errors_total", "Failed gRPC calls by upstream, method and code",
            ["upstream", "method", "code"], registry=self.registry,
        )
        self.cache_requests = Counter(
            "kushim_cache_requests_total", "Gateway cache lookups by namespace and result",
            ["namespace", "result"], registry=self.registry,
        )
        self.near_cache = Counter(
            "kushim_near_cache_total",
            "Gateway near cache reads (hit, miss, bypass: stream not synced) and flushes",
            ["outcome"], registry=self.registry,
        )
        self.rate_limited = Counter(
            "kushim_rate_limited_total", "Requests refused by a rate limit, by limit",
            ["limit"], registry=self.registry,
        )
        self.rate_limit_fallback = Counter(
            "kushim_rate_limit_local_fallback_total",
            "Rate-limit checks served by the per-process limiter (lockcache unavailable)",
            registry=self.registry,
        )
        self.webhooks = Counter(
            "kushim_webhook_deliveries_total", "Webhook deliveries by platform and outcome",
            ["platform", "outcome"], registry=self.registry,
        )
        self.lockcache_locks = Gauge(
            "kushim_lockcache_locks", "Lock outcomes reported by lockcache (cumulative)",
            ["outcome"], registry=self.registry,
        )
        self.lockcache_cache = Gauge(
            "kushim_lockcache_cache", "Cache hits and misses reported by lockcache (cumulative)",
            ["namespace", "result"], registry=self.registry,
        )


def route_label(request: web.Request) -> str:
    info = request.match_info
    if info.http_exception is not None:
        return UNMATCHED_ROUTE
    return info.route.resource.canonical if info.route.resource else UNMATCHED_ROUTE


def metrics_middleware(metrics: Metrics):
    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        metrics.in_flight.inc()
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.in_flight.dec()
            metrics.latency.labels(route_label(request), request.method, str(status)).observe(
                time.perf_counter() - started
            )

    return middleware


async def prometheus_response(app: web.Application) -> web.Response:
    """The Prometheus text of `app`'s registry, with lockcache's lock and cache counters."""
    registry = app[keys.METRICS]
    try:
        stats = await app[keys.UPSTREAM].cache.Stats(lockcache_pb2.GetStatsRequest())
    except grpc.aio.AioRpcError:
        stats = None
    if stats is not None and stats.enabled:
        registry.lockcache_locks.labels("acquired").set(stats.locks_acquired)
        registry.lockcache_locks.labels("contended").set(stats.locks_contended)
        registry.lockcache_locks.labels("unavailable").set(stats.locks_unavailable)
        for name, ns in stats.namespaces.items():
            registry.lockcache_cache.labels(name, "hit").set(ns.hits)
            registry.lockcache_cache.labels(name, "miss").set(ns.misses)
    body = generate_latest(registry.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
