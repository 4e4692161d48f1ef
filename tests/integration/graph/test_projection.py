"""The Neo4j projection: it matches PostgreSQL, serves context subgraphs, rebuilds on demand."""

import logging

import grpc
from kushim.graph.v1 import graph_pb2 as pb

from tests.integration.graph.support import (
    eventually,
    postgres_ids,
    projection_matches,
    record,
    rpc_error,
)


async def chain(graph, user):
    """A - B - C - D, each linked to the next by an explicit reference."""
    return [r.record.id for r in await graph.ingest(
        user,
        record("CHN-1", title="root cause", when="2024-01-01T10:00:00+00:00"),
        record("x/c#1", platform="github", kind="pull_request", body="CHN-1",
               when="2024-02-01T10:00:00+00:00"),
        record("a1b2c3d4e5", platform="github", kind="commit", body="part of x/c#1",
               when="2024-03-01T10:00:00+00:00"),
        record("msg-1", platform="slack", kind="message", body="deployed a1b2c3d4e5",
               when="2024-04-01T10:00:00+00:00"),
    )]


async def context(graph, user, record_id, depth):
    return await graph.records.GetRecordContext(
        pb.GetRecordContextRequest(user_id=user, record_id=record_id, depth=depth)
    )


async def test_projection_matches_postgres(graph, db):
    user = await graph.new_user()
    ids = await chain(graph, user)
    await eventually(lambda: projection_matches(graph, db, user))
    expected = await postgres_ids(db, user)
    assert len(expected["artifacts"]) == 4 and len(expected["links"]) == 3
    assert len(expected["groups"]) == 1 and len(expected["memberships"]) == 4
    await graph.records.DeleteRecord(pb.DeleteRecordRequest(user_id=user, record_id=ids[3]))
    await eventually(lambda: projection_matches(graph, db, user))
    assert ids[3] not in (await graph.server.store.user_ids(user))["artifacts"]


async def test_context_depths_and_cache(graph, db, caplog):
    user = await graph.new_user()
    a, b, c, d = await chain(graph, user)
    await eventually(lambda: projection_matches(graph, db, user))
    for depth, expected in ((1, [a, b]), (2, [a, b, c]), (3, [a, b, c, d])):
        answer = await context(graph, user, a, depth)
        assert [n.id for n in answer.subgraph.nodes] == expected
        assert len(answer.subgraph.links) == depth
        assert len(answer.subgraph.groups) == 1
    caplog.set_level(logging.INFO, logger="kushim_graph.contexts.reader")
    again = await context(graph, user, a, 2)
    assert again.cached
    assert [n.id for n in again.subgraph.nodes] == [a, b, c]
    assert f"Cache hit for context group: {a}:2" in caplog.messages
    default = await context(graph, user, a, 0)
    assert default.cached and len(default.subgraph.nodes) == 3
    # New data invalidates the user's cached context groups.
    (e,) = await graph.ingest(user, record("CHN-2", title="follow up", body="after CHN-1"))
    await eventually(lambda: projection_matches(graph, db, user))
    fresh = await context(graph, user, a, 1)
    assert not fresh.cached
    assert {n.id for n in fresh.subgraph.nodes} == {a, b, e.record.id}


async def test_context_errors(graph):
    user = await graph.new_user()
    (only,) = await graph.ingest(user, record("CTX-1"))
    error = await rpc_error(context(graph, user, only.record.id, 4))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = await rpc_error(context(graph, user, "00000000-0000-4000-8000-00000000000a", 1))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_reproject_rebuilds_from_postgres(graph, db):
    user = await graph.new_user()
    await chain(graph, user)
    await eventually(lambda: projection_matches(graph, db, user))
    await graph.server.store.delete_user(user)
    assert (await graph.server.store.user_ids(user))["artifacts"] == set()
    answer = await graph.admin.Reproject(pb.ReprojectRequest(user_id=user))
    assert (answer.records, answer.links, answer.groups) == (4, 3, 1)
    assert await projection_matches(graph, db, user)
