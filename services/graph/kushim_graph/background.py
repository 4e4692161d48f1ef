"""The shape of graph's background loops (outbox projection, embedding, the sweeper, the
invalidation relay): one pass after another, the next at once while work is waiting, else
after an idle pause that wake() cuts short. A pass that fails on a server that is down is
reported and retried with doubling backoff, so the loop outlives any outage; it ends only
when cancelled."""

import asyncio
import contextlib

import asyncpg

PG_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)

FIRST_BACKOFF_S = 0.1


class BackgroundLoop:
    retried: tuple[type[BaseException], ...] = PG_ERRORS

    def __init__(self, *, idle_s: float, max_backoff_s: float) -> None:
        self.idle_s = idle_s
        self.max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def step(self) -> bool:
        """One pass; True when more work is waiting, so the next starts at once."""
        raise NotImplementedError

    def failed(self, exc: BaseException) -> None:
        """Reports an error of `retried` that ended a pass."""
        raise NotImplementedError

    async def run(self) -> None:
        backoff = FIRST_BACKOFF_S
        while True:
            try:
                more = await self.step()
            except self.retried as exc:
                self.failed(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            backoff = FIRST_BACKOFF_S
            if not more:
                await self._idle()

    async def _idle(self) -> None:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancel that stops
        # the loop when it arrives as the wake does.
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.idle_s):
                await self._wake.wait()
