"""Stopping background tasks for good, within a bound.

A cancel can be lost: a library that catches CancelledError, or 3.11's `asyncio.wait_for`
returning a result that completed in the same tick, leaves the task running, and a stop that
awaits it then waits for good (a pod held until SIGKILL). So tasks are cancelled again until
they end, and the stop gives up after `within_s`, answering which are still running."""

import asyncio
import logging
from collections.abc import Iterable

RECANCEL_S = 0.1

log = logging.getLogger(__name__)


async def cancel_all(tasks: Iterable[asyncio.Task], within_s: float) -> set[asyncio.Task]:
    """Cancels `tasks` until they end; answers those still running after `within_s`. An
    error a task ended with is logged, not raised: the stop goes on."""
    pending = {task for task in tasks if not task.done()}
    ended = {task for task in tasks if task.done()}
    loop = asyncio.get_running_loop()
    until = loop.time() + within_s
    while pending:
        left = until - loop.time()
        if left <= 0:
            break
        for task in pending:
            task.cancel()
        done, pending = await asyncio.wait(pending, timeout=min(RECANCEL_S, left))
        ended |= done
    for task in ended:
        if not task.cancelled() and task.exception() is not None:
            log.warning("Task %s had ended with %r", task.get_name(), task.exception())
    return pending
