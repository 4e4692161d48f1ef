"""Waiting for a condition against a deadline, never for a fixed time: one loop for the
integration suites, chaos and bench."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def until(check: Callable[[], object | Awaitable[object]], within: float,
                interval: float):
    """Polls `check` (sync or async) until it returns a truthy value, which it returns;
    TimeoutError once `within` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {within:.0f} s")
        await asyncio.sleep(interval)
