"""Read-through caches in lockcache (user profiles, platform data) that never fail a request.

GetOrLease/Fill is used rather than Get/Set: a fill whose lease predates an
invalidation is discarded by lockcache, so a read racing a PATCH cannot put the
old value back. The invalidations are graph's, made with the writes (its
contexts/invalidate.py). When lockcache is unreachable the value is computed and
served uncached.

Hot entries are served from a near cache in process memory (NEAR_CACHE_MAX_ENTRIES > 0),
kept correct by lockcache's invalidation stream. After a write through graph, this process
also drops the entries it changed at once (`forget_*`), so its next read does not wait out
the stream's delivery time.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from kushim.lockcache.v1 import lockcache_pb2
from kushim_common.logs import request_id_var
from kushim_common.statelog import StateLog
from kushim_lockcache_client import InvalidationWatch, NearCache

from kushim_api.metrics import Metrics
from kushim_api.upstream import Upstream

log = logging.getLogger(__name__)

LEASE_WAIT_MS = 500

Loader = Callable[[], Awaitable[Any]]


class Caches:
    def __init__(
        self, upstream: Upstream, metrics: Metrics, *, near_cache_entries: int = 0,
        near_cache_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self._upstream = upstream
        self._metrics = metrics
        self._lockcache = StateLog(log, up="lockcache reachable again: caching resumed",
                                   down="lockcache unreachable: serving uncached")
        self.near: NearCache | None = None
        self._watch: InvalidationWatch | None = None
        if near_cache_entries:
            self.near = NearCache(
                max_entries=near_cache_entries, max_bytes=near_cache_bytes,
                on_count=lambda outcome: metrics.near_cache.labels(outcome).inc(),
            )
            self._watch = InvalidationWatch(
                upstream.lockcache_channel, self.near, metadata=_request_id
            )
            self._watch.start()

    async def close(self) -> None:
        if self._watch is not None:
            await self._watch.close()

    @staticmethod
    def profile_key(user_id: str) -> lockcache_pb2.CacheKey:
        return lockcache_pb2.CacheKey(namespace=lockcache_pb2.USER_PROFILE, user_id=user_id)

    @staticmethod
    def platform_key(platform: str, user_id: str, data_source_id: str) -> lockcache_pb2.CacheKey:
        return lockcache_pb2.CacheKey(
            namespace=lockcache_pb2.PLATFORM_DATA, user_id=user_id, platform=platform,
            data_source_id=data_source_id,
        )

    async def read_through(self, key: lockcache_pb2.CacheKey, namespace: str,
                           loader: Loader) -> Any:
        near = self.near
        if near is not None:
            held = near.get(key)
            if held is not None:
                self._metrics.cache_requests.labels(namespace, "hit").inc()
                return json.loads(held)
        begun = near.begin() if near is not None else 0
        lease = ""
        try:
            answer = await self._upstream.cache.GetOrLease(
                lockcache_pb2.GetOrLeaseRequest(key=key, wait_ms=LEASE_WAIT_MS)
            )
            self._lockcache.report(True)
            if answer.status == lockcache_pb2.HIT:
                try:
                    value = json.loads(answer.value)
                    self._metrics.cache_requests.labels(namespace, "hit").inc()
                    if near is not None:
                        near.put(key, answer.value, begun)
                    return value
                except ValueError:
                    log.warning("Discarding an unreadable %s cache entry", namespace)
            lease = answer.lease_token
        except grpc.aio.AioRpcError:
            self._lockcache.report(False)
        self._metrics.cache_requests.labels(namespace, "miss").inc()
        value = await loader()
        if lease:
            try:
                await self._upstream.cache.Fill(
                    lockcache_pb2.FillCacheRequest(
                        key=key, lease_token=lease, value=json.dumps(value).encode()
                    )
                )
            except grpc.aio.AioRpcError:
                self._lockcache.report(False)
        return value

    def forget_profile(self, user_id: str) -> None:
        """Graph changed this user's profile (and invalidated it in lockcache)."""
        self._forget(lockcache_pb2.USER_PROFILE_SCOPE, user_id)

    def forget_platform_data(self, user_id: str) -> None:
        """Graph changed records or data sources of this user (and invalidated what they
        reach in lockcache)."""
        self._forget(lockcache_pb2.USER_PLATFORM_DATA, user_id)

    def _forget(self, scope: int, user_id: str) -> None:
        # Local memory only: lockcache's entries are graph's to invalidate.
        if self.near is not None:
            self.near.drop_scope(lockcache_pb2.InvalidateCacheRequest(scope=scope, user_id=user_id))


def _request_id():
    request_id = request_id_var.get()
    return (("x-request-id", request_id),) if request_id else None
