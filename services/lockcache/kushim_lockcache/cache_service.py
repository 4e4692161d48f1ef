"""CacheService: Get, GetMany, Set, Delete, Invalidate, GetOrLease, Fill, Increment, Stats."""

import grpc
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc

from kushim_lockcache import keys
from kushim_lockcache.backends import Backends
from kushim_lockcache.cache import HIT, MISS, Cache
from kushim_lockcache.counters import Counters
from kushim_lockcache.deadline import bounded
from kushim_lockcache.lease import BadLease, Leases

NAMESPACE_NAMES = {
    pb.CONTEXT_GROUP: keys.CONTEXT_GROUP,
    pb.USER_PROFILE: keys.USER_PROFILE,
    pb.PLATFORM_DATA: keys.PLATFORM,
    pb.RATE_LIMIT: keys.RATE_LIMIT,
}
SCOPE_NAMES = {
    pb.USER_CONTEXT_GROUPS: keys.SCOPE_USER_CONTEXT_GROUPS,
    pb.USER_PROFILE_SCOPE: keys.SCOPE_USER_PROFILE,
    pb.USER_PLATFORM_DATA: keys.SCOPE_USER_PLATFORM_DATA,
    pb.DATA_SOURCE: keys.SCOPE_DATA_SOURCE,
    pb.RECORDS: keys.SCOPE_RECORDS,
}
STATUS = {HIT: pb.HIT, MISS: pb.MISS}
MAX_WINDOW_SECONDS = 7 * 24 * 3600
MAX_TTL_SECONDS = 30 * 24 * 3600
MAX_WAIT_MS = 30_000
MAX_LEASE_TTL_MS = 600_000


async def _check_ttl(ttl_seconds: int, context) -> None:
    if not 0 <= ttl_seconds <= MAX_TTL_SECONDS:
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, f"ttl_seconds must be in [0, {MAX_TTL_SECONDS}]"
        )


def cache_entry(key: pb.CacheKey) -> keys.CacheEntry:
    namespace = NAMESPACE_NAMES.get(key.namespace)
    if namespace is None:
        raise keys.BadKey("namespace is required")
    return keys.cache_entry(
        namespace,
        user_id=key.user_id,
        record_id=key.record_id,
        depth=key.depth,
        platform=key.platform,
        data_source_id=key.data_source_id,
    )


class CacheServicer(pb_grpc.CacheServiceServicer):
    def __init__(
        self, cache: Cache, leases: Leases, counters: Counters, backends: Backends
    ) -> None:
        self.cache = cache
        self.counters = counters
        self.leases = leases
        self.backends = backends

    async def _entry(self, key: pb.CacheKey, context) -> keys.CacheEntry:
        try:
            return cache_entry(key)
        except keys.BadKey as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))

    @bounded
    async def Get(self, request, context):
        status, value = await self.cache.get(await self._entry(request.key, context))
        return pb.GetCacheResponse(status=STATUS.get(status, pb.CACHE_UNAVAILABLE), value=value)

    @bounded
    async def GetMany(self, request, context):
        entries = [await self._entry(k, context) for k in request.keys]
        answers = await self.cache.get_many(entries)
        return pb.GetManyCacheResponse(
            entries=[
                pb.GetCacheResponse(status=STATUS.get(s, pb.CACHE_UNAVAILABLE), value=v)
                for s, v in answers
            ]
        )

    @bounded
    async def Set(self, request, context):
        entry = await self._entry(request.key, context)
        await _check_ttl(request.ttl_seconds, context)
        stored = await self.cache.set(entry, request.value, request.ttl_seconds)
        return pb.SetCacheResponse(stored=stored.stored, message=stored.message)

    @bounded
    async def Delete(self, request, context):
        if request.key.namespace == pb.RATE_LIMIT:
            try:
                return pb.DeleteCacheResponse(
                    deleted=await self.counters.reset(request.key.subject)
                )
            except keys.BadKey as exc:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"subject: {exc}")
        entry = await self._entry(request.key, context)
        return pb.DeleteCacheResponse(deleted=await self.cache.delete(entry))

    @bounded
    async def Invalidate(self, request, context):
        scope = SCOPE_NAMES.get(request.scope)
        if scope is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "scope is required")
        try:
            if scope == keys.SCOPE_RECORDS:
                done = await self.cache.invalidate_records(
                    request.user_id, list(request.record_ids)
                )
            else:
                done = await self.cache.invalidate(scope, request.user_id, request.data_source_id)
        except keys.BadKey as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return pb.InvalidateCacheResponse(invalidated=done)

    @bounded
    async def GetOrLease(self, request, context):
        entry = await self._entry(request.key, context)
        if not 0 <= request.wait_ms <= MAX_WAIT_MS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"wait_ms must be in [0, {MAX_WAIT_MS}]"
            )
        if not 0 <= request.lease_ttl_ms <= MAX_LEASE_TTL_MS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"lease_ttl_ms must be in [0, {MAX_LEASE_TTL_MS}]"
            )
        answer = await self.leases.get_or_lease(entry, request.wait_ms, request.lease_ttl_ms)
        return pb.GetOrLeaseResponse(
            status=STATUS.get(answer.status, pb.CACHE_UNAVAILABLE),
            value=answer.value,
            lease_token=answer.lease_token,
        )

    @bounded
    async def Fill(self, request, context):
        entry = await self._entry(request.key, context)
        await _check_ttl(request.ttl_seconds, context)
        try:
            stored = await self.leases.fill(
                entry,
                request.lease_token,
                request.value,
                request.ttl_seconds,
                request.dependency_record_ids,
            )
        except (BadLease, keys.BadKey) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return pb.FillCacheResponse(stored=stored.stored, message=stored.message)

    @bounded
    async def Increment(self, request, context):
        if request.key.namespace != pb.RATE_LIMIT:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "namespace must be RATE_LIMIT")
        if not 0 < request.window_seconds <= MAX_WINDOW_SECONDS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"window_seconds must be in [1, {MAX_WINDOW_SECONDS}]",
            )
        try:
            keys.rate_limit_key(request.key.subject)
        except keys.BadKey as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"subject: {exc}")
        available, count, reset = await self.counters.increment(
            request.key.subject, request.window_seconds
        )
        return pb.IncrementCounterResponse(available=available, count=count, reset_in_seconds=reset)

    @bounded
    async def Stats(self, request, context):
        stats = self.backends.stats
        info = await self.cache.info()
        cache_node = self.backends.cache
        return pb.GetStatsResponse(
            enabled=cache_node is not None,
            connected=bool(cache_node is not None and cache_node.up),
            namespaces={
                name: pb.NamespaceStats(hits=c.hits, misses=c.misses, hit_rate=c.hit_rate)
                for name, c in stats.namespaces.items()
                if name != keys.RATE_LIMIT
            },
            hit_rate=stats.hit_rate,
            locks_acquired=stats.locks_acquired,
            locks_contended=stats.locks_contended,
            locks_unavailable=stats.locks_unavailable,
            reconnects=stats.reconnects,
            oom_errors=stats.oom_errors,
            total_commands_processed=int(info.get("total_commands_processed", 0)),
            instantaneous_ops_per_sec=int(info.get("instantaneous_ops_per_sec", 0)),
            used_memory_human=info.get("used_memory_human", ""),
            connected_clients=int(info.get("connected_clients", 0)),
            keyspace_hits=int(info.get("keyspace_hits", 0)),
            keyspace_misses=int(info.get("keyspace_misses", 0)),
            info=info,
            locks_disabled=self.backends.locks_disabled,
        )
