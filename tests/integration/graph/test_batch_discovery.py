"""Batch discovery: a batch finds exactly the links its records sent one by one find, a held
lock leaves only its record pending, and what a request's deadline leaves pending is done
right after."""

import grpc
import pytest
from kushim.graph.v1 import graph_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2 as lpb
from kushim.lockcache.v1 import lockcache_pb2_grpc as lpb_grpc
from kushim_graph.db.groups import LOCK_USER

from tests.integration.graph.support import eventually, record


def history():
    """Records that reference each other in both directions of the list: a PR sent before
    the ticket it fixes, a commit after the PR it names by URL, a chat message naming a
    ticket that comes later, one naming a ticket stored before the batch, and distractors."""
    return [
        record("acme/app#7", platform="github", kind="pull_request", title="Fix EQ-2 crash",
               body="Fixes EQ-2", url="https://github.com/acme/app/pull/7",
               when="2024-03-02T10:00:00+00:00"),
        record("EQ-2", title="Crash on save", when="2024-03-01T09:00:00+00:00"),
        record("c0ffee1", platform="github", kind="commit", title="merge",
               body="See https://github.com/acme/app/pull/7",
               when="2024-03-03T10:00:00+00:00"),
        record("C1.100", platform="slack", kind="message", body="EQ-3 is next for us",
               when="2024-03-04T10:00:00+00:00"),
        record("EQ-3", title="Export as CSV", when="2024-03-05T09:00:00+00:00"),
        record("C1.101", platform="slack", kind="message", body="EQ-1 again",
               when="2024-03-06T10:00:00+00:00"),
        record("EQ-4", title="Unrelated chore", when="2024-03-07T09:00:00+00:00"),
        record("C1.102", platform="slack", kind="message", body="lunch?",
               when="2024-03-07T12:00:00+00:00"),
    ]


async def linked_pairs(graph, user_id: str, results) -> set:
    """Every link of the user's records, as (external ids of both ends, link type)."""
    names = {r.record.id: r.record.external_id for r in results}
    pairs = set()
    for result in results:
        for link in await graph.links_of(user_id, result.record.id):
            ends = frozenset(
                names.get(end, end) for end in (link.source_record_id, link.target_record_id)
            )
            pairs.add((ends, link.link_type))
    return pairs


async def all_discovered(db, ids) -> bool:
    pending = await db.fetchval(
        "select count(*) from records where id = any($1::uuid[]) and discovery_state = 'pending'",
        ids,
    )
    return pending == 0


async def stored_before(graph, user_id: str):
    (earlier,) = await graph.ingest(user_id, record("EQ-1", title="Old bug"))
    return earlier


async def test_a_batch_finds_exactly_the_links_of_its_records_sent_one_by_one(graph):
    outcomes = {}
    for way in ("batch", "in order", "reversed"):
        user = await graph.new_user()
        results = [await stored_before(graph, user)]
        if way == "batch":
            answered = await graph.ingest(user, *history())
            assert all(r.record.discovery_state == "done" for r in answered)
            results += answered
        else:
            items = history() if way == "in order" else history()[::-1]
            for item in items:
                results += await graph.ingest(user, item)
        outcomes[way] = await linked_pairs(graph, user, results)
    expected = {
        frozenset({"acme/app#7", "EQ-2"}),  # the referencing record first in the batch
        frozenset({"c0ffee1", "acme/app#7"}),  # the referencing record second
        frozenset({"C1.100", "EQ-3"}),
        frozenset({"C1.101", "EQ-1"}),  # a record stored before the batch
    }
    assert {ends for ends, _ in outcomes["batch"]} == expected
    assert outcomes["batch"] == outcomes["in order"] == outcomes["reversed"]


async def test_a_batch_answers_each_record_with_its_own_links(graph):
    user = await graph.new_user()
    await stored_before(graph, user)
    answered = {r.record.external_id: r for r in await graph.ingest(user, *history())}
    ids = {name: r.record.id for name, r in answered.items()}
    pr_links = answered["acme/app#7"].links
    assert {frozenset((link.source_record_id, link.target_record_id)) for link in pr_links} == {
        frozenset((ids["acme/app#7"], ids["EQ-2"])),
        frozenset((ids["c0ffee1"], ids["acme/app#7"])),
    }
    assert answered["EQ-4"].links == [] and answered["C1.102"].links == []


@pytest.fixture
async def locks(lockcache_addr):
    channel = grpc.aio.insecure_channel(lockcache_addr)
    yield lpb_grpc.LockServiceStub(channel)
    await channel.close()


async def test_a_held_lock_leaves_only_its_record_pending(graph_factory, locks, db):
    graph = await graph_factory(DISCOVERY_LOCK_ATTEMPTS="2", DISCOVERY_LOCK_RETRY_DELAY_MS="10",
                                DISCOVERY_SWEEP_INTERVAL_S="3600")
    user = await graph.new_user()
    (ticket,) = await graph.ingest(user, record("HB-1", title="held in a batch"))
    resource = f"relationship_discovery:{ticket.record.id}"
    holder = await locks.Acquire(
        lpb.AcquireLockRequest(resources=[resource], ttl_ms=30_000, retry_count=0), timeout=5
    )
    assert holder.outcome == lpb.ACQUIRED
    try:
        answered = await graph.ingest(
            user,
            record("x/hb#1", platform="github", kind="pull_request", body="nothing"),
            record("HB-1", title="held in a batch, edited", when="2024-03-02T10:00:00+00:00"),
            record("x/hb#2", platform="github", kind="pull_request", body="fixes HB-9"),
            record("HB-9", title="free"),
        )
    finally:
        await locks.Release(lpb.ReleaseLockRequest(resources=[resource], token=holder.token))
    states = {r.record.external_id: r.record.discovery_state for r in answered}
    assert states == {"x/hb#1": "done", "HB-1": "pending", "x/hb#2": "done", "HB-9": "done"}
    linked = {r.record.external_id: len(r.links) for r in answered}
    assert linked["x/hb#2"] == 1 and linked["HB-9"] == 1


async def test_what_the_deadline_leaves_pending_is_discovered_right_after(graph_factory, db):
    # A sweep every hour: only the hand-over can finish these in time.
    graph = await graph_factory(DISCOVERY_SWEEP_INTERVAL_S="3600")
    user = await graph.new_user()
    graph.server.discovery.group_estimate_s = 3600.0  # no group fits any deadline
    answer = await graph.records.IngestRecords(
        pb.IngestRecordsRequest(user_id=user, records=history()), timeout=30
    )
    assert all(r.record.discovery_state == "pending" and not r.links for r in answer.results)
    graph.server.discovery.group_estimate_s = 0.0
    ids = [r.record.id for r in answer.results]

    await eventually(lambda: all_discovered(db, ids))
    assert await linked_pairs(graph, user, answer.results)


async def test_discovery_waiting_past_the_deadline_answers_pending_not_an_error(
        graph_factory, db):
    graph = await graph_factory(DISCOVERY_SWEEP_INTERVAL_S="3600")
    user = await graph.new_user()
    graph.server.discovery.group_estimate_s = 0.0  # every group is expected to fit
    blocker = db.transaction()
    await blocker.start()
    # Another writer holds the user's group lock: discovery's transaction waits on it.
    await db.execute(LOCK_USER, user)
    try:
        answer = await graph.records.IngestRecords(
            pb.IngestRecordsRequest(user_id=user, records=history()), timeout=2.0
        )
    finally:
        await blocker.rollback()
    assert len(answer.results) == len(history())
    assert all(r.record.discovery_state == "pending" and not r.links for r in answer.results)
    ids = [r.record.id for r in answer.results]

    await eventually(lambda: all_discovered(db, ids))
