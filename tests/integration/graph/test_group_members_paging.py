"""ListGroupMembers pages through every member of a group, past the 500 a group answer shows."""

import uuid

import grpc
from kushim.graph.v1 import graph_pb2 as pb

from tests.integration.graph.support import record, rpc_error


async def test_every_member_of_a_large_group_is_reachable_page_by_page(graph, db):
    user, other = await graph.new_user(), await graph.new_user()
    for start in (0, 300):
        await graph.ingest(user, *(
            record(f"PG-{n}", when=f"2024-03-01T{n // 60 % 24:02d}:{n % 60:02d}:00+00:00")
            for n in range(start, start + 300)
        ))  # fmt: skip
    group = (await graph.groups.CreateGroup(
        pb.CreateGroupRequest(user_id=user, name="Large")
    )).group  # fmt: skip
    uid = uuid.UUID(user)
    await db.execute("delete from group_members where user_id = $1", uid)  # discovery's groups
    await db.execute(
        """insert into group_members (user_id, group_id, record_id)
           select user_id, $2, id from records where user_id = $1""",
        uid, uuid.UUID(group.id),
    )
    answered = await graph.groups.GetGroup(pb.GetGroupRequest(user_id=user, group_id=group.id))
    assert answered.group.member_count == 600 and len(answered.members) == 500

    seen = []
    for offset in range(0, 700, 100):
        page = await graph.groups.ListGroupMembers(pb.ListGroupMembersRequest(
            user_id=user, group_id=group.id, limit=100, offset=offset
        ))  # fmt: skip
        assert page.total == 600
        seen += [r.external_id for r in page.records]
    assert seen == [f"PG-{n}" for n in range(600)]  # oldest first, each once
    assert seen[:500] == [r.external_id for r in answered.members]

    capped = await graph.groups.ListGroupMembers(
        pb.ListGroupMembersRequest(user_id=user, group_id=group.id, limit=1000)
    )
    assert len(capped.records) == 100  # at most 100 per page
    for request in (
        pb.ListGroupMembersRequest(user_id=other, group_id=group.id),
        pb.ListGroupMembersRequest(user_id=user, group_id=str(uuid.uuid4())),
    ):
        error = await rpc_error(graph.groups.ListGroupMembers(request))
        assert error.code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(graph.groups.ListGroupMembers(
        pb.ListGroupMembersRequest(user_id=user, group_id=group.id, offset=-1)
    ))  # fmt: skip
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
