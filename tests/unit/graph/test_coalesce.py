"""Coalescer: requests of one user arriving while a batch runs go together in the next."""

import asyncio

import pytest
from kushim_graph.writes.coalesce import Coalescer


class FakeDiscovery:
    def __init__(self) -> None:
        self.batches: list[tuple[str, list, float | None]] = []
        self.gate = asyncio.Event()
        self.fail = False

    async def run_batch(self, user_id, record_ids, *, until=None):
        self.batches.append((user_id, list(record_ids), until))
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("database gone")
        return {r: f"done:{r}" for r in record_ids if r != "lost"}


async def test_requests_during_a_batch_share_the_next_one_with_the_earliest_deadline():
    discovery = FakeDiscovery()
    coalescer = Coalescer(discovery)
    first = asyncio.create_task(coalescer.run_batch("u", ["a"], until=50.0))
    await asyncio.sleep(0)  # the first batch starts and waits on the gate
    second = asyncio.create_task(coalescer.run_batch("u", ["b", "lost"], until=30.0))
    third = asyncio.create_task(coalescer.run_batch("u", ["c"], until=None))
    other = asyncio.create_task(coalescer.run_batch("v", ["x"], until=None))
    await asyncio.sleep(0)
    discovery.gate.set()
    assert await first == {"a": "done:a"}
    assert await second == {"b": "done:b"}  # a record left out is not answered
    assert await third == {"c": "done:c"}
    assert await other == {"x": "done:x"}
    assert discovery.batches == [("u", ["a"], 50.0), ("v", ["x"], None),
                                 ("u", ["b", "lost", "c"], 30.0)]


async def test_a_request_that_gives_up_leaves_the_batch_running_for_the_others():
    discovery = FakeDiscovery()
    coalescer = Coalescer(discovery)
    first = asyncio.create_task(coalescer.run_batch("u", ["a"]))
    await asyncio.sleep(0)
    second = asyncio.create_task(coalescer.run_batch("u", ["b"]))
    await asyncio.sleep(0)
    first.cancel()
    discovery.gate.set()
    assert await second == {"b": "done:b"}
    assert [ids for _, ids, _ in discovery.batches] == [["a"], ["b"]]


async def test_a_failed_batch_is_raised_to_every_request_of_it():
    discovery = FakeDiscovery()
    discovery.fail = True
    coalescer = Coalescer(discovery)
    discovery.gate.set()
    with pytest.raises(RuntimeError, match="database gone"):
        await coalescer.run_batch("u", ["a"])
    await coalescer.close()
