"""The service's database role reads and writes data but cannot change the schema."""

import asyncpg
import pytest
from kushim_graph import migrate

from tests.integration.graph.support import record
from tests.integration.profile import required_env

RUNTIME_ROLE = "kushim_runtime"


def as_runtime_role(database_url: str) -> str:
    """The URL of the same database, signed in as the runtime role."""
    runtime = required_env("RUNTIME_DATABASE_URL")
    return runtime.rsplit("/", 1)[0] + "/" + database_url.rsplit("/", 1)[1]


@pytest.fixture
async def runtime_url(own_database):
    await migrate.run(own_database, RUNTIME_ROLE)
    return as_runtime_role(own_database)


@pytest.mark.parametrize(
    "ddl",
    [
        "create table intruder (x int)",
        "alter table records add column intruder int",
        "drop table links",
        "create index intruder on records (title)",
        "truncate outbox",
    ],
)
async def test_the_runtime_role_cannot_change_the_schema(runtime_url, ddl):
    conn = await asyncpg.connect(runtime_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(ddl)
    finally:
        await conn.close()


async def test_the_service_runs_as_the_runtime_role(runtime_url, graph_factory):
    # runtime_url first: its database is dropped only after the graph server stopped.
    graph = await graph_factory(DATABASE_URL=runtime_url)
    user = await graph.new_user()
    ticket, pr = await graph.ingest(
        user, record("ROL-1", title="runtime role"),
        record("x/rol#1", platform="github", kind="pull_request", body="ROL-1"),
    )
    assert pr.record.discovery_state == "done"
    # Same time on both: which end is the source follows their random ids.
    assert [{link.source_record_id, link.target_record_id} for link in pr.links] == [
        {ticket.record.id, pr.record.id}
    ]
