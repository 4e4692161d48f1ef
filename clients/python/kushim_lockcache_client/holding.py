"""hold(): a lock that lockcache keeps alive over the Hold stream while the caller works.

lockcache extends the lock every ttl/3 and says LOST as soon as an extension fails. Two more
ways to lose it are seen here: the stream breaks, or no renewal arrives before the last
valid_until (the network, or this process, stalled). The client sends a heartbeat every ttl/3
and asks lockcache to give the lock up after a whole ttl of silence, so a paused process does
not keep it alive (Redisson's watchdog has the same rule: the holder's liveness, not the
server's, decides).
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import grpc
from kushim.lockcache.v1 import lockcache_pb2 as pb

from kushim_lockcache_client.errors import LockLost, LockUnavailable
from kushim_lockcache_client.lease import Lease, lease_or_raise

if TYPE_CHECKING:
    from kushim_lockcache_client.client import LockCacheClient

State = pb.HoldLockResponse

LOSS_REASONS = {
    State.LOST: "lockcache could not extend it (taken over, expired, or no quorum)",
    State.EXPIRED: "max_hold reached; released",
}


class HeldLock:
    """What the block of `client.hold(...)` works with."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.valid_until = lease.valid_until
        self.lost = asyncio.Event()
        self.loss: LockLost | None = None

    @property
    def fencing_token(self) -> int:
        return self.lease.fencing_token

    @property
    def resources(self) -> tuple[str, ...]:
        return self.lease.resources

    def check(self) -> None:
        """Raises LockLost once the lock is gone: call it before each step of the work."""
        if self.loss is not None:
            raise self.loss


def _first_request(resources, ttl_ms, max_hold_ms, retries) -> pb.HoldLockRequest:
    return pb.HoldLockRequest(
        acquire=pb.AcquireLockRequest(resources=resources, ttl_ms=ttl_ms, retry_count=retries),
        max_hold_ms=max_hold_ms,
        heartbeat_timeout_ms=ttl_ms,
    )


@contextlib.asynccontextmanager
async def open_hold(
    client: "LockCacheClient",
    resources: list[str],
    ttl_ms: int,
    max_hold_ms: int,
    retries: int,
    cancel_on_loss: bool,
    on_lost: Callable[[LockLost], object] | None,
) -> AsyncIterator[HeldLock]:
    closed = asyncio.Event()

    async def requests():
        yield _first_request(resources, ttl_ms, max_hold_ms, retries)
        while not closed.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ttl_ms / 3000):
                    await closed.wait()
            if not closed.is_set():
                yield pb.HoldLockRequest()  # heartbeat

    call = client.lock_service.Hold(
        requests(), timeout=max_hold_ms / 1000 + client.timeout_s, metadata=client.metadata()
    )
    try:
        # Bounded like any call (the stream's own deadline is max_hold); a read cancelled at
        # the timeout cancels the call, and lockcache then releases what it may have taken.
        async with asyncio.timeout(client.timeout_s):
            first = await call.read()
    except TimeoutError:
        closed.set()
        raise LockUnavailable(
            resources, f"no answer within {client.timeout_s:g} s", code="DEADLINE_EXCEEDED"
        ) from None
    except grpc.aio.AioRpcError as exc:
        closed.set()
        client.note_reachable(False, exc)
        raise LockUnavailable(resources, "lockcache unreachable", code=exc.code().name) from None
    if first is grpc.aio.EOF or first.state != State.HOLDING:
        closed.set()
        call.cancel()
        if first is grpc.aio.EOF:
            raise LockUnavailable(resources, "Hold stream ended before an answer")
        lease_or_raise(first.acquire, resources)
    client.note_reachable(True)

    held = HeldLock(Lease.from_answer(first.acquire))
    task = asyncio.current_task()
    assert task is not None  # an async with always runs in a task
    cancelling = task.cancelling()
    closing = False
    cancelled_by_loss = False

    def lose(reason: str) -> None:
        nonlocal cancelled_by_loss
        if closing or held.loss is not None:
            return
        held.loss = LockLost(held.resources, reason, held.fencing_token)
        held.lost.set()
        if on_lost is not None:
            on_lost(held.loss)
        if cancel_on_loss:
            cancelled_by_loss = True
            task.cancel()

    async def watch() -> None:
        while True:
            # The read is cancelled only when the lock is given up: that cancels the call.
            read = asyncio.ensure_future(call.read())
            await asyncio.wait({read}, timeout=max(held.valid_until - time.time(), 0))
            if not read.done():
                read.cancel()
                lose("no renewal arrived before valid_until")
                return
            try:
                message = read.result()
            except grpc.aio.AioRpcError as exc:
                lose(f"Hold stream broke ({exc.code().name})")
                return
            if message is grpc.aio.EOF:
                lose("Hold stream ended")
                return
            if message.state != State.HOLDING:
                lose(LOSS_REASONS.get(message.state, "lock lost"))
                return
            held.valid_until = message.valid_until.ToNanoseconds() / 1e9

    watcher = asyncio.create_task(watch())
    try:
        yield held
    except asyncio.CancelledError:
        if cancelled_by_loss and task.uncancel() <= cancelling:
            raise held.loss from None
        raise
    finally:
        closing = True
        closed.set()  # half-close: lockcache releases, then ends the stream
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            async with asyncio.timeout(client.timeout_s):
                await asyncio.shield(watcher)
        watcher.cancel()
        call.cancel()
    if held.loss is not None:
        raise held.loss
