"""gRPC servicers: kushim.lockcache.v1 LockService and CacheService."""

import logging

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_common.grpcserve import GrpcServer

from kushim_lockcache import holder, invalidation, keys
from kushim_lockcache.backends import Backends, open_backends
from kushim_lockcache.cache import HIT, MISS, Cache
from kushim_lockcache.config import Config
from kushim_lockcache.lease import BadLease, Leases
from kushim_lockcache.redlock import (
    BadLockRequest,
    Lock,
    LockError,
    LockHeld,
    LockNotOwned,
    LockUnavailable,
    Redlock,
)
from kushim_lockcache.stats import Stats

log = logging.getLogger(__name__)

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
}
STATUS = {HIT: pb.HIT, MISS: pb.MISS}
MAX_WINDOW_SECONDS = 7 * 24 * 3600


def _timestamp_of(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


class LockServicer(pb_grpc.LockServiceServicer):
    def __init__(self, redlock: Redlock, config: Config) -> None:
        self.redlock = redlock
        self.config = config

    def params(self, request: pb.AcquireLockRequest) -> tuple[list[str], int, int, int]:
        retries = self.config.lock_retry_count if request.retry_count < 0 else request.retry_count
        return (
            list(request.resources),
            request.ttl_ms or self.config.discovery_lock_ttl_ms,
            min(retries, 100),
            request.retry_delay_ms or self.config.lock_retry_delay_ms,
        )

    @staticmethod
    def answer(result: Lock | LockError) -> pb.AcquireLockResponse:
        if isinstance(result, Lock):
            return pb.AcquireLockResponse(
                outcome=pb.ACQUIRED,
                token=result.token,
                fencing_token=result.fencing_token,
                valid_until=_timestamp_of(result.valid_until),
                validity_ms=result.validity_ms,
                resources=list(result.resources),
                fencing_tokens=result.fencing_tokens,
            )
        outcome = {
            LockHeld: pb.HELD,
            LockUnavailable: pb.UNAVAILABLE,
            BadLockRequest: pb.INVALID,
        }.get(type(result), pb.UNAVAILABLE)
        return pb.AcquireLockResponse(
            outcome=outcome, resources=result.resources, message=result.reason
        )

    async def Acquire(self, request, context):
        resources, ttl_ms, retries, delay = self.params(request)
        try:
            lock = await self.redlock.acquire(resources, ttl_ms, retries, delay)
        except LockError as exc:
            return self.answer(exc)
        return self.answer(lock)

    async def Release(self, request, context):
        try:
            await self.redlock.release(list(request.resources), request.token)
        except LockNotOwned:
            return pb.ReleaseLockResponse(outcome=pb.NOT_OWNED)
        except LockUnavailable:
            return pb.ReleaseLockResponse(outcome=pb.RELEASE_UNAVAILABLE)
        except BadLockRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.reason)
        return pb.ReleaseLockResponse(outcome=pb.RELEASED)

    async def Extend(self, request, context):
        ttl_ms = request.ttl_ms or self.config.discovery_lock_ttl_ms
        try:
            lock = await self.redlock.extend(list(request.resources), request.token, ttl_ms)
        except LockNotOwned:
            return pb.ExtendLockResponse(outcome=pb.LOST)
        except LockUnavailable:
            return pb.ExtendLockResponse(outcome=pb.EXTEND_UNAVAILABLE)
        except BadLockRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.reason)
        return pb.ExtendLockResponse(
            outcome=pb.EXTENDED,
            valid_until=_timestamp_of(lock.valid_until),
            validity_ms=lock.validity_ms,
        )

    async def Hold(self, request_iterator, context):
        async for response in holder.hold(self.redlock, request_iterator, self.answer, self.params):
            yield response


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
    def __init__(self, cache: Cache, leases: Leases, backends: Backends) -> None:
        self.cache = cache
        self.leases = leases
        self.backends = backends

    async def _entry(self, key: pb.CacheKey, context) -> keys.CacheEntry:
        try:
            return cache_entry(key)
        except keys.BadKey as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))

    async def Get(self, request, context):
        status, value = await self.cache.get(await self._entry(request.key, context))
        return pb.GetCacheResponse(status=STATUS.get(status, pb.CACHE_UNAVAILABLE), value=value)

    async def GetMany(self, request, context):
        entries = [await self._entry(k, context) for k in request.keys]
        answers = await self.cache.get_many(entries)
        return pb.GetManyCacheResponse(
            entries=[
                pb.GetCacheResponse(status=STATUS.get(s, pb.CACHE_UNAVAILABLE), value=v)
                for s, v in answers
            ]
        )

    async def Set(self, request, context):
        entry = await self._entry(request.key, context)
        if request.ttl_seconds < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "ttl_seconds must be >= 0")
        stored = await self.cache.set(entry, request.value, request.ttl_seconds)
        return pb.SetCacheResponse(stored=stored.stored, message=stored.message)

    async def Delete(self, request, context):
        entry = await self._entry(request.key, context)
        return pb.DeleteCacheResponse(deleted=await self.cache.delete(entry))

    async def Invalidate(self, request, context):
        scope = SCOPE_NAMES.get(request.scope)
        if scope is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "scope is required")
        try:
            done = await invalidation.invalidate(
                self.cache.node, scope, request.user_id, request.data_source_id
            )
        except keys.BadKey as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return pb.InvalidateCacheResponse(invalidated=done)

    async def GetOrLease(self, request, context):
        entry = await self._entry(request.key, context)
        if request.wait_ms < 0 or request.lease_ttl_ms < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "negative wait_ms/lease_ttl_ms")
        answer = await self.leases.get_or_lease(entry, request.wait_ms, request.lease_ttl_ms)
        return pb.GetOrLeaseResponse(
            status=STATUS.get(answer.status, pb.CACHE_UNAVAILABLE),
            value=answer.value,
            lease_token=answer.lease_token,
        )

    async def Fill(self, request, context):
        entry = await self._entry(request.key, context)
        try:
            stored = await self.leases.fill(
                entry, request.lease_token, request.value, max(request.ttl_seconds, 0)
            )
        except BadLease as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return pb.FillCacheResponse(stored=stored.stored, message=stored.message)

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
        available, count, reset = await self.cache.increment(
            request.key.subject, request.window_seconds
        )
        return pb.IncrementCounterResponse(available=available, count=count, reset_in_seconds=reset)

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
            used_memory_human=str(info.get("used_memory_human", "")),
            connected_clients=int(info.get("connected_clients", 0)),
            keyspace_hits=int(info.get("keyspace_hits", 0)),
            keyspace_misses=int(info.get("keyspace_misses", 0)),
        )


class LockcacheServer:
    """Backends + gRPC server; `start()` connects and listens, `stop()` drains."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.stats = Stats()
        self.backends = open_backends(config, self.stats)
        self.redlock = Redlock(self.backends.lock_masters, self.stats)
        ttls = {
            keys.CONTEXT_GROUP: config.context_group_ttl_s,
            keys.USER_PROFILE: config.user_profile_ttl_s,
            keys.PLATFORM: config.platform_data_ttl_s,
            keys.RATE_LIMIT: 60,
        }
        self.cache = Cache(self.backends.cache, self.stats, ttls, config.max_value_bytes)
        self.leases = Leases(self.cache)
        self.grpc = GrpcServer(
            [
                pb.DESCRIPTOR.services_by_name["LockService"].full_name,
                pb.DESCRIPTOR.services_by_name["CacheService"].full_name,
            ]
        )
        pb_grpc.add_LockServiceServicer_to_server(
            LockServicer(self.redlock, config), self.grpc.server
        )
        pb_grpc.add_CacheServiceServicer_to_server(
            CacheServicer(self.cache, self.leases, self.backends), self.grpc.server
        )
        self.stats.connected_gauge.set_function(
            lambda: 1.0 if self.backends.cache is not None and self.backends.cache.up else 0.0
        )
        self.port = 0
        self._metrics = None

    async def start(self) -> int:
        """Raises StartupError (wrong password, evicting lock master)."""
        await self.backends.start()
        self.port = self.grpc.bind(f"{self.config.bind_host}:{self.config.port}")
        await self.grpc.start()
        if self.config.metrics_port:
            self._metrics = self.stats.serve_metrics(
                self.config.bind_host, self.config.metrics_port
            )
        await self.grpc.mark_serving()
        log.info("lockcache listening on %s:%d", self.config.bind_host, self.port)
        return self.port

    async def stop(self, grace_seconds: float = 1.0) -> None:
        await self.grpc.stop(grace_seconds)
        await self.close()

    async def close(self) -> None:
        await self.backends.close()
        if self._metrics is not None:
            server, thread = self._metrics
            server.shutdown()
            server.server_close()
            thread.join()
            self._metrics = None
