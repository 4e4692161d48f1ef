"""create_app(config): the gateway's middlewares, routes and upstream connections."""

import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from kushim_api import keys
from kushim_api.auth import Tokens, auth_middleware
from kushim_api.cache import Caches
from kushim_api.config import Config
from kushim_api.errors import PayloadTooLarge, error_middleware
from kushim_api.health import ReadinessProbe
from kushim_api.lifecycle import Lifecycle
from kushim_api.metrics import Metrics, metrics_middleware, prometheus_response
from kushim_api.passwords import Passwords
from kushim_api.ratelimit import RateLimiter
from kushim_api.requestid import request_id_middleware
from kushim_api.revocation import TokenVersions
from kushim_api.routes import setup_routes
from kushim_api.security_headers import add_security_headers
from kushim_api.upstream import Upstream


def body_limit_middleware(max_bytes: int):
    """Refuses a declared over-limit body before reading it; client_max_size caps the rest."""

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > max_bytes:
            raise PayloadTooLarge(
                f"request body is larger than {max_bytes} bytes", {"maxBytes": max_bytes}
            )
        return await handler(request)

    return middleware


async def upstream_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[keys.CONFIG]
    upstream = Upstream.connect(
        config.graph_addr, config.lockcache_addr, config.upstream_timeout, app[keys.METRICS],
        tls=config.grpc_tls,
    )
    app[keys.UPSTREAM] = upstream
    app[keys.RATE_LIMITER] = RateLimiter(upstream, app[keys.METRICS])
    caches = Caches(
        upstream, app[keys.METRICS], near_cache_entries=config.near_cache_max_entries,
        near_cache_bytes=config.near_cache_max_bytes,
    )
    app[keys.CACHES] = caches
    app[keys.READINESS] = ReadinessProbe(upstream, config.readiness_cache_ms / 1000)
    app[keys.TOKEN_VERSIONS] = TokenVersions(upstream, config.token_version_cache_ms / 1000)
    yield
    await caches.close()
    await upstream.close()


async def passwords_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[keys.CONFIG]
    passwords = Passwords(config.password_hash_profile, config.password_hash_concurrency,
                          config.password_hash_queue)
    app[keys.PASSWORDS] = passwords
    yield
    passwords.close()


async def metrics_site_ctx(app: web.Application) -> AsyncIterator[None]:
    """/metrics alone on METRICS_PORT, for the scraper: the public port then does not serve it."""
    config = app[keys.CONFIG]
    async def scraped(request: web.Request) -> web.Response:
        return await prometheus_response(app)

    scrape = web.Application()
    scrape.router.add_get("/metrics", scraped)
    runner = web.AppRunner(scrape, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, config.bind_host, config.metrics_port).start()
    yield
    await runner.cleanup()


async def on_shutdown(app: web.Application) -> None:
    app[keys.LIFECYCLE].draining = True


def create_app(config: Config, *, clock: Callable[[], float] = time.time) -> web.Application:
    metrics = Metrics()
    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[
            request_id_middleware,
            metrics_middleware(metrics),
            error_middleware,
            body_limit_middleware(config.max_body_bytes),
            auth_middleware,
        ],
    )
    app[keys.CONFIG] = config
    app[keys.METRICS] = metrics
    app[keys.LIFECYCLE] = Lifecycle()
    app[keys.CLOCK] = clock
    app[keys.TOKENS] = Tokens(config.auth_token_secret, config.auth_token_ttl_seconds,
                              config.auth_token_previous_secrets)
    app.cleanup_ctx.append(passwords_ctx)
    app.cleanup_ctx.append(upstream_ctx)
    if config.metrics_port:
        app.cleanup_ctx.append(metrics_site_ctx)
    app.on_shutdown.append(on_shutdown)
    app.on_response_prepare.append(add_security_headers)
    setup_routes(app)
    return app
