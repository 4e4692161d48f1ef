"""BackgroundLoop: passes run back to back while work waits, idle otherwise until woken; a
failed pass is retried; a cancel always ends the loop, even one that lands with a wake."""

import asyncio

import pytest
from kushim_graph.background import BackgroundLoop


class Passes(BackgroundLoop):
    """Answers the scripted results in turn (True: more waiting; an exception: a failed pass),
    then False for good; records each pass and each failure."""

    def __init__(self, script, idle_s: float = 60.0) -> None:
        super().__init__(idle_s=idle_s, max_backoff_s=0.01)
        self.script = list(script)
        self.passes = 0
        self.failures: list[BaseException] = []
        self.passed = asyncio.Event()

    async def step(self) -> bool:
        self.passes += 1
        self.passed.set()
        outcome = self.script.pop(0) if self.script else False
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def failed(self, exc: BaseException) -> None:
        self.failures.append(exc)


async def until(loop: Passes, condition) -> None:
    async with asyncio.timeout(10):
        while not condition():
            loop.passed.clear()
            await loop.passed.wait()


async def stopped(task: asyncio.Task) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task


async def test_full_passes_run_back_to_back_then_it_idles_until_woken():
    loop = Passes([True, True, False])
    task = asyncio.create_task(loop.run())
    await until(loop, lambda: loop.passes == 3)
    loop.wake()  # the idle pause is 60 s: only the wake runs a 4th pass within until's 10 s
    await until(loop, lambda: loop.passes == 4)
    await stopped(task)


async def test_a_failed_pass_is_reported_and_retried():
    boom = OSError("connection refused")
    loop = Passes([boom, boom, True])
    task = asyncio.create_task(loop.run())
    await until(loop, lambda: loop.passes == 4)
    assert loop.failures == [boom, boom]
    await stopped(task)


async def test_an_error_it_does_not_retry_ends_the_loop():
    loop = Passes([ValueError("a bug")])
    with pytest.raises(ValueError, match="a bug"):
        await loop.run()


async def test_a_cancel_that_lands_with_a_wake_still_stops_the_loop():
    # On 3.11, asyncio.wait_for returns the finished wait instead of raising the cancel here,
    # and a loop written with it would go on for good.
    loop = Passes([])
    task = asyncio.create_task(loop.run())
    await until(loop, lambda: loop.passes == 1)
    await asyncio.sleep(0)  # into the idle wait
    loop.wake()
    await stopped(task)
