"""Typed keys for application and request state."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from kushim_api.auth import Tokens
    from kushim_api.cache import Caches
    from kushim_api.config import Config
    from kushim_api.health import ReadinessProbe
    from kushim_api.lifecycle import Lifecycle
    from kushim_api.metrics import Metrics
    from kushim_api.passwords import Passwords
    from kushim_api.ratelimit import RateLimiter
    from kushim_api.revocation import TokenVersions
    from kushim_api.upstream import Upstream

CONFIG: "web.AppKey[Config]" = web.AppKey("config")
METRICS: "web.AppKey[Metrics]" = web.AppKey("metrics")
LIFECYCLE: "web.AppKey[Lifecycle]" = web.AppKey("lifecycle")
TOKENS: "web.AppKey[Tokens]" = web.AppKey("tokens")
PASSWORDS: "web.AppKey[Passwords]" = web.AppKey("passwords")
CLOCK: "web.AppKey[Callable[[], float]]" = web.AppKey("clock")
UPSTREAM: "web.AppKey[Upstream]" = web.AppKey("upstream")
RATE_LIMITER: "web.AppKey[RateLimiter]" = web.AppKey("rate_limiter")
CACHES: "web.AppKey[Caches]" = web.AppKey("caches")
READINESS: "web.AppKey[ReadinessProbe]" = web.AppKey("readiness")
TOKEN_VERSIONS: "web.AppKey[TokenVersions]" = web.AppKey("token_versions")

USER_ID: "web.RequestKey[str]" = web.RequestKey("user_id")
