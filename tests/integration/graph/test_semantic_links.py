"""The semantic pass on the real PostgreSQL with the installed model: links between records
that carry no id, their explanation, feedback that sticks, readiness of the model.

Each test has a database of its own: the pass embeds every record of its database, and other
suites' records are not its business."""

import uuid

from kushim.graph.v1 import graph_pb2 as pb

from devstack.paths import embedding_model_dir
from tests.integration.graph.support import eventually, record


async def semantic_graph(graph_factory, database_url: str, **overrides):
    env = {"SEMANTIC_LINKS": "on", "EMBEDDING_MODEL_DIR": str(embedding_model_dir())}
    return await graph_factory(DATABASE_URL=database_url, **(env | overrides))


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


async def test_feedback_sticks_a_negative_link_stays_away_and_a_positive_one_stays(
    own_database, graph_factory
):
    graph = await semantic_graph(graph_factory, own_database)
    user = await graph.new_user()
    original, revert, other, fixes = await ids(
        graph, user,
        commit("f1", "Cache the rendered sidebar", "Rendering took 40 ms per page."),
        commit("f2", 'Revert "Cache the rendered sidebar"', when="2024-03-02T10:00:00Z"),
        commit("f3", "Rotate the signing keys monthly", "Keys older than 30 days expire."),
        commit("f4", "keys: drop expired ones", 'Fixes: ("Rotate the signing keys monthly")',
               when="2024-03-03T10:00:00Z"),
    )
    [wrong] = await eventually(lambda: semantic_links(graph, user, revert), within=60)
    [right] = await eventually(lambda: semantic_links(graph, user, fixes), within=60)
    rated = await graph.links.SetLinkFeedback(
        pb.SetLinkFeedbackRequest(user_id=user, link_id=wrong.id, feedback="negative")
    )
    assert rated.link.feedback == "negative"
    await graph.links.SetLinkFeedback(
        pb.SetLinkFeedbackRequest(user_id=user, link_id=right.id, feedback="positive")
    )
    assert await semantic_links(graph, user, revert) == []
    # Both records change: the revert is embedded and scored again, the fix no longer quotes.
    await ids(
        graph, user,
        commit("f2", 'Revert "Cache the rendered sidebar"', "It broke dark mode.",
               when="2024-03-02T10:00:00Z"),
        commit("f4", "keys: drop expired ones", "Expired keys are removed at start.",
               when="2024-03-03T10:00:00Z"),
    )

    async def embedded_again() -> bool:
        answer = await graph.admin.CheckDependencies(pb.CheckDependenciesRequest())
        pending = await graph.server.pool.fetchval(
            "select count(*) from records r join record_embeddings e on e.record_id = r.id"
            " where e.checksum = r.checksum and r.external_id in ('f2', 'f4')"
        )
        return answer.dependencies["semantic_model"] == "up" and pending == 2

    await eventually(embedded_again, within=60)
    assert await semantic_links(graph, user, revert) == []
    [kept] = await semantic_links(graph, user, fixes)
    assert (kept.id, kept.feedback) == (right.id, "positive")
    assert {original, other} == {other_end(wrong, revert), other_end(kept, fixes)}


async def test_a_pair_marked_unrelated_is_not_linked_again_by_deterministic_discovery(
    own_database, graph_factory
):
    graph = await semantic_graph(graph_factory, own_database, SEMANTIC_LINKS="off")
    user = await graph.new_user()
    ticket, mention = await ids(
        graph, user,
        record("PAY-3", title="Refunds for annual plans", when="2024-03-01T10:00:00Z"),
        record("PAY-9", title="Proration rules", body="Depends on PAY-3.",
               when="2024-03-02T10:00:00Z"),
    )
    [link] = await eventually(lambda: graph.links_of(user, mention), within=30)
    assert (link.method, other_end(link, mention)) == ("deterministic", ticket)
    await graph.links.SetLinkFeedback(
        pb.SetLinkFeedbackRequest(user_id=user, link_id=link.id, feedback="negative")
    )
    await ids(graph, user, record("PAY-9", title="Proration rules", body="Still needs PAY-3.",
                                  when="2024-03-02T10:00:00Z"))

    async def discovered_again() -> bool:
        state = await graph.server.pool.fetchval(
            "select discovery_state from records where id = $1", uuid.UUID(mention)
        )
        return state == "done"

    await eventually(discovered_again, within=30)
    assert await graph.links_of(user, mention) == []
    # linking by hand lifts the verdict
    made = await graph.links.CreateLink(pb.CreateLinkRequest(
        user_id=user, source_record_id=ticket, target_record_id=mention
    ))
    assert made.link.method == "manual"


async def test_a_standard_like_key_links_to_the_record_with_that_key_in_either_arrival_order(
    own_database, graph_factory
):
    graph = await semantic_graph(graph_factory, own_database)
    user = await graph.new_user()
    [early] = await ids(graph, user, commit("k1", "Export dates", "Implements ISO-1, UTF-8 safe."))
    [ticket] = await ids(
        graph, user, record("ISO-1", title="Calendar export", when="2024-03-02T10:00:00Z")
    )
    [late] = await ids(graph, user, commit("k2", "Import dates", "Follow-up to ISO-1.",
                                           when="2024-03-03T10:00:00Z"))
    links = await eventually(
        lambda: _len_at_least(semantic_links(graph, user, ticket), 2), within=60
    )
    assert {other_end(lk, ticket) for lk in links} == {early, late}
    assert {lk.signals[0].name for lk in links} == {"key_reference"}


async def _len_at_least(call, n: int):
    found = await call
    return found if len(found) >= n else None


async def test_readiness_names_the_model_state(own_database, graph_factory, tmp_path):
    loaded = await semantic_graph(graph_factory, own_database)
    missing = await semantic_graph(graph_factory, own_database, EMBEDDING_MODEL_DIR=str(tmp_path))

    async def state(graph) -> str:
        answer = await graph.admin.CheckDependencies(pb.CheckDependenciesRequest())
        return answer.dependencies["semantic_model"]

    assert await eventually(lambda: _is(state(loaded), "up"), within=30)
    assert await eventually(lambda: _is(state(missing), "down"), within=30)


async def _is(call, expected: str) -> bool:
    return await call == expected
