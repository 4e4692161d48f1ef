"""The caller's gRPC deadline, carried to the Redis work done for the call.

A call that waits for a slow or silent Redis past its caller's deadline is an
error at the caller (DEADLINE_EXCEEDED) instead of the degraded answer it
should get (miss, not stored, lock unavailable). So each servicer method runs
`bounded`: Redis commands of the call stop a small margin before the deadline
(connection.RedisNode.run) and retries of a lock stop when the next one would
not fit. Clean-up that must finish whatever the caller does (releasing a
partial lock acquisition) runs `unbounded`.
"""

import asyncio
import contextlib
import functools
from collections.abc import Iterator
from contextvars import ContextVar

# Time kept back for the answer to reach the caller.
MARGIN_S = 0.1

_deadline: ContextVar[float | None] = ContextVar("lockcache_call_deadline", default=None)


def remaining() -> float | None:
    """Seconds left for Redis work in this call; None when it has no deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    return deadline - asyncio.get_running_loop().time()


def timeout():
    """asyncio.timeout_at the call's deadline (never, without one)."""
    return asyncio.timeout_at(_deadline.get())


def current() -> float | None:
    """The call's deadline on the loop's clock; None when it has none."""
    return _deadline.get()


@contextlib.contextmanager
def at(when: float | None) -> Iterator[None]:
    """Redis work inside ends by `when` (loop clock), or is not bounded by a deadline."""
    token = _deadline.set(when)
    try:
        yield
    finally:
        _deadline.reset(token)


def unbounded():
    return at(None)


def bounded(method):
    """Decorates a unary servicer method: its Redis work ends before the
    deadline of the call, a margin early so the answer still arrives."""

    @functools.wraps(method)
    async def wrapper(self, request, context):
        left = context.time_remaining()
        deadline = None
        if left is not None:
            deadline = asyncio.get_running_loop().time() + left - min(MARGIN_S, left / 10)
        with at(deadline):
            return await method(self, request, context)

    return wrapper
