"""Context groups: created, joined and merged by discovery; split; edited by hand; links."""

import grpc
from kushim.graph.v1 import graph_pb2 as pb
from kushim_graph.rpc import groups as group_rpc

from tests.integration.graph.support import record, rpc_error


def mention(external_id: str, key: str, when: str = "2024-03-02T10:00:00+00:00", **extra):
    return record(external_id, platform="github", kind="pull_request", body=f"See {key}",
                  when=when, **extra)


async def members(graph, user, group_id) -> set[str]:
    answer = await graph.groups.GetGroup(pb.GetGroupRequest(user_id=user, group_id=group_id))
    return {m.id for m in answer.members}


async def test_discovery_creates_joins_and_merges_groups(graph):
    user = await graph.new_user()
    a, b = await graph.ingest(
        user,
        record("PAY-1", title="Refund flow broken", author="ann"),
        mention("acme/shop#1", "PAY-1", title="Fix refund flow"),
    )
    (group,) = await graph.groups_of(user)
    assert group.member_count == 2 and group.name == "Refund, flow"
    assert group.coherence > 0.9 and "refund" in group.topics
    (c,) = await graph.ingest(user, mention("acme/shop#2", "PAY-1", title="Refund tests"))
    (group,) = await graph.groups_of(user)
    assert await members(graph, user, group.id) == {a.record.id, b.record.id, c.record.id}
    d, e = await graph.ingest(
        user,
        record("OPS-2", title="Disk alerts", when="2024-06-01T10:00:00+00:00"),
        mention("acme/ops#5", "OPS-2", when="2024-06-01T12:00:00+00:00"),
    )
    assert len(await graph.groups_of(user)) == 2
    (f,) = await graph.ingest(
        user, record("acme/ops#6", platform="github", kind="issue", body="PAY-1 and OPS-2",
                     when="2024-04-15T10:00:00+00:00"),
    )
    assert len(f.links) == 2
    (merged,) = await graph.groups_of(user)
    assert merged.member_count == 6
    assert merged.id == group.id  # the larger group absorbs the smaller one


async def test_split_after_growth_drops_unlinked_members(graph):
    user = await graph.new_user()
    loose = await graph.ingest(user, *[
        record(f"LOOSE-{i + 1}", title=f"note {i}", when=f"2023-0{i + 1}-01T10:00:00+00:00")
        for i in range(5)
    ])
    created = await graph.groups.CreateGroup(pb.CreateGroupRequest(
        user_id=user, name="Loose notes", record_ids=[r.record.id for r in loose]
    ))
    assert created.group.member_count == 5 and created.group.coherence == 0.0
    (newcomer,) = await graph.ingest(
        user, mention("acme/n#1", "LOOSE-1", when="2023-01-02T10:00:00+00:00")
    )
    assert len(newcomer.links) == 1
    # Six members, one link: coherence < 0.4, so the group splits into its components;
    # the linked pair stays, the unlinked records leave.
    assert await members(graph, user, created.group.id) == {
        loose[0].record.id, newcomer.record.id
    }


async def test_split_group_by_components_or_refuse(graph):
    user = await graph.new_user()
    results = await graph.ingest(
        user,
        record("AA-1", when="2022-01-01T10:00:00+00:00"),
        mention("x/a#1", "AA-1", when="2022-01-01T11:00:00+00:00"),
        record("BB-1", when="2022-05-01T10:00:00+00:00"),
        mention("x/b#1", "BB-1", when="2022-05-01T11:00:00+00:00"),
        record("CC-1", when="2022-09-01T10:00:00+00:00"),
        record("DD-1", when="2022-12-01T10:00:00+00:00"),
    )
    ids = [r.record.id for r in results]
    for group in await graph.groups_of(user):
        await graph.groups.DeleteGroup(pb.GetGroupRequest(user_id=user, group_id=group.id))
    made = await graph.groups.CreateGroup(
        pb.CreateGroupRequest(user_id=user, name="Mixed", record_ids=ids)
    )
    assert made.group.coherence < 0.4
    split = await graph.groups.SplitGroup(pb.GetGroupRequest(user_id=user, group_id=made.group.id))
    assert [g.member_count for g in split.groups] == [2, 2]
    assert split.groups[0].id == made.group.id
    assert await members(graph, user, made.group.id) in ({ids[0], ids[1]}, {ids[2], ids[3]})
    error = await rpc_error(
        graph.groups.SplitGroup(pb.GetGroupRequest(user_id=user, group_id=made.group.id))
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_manual_group_editing(graph):
    user = await graph.new_user()
    r1, r2, r3 = await graph.ingest(
        user, record("M-1", when="2021-01-01T10:00:00+00:00"),
        record("M-2", when="2021-03-01T10:00:00+00:00"),
        record("M-3", when="2021-05-01T10:00:00+00:00"),
    )
    one = (await graph.groups.CreateGroup(
        pb.CreateGroupRequest(user_id=user, name="  First\x00 ", record_ids=[r1.record.id])
    )).group
    assert one.name == "First"
    two = (await graph.groups.CreateGroup(
        pb.CreateGroupRequest(user_id=user, name="Second")
    )).group
    added = await graph.groups.AddGroupMember(
        pb.GroupMemberRequest(user_id=user, group_id=two.id, record_id=r2.record.id)
    )
    assert [m.id for m in added.members] == [r2.record.id]
    error = await rpc_error(graph.groups.AddGroupMember(
        pb.GroupMemberRequest(user_id=user, group_id=two.id, record_id=r1.record.id)
    ))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    error = await rpc_error(graph.groups.RemoveGroupMember(
        pb.GroupMemberRequest(user_id=user, group_id=two.id, record_id=r3.record.id)
    ))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    renamed = await graph.groups.RenameGroup(
        pb.RenameGroupRequest(user_id=user, group_id=two.id, name="Renamed")
    )
    assert renamed.group.name == "Renamed"
    listed = await graph.groups_of(user)
    assert listed[0].id == two.id  # most recently updated first
    merged = await graph.groups.MergeGroups(
        pb.MergeGroupsRequest(user_id=user, target_group_id=two.id, source_group_id=one.id)
    )
    assert {m.id for m in merged.members} == {r1.record.id, r2.record.id}
    error = await rpc_error(
        graph.groups.GetGroup(pb.GetGroupRequest(user_id=user, group_id=one.id))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(graph.groups.MergeGroups(
        pb.MergeGroupsRequest(user_id=user, target_group_id=two.id, source_group_id=two.id)
    ))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    removed = await graph.groups.RemoveGroupMember(
        pb.GroupMemberRequest(user_id=user, group_id=two.id, record_id=r1.record.id)
    )
    assert removed.group.member_count == 1
    await graph.groups.DeleteGroup(pb.GetGroupRequest(user_id=user, group_id=two.id))
    assert await graph.groups_of(user) == []
    still = await graph.records.GetRecord(pb.GetRecordRequest(user_id=user, record_id=r2.record.id))
    assert still.record.id == r2.record.id


async def test_group_errors(graph):
    user = await graph.new_user()
    missing = "00000000-0000-4000-8000-000000000000"
    for call in (
        graph.groups.GetGroup(pb.GetGroupRequest(user_id=user, group_id=missing)),
        graph.groups.GetGroupGraph(pb.GetGroupRequest(user_id=user, group_id=missing)),
        graph.groups.DeleteGroup(pb.GetGroupRequest(user_id=user, group_id=missing)),
        graph.groups.SplitGroup(pb.GetGroupRequest(user_id=user, group_id=missing)),
        graph.groups.RenameGroup(pb.RenameGroupRequest(user_id=user, group_id=missing, name="x")),
        graph.groups.AddGroupMember(
            pb.GroupMemberRequest(user_id=user, group_id=missing, record_id=missing)
        ),
        graph.groups.MergeGroups(pb.MergeGroupsRequest(
            user_id=user, target_group_id=missing, source_group_id=user
        )),
        graph.groups.CreateGroup(
            pb.CreateGroupRequest(user_id=user, name="x", record_ids=[missing])
        ),
    ):
        assert (await rpc_error(call)).code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(graph.groups.CreateGroup(pb.CreateGroupRequest(user_id=user, name="")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_manual_links_feedback_stats_and_graphs(graph):
    user = await graph.new_user()
    a, b, c = await graph.ingest(
        user, record("LL-1", when="2020-01-01T10:00:00+00:00"),
        record("LL-2", when="2020-06-01T10:00:00+00:00"),
        mention("x/l#1", "LL-1", when="2020-01-01T12:00:00+00:00"),
    )
    made = (await graph.links.CreateLink(pb.CreateLinkRequest(
        user_id=user, source_record_id=b.record.id, target_record_id=a.record.id
    ))).link
    assert made.method == "manual" and made.confidence == 1.0
    assert made.source_record_id == a.record.id  # oriented earlier -> later
    assert made.signals[0].name == "manual"
    error = await rpc_error(graph.links.CreateLink(pb.CreateLinkRequest(
        user_id=user, source_record_id=a.record.id, target_record_id=b.record.id
    )))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    error = await rpc_error(graph.links.CreateLink(pb.CreateLinkRequest(
        user_id=user, source_record_id=a.record.id, target_record_id=a.record.id
    )))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    between = await graph.links.GetLinkBetween(
        pb.GetLinkBetweenRequest(user_id=user, record_a=b.record.id, record_b=a.record.id)
    )
    assert between.link.id == made.id
    rated = await graph.links.SetLinkFeedback(pb.SetLinkFeedbackRequest(
        user_id=user, link_id=made.id, feedback="positive", comment="right\x00"
    ))
    assert (rated.link.feedback, rated.link.feedback_comment) == ("positive", "right")
    stats = await graph.links.GetLinkStats(pb.GetLinkStatsRequest(user_id=user))
    assert stats.total == 2
    assert dict(stats.by_method) == {"manual": 1, "deterministic": 1}
    assert dict(stats.by_feedback) == {"positive": 1, "negative": 0, "none": 1}
    (group,) = await graph.groups_of(user)
    assert group.member_count == 3
    inside = await graph.groups.GetGroupGraph(pb.GetGroupRequest(user_id=user, group_id=group.id))
    assert len(inside.nodes) == 3 and len(inside.links) == 2
    everything = await graph.groups.GetUserGraph(pb.GetUserGraphRequest(user_id=user))
    assert len(everything.nodes) == 3 and len(everything.links) == 2
    assert all(node.body == "" for node in everything.nodes)
    first = await graph.groups.GetUserGraph(pb.GetUserGraphRequest(user_id=user, limit=2))
    rest = await graph.groups.GetUserGraph(pb.GetUserGraphRequest(user_id=user, limit=2,
                                                                  offset=2))
    assert [n.id for n in (*first.nodes, *rest.nodes)] == [n.id for n in everything.nodes]
    too_big = await rpc_error(graph.groups.GetUserGraph(
        pb.GetUserGraphRequest(user_id=user, limit=2_001)))
    assert too_big.code() == grpc.StatusCode.INVALID_ARGUMENT
    await graph.links.DeleteLink(pb.DeleteLinkRequest(user_id=user, link_id=made.id))
    error = await rpc_error(graph.links.GetLinkBetween(
        pb.GetLinkBetweenRequest(user_id=user, record_a=a.record.id, record_b=b.record.id)
    ))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    links = await graph.links_of(user, a.record.id)
    assert [link.target_record_id for link in links] == [c.record.id]


async def test_link_errors(graph):
    user = await graph.new_user()
    missing = "00000000-0000-4000-8000-000000000001"
    for call in (
        graph.links.GetLink(pb.GetLinkRequest(user_id=user, link_id=missing)),
        graph.links.DeleteLink(pb.DeleteLinkRequest(user_id=user, link_id=missing)),
        graph.links.SetLinkFeedback(
            pb.SetLinkFeedbackRequest(user_id=user, link_id=missing, feedback="negative")
        ),
        graph.links.CreateLink(pb.CreateLinkRequest(
            user_id=user, source_record_id=missing, target_record_id=user
        )),
    ):
        assert (await rpc_error(call)).code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(graph.links.SetLinkFeedback(
        pb.SetLinkFeedbackRequest(user_id=user, link_id=missing, feedback="meh")
    ))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_group_answers_show_a_capped_page_of_members_and_the_total(graph, monkeypatch):
    monkeypatch.setattr(group_rpc, "MAX_GROUP_MEMBERS_ANSWERED", 2)
    user = await graph.new_user()
    results = await graph.ingest(user, *(
        record(f"CAP-{n}", title=f"unrelated topic {n}", when=f"2020-0{n}-01T10:00:00+00:00")
        for n in range(1, 5)
    ))
    ids = [r.record.id for r in results]
    for group in await graph.groups_of(user):
        await graph.groups.DeleteGroup(pb.GetGroupRequest(user_id=user, group_id=group.id))
    made = await graph.groups.CreateGroup(
        pb.CreateGroupRequest(user_id=user, name="Large", record_ids=ids)
    )
    assert made.group.member_count == 4
    assert [m.id for m in made.members] == ids[:2]
    read = await graph.groups.GetGroup(pb.GetGroupRequest(user_id=user, group_id=made.group.id))
    assert [m.id for m in read.members] == ids[:2]
    inside = await graph.groups.GetGroupGraph(
        pb.GetGroupRequest(user_id=user, group_id=made.group.id))
    assert [n.id for n in inside.nodes] == ids[:2]
