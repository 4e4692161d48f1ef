"""Tenant isolation: another user's objects are NOT_FOUND, exactly like missing ones."""

import grpc
from kushim.graph.v1 import graph_pb2 as pb

from tests.integration.graph.support import eventually, projection_matches, record, rpc_error


async def test_every_read_is_scoped_to_its_user(graph, db):
    owner = await graph.new_user()
    other = await graph.new_user()
    source = (await graph.sources.CreateDataSource(
        pb.CreateDataSourceRequest(user_id=owner, platform="jira", name="private")
    )).data_source
    ticket, pr = await graph.ingest(
        owner, record("SEC-1", title="secret plan", data_source_id=source.id),
        record("x/s#1", platform="github", kind="pull_request", body="SEC-1 secret"),
    )
    # The same identity for the other user is a separate record, never linked across users.
    (mirror,) = await graph.ingest(other, record("x/s#1", platform="github",
                                                 kind="pull_request", body="SEC-1 secret"))
    assert mirror.created and mirror.links == []
    await eventually(lambda: projection_matches(graph, db, owner))
    link = pr.links[0]
    (group,) = await graph.groups_of(owner)
    calls = [
        graph.records.GetRecord(pb.GetRecordRequest(user_id=other, record_id=ticket.record.id)),
        graph.records.DeleteRecord(
            pb.DeleteRecordRequest(user_id=other, record_id=ticket.record.id)
        ),
        graph.records.ListRecordLinks(
            pb.ListRecordLinksRequest(user_id=other, record_id=ticket.record.id)
        ),
        graph.records.GetRecordContext(
            pb.GetRecordContextRequest(user_id=other, record_id=ticket.record.id, depth=2)
        ),
        graph.links.GetLink(pb.GetLinkRequest(user_id=other, link_id=link.id)),
        graph.links.GetLinkBetween(pb.GetLinkBetweenRequest(
            user_id=other, record_a=ticket.record.id, record_b=pr.record.id
        )),
        graph.links.SetLinkFeedback(
            pb.SetLinkFeedbackRequest(user_id=other, link_id=link.id, feedback="negative")
        ),
        graph.links.DeleteLink(pb.DeleteLinkRequest(user_id=other, link_id=link.id)),
        graph.links.CreateLink(pb.CreateLinkRequest(
            user_id=other, source_record_id=ticket.record.id, target_record_id=mirror.record.id
        )),
        graph.groups.GetGroup(pb.GetGroupRequest(user_id=other, group_id=group.id)),
        graph.groups.GetGroupGraph(pb.GetGroupRequest(user_id=other, group_id=group.id)),
        graph.groups.RenameGroup(
            pb.RenameGroupRequest(user_id=other, group_id=group.id, name="mine")
        ),
        graph.groups.DeleteGroup(pb.GetGroupRequest(user_id=other, group_id=group.id)),
        graph.groups.SplitGroup(pb.GetGroupRequest(user_id=other, group_id=group.id)),
        graph.groups.AddGroupMember(pb.GroupMemberRequest(
            user_id=other, group_id=group.id, record_id=mirror.record.id
        )),
        graph.groups.CreateGroup(pb.CreateGroupRequest(
            user_id=other, name="steal", record_ids=[ticket.record.id]
        )),
        graph.sources.GetDataSource(
            pb.GetDataSourceRequest(user_id=other, data_source_id=source.id)
        ),
        graph.sources.DeleteDataSource(
            pb.GetDataSourceRequest(user_id=other, data_source_id=source.id)
        ),
    ]
    for call in calls:
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.NOT_FOUND, error.details()
    listed = await graph.records.ListRecords(pb.ListRecordsRequest(user_id=other, search="secret"))
    assert [r.id for r in listed.records] == [mirror.record.id]
    assert await graph.groups_of(other) == []
    everything = await graph.groups.GetUserGraph(pb.GetUserGraphRequest(user_id=other))
    assert [n.id for n in everything.nodes] == [mirror.record.id] and not everything.links
    stats = await graph.links.GetLinkStats(pb.GetLinkStatsRequest(user_id=other))
    assert stats.total == 0
    sources = await graph.sources.ListDataSources(pb.ListDataSourcesRequest(user_id=other))
    assert sources.total == 0
    (other_ticket,) = await graph.ingest(
        other, record("SEC-1", title="their own", when="2024-02-01T10:00:00+00:00")
    )
    mirror_links = await graph.links_of(other, mirror.record.id)
    assert [link.source_record_id for link in mirror_links] == [other_ticket.record.id]
    projected = await graph.server.store.user_ids(other)
    assert ticket.record.id not in projected["artifacts"]
