"""The context cache under writes: a write drops only the cached contexts it can change."""

import asyncio

import pytest
from kushim.graph.v1 import graph_pb2 as pb

from tests.integration.graph.support import eventually, record


class Projected:
    """Counts the outbox rows whose invalidation the worker has finished."""

    def __init__(self, graph) -> None:
        self.worker = graph.server.worker
        self.done = 0
        self.graph = graph
        inner = self.worker.on_applied

        async def recording(reached) -> None:
            await inner(reached)
            self.done = self.worker.applied_total

        self.worker.on_applied = recording

    async def settled(self) -> bool:
        """Every committed change is in Neo4j and its contexts are invalidated."""
        return await self.graph.outbox_drained() and self.done == self.worker.applied_total


@pytest.fixture
def projected(graph) -> Projected:
    return Projected(graph)


async def context(graph, user, record_id, depth=1):
    return await graph.records.GetRecordContext(
        pb.GetRecordContextRequest(user_id=user, record_id=record_id, depth=depth)
    )


async def pair(graph, user, key: str, year: int):
    """A ticket and a pull request that references it: two linked records."""
    results = await graph.ingest(
        user,
        record(key, title=f"{key} ticket", when=f"{year}-01-01T10:00:00+00:00"),
        record(f"x/{key.lower()}#1", platform="github", kind="pull_request", body=f"fixes {key}",
               when=f"{year}-01-02T10:00:00+00:00"),
    )  # fmt: skip
    return [r.record.id for r in results]


async def two_pairs(graph, projected, first: str, second: str):
    """A new user with two linked pairs far apart in time (2020, 2023), both projected:
    (user, (ticket, pull request), (ticket, pull request))."""
    user = await graph.new_user()
    pairs = [await pair(graph, user, first, 2020), await pair(graph, user, second, 2023)]
    await eventually(projected.settled)
    return user, *pairs


async def cached_now(graph, user, *record_ids) -> None:
    for record_id in record_ids:
        await context(graph, user, record_id)
        assert (await context(graph, user, record_id)).cached


async def test_a_write_leaves_unrelated_contexts_of_the_user_cached(graph, projected):
    user, (a, pr_a), (b, pr_b) = await two_pairs(graph, projected, "AAA-1", "BBB-1")
    await cached_now(graph, user, a, b, pr_b)
    (edit,) = await graph.ingest(
        user, record("AAA-1", title="AAA-1 ticket, edited", when="2020-01-03T10:00:00+00:00")
    )
    assert edit.changed
    # At the commit already: the context's content is read from PostgreSQL.
    fresh = await context(graph, user, a)
    assert not fresh.cached
    assert fresh.subgraph.nodes[0].title == "AAA-1 ticket, edited"
    await eventually(projected.settled)
    assert (await context(graph, user, b)).cached
    assert (await context(graph, user, pr_b)).cached
    # The pull request's context contains the edited ticket.
    around_pr = await context(graph, user, pr_a)
    assert [n.title for n in around_pr.subgraph.nodes if n.id == a] == ["AAA-1 ticket, edited"]


async def test_a_write_inside_a_context_drops_it(graph, projected):
    user = await graph.new_user()
    a, pr_a = await pair(graph, user, "CCC-1", 2020)
    await eventually(projected.settled)
    await cached_now(graph, user, pr_a)
    await graph.ingest(
        user, record("CCC-1", title="CCC-1 reopened", when="2020-01-05T10:00:00+00:00")
    )
    answer = await context(graph, user, pr_a)
    assert not answer.cached
    assert {n.id: n.title for n in answer.subgraph.nodes}[a] == "CCC-1 reopened"
    await eventually(projected.settled)
    # The projection changed no topology: the context filled after the commit stays.
    assert (await context(graph, user, pr_a)).cached


async def test_a_link_drops_the_contexts_that_contain_either_end(graph, projected):
    user = await graph.new_user()
    a, pr_a = await pair(graph, user, "DDD-1", 2020)
    c, pr_c = await pair(graph, user, "EEE-1", 2022)
    e, pr_e = await pair(graph, user, "FFF-1", 2024)
    await eventually(projected.settled)
    await cached_now(graph, user, pr_a, pr_c, pr_e)
    await graph.links.CreateLink(
        pb.CreateLinkRequest(user_id=user, source_record_id=a, target_record_id=c)
    )
    await eventually(projected.settled)
    assert not (await context(graph, user, pr_a)).cached
    assert not (await context(graph, user, pr_c)).cached
    assert (await context(graph, user, pr_e)).cached
    wider = await context(graph, user, pr_a, depth=2)
    assert {n.id for n in wider.subgraph.nodes} == {pr_a, a, c}


async def test_deleting_a_link_drops_the_contexts_of_both_ends(graph, projected):
    user = await graph.new_user()
    a, pr_a = await pair(graph, user, "GGG-1", 2020)
    e, pr_e = await pair(graph, user, "HHH-1", 2024)
    await eventually(projected.settled)
    await cached_now(graph, user, pr_a, e)
    (link,) = await graph.links_of(user, a)
    await graph.links.DeleteLink(pb.DeleteLinkRequest(user_id=user, link_id=link.id))
    unlinked = await context(graph, user, pr_a)
    assert not unlinked.cached
    assert not unlinked.subgraph.links
    # Until Neo4j has the deletion the traversal may still reach the ticket; after it, the
    # projection's invalidation drops what was filled meanwhile.
    await eventually(projected.settled)
    assert [n.id for n in (await context(graph, user, pr_a)).subgraph.nodes] == [pr_a]
    assert (await context(graph, user, e)).cached


async def test_link_feedback_drops_the_contexts_that_show_the_link(graph, projected):
    user = await graph.new_user()
    a, pr_a = await pair(graph, user, "JJJ-1", 2020)
    await eventually(projected.settled)
    await cached_now(graph, user, pr_a)
    (link,) = await graph.links_of(user, a)
    await graph.links.SetLinkFeedback(
        pb.SetLinkFeedbackRequest(user_id=user, link_id=link.id, feedback="positive")
    )
    answer = await context(graph, user, pr_a)
    assert not answer.cached
    assert [lk.feedback for lk in answer.subgraph.links] == ["positive"]


async def test_a_discovered_link_drops_the_far_endpoints_context_at_the_commit(graph, projected):
    user = await graph.new_user()
    ticket, pull = await graph.ingest(
        user, record("GGG-1", title="GGG-1 ticket", when="2021-01-01T10:00:00+00:00"),
        record("x/ggg#1", platform="github", kind="pull_request", title="draft",
               when="2021-01-02T10:00:00+00:00"),
    )  # fmt: skip
    ticket_id, pull_id = ticket.record.id, pull.record.id
    # One group already holds both, so the link below changes no group: only the link itself
    # reaches the ticket.
    await graph.groups.CreateGroup(
        pb.CreateGroupRequest(user_id=user, name="Both", record_ids=[ticket_id, pull_id]))
    await eventually(projected.settled)
    await cached_now(graph, user, ticket_id)
    # Hold the projection's own invalidation: only the commit's can drop the context now.
    release = asyncio.Event()
    inner = projected.worker.on_applied

    async def held(reached) -> None:
        await release.wait()
        await inner(reached)

    projected.worker.on_applied = held
    try:
        (edited,) = await graph.ingest(user, record(
            "x/ggg#1", platform="github", kind="pull_request", title="draft",
            body="fixes GGG-1", when="2021-01-03T10:00:00+00:00"))
        assert [{link.source_record_id, link.target_record_id} for link in edited.links] == [
            {ticket_id, pull_id}]
        assert not (await context(graph, user, ticket_id)).cached
    finally:
        projected.worker.on_applied = inner
        release.set()
    await eventually(projected.settled)


# Writes that dropped the user's whole context cache now reach only their records.


async def groups_by_record(graph, user) -> dict:
    found = {}
    for group in await graph.groups_of(user):
        answer = await graph.groups.GetGroup(pb.GetGroupRequest(user_id=user, group_id=group.id))
        found.update({member.id: group.id for member in answer.members})
    return found


async def test_a_sweep_leaves_the_contexts_it_does_not_reach_cached(graph, projected, db):
    user, (a, pr_a), (b, pr_b) = await two_pairs(graph, projected, "KKA-1", "KKB-1")
    # A record left pending (its discovery crashed or ran past a deadline) is the sweeper's.
    await db.execute("update records set discovery_state = 'pending' where id = $1", pr_a)
    await cached_now(graph, user, a, b, pr_b)
    graph.server.sweeper.hand_over(user, [pr_a])

    async def swept() -> bool:
        state = await db.fetchval("select discovery_state from records where id = $1", pr_a)
        return state == "done" and not (await context(graph, user, a)).cached

    await eventually(swept)
    await eventually(projected.settled)
    assert (await context(graph, user, b)).cached
    assert (await context(graph, user, pr_b)).cached


async def test_a_group_edit_leaves_the_contexts_it_does_not_reach_cached(graph, projected):
    user, (a, pr_a), (b, pr_b) = await two_pairs(graph, projected, "KKC-1", "KKD-1")
    await cached_now(graph, user, a, pr_a, b)
    group_id = (await groups_by_record(graph, user))[a]
    await graph.groups.RenameGroup(
        pb.RenameGroupRequest(user_id=user, group_id=group_id, name="Renamed"))
    renamed = await context(graph, user, a)
    assert not renamed.cached
    assert [g.name for g in renamed.subgraph.groups] == ["Renamed"]
    assert not (await context(graph, user, pr_a)).cached
    await eventually(projected.settled)
    assert (await context(graph, user, b)).cached


async def test_removing_a_member_reaches_it_and_the_members_left(graph, projected):
    user, (a, pr_a), (b, _) = await two_pairs(graph, projected, "KKE-1", "KKF-1")
    await cached_now(graph, user, a, pr_a, b)
    group_id = (await groups_by_record(graph, user))[a]
    await graph.groups.RemoveGroupMember(
        pb.GroupMemberRequest(user_id=user, group_id=group_id, record_id=pr_a))
    assert not (await context(graph, user, pr_a)).cached
    assert not (await context(graph, user, a)).cached
    await eventually(projected.settled)
    assert (await context(graph, user, b)).cached


async def test_deleting_a_record_leaves_the_contexts_it_does_not_reach_cached(graph, projected):
    user, (a, pr_a), (b, pr_b) = await two_pairs(graph, projected, "KKG-1", "KKH-1")
    await cached_now(graph, user, a, b, pr_b)
    await graph.records.DeleteRecord(pb.DeleteRecordRequest(user_id=user, record_id=pr_a))
    alone = await context(graph, user, a)
    assert not alone.cached
    assert [n.id for n in alone.subgraph.nodes] == [a]
    await eventually(projected.settled)
    assert (await context(graph, user, b)).cached
    assert (await context(graph, user, pr_b)).cached


async def test_deleting_a_data_source_drops_the_contexts_naming_it(graph, projected):
    user = await graph.new_user()
    source = (await graph.sources.CreateDataSource(
        pb.CreateDataSourceRequest(user_id=user, platform="jira", name="acme")
    )).data_source
    (named,) = await graph.ingest(user, record("SRC-1", data_source_id=source.id))
    a, pr_a = await pair(graph, user, "OTH-1", 2021)
    await eventually(projected.settled)
    await cached_now(graph, user, named.record.id, a)
    await graph.sources.DeleteDataSource(
        pb.GetDataSourceRequest(user_id=user, data_source_id=source.id)
    )
    fresh = await context(graph, user, named.record.id)
    assert not fresh.cached
    assert [n.data_source_id for n in fresh.subgraph.nodes] == [""]
    assert (await context(graph, user, a)).cached  # it named no data source
