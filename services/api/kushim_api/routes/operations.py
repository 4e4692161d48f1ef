"""Liveness, readiness, Redis report, Prometheus metrics and the OpenAPI description."""

from aiohttp import web
from kushim.lockcache.v1 import lockcache_pb2

from kushim_api import keys
from kushim_api.errors import NotFound
from kushim_api.health import redis_report
from kushim_api.metrics import prometheus_response
from kushim_api.openapi import spec

routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/health/ready")
async def ready(request: web.Request) -> web.Response:
    state = await request.app[keys.READINESS].readiness(request.app[keys.LIFECYCLE].draining)
    return web.json_response(state.as_json(), status=state.http_status)


@routes.get("/health/redis")
async def redis(request: web.Request) -> web.Response:
    stats = await request.app[keys.UPSTREAM].cache.Stats(lockcache_pb2.GetStatsRequest())
    return web.json_response(redis_report(stats))


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    if request.app[keys.CONFIG].metrics_port:
        raise NotFound("metrics are served on the metrics port")
    return await prometheus_response(request.app)


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(spec())
