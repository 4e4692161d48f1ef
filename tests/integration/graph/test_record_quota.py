"""MAX_RECORDS_PER_USER: a request that would store more new records than the user has left is
refused whole (FAILED_PRECONDITION naming the limit), through IngestRecords and webhook
deliveries alike; updates of stored records still pass, and other users are not affected."""

import uuid

import grpc
from kushim.graph.v1 import graph_pb2 as pb

from tests.integration.graph.support import record, rpc_error


async def count(db, user: str) -> int:
    return await db.fetchval("select count(*) from records where user_id = $1", uuid.UUID(user))


async def test_new_records_past_the_quota_are_refused_whole(graph_factory, db):
    graph = await graph_factory(MAX_RECORDS_PER_USER="3")
    user, other = await graph.new_user(), await graph.new_user()
    await graph.ingest(user, record("Q-1"), record("Q-2"))
    error = await rpc_error(graph.records.IngestRecords(
        pb.IngestRecordsRequest(user_id=user, records=[record("Q-3"), record("Q-4")]), timeout=60
    ))  # fmt: skip
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "the limit is 3 records per user (MAX_RECORDS_PER_USER)" in error.details()
    assert await count(db, user) == 2  # nothing of the refused request was stored
    # A changed record is not a new one; the last free place still takes one.
    (changed,) = await graph.ingest(user, record("Q-1", title="edited"))
    assert changed.changed and not changed.created
    (third,) = await graph.ingest(user, record("Q-3"))
    assert third.created
    assert await count(db, user) == 3
    assert len(await graph.ingest(other, record("Q-1"), record("Q-2"), record("Q-3"))) == 3


async def test_a_delivery_past_the_quota_stores_nothing_and_can_come_again(graph_factory, db):
    graph = await graph_factory(MAX_RECORDS_PER_USER="1")
    user = await graph.new_user()
    source = (await graph.sources.CreateDataSource(
        pb.CreateDataSourceRequest(user_id=user, platform="github", name="hooks")
    )).data_source.id  # fmt: skip
    deliver = pb.IngestRecordsRequest(
        user_id=user, records=[record("D-1"), record("D-2")], data_source_id=source,
        delivery_id="d-1",
    )  # fmt: skip
    error = await rpc_error(graph.records.IngestRecords(deliver, timeout=60))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "MAX_RECORDS_PER_USER" in error.details()
    assert await count(db, user) == 0
    claims = "select count(*) from webhook_deliveries where data_source_id = $1"
    assert await db.fetchval(claims, uuid.UUID(source)) == 0  # not claimed: a retry may store it
    one = pb.IngestRecordsRequest(
        user_id=user, records=[record("D-1")], data_source_id=source, delivery_id="d-1"
    )
    answer = await graph.records.IngestRecords(one, timeout=60)
    assert not answer.duplicate and answer.results[0].created
