"""Read-through caches in lockcache (user profiles, platform data) that never fail a request.

GetOrLease/Fill is used rather than Get/Set: a fill whose lease predates an
invalidation is discarded by lockcache, so a read racing a PATCH cannot put the
old value back. The invalidations are graph's, made with the writes (its
contexts/invalidate.py). When lockcache is unreachable the value is computed and
served uncached.
"""

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from kushim.lockcache.v1 import lockcache_pb2

from kushim_api.metrics import Metrics
from kushim_api.upstream import Upstream

log = logging.getLogger(__name__)

LEASE_WAIT_MS = 500

Loader = Callable[[], Awaitable[Any]]


class Caches:
    def __init__(self, upstream: Upstream, metrics: Metrics) -> None:
        self._upstream = upstream
        self._metrics = metrics
        self._reachable = True

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
        lease = ""
        try:
            answer = await self._upstream.cache.GetOrLease(
                lockcache_pb2.GetOrLeaseRequest(key=key, wait_ms=LEASE_WAIT_MS)
            )
            self._seen(True)
            if answer.status == lockcache_pb2.HIT:
                try:
                    value = json.loads(answer.value)
                    self._metrics.cache_requests.labels(namespace, "hit").inc()
                    return value
                except ValueError:
                    log.warning("Discarding an unreadable %s cache entry", namespace)
            lease = answer.lease_token
        except grpc.aio.AioRpcError:
            self._seen(False)
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
                self._seen(False)
        return value

    def _seen(self, reachable: bool) -> None:
        if reachable != self._reachable:
            self._reachable = reachable
            if reachable:
                log.info("lockcache reachable again: caching resumed")
            else:
                log.warning("lockcache unreachable: serving uncached")
