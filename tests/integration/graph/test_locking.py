"""Discovery under the lockcache lock: fencing, contention, lockcache down, concurrency."""

import asyncio
import uuid
from datetime import timedelta

import grpc
import pytest
from kushim.graph.v1 import graph_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2 as lpb
from kushim.lockcache.v1 import lockcache_pb2_grpc as lpb_grpc
from kushim_graph.errors import StaleFencingToken
from kushim_graph.writes import fencing
from kushim_graph.writes.discover import SKIPPED

from tests.integration.graph.support import eventually, free_port, record


@pytest.fixture
async def locks(lockcache_addr):
    channel = grpc.aio.insecure_channel(lockcache_addr)
    yield lpb_grpc.LockServiceStub(channel)
    await channel.close()


async def acquire(locks, record_id: str, ttl_ms: int) -> lpb.AcquireLockResponse:
    return await locks.Acquire(lpb.AcquireLockRequest(
        resources=[f"relationship_discovery:{record_id}"], ttl_ms=ttl_ms, retry_count=0
    ), timeout=5)


async def stored_token(db, record_id: str) -> int:
    return await db.fetchval(
        "select fencing_token from records where id = $1", uuid.UUID(record_id)
    )


async def test_stale_fencing_token_is_rejected(graph, db, locks):
    user = await graph.new_user()
    ticket, pr = await graph.ingest(
        user, record("FEN-1", title="fence"),
        record("x/f#1", platform="github", kind="pull_request", body="FEN-1"),
    )
    record_id = pr.record.id
    assert await stored_token(db, record_id) > 0
    # A holder takes the lock, then pauses past its TTL ...
    paused = await acquire(locks, record_id, ttl_ms=100)
    assert paused.outcome == lpb.ACQUIRED

    async def next_holder():
        answer = await acquire(locks, record_id, ttl_ms=10_000)
        return answer if answer.outcome == lpb.ACQUIRED else None

    # ... the lock expires, the next holder runs discovery and records its newer token ...
    live = await eventually(next_holder)
    assert live.fencing_token > paused.fencing_token
    async with graph.server.pool.acquire() as conn:
        await graph.server.discovery.discover(conn, user, uuid.UUID(record_id), live.fencing_token)
    await locks.Release(lpb.ReleaseLockRequest(
        resources=[f"relationship_discovery:{record_id}"], token=live.token
    ))
    assert await stored_token(db, record_id) == live.fencing_token
    links_before = await graph.links_of(user, record_id)
    # ... and the paused holder wakes up and tries to write: fenced out, nothing written.
    async with graph.server.pool.acquire() as conn:
        with pytest.raises(StaleFencingToken):
            await graph.server.discovery.discover(
                conn, user, uuid.UUID(record_id), paused.fencing_token
            )
    assert await stored_token(db, record_id) == live.fencing_token
    assert await graph.links_of(user, record_id) == links_before


async def test_held_lock_skips_then_the_sweeper_finishes_for_a_crashed_holder(
    graph_factory, db, locks
):
    graph = await graph_factory(DISCOVERY_LOCK_TTL_MS="500", DISCOVERY_SWEEP_INTERVAL_S="0.1")
    user = await graph.new_user()
    (ticket,) = await graph.ingest(user, record("HLD-1", title="held"))
    (pr,) = await graph.ingest(
        user, record("x/h#1", platform="github", kind="pull_request", body="nothing yet",
                     when="2024-08-01T10:00:00+00:00"),
    )
    # Another instance takes the lock and crashes: it never releases, the lock expires.
    holder = await acquire(locks, pr.record.id, ttl_ms=1500)
    assert holder.outcome == lpb.ACQUIRED
    (changed,) = await graph.ingest(
        user, record("x/h#1", platform="github", kind="pull_request", body="fixes HLD-1",
                     when="2024-08-01T10:00:00+00:00"),
    )
    assert changed.changed and changed.links == []
    assert changed.record.discovery_state == "pending"

    async def done():
        state = await db.fetchval(
            "select discovery_state from records where id = $1", uuid.UUID(pr.record.id)
        )
        return state == "done"

    await eventually(done)
    links = await graph.links_of(user, pr.record.id)
    assert [link.source_record_id for link in links] == [ticket.record.id]


async def test_discovery_run_reports_skipped_when_held(graph, locks):
    user = await graph.new_user()
    (only,) = await graph.ingest(user, record("SKP-1"))
    holder = await acquire(locks, only.record.id, ttl_ms=10_000)
    outcome = await graph.server.discovery.run(user, uuid.UUID(only.record.id))
    assert outcome.state == SKIPPED
    await locks.Release(lpb.ReleaseLockRequest(
        resources=[f"relationship_discovery:{only.record.id}"], token=holder.token
    ))


async def test_lockcache_unreachable_still_ingests_and_reads(graph_factory):
    graph = await graph_factory(LOCKCACHE_ADDR=f"127.0.0.1:{free_port()}")
    user = await graph.new_user()
    ticket, pr = await graph.ingest(
        user, record("DWN-1", title="lockcache down"),
        record("x/d#1", platform="github", kind="pull_request", body="DWN-1",
               when="2024-03-02T10:00:00+00:00"),
    )
    assert pr.record.discovery_state == "done"
    assert [link.source_record_id for link in pr.links] == [ticket.record.id]
    assert len(await graph.groups_of(user)) == 1

    async def context():
        try:
            return await graph.records.GetRecordContext(
                pb.GetRecordContextRequest(user_id=user, record_id=ticket.record.id, depth=1)
            )
        except grpc.aio.AioRpcError:
            return None

    first = await eventually(lambda: _with_nodes(context, 2))
    second = await context()
    assert not first.cached and not second.cached


async def _with_nodes(read, count):
    answer = await read()
    return answer if answer is not None and len(answer.subgraph.nodes) == count else None


def batch(prefix: str):
    items = []
    for n in range(1, 6):
        day = f"2024-02-{n:02d}T10:00:00+00:00"
        items.append(record(f"{prefix}-{n}", title=f"ticket {n}", author=f"a{n}", when=day))
        items.append(record(f"acme/{prefix.lower()}#{n}", platform="github", kind="pull_request",
                            body=f"implements {prefix}-{n}", author=f"b{n}", when=day))
        items.append(record(f"{prefix.lower()}{n}", platform="slack", kind="message",
                            body=f"review acme/{prefix.lower()}#{n} and {prefix}-{(n % 5) + 1}",
                            author=f"c{n}", when=day))
    return items


async def link_pairs(db, user_id: str) -> list[tuple[str, ...]]:
    """Linked pairs by external id, unordered (same-time records orient by random id)."""
    rows = await db.fetch(
        """select s.external_id as s, t.external_id as t from links l
             join records s on s.id = l.source_record_id
             join records t on t.id = l.target_record_id
            where l.user_id = $1""",
        uuid.UUID(user_id),
    )
    return sorted(tuple(sorted((row["s"], row["t"]))) for row in rows)


async def test_concurrent_ingestion_of_one_batch_makes_no_duplicates(graph_factory, db):
    first = await graph_factory()
    second = await graph_factory(LOCKCACHE_ADDR=f"127.0.0.1:{free_port()}")
    control = await first.new_user()
    await first.ingest(control, *batch("CON"))
    expected = await link_pairs(db, control)
    assert len(expected) >= 10

    user = await first.new_user()
    results = await asyncio.gather(*[
        replica.ingest(user, *batch("CON")) for replica in (first, second, first, second)
    ])
    assert all(not r.HasField("error") for answer in results for r in answer)
    assert await link_pairs(db, user) == expected
    duplicates = await db.fetchval(
        """select count(*) from (select 1 from group_members where user_id = $1
                                  group by record_id having count(*) > 1) d""",
        uuid.UUID(user),
    )
    assert duplicates == 0
    pending = await db.fetchval(
        "select count(*) from records where user_id = $1 and discovery_state <> 'done'",
        uuid.UUID(user),
    )
    assert pending == 0


async def linked_pair(graph, prefix: str):
    user = await graph.new_user()
    _, pr = await graph.ingest(
        user, record(f"{prefix}-1", title="fence both paths"),
        record(f"x/{prefix.lower()}#1", platform="github", kind="pull_request",
               body=f"{prefix}-1"),
    )
    return user, pr.record.id


async def test_a_fallback_run_fences_out_a_redlock_run_that_paused(graph, graph_factory, db, locks):
    user, record_id = await linked_pair(graph, "FBR")
    before = await stored_token(db, record_id)
    # A Redlock run takes the lock (with the stored token as its floor) and pauses ...
    paused = await locks.Acquire(lpb.AcquireLockRequest(
        resources=[f"relationship_discovery:{record_id}"], ttl_ms=10_000, retry_count=0,
        fencing_floors={f"relationship_discovery:{record_id}": before},
    ), timeout=5)
    assert paused.outcome == lpb.ACQUIRED
    # ... meanwhile an instance that cannot reach lockcache runs the fallback path ...
    fallback = await graph_factory(LOCKCACHE_ADDR=f"127.0.0.1:{free_port()}")
    outcome = await fallback.server.discovery.run(user, uuid.UUID(record_id))
    assert outcome.state == "done"
    assert await stored_token(db, record_id) > before
    links_before = await graph.links_of(user, record_id)
    # ... and the paused Redlock run wakes up: fenced out, nothing written.
    async with graph.server.pool.acquire() as conn:
        with pytest.raises(StaleFencingToken):
            await graph.server.discovery.discover(
                conn, user, uuid.UUID(record_id), paused.fencing_token
            )
    assert await graph.links_of(user, record_id) == links_before


async def test_a_redlock_run_after_fallback_runs_is_accepted(graph, graph_factory, db):
    user, record_id = await linked_pair(graph, "FBA")
    fallback = await graph_factory(LOCKCACHE_ADDR=f"127.0.0.1:{free_port()}")
    for _ in range(3):
        assert (await fallback.server.discovery.run(user, uuid.UUID(record_id))).state == "done"
    after_fallback = await stored_token(db, record_id)
    # The stored token is the floor of the next Redlock token, however far ahead it went.
    assert (await graph.server.discovery.run(user, uuid.UUID(record_id))).state == "done"
    assert await stored_token(db, record_id) > after_fallback


async def test_a_redlock_run_waits_for_the_records_advisory_lock(graph, db):
    user, record_id = await linked_pair(graph, "ADV")
    async with graph.server.pool.acquire() as holder, holder.transaction():
        await fencing.lock_record(holder, uuid.UUID(record_id))
        run = asyncio.ensure_future(graph.server.discovery.run(user, uuid.UUID(record_id)))

        async def waiting():
            return await db.fetchval(
                """select count(*) from pg_locks where locktype = 'advisory' and not granted"""
            ) > 0 and not run.done()

        await eventually(waiting)
    assert (await run).state == "done"


async def test_a_token_past_its_age_limit_is_refused(graph, db, locks):
    user, record_id = await linked_pair(graph, "AGE")
    answer = await acquire(locks, record_id, ttl_ms=10_000)
    assert answer.fencing_ttl_ms > 0
    async with graph.server.pool.acquire() as conn:
        floor = await fencing.read_floor(conn, user, uuid.UUID(record_id))
        with pytest.raises(StaleFencingToken, match="age limit"):
            await graph.server.discovery.discover(
                conn, user, uuid.UUID(record_id), answer.fencing_token,
                accept_until=floor.read_at - timedelta(seconds=1),
            )
    assert await stored_token(db, record_id) < answer.fencing_token


async def test_a_stale_record_of_a_batch_is_discarded_and_the_others_are_written(
    graph, db, locks
):
    user = await graph.new_user()
    answers = await graph.ingest(
        user, record("BST-1", title="batch fence"),
        record("x/bst#1", platform="github", kind="pull_request", body="BST-1"),
        record("x/bst#2", platform="github", kind="pull_request", body="BST-1"),
    )
    stale_id, *fresh_ids = [uuid.UUID(a.record.id) for a in answers]
    before = {r: await stored_token(db, str(r)) for r in (stale_id, *fresh_ids)}
    resources = [f"relationship_discovery:{r}" for r in fresh_ids]
    lock = await locks.Acquire(lpb.AcquireLockRequest(
        resources=resources, ttl_ms=10_000, retry_count=0,
        fencing_floors={f"relationship_discovery:{r}": before[r] for r in fresh_ids},
    ), timeout=5)
    assert lock.outcome == lpb.ACQUIRED
    links_before = await graph.links_of(user, str(stale_id))
    tokens = {stale_id: before[stale_id]}  # not newer than the stored one
    tokens |= {r: lock.fencing_tokens[f"relationship_discovery:{r}"] for r in fresh_ids}
    async with graph.server.pool.acquire() as conn:
        outcomes = await graph.server.discovery.discover_batch(conn, user, tokens)
    await locks.Release(lpb.ReleaseLockRequest(resources=resources, token=lock.token))
    assert outcomes[stale_id].state == "stale"
    assert outcomes[stale_id].stored_token == before[stale_id]
    assert not outcomes[stale_id].expired
    assert [outcomes[r].state for r in fresh_ids] == ["done", "done"]
    for r in fresh_ids:
        assert await stored_token(db, str(r)) == tokens[r] > before[r]
    assert await stored_token(db, str(stale_id)) == before[stale_id]
    assert await graph.links_of(user, str(stale_id)) == links_before


async def test_the_fallback_path_advances_every_record_of_a_batch_by_one(graph, db):
    user = await graph.new_user()
    answers = await graph.ingest(
        user, record("BFB-1", title="batch fallback"),
        record("x/bfb#1", platform="github", kind="pull_request", body="BFB-1"),
    )
    ids = [uuid.UUID(a.record.id) for a in answers]
    before = {r: await stored_token(db, str(r)) for r in ids}
    async with graph.server.pool.acquire() as conn:
        outcomes = await graph.server.discovery.discover_batch(conn, user, dict.fromkeys(ids))
    assert {outcome.state for outcome in outcomes.values()} == {"done"}
    assert {r: await stored_token(db, str(r)) for r in ids} == {r: before[r] + 1 for r in ids}
