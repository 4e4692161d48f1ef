"""The caller's deadline as seen by the Redis work of a call."""

import asyncio

import pytest
from kushim_lockcache import deadline


class Context:
    def __init__(self, left: float | None) -> None:
        self.left = left

    def time_remaining(self) -> float | None:
        return self.left


class Servicer:
    @deadline.bounded
    async def Call(self, request, context):
        return deadline.remaining()


async def test_no_deadline_outside_a_call():
    assert deadline.remaining() is None


async def test_a_call_without_deadline_is_unbounded():
    assert await Servicer().Call(None, Context(None)) is None


@pytest.mark.parametrize(("left", "margin"), [(2.0, deadline.MARGIN_S), (0.5, 0.05)])
async def test_redis_work_ends_a_margin_before_the_callers_deadline(left, margin):
    remaining = await Servicer().Call(None, Context(left))
    assert 0 < remaining <= left - margin
    assert deadline.remaining() is None  # reset after the call


async def test_unbounded_lifts_the_deadline_inside_only():
    class Releasing:
        @deadline.bounded
        async def Call(self, request, context):
            with deadline.unbounded():
                inside = deadline.remaining()
            return inside, deadline.remaining()

    inside, after = await Releasing().Call(None, Context(1.0))
    assert inside is None and after is not None


async def test_the_timeout_fires_at_the_deadline():
    class Slow:
        @deadline.bounded
        async def Call(self, request, context):
            async with deadline.timeout():
                await asyncio.Event().wait()

    with pytest.raises(TimeoutError):
        await Slow().Call(None, Context(0.05))
