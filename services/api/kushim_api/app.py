"""create_app(config): the gateway's middlewares, routes and upstream connections."""

import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from kushim_api import keys
from kushim_api.auth import Passwords, Tokens, auth_middleware
from kushim_api.cache import Caches
from kushim_api.config import Config
from kushim_api.errors import PayloadTooLarge, error_middleware
from kushim_api.lifecycle import Lifecycle
from kushim_api.metrics import Metrics, metrics_middleware
from kushim_api.ratelimit import RateLimiter
from kushim_api.requestid import request_id_middleware
from kushim_api.routes import setup_routes
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
    app[keys.CACHES] = Caches(upstream, app[keys.METRICS])
    yield
    await upstream.close()


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
    app[keys.TOKENS] = Tokens(config.auth_token_secret, config.auth_token_ttl_seconds)
    app[keys.PASSWORDS] = Passwords(config.password_hash_profile)
    app.cleanup_ctx.append(upstream_ctx)
    app.on_shutdown.append(on_shutdown)
    setup_routes(app)
    return app
