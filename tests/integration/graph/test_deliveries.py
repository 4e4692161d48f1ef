"""Webhook deliveries through IngestRecords: a delivery is stored once, its claim in the same
transaction as its records; an older version of a record never overwrites a newer one; claims
past their retention are deleted by the sweeper."""

import asyncio
import contextlib
import uuid

import grpc
from kushim.graph.v1 import graph_pb2 as pb
from kushim_graph.writes import sweeper as sweeping

from tests.integration.graph.support import eventually, free_port, record, rpc_error


async def _source(graph, user: str) -> str:
    answer = await graph.sources.CreateDataSource(
        pb.CreateDataSourceRequest(user_id=user, platform="github", name="hooks")
    )
    return answer.data_source.id


def _deliver(graph, user: str, source: str, delivery: str, *records):
    return graph.records.IngestRecords(pb.IngestRecordsRequest(
        user_id=user, records=list(records), data_source_id=source, delivery_id=delivery,
    ), timeout=60)


async def _stored(db, user: str, source: str) -> dict:
    """What a delivery writes: records, their index rows, claims, and when records changed."""
    uid, sid = uuid.UUID(user), uuid.UUID(source)
    return {
        "records": await db.fetchval("select count(*) from records where user_id = $1", uid),
        "keys": await db.fetchval("select count(*) from record_keys where user_id = $1", uid),
        "claims": await db.fetchval(
            "select count(*) from webhook_deliveries where data_source_id = $1", sid
        ),
        "updated": await db.fetchval("select max(updated_at) from records where user_id = $1", uid),
    }


async def test_a_delivery_is_stored_once(graph, db):
    user = await graph.new_user()
    source = await _source(graph, user)
    issue = record("acme/app/issues/7", platform="github", kind="issue", title="Crash on start")
    commit = record("acme/app/commit/ab12", platform="github", kind="commit",
                    title="Fix the crash on start", body="fixes #7")
    first = await _deliver(graph, user, source, "d-1", issue, commit)
    assert not first.duplicate
    assert [(r.created, r.record.data_source_id) for r in first.results] == [(True, source)] * 2
    stored = await _stored(db, user, source)
    assert (stored["records"], stored["claims"]) == (2, 1)

    again = await _deliver(graph, user, source, "d-1", issue, commit)
    assert again.duplicate and list(again.results) == []
    assert await _stored(db, user, source) == stored

    # The same records in another delivery: a new claim, the records unchanged.
    other = await _deliver(graph, user, source, "d-2", issue, commit)
    assert [(r.created, r.changed) for r in other.results] == [(False, False)] * 2
    assert await _stored(db, user, source) == {**stored, "claims": 2}


async def test_the_same_delivery_sent_twice_at_once_is_stored_once(graph, db):
    user = await graph.new_user()
    source = await _source(graph, user)
    answers = await asyncio.gather(*(
        _deliver(graph, user, source, "d-1", record("C-1"), record("C-2")) for _ in range(2)
    ))
    assert sorted(answer.duplicate for answer in answers) == [False, True]
    stored = await _stored(db, user, source)
    assert (stored["records"], stored["claims"]) == (2, 1)


async def test_delivery_errors_store_nothing(graph, db):
    user = await graph.new_user()
    source = await _source(graph, user)
    stranger = await graph.new_user()
    for request_user, source_id, code in (
        (stranger, source, grpc.StatusCode.NOT_FOUND),
        (user, str(uuid.uuid4()), grpc.StatusCode.NOT_FOUND),
        (user, "not-a-uuid", grpc.StatusCode.INVALID_ARGUMENT),
    ):
        error = await rpc_error(_deliver(graph, request_user, source_id, "d-1", record("X-1")))
        assert error.code() == code, error.details()
    for delivery in ("", " ", "x" * 257, "a\x00b"):
        error = await rpc_error(_deliver(graph, user, source, delivery, record("X-1")))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "delivery_id" in error.details()
    error = await rpc_error(_deliver(graph, user, "", "d-1", record("X-1")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "data_source_id" in error.details()
    assert (await _stored(db, user, source))["claims"] == 0
    assert (await _stored(db, stranger, source))["records"] == 0

    # A record naming another data source is rejected; the rest of the delivery stands.
    elsewhere = await _source(graph, user)
    answer = await _deliver(graph, user, source, "d-1",
                            record("X-2", data_source_id=elsewhere), record("X-3"))
    assert answer.results[0].error.field == "data_source_id"
    assert answer.results[1].created and answer.results[1].record.data_source_id == source
    assert (await _stored(db, user, source))["claims"] == 1


async def test_a_delivery_whose_transaction_failed_is_stored_when_it_comes_again(graph, db):
    user = await graph.new_user()
    source = await _source(graph, user)
    refused = f"refused-{uuid.uuid4().hex}"
    constraint = f"refuse_{uuid.uuid4().hex[:12]}"
    delivery = ("d-1", record("OK-1", title="first"), record(refused, title="second"))
    # PostgreSQL refuses the second record after the claim and the first record were written
    # in the delivery's transaction: the whole delivery must roll back.
    await db.execute(
        f"alter table records add constraint {constraint} "
        f"check (external_id <> '{refused}') not valid"
    )
    try:
        error = await rpc_error(_deliver(graph, user, source, *delivery))
        assert error.code() == grpc.StatusCode.INTERNAL
        failed = await _stored(db, user, source)
        assert (failed["records"], failed["keys"], failed["claims"]) == (0, 0, 0)
    finally:
        await db.execute(f"alter table records drop constraint {constraint}")

    again = await _deliver(graph, user, source, *delivery)
    assert not again.duplicate and [r.created for r in again.results] == [True, True]
    stored = await _stored(db, user, source)
    assert (stored["records"], stored["claims"]) == (2, 1)


async def _version(db, record_id: str) -> dict:
    row = await db.fetchrow(
        "select title, updated_at, discovery_state, discovery_requested_at from records"
        " where id = $1", uuid.UUID(record_id),
    )
    queued = await db.fetchval(
        "select count(*) from outbox where entity = 'record' and entity_id = $1",
        uuid.UUID(record_id),
    )
    return {**dict(row), "queued": queued}


async def test_an_older_version_never_overwrites_a_newer_one(own_database, own_db, graph_factory):
    # Nothing drains the outbox (its Neo4j does not answer, the database is the test's own),
    # so every projection this test's writes enqueue stays countable.
    graph = await graph_factory(
        DATABASE_URL=own_database, NEO4J_URI=f"bolt://127.0.0.1:{free_port()}"
    )
    user = await graph.new_user()
    source = await _source(graph, user)
    newer = record("PROJ-9", title="Login fixed", when="2024-05-02T10:00:00+00:00")
    older = record("PROJ-9", title="Login broken", when="2024-05-01T10:00:00+00:00")
    created = (await _deliver(graph, user, source, "d-2", newer)).results[0]
    record_id = created.record.id
    before = await _version(own_db, record_id)
    assert (before["title"], before["queued"], before["discovery_state"]) == (
        "Login fixed", 1, "done"
    )

    late = (await _deliver(graph, user, source, "d-1", older)).results[0]
    assert (late.created, late.changed, late.stale) == (False, False, True)
    assert (late.record.id, late.record.title) == (record_id, "Login fixed")
    assert await _version(own_db, record_id) == before

    # Records posted without a delivery (POST /records) keep the newer version too.
    posted = (await graph.ingest(user, older))[0]
    assert posted.stale and posted.record.title == "Login fixed"
    assert await _version(own_db, record_id) == before

    # Equal timestamps: the last writer wins, and only then is the record written again.
    same_time = record("PROJ-9", title="Login fixed again", when="2024-05-02T10:00:00+00:00")
    rewritten = (await _deliver(graph, user, source, "d-3", same_time)).results[0]
    assert (rewritten.changed, rewritten.stale) == (True, False)
    after = await _version(own_db, record_id)
    assert (after["title"], after["queued"]) == ("Login fixed again", 2)
    assert after["updated_at"] > before["updated_at"]


async def test_the_sweeper_deletes_claims_past_their_retention_in_bounded_batches(
    own_database, own_db, graph_factory, monkeypatch
):
    graph = await graph_factory(DATABASE_URL=own_database)
    # The test runs the passes itself, so the graph's own sweeper loop is stopped.
    await eventually(lambda: any(t.get_name() == "sweeper" for t in graph.server.tasks))
    loop = next(t for t in graph.server.tasks if t.get_name() == "sweeper")
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop
    user = await graph.new_user()
    source = await _source(graph, user)
    ages_in_days = {"d-0": 30, "d-1": 8, "d-2": 8, "d-3": 6, "d-4": 0}
    for delivery in ages_in_days:
        await _deliver(graph, user, source, delivery, record(f"R-{delivery}"))
    for delivery, days in ages_in_days.items():
        await own_db.execute(
            "update webhook_deliveries set claimed_at = now() - make_interval(days => $2)"
            " where delivery_id = $1", delivery, days,
        )

    async def claims() -> set[str]:
        rows = await own_db.fetch("select delivery_id from webhook_deliveries")
        return {row["delivery_id"] for row in rows}

    monkeypatch.setattr(sweeping, "DELIVERY_EXPIRY_BATCH", 2)
    sweeper = sweeping.Sweeper(
        graph.server.pool, graph.server.discovery, graph.server.invalidator,
        interval_s=3600, stale_after_s=15,
    )
    assert await sweeper.expire_deliveries() == 2
    assert "d-0" not in await claims()  # oldest first
    await sweeper.sweep_once()
    assert await claims() == {"d-3", "d-4"}
    assert await sweeper.expire_deliveries() == 0

    # A delivery coming after its claim expired is stored again, harmlessly: same content.
    late = await _deliver(graph, user, source, "d-0", record("R-d-0"))
    assert not late.duplicate and (late.results[0].created, late.results[0].changed) == (
        False, False
    )
