"""Client of the lockcache service: discovery locks, cache invalidation, context-group cache.

An unreachable lockcache is treated exactly like "Redis unavailable": locks answer
UNAVAILABLE, cache reads miss, invalidations report False. It is logged once per change.
"""

import logging
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_common import grpcchannel
from kushim_common.grpctls import GrpcTls
from kushim_common.logs import request_id_var

log = logging.getLogger(__name__)

ACQUIRED = "acquired"
HELD = "held"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class LockAnswer:
    outcome: str
    token: str = ""
    fencing_token: int = 0
    fencing_ttl_ms: int = 0  # how long the token's counter lives (0: forever)


@dataclass(frozen=True)
class Lease:
    value: bytes | None  # set on a hit
    lease_token: str  # non-empty when this caller must fill


def _metadata():
    request_id = request_id_var.get()
    return (("x-request-id", request_id),) if request_id else None


def context_key(user_id: str, record_id: str, depth: int) -> pb.CacheKey:
    return pb.CacheKey(
        namespace=pb.CONTEXT_GROUP, user_id=user_id, record_id=record_id, depth=depth
    )


class LockCacheClient:
    def __init__(
        self, addr: str, *, timeout_s: float = 2.0, tls: GrpcTls | None = None
    ) -> None:
        self.addr = addr
        self.timeout_s = timeout_s
        self._channel = grpcchannel.connect(addr, tls)
        self._locks = pb_grpc.LockServiceStub(self._channel)
        self._cache = pb_grpc.CacheServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._reachable: bool | None = None

    async def close(self) -> None:
        await self._channel.close()

    def _state(self, reachable: bool, error: grpc.aio.AioRpcError | None = None) -> None:
        if reachable == self._reachable:
            return
        self._reachable = reachable
        if reachable:
            log.info("lockcache reachable at %s", self.addr)
        else:
            code = error.code().name if error else "unknown"
            log.warning(
                "lockcache unreachable at %s (%s): locks unavailable, caches bypassed",
                self.addr, code,
            )

    async def _call(self, method, request, timeout_s: float | None = None):
        """The answer, or None when lockcache cannot be reached."""
        try:
            answer = await method(
                request, timeout=timeout_s or self.timeout_s, metadata=_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            self._state(False, exc)
            return None
        self._state(True)
        return answer

    async def acquire(self, resource: str, ttl_ms: int, *, floor: int = 0) -> LockAnswer:
        """`floor`: the fencing token PostgreSQL last accepted for the resource."""
        answer = await self._call(
            self._locks.Acquire,
            pb.AcquireLockRequest(
                resources=[resource], ttl_ms=ttl_ms, retry_count=0,
                fencing_floors={resource: floor} if floor else {},
            ),
        )
        if answer is None or answer.outcome in (pb.UNAVAILABLE, pb.LOCK_OUTCOME_UNSPECIFIED):
            return LockAnswer(UNAVAILABLE)
        if answer.outcome == pb.ACQUIRED:
            log.info("Lock acquired: %s", resource)
            return LockAnswer(
                ACQUIRED, answer.token, answer.fencing_token, answer.fencing_ttl_ms
            )
        if answer.outcome == pb.HELD:
            log.info("Failed to acquire lock: %s", resource)
            return LockAnswer(HELD)
        log.warning("Lock request for %s refused: %s", resource, answer.message)
        return LockAnswer(UNAVAILABLE)

    async def release(self, resource: str, token: str) -> None:
        request = pb.ReleaseLockRequest(resources=[resource], token=token)
        await self._call(self._locks.Release, request)

    async def invalidate_context_groups(self, user_id: str) -> bool:
        answer = await self._call(
            self._cache.Invalidate,
            pb.InvalidateCacheRequest(scope=pb.USER_CONTEXT_GROUPS, user_id=user_id),
        )
        return bool(answer and answer.invalidated)

    async def invalidate_records(self, user_id: str, record_ids) -> bool:
        """Drops the cached contexts of the user that contain one of the records."""
        answer = await self._call(
            self._cache.Invalidate,
            pb.InvalidateCacheRequest(
                scope=pb.RECORDS, user_id=user_id, record_ids=sorted(str(r) for r in record_ids)
            ),
        )
        return bool(answer and answer.invalidated)

    async def invalidate_data_source(self, user_id: str, data_source_id: str) -> bool:
        answer = await self._call(
            self._cache.Invalidate,
            pb.InvalidateCacheRequest(
                scope=pb.DATA_SOURCE, user_id=user_id, data_source_id=data_source_id
            ),
        )
        return bool(answer and answer.invalidated)

    async def get_or_lease(self, key: pb.CacheKey, wait_ms: int = 2000) -> Lease:
        answer = await self._call(
            self._cache.GetOrLease,
            pb.GetOrLeaseRequest(key=key, wait_ms=wait_ms),
            timeout_s=self.timeout_s + wait_ms / 1000,
        )
        if answer is None:
            return Lease(None, "")
        if answer.status == pb.HIT:
            return Lease(answer.value, "")
        return Lease(None, answer.lease_token)

    async def fill(
        self, key: pb.CacheKey, lease_token: str, value: bytes, ttl_s: int, dependencies=()
    ) -> bool:
        """dependencies: the ids of the records the value was computed from."""
        answer = await self._call(
            self._cache.Fill,
            pb.FillCacheRequest(
                key=key, lease_token=lease_token, value=value, ttl_seconds=ttl_s,
                dependency_record_ids=[str(d) for d in dependencies],
            ),
        )
        return bool(answer and answer.stored)

    async def reachable(self) -> bool:
        answer = await self._call(self._health.Check, health_pb2.HealthCheckRequest())
        return answer is not None and answer.status == health_pb2.HealthCheckResponse.SERVING
