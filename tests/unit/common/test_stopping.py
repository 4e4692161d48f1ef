"""cancel_all: tasks end even when a cancel is lost; a task that never ends is named, not
waited for."""

import asyncio
import contextlib

from kushim_common.stopping import cancel_all


async def test_a_task_that_loses_one_cancel_is_cancelled_again():
    started = asyncio.Event()

    async def loses_a_cancel() -> None:
        started.set()
        with contextlib.suppress(asyncio.CancelledError):  # lost, as in a library
            await asyncio.sleep(60)
        await asyncio.sleep(60)

    task = asyncio.create_task(loses_a_cancel())
    await started.wait()
    assert await cancel_all([task], within_s=5) == set()
    assert task.cancelled()


async def test_a_task_that_never_ends_is_answered_after_the_bound():
    stop = False

    async def stubborn() -> None:
        while not stop:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(60)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await cancel_all([task], within_s=0.3) == {task}
    stop = True
    task.cancel()
    await asyncio.wait([task])
    assert task.done()


async def test_an_error_a_task_ended_with_is_logged_not_raised(caplog):
    async def fails() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(fails())
    await asyncio.wait([task])
    assert await cancel_all([task], within_s=1) == set()
    assert "boom" in caplog.text
