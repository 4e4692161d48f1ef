"""Hold: a lock kept alive while the holder's stream is open.

The first request acquires; the lock is then extended every ttl/3 until the
client half-closes the stream (release), max_hold_ms passes (release,
EXPIRED), an extension fails (LOST, sent at once: the holder must stop), or a
client that asked for heartbeats falls silent for heartbeat_timeout_ms (release,
LOST: a paused holder must not keep the lock alive).
A cancelled stream releases too. The holder never learns of an expiry late:
it either gets HOLDING with a fresh valid_until, or LOST before the previous
valid_until has passed (the next extension is due at a third of the ttl).
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from kushim.lockcache.v1 import lockcache_pb2 as pb

from kushim_lockcache.redlock import Lock, LockError, LockNotOwned, LockUnavailable, Redlock

DEFAULT_MAX_HOLD_MS = 60_000
MAX_HOLD_MS = 3600 * 1000


async def hold(
    redlock: Redlock,
    requests: AsyncIterator[pb.HoldLockRequest],
    acquire_answer,
    acquire_params,
) -> AsyncIterator[pb.HoldLockResponse]:
    """`acquire_params(AcquireLockRequest) -> (resources, ttl, retries, delay, floors)` and
    `acquire_answer(Lock | LockError) -> AcquireLockResponse` are the server's,
    so Hold answers acquisitions exactly like Acquire."""
    first = await anext(aiter(requests), None)
    if first is None:
        return
    resources, ttl_ms, retries, delay, floors = acquire_params(first.acquire)
    max_hold_ms = min(first.max_hold_ms or DEFAULT_MAX_HOLD_MS, MAX_HOLD_MS)
    try:
        lock = await redlock.acquire(resources, ttl_ms, retries, delay, floors)
    except LockError as exc:
        yield pb.HoldLockResponse(
            state=pb.HoldLockResponse.NOT_ACQUIRED, acquire=acquire_answer(exc)
        )
        return
    closed = asyncio.Event()
    heard = Heard(time.monotonic())
    reader = asyncio.create_task(_drain(requests, closed, heard))
    silence_s = first.heartbeat_timeout_ms / 1000 if first.heartbeat_timeout_ms > 0 else None
    released = False
    try:
        yield _holding(lock, acquire_answer(lock))
        hold_until = time.monotonic() + max_hold_ms / 1000
        while True:
            now = time.monotonic()
            pause = min(ttl_ms / 3000, hold_until - now)
            if silence_s is not None:
                pause = min(pause, heard.at + silence_s - now)
            if pause > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await closed.wait()
            if closed.is_set():
                return
            now = time.monotonic()
            if now >= hold_until or (silence_s is not None and now >= heard.at + silence_s):
                await _release(redlock, lock)
                released = True
                expired = now >= hold_until
                yield pb.HoldLockResponse(
                    state=pb.HoldLockResponse.EXPIRED if expired else pb.HoldLockResponse.LOST
                )
                return
            try:
                extended = await redlock.extend(lock.resources, lock.token, ttl_ms)
            except (LockNotOwned, LockUnavailable):
                yield pb.HoldLockResponse(state=pb.HoldLockResponse.LOST)
                return
            yield _holding(extended)
    finally:
        reader.cancel()
        if not released:
            await asyncio.shield(_release(redlock, lock))


def _holding(lock: Lock, answer: pb.AcquireLockResponse | None = None) -> pb.HoldLockResponse:
    response = pb.HoldLockResponse(state=pb.HoldLockResponse.HOLDING)
    response.valid_until.FromNanoseconds(int(lock.valid_until * 1e9))
    if answer is not None:
        response.acquire.CopyFrom(answer)
    return response


@dataclass
class Heard:
    at: float  # monotonic time of the client's last message


async def _drain(
    requests: AsyncIterator[pb.HoldLockRequest], closed: asyncio.Event, heard: Heard
) -> None:
    """Notes when later messages (heartbeats) arrive; sets `closed` when the client
    half-closes."""
    try:
        async for _ in requests:
            heard.at = time.monotonic()
    except Exception:  # noqa: BLE001, S110 - a broken stream counts as closed
        pass
    finally:
        closed.set()


async def _release(redlock: Redlock, lock: Lock) -> None:
    with contextlib.suppress(LockError):
        await redlock.release(lock.resources, lock.token)
