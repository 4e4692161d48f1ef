"""Fixed-window rate limits shared by every replica through lockcache.

When lockcache (or its Redis) cannot count, each process falls back to its own
counters: a limit then holds per replica instead of globally, which is weaker but
neither fails open (no limit at all) nor closed (nobody can log in).
"""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from kushim.lockcache.v1 import lockcache_pb2
from kushim_common.statelog import StateLog

from kushim_api.errors import RateLimited
from kushim_api.metrics import Metrics
from kushim_api.upstream import Upstream

log = logging.getLogger(__name__)

MAX_LOCAL_KEYS = 100_000


@dataclass(frozen=True)
class Limit:
    name: str
    subject: str
    limit: int
    window_seconds: int


class LocalCounters:
    """Per-process fixed windows, used only while the shared counters are unavailable."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, int]] = {}

    def increment(self, subject: str, window_seconds: int) -> tuple[int, int]:
        now = self._clock()
        window = int(now // window_seconds)
        key = f"{subject}:{window_seconds}"
        start, count = self._windows.get(key, (window, 0))
        count = count + 1 if start == window else 1
        if len(self._windows) >= MAX_LOCAL_KEYS:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        self._windows[key] = (window, count)
        reset = int((window + 1) * window_seconds - now) + 1
        return count, reset

    def reset(self, subject: str) -> None:
        for key in [k for k in self._windows if k.startswith(subject + ":")]:
            del self._windows[key]


class RateLimiter:
    def __init__(self, upstream: Upstream, metrics: Metrics,
                 local: LocalCounters | None = None) -> None:
        self._upstream = upstream
        self._metrics = metrics
        self._local = local or LocalCounters()
        self._shared = StateLog(
            log, up="Shared rate-limit counters available again",
            down="Shared rate-limit counters unavailable: limiting per process",
        )

    async def check(self, limit: Limit) -> None:
        """Counts one hit; RateLimited when the window's count goes past the limit."""
        count, reset = await self._increment(limit)
        if count > limit.limit:
            self._metrics.rate_limited.labels(limit.name).inc()
            raise RateLimited(f"too many attempts, retry in {reset} s", retry_after=reset)

    async def reset(self, limit: Limit) -> None:
        self._local.reset(limit.subject)
        try:
            await self._upstream.cache.Delete(
                lockcache_pb2.DeleteCacheRequest(key=_key(limit.subject))
            )
        except grpc.aio.AioRpcError:
            log.debug("Could not reset rate-limit counter %s", limit.name)

    async def _increment(self, limit: Limit) -> tuple[int, int]:
        try:
            answer = await self._upstream.cache.Increment(
                lockcache_pb2.IncrementCounterRequest(
                    key=_key(limit.subject), window_seconds=limit.window_seconds
                )
            )
            if answer.available:
                self._shared.report(True)
                return answer.count, int(answer.reset_in_seconds) or limit.window_seconds
        except grpc.aio.AioRpcError:
            pass
        self._shared.report(False)
        self._metrics.rate_limit_fallback.inc()
        return self._local.increment(limit.subject, limit.window_seconds)


def _key(subject: str) -> lockcache_pb2.CacheKey:
    return lockcache_pb2.CacheKey(namespace=lockcache_pb2.RATE_LIMIT, subject=subject)


def login_limits(email: str, ip: str, *, per_account: int, per_ip: int,
                 window_seconds: int) -> tuple[Limit, Limit]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return (
        Limit("login_account", f"login:account:{account}", per_account, window_seconds),
        Limit("login_ip", f"login:ip:{ip}", per_ip, window_seconds),
    )
