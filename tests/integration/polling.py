"""Waiting for a condition against a deadline, never for a fixed time."""

import time
from collections.abc import Callable

from devstack.polling import until

DEFAULT_WITHIN = 20.0


async def eventually(check: Callable, within: float = DEFAULT_WITHIN, interval: float = 0.05):
    """Polls `check` (sync or async) until it returns a truthy value, which it returns."""
    try:
        return await until(check, within, interval)
    except TimeoutError:
        raise AssertionError(f"condition not met within {within} s") from None


def wait_for(check: Callable, within: float = DEFAULT_WITHIN, interval: float = 0.05):
    """`eventually` for synchronous tests and checks."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        time.sleep(interval)
