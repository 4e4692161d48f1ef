"""LockService: Acquire, Release, Extend, Hold over Redlock."""

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc

from kushim_lockcache import holder
from kushim_lockcache.config import Config
from kushim_lockcache.deadline import bounded
from kushim_lockcache.redlock import (
    BadLockRequest,
    Lock,
    LockError,
    LockHeld,
    LockNotOwned,
    LockUnavailable,
    Redlock,
)


def _timestamp_of(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


class LockServicer(pb_grpc.LockServiceServicer):
    def __init__(self, redlock: Redlock, config: Config) -> None:
        self.redlock = redlock
        self.config = config

    def params(
        self, request: pb.AcquireLockRequest
    ) -> tuple[list[str], int, int, int, dict[str, int]]:
        retries = self.config.lock_retry_count if request.retry_count < 0 else request.retry_count
        return (
            list(request.resources),
            request.ttl_ms or self.config.discovery_lock_ttl_ms,
            min(retries, 100),
            request.retry_delay_ms or self.config.lock_retry_delay_ms,
            dict(request.fencing_floors),
        )

    def answer(self, result: Lock | LockError) -> pb.AcquireLockResponse:
        if isinstance(result, Lock):
            return pb.AcquireLockResponse(
                outcome=pb.ACQUIRED,
                token=result.token,
                fencing_token=result.fencing_token,
                valid_until=_timestamp_of(result.valid_until),
                validity_ms=result.validity_ms,
                resources=list(result.resources),
                fencing_tokens=result.fencing_tokens,
                fencing_ttl_ms=self.redlock.fencing_ttl_ms,
            )
        outcome = {
            LockHeld: pb.HELD,
            LockUnavailable: pb.UNAVAILABLE,
            BadLockRequest: pb.INVALID,
        }.get(type(result), pb.UNAVAILABLE)
        return pb.AcquireLockResponse(
            outcome=outcome, resources=result.resources, message=result.reason
        )

    @bounded
    async def Acquire(self, request, context):
        try:
            lock = await self.redlock.acquire(*self.params(request))
        except LockError as exc:
            return self.answer(exc)
        return self.answer(lock)

    @bounded
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

    @bounded
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
