"""Redlock decisions against fake masters (no Redis): quorum, undo, fencing raise."""

from types import SimpleNamespace

import pytest
from kushim_lockcache import fencing, redlock
from kushim_lockcache.connection import RedisNode
from kushim_lockcache.redlock import LockHeld, LockUnavailable, Redlock
from kushim_lockcache.stats import Stats
from redis.exceptions import ConnectionError as RedisConnectionError


class FakeMaster:
    """Answers the four Redlock scripts from a dict, sent as EVALSHA in pipelines (as
    autopipeline.py sends them); records what was asked."""

    SCRIPTS = {
        redlock.ACQUIRE_SCRIPT: "acquire",
        redlock.RELEASE_SCRIPT: "release",
        redlock.EXTEND_SCRIPT: "extend",
        fencing.RAISE_SCRIPT: "raise",
    }

    def __init__(self, grant: list[int] | None = None, down: bool = False) -> None:
        self.grant = grant  # fencing values to answer, or None for "held"
        self.down = down
        self.calls: list[tuple[str, list, list]] = []

    def register_script(self, text: str):
        return SimpleNamespace(sha=self.SCRIPTS[text], script=text)

    def pipeline(self, transaction: bool):
        return FakePipeline(self)

    def answer(self, name: str, keys: list, args: list):
        self.calls.append((name, keys, args))
        if name == "acquire":
            return self.grant
        return 1

    def asked(self, name: str) -> list:
        return [c for c in self.calls if c[0] == name]


class FakePipeline:
    def __init__(self, master: FakeMaster) -> None:
        self.master = master
        self.queued: list[tuple[str, list, list]] = []

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    def evalsha(self, sha: str, numkeys: int, *keys_and_args):
        keys, args = list(keys_and_args[:numkeys]), list(keys_and_args[numkeys:])
        self.queued.append((sha, keys, args))

    async def execute(self, raise_on_error: bool = True) -> list:
        if self.master.down:
            raise RedisConnectionError("connection refused")
        return [self.master.answer(*call) for call in self.queued]


def lock_over(*masters: FakeMaster) -> Redlock:
    nodes = [RedisNode(f"m{i}", m, lock_master=True) for i, m in enumerate(masters)]
    for node in nodes:
        node.verified = True
    return Redlock(nodes, Stats())


async def test_quorum_answers_the_maximum_and_raises_laggards():
    ahead, behind, held = FakeMaster([9]), FakeMaster([4]), FakeMaster(None)
    lock = await lock_over(ahead, behind, held).acquire(["r"], 10_000, 0, 0)
    assert lock.fencing_token == 9
    assert behind.asked("raise") == [("raise", ["fencing:r"], [fencing.TTL_MS, 9])]
    assert not ahead.asked("raise")
    assert not held.asked("raise")


async def test_a_minority_grant_is_undone_on_every_master():
    granted, held1, held2 = FakeMaster([1]), FakeMaster(None), FakeMaster(None)
    with pytest.raises(LockHeld):
        await lock_over(granted, held1, held2).acquire(["r"], 10_000, 0, 0)
    for master in (granted, held1, held2):
        assert [c[1] for c in master.asked("release")] == [["locks:r"]]


async def test_no_quorum_reachable_is_unavailable_not_held():
    masters = FakeMaster([1]), FakeMaster(down=True), FakeMaster(down=True)
    with pytest.raises(LockUnavailable, match="1 of 3"):
        await lock_over(*masters).acquire(["r"], 10_000, 0, 0)


async def test_retries_then_gives_up_with_held():
    masters = FakeMaster(None), FakeMaster(None), FakeMaster(None)
    with pytest.raises(LockHeld):
        await lock_over(*masters).acquire(["r"], 10_000, 2, 1)
    assert len(masters[0].asked("acquire")) == 3


async def test_several_resources_go_to_each_master_sorted_in_one_script():
    master = FakeMaster([3, 5])
    lock = await lock_over(master).acquire(["b", "a"], 10_000, 0, 0)
    assert master.asked("acquire")[0][1] == ["locks:a", "locks:b", "fencing:a", "fencing:b"]
    assert lock.fencing_tokens == {"a": 3, "b": 5}


async def test_no_masters_is_unavailable():
    with pytest.raises(LockUnavailable, match="not configured"):
        await Redlock([], Stats()).acquire(["r"], 10_000, 0, 0)
