"""BatchLocks: groups of at most 64, halving a HELD group down to the held records."""

from kushim_graph.lockcache import ACQUIRED, HELD, UNAVAILABLE, LockAnswer
from kushim_graph.writes.locking import BatchLocks, resource_of


class FakeLockCache:
    def __init__(self, held=(), unavailable=False) -> None:
        self.held = {resource_of(r) for r in held}
        self.unavailable = unavailable
        self.calls: list[int] = []  # resources per call
        self.released: list[list[str]] = []
        self.floors: list[dict] = []

    async def acquire(self, resources, ttl_ms, *, floors=None):
        self.calls.append(len(resources))
        self.floors.append(floors)
        if self.unavailable:
            return LockAnswer(UNAVAILABLE)
        if self.held & set(resources):
            return LockAnswer(HELD)
        tokens = {r: n for n, r in enumerate(resources, start=1)}
        return LockAnswer(ACQUIRED, "tok", max(tokens.values()), tokens)

    async def release(self, resources, token):
        self.released.append(resources)


class Pauses:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def locks(fake, pauses=None) -> BatchLocks:
    return BatchLocks(fake, ttl_ms=1000, attempts=3, retry_delay_ms=200,
                      sleep=pauses or Pauses())


async def test_a_batch_is_locked_in_groups_of_at_most_64():
    fake = FakeLockCache()
    plan = await locks(fake).take(list(range(130)))
    assert [len(g.record_ids) for g in plan.grants] == [64, 64, 2]
    assert plan.held == []
    assert fake.calls == [64, 64, 2]
    assert plan.grants[0].fencing[0] == 1 and plan.grants[0].fencing[63] == 64


async def test_a_held_record_is_retried_alone_then_left_out():
    fake, pauses = FakeLockCache(held=[5]), Pauses()
    plan = await locks(fake, pauses).take(list(range(8)))
    assert plan.held == [5]
    assert sorted(r for g in plan.grants for r in g.record_ids) == [0, 1, 2, 3, 4, 6, 7]
    # 8 held; 0-3 taken, 4-7 held; 4-5 held; 4 taken; 5 held 3 times in all; 6-7 taken
    assert fake.calls == [8, 4, 4, 2, 1, 1, 1, 1, 2]
    assert len(pauses.seconds) == 2 and all(0.2 <= s <= 0.4 for s in pauses.seconds)


async def test_unavailable_locks_fall_back_to_postgresql_locks():
    fake = FakeLockCache(unavailable=True)
    lock = locks(fake)
    plan = await lock.take([1, 2])
    assert [(g.record_ids, g.token, g.fencing) for g in plan.grants] == [([1, 2], "", {})]
    await lock.release(plan.grants[0])
    assert fake.released == []


async def test_release_frees_every_resource_of_a_grant():
    fake = FakeLockCache()
    lock = locks(fake)
    plan = await lock.take(["a", "b"])
    await lock.release(plan.grants[0])
    assert fake.released == [[resource_of("a"), resource_of("b")]]


async def test_each_acquire_carries_the_stored_tokens_of_its_records_as_floors():
    fake = FakeLockCache(held=[3])
    plan = await locks(fake).take([1, 2, 3, 4], {1: 7, 2: 0, 3: 9, 4: 11})
    # 0 is no floor; a halved group carries only its own records' floors
    assert fake.floors[0] == {resource_of(1): 7, resource_of(3): 9, resource_of(4): 11}
    assert fake.floors[1] == {resource_of(1): 7}
    assert fake.floors[2] == {resource_of(3): 9, resource_of(4): 11}
    assert all(floors == {resource_of(3): 9} for floors in fake.floors[3:6])
    assert plan.held == [3]
