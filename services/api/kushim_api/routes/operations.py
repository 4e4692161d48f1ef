"""Liveness, readiness, Redis report, Prometheus metrics and the OpenAPI description."""

import grpc
from aiohttp import web
from kushim.lockcache.v1 import lockcache_pb2
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kushim_api import keys
from kushim_api.health import readiness, redis_report
from kushim_api.openapi import spec

routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/health/ready")
async def ready(request: web.Request) -> web.Response:
    state = await readiness(request.app[keys.UPSTREAM], request.app[keys.LIFECYCLE].draining)
    return web.json_response(state.as_json(), status=state.http_status)


@routes.get("/health/redis")
async def redis(request: web.Request) -> web.Response:
    stats = await request.app[keys.UPSTREAM].cache.Stats(lockcache_pb2.GetStatsRequest())
    return web.json_response(redis_report(stats))


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    registry = request.app[keys.METRICS]
    try:
        stats = await request.app[keys.UPSTREAM].cache.Stats(lockcache_pb2.GetStatsRequest())
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


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(spec())
