"""Hold: keep-alive streams."""

import asyncio

from kushim.lockcache.v1 import lockcache_pb2 as pb

from tests.integration.lockcache.support import eventually, unique

DEADLINE = 10
State = pb.HoldLockResponse


def hold_request(resources, ttl_ms=300, max_hold_ms=0):
    return pb.HoldLockRequest(
        acquire=pb.AcquireLockRequest(resources=resources, ttl_ms=ttl_ms), max_hold_ms=max_hold_ms
    )


class Stream:
    """A Hold call whose request side the test closes when it wants."""

    def __init__(self, lockcache, first):
        self.closed = asyncio.Event()

        async def requests():
            yield first
            await self.closed.wait()

        self.call = lockcache.locks.Hold(requests(), timeout=DEADLINE)

    async def next(self):
        return await self.call.read()


async def test_hold_keeps_the_lock_past_its_ttl_then_releases_on_close(lockcache):
    resource = unique("r:")
    stream = Stream(lockcache, hold_request([resource], ttl_ms=600))
    first = await stream.next()
    assert first.state == State.HOLDING
    assert first.acquire.outcome == pb.ACQUIRED
    # Several extensions: the lock outlives its 600 ms ttl.
    for _ in range(5):
        message = await stream.next()
        assert message.state == State.HOLDING
        assert message.valid_until.ToNanoseconds() > 0
    blocked = await lockcache.locks.Acquire(
        pb.AcquireLockRequest(resources=[resource], ttl_ms=1000), timeout=DEADLINE
    )
    assert blocked.outcome == pb.HELD
    stream.closed.set()

    async def free():
        answer = await lockcache.locks.Acquire(
            pb.AcquireLockRequest(resources=[resource], ttl_ms=1000), timeout=DEADLINE
        )
        return answer.outcome == pb.ACQUIRED

    await eventually(free, within=5)


async def test_hold_expires_at_max_hold(lockcache):
    stream = Stream(lockcache, hold_request([unique("r:")], ttl_ms=150, max_hold_ms=400))
    states = []
    while True:
        message = await stream.next()
        states.append(message.state)
        if message.state != State.HOLDING:
            break
    assert states[-1] == State.EXPIRED
    stream.closed.set()


async def test_hold_reports_a_lost_lock_at_once(lockcache, lock_masters):
    resource = unique("r:")
    stream = Stream(lockcache, hold_request([resource], ttl_ms=300))
    assert (await stream.next()).state == State.HOLDING
    for master in lock_masters:  # someone deletes the lock behind our back
        await master.delete(f"locks:{resource}")
    message = await stream.next()
    while message.state == State.HOLDING:
        message = await stream.next()
    assert message.state == State.LOST
    stream.closed.set()


async def test_hold_of_a_held_lock_is_not_acquired(lockcache):
    resource = unique("r:")
    await lockcache.locks.Acquire(pb.AcquireLockRequest(resources=[resource]), timeout=DEADLINE)
    stream = Stream(lockcache, hold_request([resource]))
    message = await stream.next()
    assert message.state == State.NOT_ACQUIRED
    assert message.acquire.outcome == pb.HELD
    stream.closed.set()


async def test_cancelled_hold_releases(lockcache):
    resource = unique("r:")
    stream = Stream(lockcache, hold_request([resource], ttl_ms=20_000))
    assert (await stream.next()).state == State.HOLDING
    stream.call.cancel()

    async def free():
        answer = await lockcache.locks.Acquire(
            pb.AcquireLockRequest(resources=[resource], ttl_ms=1000), timeout=DEADLINE
        )
        return answer.outcome == pb.ACQUIRED

    await eventually(free, within=5)


async def test_hold_with_a_bad_request_is_not_acquired_invalid(lockcache):
    stream = Stream(lockcache, hold_request([]))
    message = await stream.next()
    assert message.state == State.NOT_ACQUIRED
    assert message.acquire.outcome == pb.INVALID
    stream.closed.set()


async def test_hold_closed_before_any_request_just_ends(lockcache):
    async def nothing():
        return
        yield

    call = lockcache.locks.Hold(nothing(), timeout=DEADLINE)
    assert [message async for message in call] == []


async def test_a_silent_holder_that_promised_heartbeats_loses_the_lock(lockcache):
    resource = unique("r:")
    first = hold_request([resource], ttl_ms=3000)
    first.heartbeat_timeout_ms = 300
    stream = Stream(lockcache, first)  # sends no heartbeat after the first message
    assert (await stream.next()).state == State.HOLDING
    message = await stream.next()
    while message.state == State.HOLDING:
        message = await stream.next()
    assert message.state == State.LOST
    # Released at once, long before the 3 s ttl would have let it expire.
    answer = await lockcache.locks.Acquire(
        pb.AcquireLockRequest(resources=[resource], ttl_ms=1000), timeout=DEADLINE
    )
    assert answer.outcome == pb.ACQUIRED
    stream.closed.set()


async def test_heartbeats_keep_a_hold_alive_past_the_heartbeat_timeout(lockcache):
    resource = unique("r:")
    closed = asyncio.Event()
    beat = asyncio.Event()

    async def requests():
        first = hold_request([resource], ttl_ms=600)
        first.heartbeat_timeout_ms = 600
        yield first
        while not closed.is_set():
            await beat.wait()
            beat.clear()
            yield pb.HoldLockRequest()

    call = lockcache.locks.Hold(requests(), timeout=DEADLINE)
    # One heartbeat per renewal (every 200 ms): ten renewals span three heartbeat timeouts.
    for _ in range(10):
        message = await call.read()
        assert message.state == State.HOLDING
        beat.set()
    closed.set()
    beat.set()
    call.cancel()
