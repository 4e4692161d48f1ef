"""LockService on the shared lock masters (REDLOCK_URLS)."""

import asyncio

import grpc
import pytest
from kushim.lockcache.v1 import lockcache_pb2 as pb

from tests.integration.lockcache.support import eventually, unique

DEADLINE = 10


def acquire(resources, ttl_ms=5000, retry_count=0, retry_delay_ms=0):
    return pb.AcquireLockRequest(
        resources=resources, ttl_ms=ttl_ms, retry_count=retry_count, retry_delay_ms=retry_delay_ms
    )


async def test_mutual_exclusion_under_contention(lockcache, cache_redis):
    resource = unique("relationship_discovery:")
    counter = unique("test:counter:")
    holders = 0
    most_holders = 0
    acquisitions = 0

    async def worker():
        nonlocal holders, most_holders, acquisitions
        for _ in range(6):
            answer = await lockcache.locks.Acquire(
                acquire([resource], ttl_ms=5000, retry_count=200, retry_delay_ms=5),
                timeout=DEADLINE,
            )
            assert answer.outcome == pb.ACQUIRED, answer.message
            holders += 1
            most_holders = max(most_holders, holders)
            # A read-modify-write that loses updates unless the lock excludes others.
            value = int(await cache_redis.get(counter) or 0)
            await asyncio.sleep(0.001)
            await cache_redis.set(counter, value + 1, ex=60)
            acquisitions += 1
            holders -= 1
            released = await lockcache.locks.Release(
                pb.ReleaseLockRequest(resources=[resource], token=answer.token), timeout=DEADLINE
            )
            assert released.outcome == pb.RELEASED

    await asyncio.gather(*(worker() for _ in range(12)))
    assert most_holders == 1
    assert int(await cache_redis.get(counter)) == acquisitions == 72


async def test_acquired_answer_carries_token_fencing_and_validity(lockcache, lock_masters):
    resource = unique("relationship_discovery:")
    answer = await lockcache.locks.Acquire(acquire([resource], ttl_ms=3000), timeout=DEADLINE)
    assert answer.outcome == pb.ACQUIRED
    assert answer.token
    assert answer.fencing_token == answer.fencing_tokens[resource] >= 1
    assert 0 < answer.validity_ms <= 3000
    assert answer.valid_until.seconds > 0
    assert list(answer.resources) == [resource]
    for master in lock_masters:
        assert (await master.get(f"locks:{resource}")).decode() == answer.token
        assert 0 < await master.pttl(f"locks:{resource}") <= 3000


async def test_second_caller_is_told_held(lockcache):
    resource = unique("r:")
    first = await lockcache.locks.Acquire(acquire([resource]), timeout=DEADLINE)
    second = await lockcache.locks.Acquire(
        acquire([resource], retry_count=2, retry_delay_ms=10), timeout=DEADLINE
    )
    assert first.outcome == pb.ACQUIRED
    assert second.outcome == pb.HELD
    assert not second.token
    stats = await lockcache.cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
    assert stats.locks_acquired >= 1
    assert stats.locks_contended >= 1


async def test_lock_expires_after_its_ttl(lockcache):
    resource = unique("r:")
    first = await lockcache.locks.Acquire(acquire([resource], ttl_ms=200), timeout=DEADLINE)
    assert first.outcome == pb.ACQUIRED

    async def taken_over():
        answer = await lockcache.locks.Acquire(acquire([resource]), timeout=DEADLINE)
        return answer if answer.outcome == pb.ACQUIRED else None

    second = await eventually(taken_over, within=5)
    assert second.fencing_token > first.fencing_token
    late = await lockcache.locks.Release(
        pb.ReleaseLockRequest(resources=[resource], token=first.token), timeout=DEADLINE
    )
    assert late.outcome == pb.NOT_OWNED


async def test_extend_keeps_the_lock(lockcache, lock_masters):
    resource = unique("r:")
    first = await lockcache.locks.Acquire(acquire([resource], ttl_ms=300), timeout=DEADLINE)
    extended = await lockcache.locks.Extend(
        pb.ExtendLockRequest(resources=[resource], token=first.token, ttl_ms=20_000),
        timeout=DEADLINE,
    )
    assert extended.outcome == pb.EXTENDED
    assert extended.validity_ms > 300
    for master in lock_masters:
        assert await master.pttl(f"locks:{resource}") > 300


async def test_extend_by_a_non_holder_is_lost(lockcache):
    resource = unique("r:")
    await lockcache.locks.Acquire(acquire([resource]), timeout=DEADLINE)
    answer = await lockcache.locks.Extend(
        pb.ExtendLockRequest(resources=[resource], token=unique("wrong"), ttl_ms=1000),
        timeout=DEADLINE,
    )
    assert answer.outcome == pb.LOST


async def test_release_by_a_non_holder_is_refused(lockcache, lock_masters):
    resource = unique("r:")
    held = await lockcache.locks.Acquire(acquire([resource]), timeout=DEADLINE)
    refused = await lockcache.locks.Release(
        pb.ReleaseLockRequest(resources=[resource], token=unique("wrong")), timeout=DEADLINE
    )
    assert refused.outcome == pb.NOT_OWNED
    for master in lock_masters:
        assert (await master.get(f"locks:{resource}")).decode() == held.token


async def test_release_of_a_lock_nobody_holds_is_not_owned(lockcache):
    answer = await lockcache.locks.Release(
        pb.ReleaseLockRequest(resources=[unique("r:")], token=unique("t")), timeout=DEADLINE
    )
    assert answer.outcome == pb.NOT_OWNED


async def test_several_resources_all_or_none(lockcache, lock_masters):
    a, b, c = sorted(unique("r:") for _ in range(3))
    blocker = await lockcache.locks.Acquire(acquire([b]), timeout=DEADLINE)
    refused = await lockcache.locks.Acquire(acquire([c, a, b]), timeout=DEADLINE)
    assert refused.outcome == pb.HELD
    for master in lock_masters:
        assert await master.exists(f"locks:{a}", f"locks:{c}") == 0
    await lockcache.locks.Release(
        pb.ReleaseLockRequest(resources=[b], token=blocker.token), timeout=DEADLINE
    )
    both = await lockcache.locks.Acquire(acquire([c, a, b]), timeout=DEADLINE)
    assert both.outcome == pb.ACQUIRED
    assert list(both.resources) == [a, b, c]
    assert set(both.fencing_tokens) == {a, b, c}
    released = await lockcache.locks.Release(
        pb.ReleaseLockRequest(resources=[a, b, c], token=both.token), timeout=DEADLINE
    )
    assert released.outcome == pb.RELEASED


async def test_opposite_orders_never_deadlock(lockcache):
    a, b = unique("r:"), unique("r:")

    async def take(order):
        taken = 0
        for _ in range(5):
            answer = await lockcache.locks.Acquire(
                acquire(order, ttl_ms=2000, retry_count=100, retry_delay_ms=5), timeout=DEADLINE
            )
            assert answer.outcome == pb.ACQUIRED
            taken += 1
            await lockcache.locks.Release(
                pb.ReleaseLockRequest(resources=order, token=answer.token), timeout=DEADLINE
            )
        return taken

    assert await asyncio.gather(take([a, b]), take([b, a])) == [5, 5]


@pytest.mark.parametrize(
    "request_",
    [acquire([]), acquire([""]), acquire(["has space"]), acquire(["r"], ttl_ms=5)],
)
async def test_bad_acquire_requests_are_invalid(lockcache, request_):
    answer = await lockcache.locks.Acquire(request_, timeout=DEADLINE)
    assert answer.outcome == pb.INVALID
    assert answer.message


async def test_bad_release_and_extend_requests_are_invalid_argument(lockcache):
    with pytest.raises(grpc.aio.AioRpcError) as release:
        await lockcache.locks.Release(pb.ReleaseLockRequest(token=unique("t")), timeout=DEADLINE)
    assert release.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as extend:
        await lockcache.locks.Extend(
            pb.ExtendLockRequest(resources=["r"], token=unique("t"), ttl_ms=1), timeout=DEADLINE
        )
    assert extend.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_cancelled_acquire_leaves_no_lock_behind(lockcache, lock_masters):
    resource = unique("r:")
    blocker = await lockcache.locks.Acquire(acquire([resource], ttl_ms=300), timeout=DEADLINE)
    # Waits (retrying) for the blocker to expire; cancelled mid-way.
    call = lockcache.locks.Acquire(
        acquire([resource], ttl_ms=30_000, retry_count=40, retry_delay_ms=50)
    )
    await asyncio.sleep(0.2)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    async def free_everywhere():
        values = [await m.get(f"locks:{resource}") for m in lock_masters]
        return all(v is None for v in values)

    # The blocker expires; the cancelled call must not hold the lock afterwards.
    await eventually(free_everywhere, within=5)
    answer = await lockcache.locks.Acquire(
        acquire([resource], retry_count=20, retry_delay_ms=50), timeout=DEADLINE
    )
    assert answer.outcome == pb.ACQUIRED
    assert answer.fencing_token > blocker.fencing_token
