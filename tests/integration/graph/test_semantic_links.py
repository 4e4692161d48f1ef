"""The semantic pass on the real PostgreSQL with the installed model: links between records
that carry no id, their explanation, feedback that sticks, readiness of the model.

Each test has a database of its own: the pass embeds every record of its database, and other
suites' records are not its business."""

from devstack.paths import embedding_model_dir
from tests.integration.graph.support import eventually, record


async def semantic_graph(graph_factory, database_url: str, **overrides):
    return await graph_factory(
        DATABASE_URL=database_url, SEMANTIC_LINKS="on",
        EMBEDDING_MODEL_DIR=str(embedding_model_dir()), **overrides,
    )


def commit(sha: str, title: str, body: str = "", when: str = "2024-03-01T10:00:00+00:00"):
    return record(sha, platform="github", kind="commit", title=title, body=body, when=when)


async def ids(graph, user, *records) -> list[str]:
    return [r.record.id for r in await graph.ingest(user, *records)]


async def semantic_links(graph, user, record_id):
    return [lk for lk in await graph.links_of(user, record_id) if lk.method == "semantic"]


def other_end(link, record_id):
    return link.target_record_id if link.source_record_id == record_id else link.source_record_id


# own_database first: it is torn down after the graph server that uses it
async def test_records_without_ids_are_linked_by_their_conventions_and_meaning(
    own_database, graph_factory
):
    graph = await semantic_graph(graph_factory, own_database)
    user = await graph.new_user()
    release = [
        commit(f"r{i}", f"Prepare release version 2.{i}.0", when=f"2024-03-0{i + 1}T09:00:00Z")
        for i in range(4)
    ]
    fix, revert, quoting, origin, backport, ticket, pr, noise = await ids(
        graph, user,
        commit("c1", "Add retry to the uploader", "Retries failed uploads three times."),
        commit("c2", 'Revert "Add retry to the uploader"', when="2024-03-02T10:00:00Z"),
        commit("c3", "man: fix the field name", 'Fixes: ("verbs: Introduce a new post send API")',
               when="2024-03-05T10:00:00Z"),
        commit("c4", "verbs: Introduce a new post send API", "A new set of QP send operations."),
        commit("c5", "verbs: Introduce a new post send API (#412)", when="2024-02-01T10:00:00Z"),
        record("SHOP-7", platform="jira", kind="task", title="Export the calendar as an ICS file",
               body="Customers want to import their schedule into Outlook and Google Calendar."),
        record("o/r#9", platform="github", kind="pull_request",
               title="Add ICS export for calendars",
               body="An .ics download of the user's schedule, importable in Outlook."),
        commit("c6", "Upgrade the database driver", "Bumps asyncpg."),
    )
    released = await ids(graph, user, *release)
    await eventually(lambda: semantic_links(graph, user, pr), within=60)
    [link] = await semantic_links(graph, user, revert)
    assert (link.source_record_id, link.target_record_id) == (fix, revert)
    [signal] = link.signals
    assert (signal.name, link.confidence) == ("revert", signal.weight)
    assert signal.detail.startswith('reverts "add retry to the uploader"; cosine ')
    quoted = {other_end(lk, quoting) for lk in await semantic_links(graph, user, quoting)}
    assert quoted == {origin}
    copies = {other_end(lk, backport) for lk in await semantic_links(graph, user, backport)}
    assert origin in copies
    [implements] = await semantic_links(graph, user, pr)
    assert other_end(implements, pr) == ticket
    assert await semantic_links(graph, user, noise) == []
    for record_id in released:
        assert await semantic_links(graph, user, record_id) == []
