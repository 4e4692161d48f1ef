"""LockCacheClient: locks (acquire, lock, hold, extend, release) and the cache over one channel.

An unreachable lockcache reads like an outage of Redis behind it: locks raise LockUnavailable,
cache reads miss, writes report not stored. It is logged once per change, not per call.
"""

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc

from kushim_lockcache_client import cache
from kushim_lockcache_client.channel import open_channel
from kushim_lockcache_client.errors import LockLost, LockUnavailable
from kushim_lockcache_client.holding import HeldLock, open_hold
from kushim_lockcache_client.invalidation_watch import InvalidationWatch
from kushim_lockcache_client.lease import Lease, lease_or_raise
from kushim_lockcache_client.near_cache import NearCache

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_TTL_S = 15.0

Metadata = Callable[[], Sequence[tuple[str, str]] | None]


def resource_list(resources: str | Iterable[str]) -> list[str]:
    return [resources] if isinstance(resources, str) else list(resources)


def to_ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class LockCacheClient:
    """`target` ("host:port") opens a channel the client owns; or pass your own `channel`.

    `timeout_s` is every call's deadline. Acquire retries (retry_count, retry_delay) run in
    the server and stop when the next would not fit the deadline, so the answer always
    arrives in time: HELD or UNAVAILABLE rather than DEADLINE_EXCEEDED.

    With a `near_cache`, cache reads (get, get_or_lease, get_or_fill) are served from process
    memory while lockcache's invalidation stream keeps it correct; this client's own writes
    (set, delete, invalidate) drop what they concern before they return.
    """

    def __init__(
        self,
        target: str = "",
        *,
        channel: grpc.aio.Channel | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        metadata: Metadata | None = None,
        near_cache: NearCache | None = None,
    ) -> None:
        if channel is None and not target:
            raise ValueError("LockCacheClient needs a target or a channel")
        self.target = target
        self.timeout_s = timeout_s
        self._owns_channel = channel is None
        self._channel = channel or open_channel(target)
        self.metadata = metadata or (lambda: None)
        self.lock_service = pb_grpc.LockServiceStub(self._channel)
        self.cache_service = pb_grpc.CacheServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._reachable: bool | None = None
        self.last_error = ""  # the gRPC status of the last call lockcache did not answer
        self.near = near_cache
        self._watch = (
            None if near_cache is None
            else InvalidationWatch(self._channel, near_cache, metadata=self.metadata)
        )

    async def close(self) -> None:
        if self._watch is not None:
            await self._watch.close()
        if self._owns_channel:
            await self._channel.close()

    async def __aenter__(self) -> "LockCacheClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # ------------------------------------------------------------ plumbing

    def note_reachable(self, reachable: bool, error: grpc.aio.AioRpcError | None = None) -> None:
        if reachable == self._reachable:
            return
        self._reachable = reachable
        if reachable:
            log.info("lockcache reachable at %s", self.target or "its channel")
        else:
            log.warning(
                "lockcache unreachable at %s (%s): locks unavailable, caches bypassed",
                self.target or "its channel", error.code().name if error else "unknown",
            )

    async def call(self, method, request, timeout_s: float | None = None):
        """The answer, or None when lockcache cannot be reached in time. A request lockcache
        calls malformed (INVALID_ARGUMENT) raises ValueError."""
        try:
            answer = await method(
                request, timeout=timeout_s or self.timeout_s, metadata=self.metadata()
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise ValueError(exc.details() or "invalid argument") from None
            self.note_reachable(False, exc)
            self.last_error = exc.code().name
            return None
        self.note_reachable(True)
        return answer

    # ------------------------------------------------------------ locks

    async def acquire(
        self,
        resources: str | Iterable[str],
        *,
        ttl: float = DEFAULT_TTL_S,
        retries: int | None = None,
        retry_delay: float | None = None,
        floors: Mapping[str, int] | None = None,
    ) -> Lease:
        """Takes every resource or none (up to 64, in sorted order, so callers never
        deadlock). `retries` None = the server's LOCK_RETRY_COUNT, 0 = try once.
        `floors`: per resource, the fencing token the caller's storage last accepted; each
        token answered is above it, even after the lock masters' counter expired.
        Raises LockHeld, LockUnavailable or LockInvalid."""
        names = resource_list(resources)
        request = pb.AcquireLockRequest(
            resources=names,
            ttl_ms=to_ms(ttl),
            retry_count=-1 if retries is None else retries,
            retry_delay_ms=0 if retry_delay is None else to_ms(retry_delay),
            fencing_floors={name: floor for name, floor in (floors or {}).items() if floor},
        )
        answer = await self.call(self.lock_service.Acquire, request)
        if answer is None:
            raise LockUnavailable(names, "lockcache unreachable", code=self.last_error)
        return lease_or_raise(answer, names)

    async def release(self, lease: Lease) -> bool:
        """True when released; False when it had already expired or lockcache is down (the
        lock then expires at its ttl). Never deletes someone else's lock."""
        answer = await self.call(
            self.lock_service.Release,
            pb.ReleaseLockRequest(resources=lease.resources, token=lease.token),
        )
        return answer is not None and answer.outcome == pb.RELEASED

    async def extend(self, lease: Lease, *, ttl: float = DEFAULT_TTL_S) -> Lease:
        """A lease valid `ttl` from now. Raises LockLost when the lock is no longer ours,
        LockUnavailable when no quorum could confirm it (treat it as lost near valid_until)."""
        answer = await self.call(
            self.lock_service.Extend,
            pb.ExtendLockRequest(resources=lease.resources, token=lease.token, ttl_ms=to_ms(ttl)),
        )
        if answer is None:
            raise LockUnavailable(lease.resources, "lockcache unreachable", code=self.last_error)
        if answer.outcome == pb.EXTEND_UNAVAILABLE:
            raise LockUnavailable(lease.resources, "no quorum to confirm the extension")
        if answer.outcome != pb.EXTENDED:
            raise LockLost(lease.resources, "taken over or expired", lease.fencing_token)
        return Lease(
            lease.resources, lease.token, lease.fencing_token, lease.fencing_tokens,
            answer.valid_until.ToNanoseconds() / 1e9, lease.fencing_ttl_ms,
        )

    @contextlib.asynccontextmanager
    async def lock(
        self,
        resources: str | Iterable[str],
        *,
        ttl: float = DEFAULT_TTL_S,
        retries: int | None = None,
        retry_delay: float | None = None,
    ) -> AsyncIterator[Lease]:
        """`async with client.lock("invoice:42", ttl=15) as lease:` write with
        lease.fencing_token; released on exit. No keep-alive: work longer than the ttl
        belongs in `hold`."""
        lease = await self.acquire(resources, ttl=ttl, retries=retries, retry_delay=retry_delay)
        try:
            yield lease
        finally:
            await self.release(lease)

    def hold(
        self,
        resources: str | Iterable[str],
        *,
        ttl: float = DEFAULT_TTL_S,
        max_hold: float = 60.0,
        retries: int | None = None,
        cancel_on_loss: bool = True,
        on_lost: Callable[[LockLost], object] | None = None,
    ) -> "contextlib.AbstractAsyncContextManager[HeldLock]":
        """The lock kept alive by lockcache (extended every ttl/3) while this block runs, for
        at most `max_hold` seconds (capped at one hour). The client sends a heartbeat every
        ttl/3; if it falls silent for a whole ttl (a paused process), lockcache lets the lock
        go. On loss the block's task is cancelled and LockLost raised from the `async with`
        (with cancel_on_loss=False the work goes on: watch `held.lost` or call `held.check()`;
        LockLost is still raised at exit). Acquisition raises like `acquire`."""
        return open_hold(
            self, resource_list(resources), to_ms(ttl), to_ms(max_hold),
            -1 if retries is None else retries, cancel_on_loss, on_lost,
        )

    # ------------------------------------------------------------ cache

    def _near(self) -> NearCache | None:
        """The near cache, its stream watched from the first cache call on."""
        if self._watch is not None:
            self._watch.start()
        return self.near

    async def get(self, key: pb.CacheKey) -> bytes | None:
        """The cached value; None on a miss or when lockcache or Redis is down."""
        near = self._near()
        if near is not None:
            value = near.get(key)
            if value is not None:
                return value
        begun = near.begin() if near is not None else 0
        answer = await self.call(self.cache_service.Get, pb.GetCacheRequest(key=key))
        if answer is None or answer.status != pb.HIT:
            return None
        if near is not None:
            near.put(key, answer.value, begun)
        return answer.value

    async def set(self, key: pb.CacheKey, value: bytes, *, ttl_s: int = 0) -> bool:
        """Stores unconditionally (last writer wins). True when stored."""
        async with self._writing_key(key):
            answer = await self.call(
                self.cache_service.Set, pb.SetCacheRequest(key=key, value=value, ttl_seconds=ttl_s)
            )
        return bool(answer and answer.stored)

    async def delete(self, key: pb.CacheKey) -> bool:
        async with self._writing_key(key):
            answer = await self.call(self.cache_service.Delete, pb.DeleteCacheRequest(key=key))
        return bool(answer and answer.deleted)

    @contextlib.asynccontextmanager
    async def _writing_key(self, key: pb.CacheKey) -> AsyncIterator[None]:
        """Drops the entry before the write (reads from here on miss) and after it (a read
        that began meanwhile may have stored the old value)."""
        near = self._near()
        if near is not None:
            near.drop_key(key)
        try:
            yield
        finally:
            if near is not None:
                near.drop_key(key)

    async def get_or_fill(
        self,
        key: pb.CacheKey,
        compute: Callable[[], Awaitable[bytes | cache.Computed]],
        *,
        ttl_s: int = 0,
        wait_ms: int = cache.DEFAULT_WAIT_MS,
    ) -> bytes:
        """The cached value, or `compute()`'s, stored when this caller won the fill lease."""
        return await cache.get_or_fill(self, key, compute, ttl_s=ttl_s, wait_ms=wait_ms)

    async def get_or_lease(
        self, key: pb.CacheKey, *, wait_ms: int = cache.DEFAULT_WAIT_MS
    ) -> cache.CacheLease:
        near = self._near()
        if near is None:
            return await cache.get_or_lease(self, key, wait_ms)
        value = near.get(key)
        if value is not None:
            return cache.CacheLease(value, "")
        begun = near.begin()
        lease = await cache.get_or_lease(self, key, wait_ms)
        if lease.value is not None:
            near.put(key, lease.value, begun)
        return lease

    async def fill(
        self, key: pb.CacheKey, lease_token: str, value: bytes, *, ttl_s: int = 0,
        dependencies: Iterable[str] = (),
    ) -> bool:
        return await cache.fill(self, key, lease_token, value, ttl_s, dependencies)

    async def invalidate(self, request: pb.InvalidateCacheRequest) -> bool:
        """False when Redis or lockcache is unavailable (nothing was invalidated)."""
        near = self._near()
        if near is not None:
            near.drop_scope(request)
        try:
            answer = await self.call(self.cache_service.Invalidate, request)
        finally:
            if near is not None:  # as _writing_key: reads begun meanwhile store nothing
                near.drop_scope(request)
        return bool(answer and answer.invalidated)

    async def serving(self) -> bool:
        """lockcache's gRPC health: SERVING once its Redis connections are up."""
        answer = await self.call(self._health.Check, health_pb2.HealthCheckRequest())
        return answer is not None and answer.status == health_pb2.HealthCheckResponse.SERVING
