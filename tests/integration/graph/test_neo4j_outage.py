"""Neo4j down and back, on a Neo4j server of this test's own: ingestion never stops, context
reads walk the links in PostgreSQL meanwhile, and the outbox backlog drains until Neo4j matches
PostgreSQL.

The test also has a database of its own: the outbox is shared by every graph instance of a
database, so a graph of another suite still running on the shared database would apply this
test's changes to the shared Neo4j instead.
"""

import asyncio
import secrets

import pytest
from kushim.graph.v1 import graph_pb2 as pb

from devstack.neo4j import Neo4jServer
from tests.integration.graph.support import (
    eventually,
    free_port,
    postgres_ids,
    projection_matches,
    record,
)


@pytest.fixture
async def neo4j(tmp_path):
    server = Neo4jServer(tmp_path / "neo4j", free_port(), secrets.token_urlsafe(12), heap="384m")
    await asyncio.to_thread(server.start)
    yield server
    await asyncio.to_thread(server.stop)


def ids(subgraph: pb.Subgraph) -> tuple:
    return (
        sorted(n.id for n in subgraph.nodes),
        sorted(link.id for link in subgraph.links),
        sorted(g.id for g in subgraph.groups),
    )


async def test_neo4j_outage_loses_nothing(graph_factory, neo4j, own_database, own_db):
    db = own_db
    graph = await graph_factory(
        DATABASE_URL=own_database,
        NEO4J_URI=neo4j.url, NEO4J_USER=neo4j.user, NEO4J_PASSWORD=neo4j.password,
    )
    user = await graph.new_user()
    first = await graph.ingest(
        user, record("OUT-1", title="before the outage"),
        record("x/o#1", platform="github", kind="pull_request", body="OUT-1"),
    )
    await eventually(lambda: projection_matches(graph, db, user), within=30)

    await asyncio.to_thread(neo4j.stop)
    during = await graph.ingest(
        user,
        record("OUT-2", title="during the outage", when="2024-05-01T10:00:00+00:00"),
        record("x/o#2", platform="github", kind="pull_request", body="OUT-2 and OUT-1",
               when="2024-05-01T12:00:00+00:00"),
    )
    assert all(r.record.discovery_state == "done" for r in during)
    assert len(during[1].links) == 2  # links to both tickets: their groups merge
    await graph.records.DeleteRecord(
        pb.DeleteRecordRequest(user_id=user, record_id=first[1].record.id)
    )
    health = await graph.admin.CheckDependencies(pb.CheckDependenciesRequest())
    assert health.dependencies["neo4j"] == "down" and health.dependencies["postgres"] == "up"
    assert health.outbox_pending > 0
    walked = await graph.records.GetRecordContext(pb.GetRecordContextRequest(
        user_id=user, record_id=during[0].record.id, depth=2
    ))
    assert not walked.cached

    await asyncio.to_thread(neo4j.start)
    await eventually(graph.outbox_drained, within=60)
    assert await projection_matches(graph, db, user)
    expected = await postgres_ids(db, user)
    assert len(expected["artifacts"]) == 3 and len(expected["links"]) == 2
    answer = await graph.records.GetRecordContext(pb.GetRecordContextRequest(
        user_id=user, record_id=during[0].record.id, depth=2
    ))
    assert len(answer.subgraph.nodes) == 3
    # The walk in PostgreSQL found what Neo4j finds: every record, link and group of the user.
    assert ids(walked.subgraph) == ids(answer.subgraph) == tuple(
        sorted(expected[kind]) for kind in ("artifacts", "links", "groups")
    )
