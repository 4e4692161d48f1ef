"""GroupService: context groups, their members and graphs, merge and split."""

from kushim.graph.v1 import graph_pb2, graph_pb2_grpc

from kushim_graph import messages
from kushim_graph.db import groups, links, records
from kushim_graph.errors import InvalidInput, NotFound
from kushim_graph.rpc.base import Deps, id_of, name_of, page, rpc, user_id_of

MAX_INITIAL_MEMBERS = 500
# GetUserGraph answers at most this many nodes (without bodies) per page, and the links among
# them found in the user's first MAX_USER_GRAPH_LINKS links.
MAX_USER_GRAPH_NODES = 2_000
MAX_USER_GRAPH_LINKS = 50_000
MAX_USER_GRAPH_OFFSET = 1_000_000
# A group answer (and its graph) shows at most this many members, oldest first; member_count
# is always the total, and ListGroupMembers pages through all of them.
MAX_GROUP_MEMBERS_ANSWERED = 500


async def _group(conn, user_id: str, group_id):
    """The group's row; NOT_FOUND for a missing or another user's group."""
    row = await groups.get(conn, user_id, group_id)
    if row is None:
        raise NotFound(f"context group {group_id} not found")
    return row


def _by_time(rows):
    return sorted(rows, key=lambda r: (r["occurred_at"], str(r["id"])))


class GroupServicer(graph_pb2_grpc.GroupServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def _answer_of(self, user_id: str):
        """The answer of an edit: the first group it changed, read in its transaction."""

        async def read(conn, changed) -> graph_pb2.GroupResponse:
            return await self._answer(conn, user_id, changed[0])

        return read

    async def _answer(self, conn, user_id: str, group_id) -> graph_pb2.GroupResponse:
        row = await _group(conn, user_id, group_id)
        member_rows = await records.get_many(
            conn, user_id,
            await groups.first_members(conn, user_id, group_id, MAX_GROUP_MEMBERS_ANSWERED),
        )
        return graph_pb2.GroupResponse(
            group=messages.group(row), members=[messages.record(r) for r in _by_time(member_rows)]
        )

    @rpc
    async def ListGroups(self, request, context):
        user_id = user_id_of(request)
        limit, offset = page(request.limit, request.offset)
        async with self.deps.pool.acquire() as conn:
            rows, total = await groups.list_page(conn, user_id, limit, offset)
        return graph_pb2.ListGroupsResponse(
            groups=[messages.group(r) for r in rows], total=total
        )

    @rpc
    async def CreateGroup(self, request, context):
        user_id = user_id_of(request)
        name = name_of(request.name)
        if len(request.record_ids) > MAX_INITIAL_MEMBERS:
            raise InvalidInput("record_ids", f"at most {MAX_INITIAL_MEMBERS} records")
        record_ids = sorted({id_of("record_ids", r) for r in request.record_ids})
        return await self.deps.group_edits.create(
            user_id, name, record_ids, self._answer_of(user_id)
        )

    @rpc
    async def GetGroup(self, request, context):
        user_id = user_id_of(request)
        group_id = id_of("group_id", request.group_id)
        async with self.deps.pool.acquire() as conn:
            return await self._answer(conn, user_id, group_id)

    @rpc
    async def ListGroupMembers(self, request, context):
        limit, offset = page(request.limit, request.offset)
        user_id = user_id_of(request)
        group_id = id_of("group_id", request.group_id)
        async with self.deps.pool.acquire() as conn:
            total = (await _group(conn, user_id, group_id))["member_count"]
            member_ids = await groups.first_members(conn, user_id, group_id, limit, offset)
            rows = await records.get_many(conn, user_id, member_ids)
        return graph_pb2.ListRecordsResponse(
            records=[messages.record(r) for r in _by_time(rows)], total=total
        )

    @rpc
    async def GetGroupGraph(self, request, context):
        user_id = user_id_of(request)
        group_id = id_of("group_id", request.group_id)
        async with self.deps.pool.acquire() as conn:
            await _group(conn, user_id, group_id)
            member_ids = await groups.first_members(
                conn, user_id, group_id, MAX_GROUP_MEMBERS_ANSWERED
            )
            nodes = await records.get_many(conn, user_id, member_ids)
            edges = await links.among(conn, user_id, member_ids)
        return graph_pb2.GraphResponse(
            nodes=[messages.record(r) for r in _by_time(nodes)],
            links=[messages.link(r) for r in sorted(edges, key=lambda r: str(r["id"]))],
        )

    @rpc
    async def RenameGroup(self, request, context):
        user_id = user_id_of(request)
        group_id = id_of("group_id", request.group_id)
        name = name_of(request.name)
        return await self.deps.group_edits.rename(
            user_id, group_id, name, self._answer_of(user_id)
        )

    @rpc
    async def DeleteGroup(self, request, context):
        user_id = user_id_of(request)
        await self.deps.group_edits.delete(user_id, id_of("group_id", request.group_id))
        return graph_pb2.DeleteGroupResponse()

    @rpc
    async def AddGroupMember(self, request, context):
        user_id = user_id_of(request)
        group_id = id_of("group_id", request.group_id)
        record_id = id_of("record_id", request.record_id)
        return await self.deps.group_edits.add_member(
            user_id, group_id, record_id, self._answer_of(user_id)
        )

    @rpc
    async def RemoveGroupMember(self, request, context):
        user_id = user_id_of(request)
        group_id = id_of("group_id", request.group_id)
        record_id = id_of("record_id", request.record_id)
        return await self.deps.group_edits.remove_member(
            user_id, group_id, record_id, self._answer_of(user_id)
        )

    @rpc
    async def MergeGroups(self, request, context):
        user_id = user_id_of(request)
        target = id_of("target_group_id", request.target_group_id)
        source = id_of("source_group_id", request.source_group_id)
        if target == source:
            raise InvalidInput("source_group_id", "a group cannot merge into itself")
        return await self.deps.group_edits.merge(
            user_id, target, source, self._answer_of(user_id)
        )

    @rpc
    async def SplitGroup(self, request, context):
        user_id = user_id_of(request)
        group_id = id_of("group_id", request.group_id)

        async def read(conn, changed):
            return await groups.get_many(conn, user_id, changed)

        rows = await self.deps.group_edits.split(user_id, group_id, read)
        rows = sorted(rows, key=lambda r: (str(r["id"]) != group_id, -r["member_count"]))
        return graph_pb2.SplitGroupResponse(groups=[messages.group(r) for r in rows])

    @rpc
    async def GetUserGraph(self, request, context):
        user_id = user_id_of(request)
        if not 0 <= request.limit <= MAX_USER_GRAPH_NODES:
            raise InvalidInput("limit", f"limit must be between 0 and {MAX_USER_GRAPH_NODES}")
        if not 0 <= request.offset <= MAX_USER_GRAPH_OFFSET:
            raise InvalidInput("offset", f"offset must be between 0 and {MAX_USER_GRAPH_OFFSET}")
        limit = request.limit or MAX_USER_GRAPH_NODES
        async with self.deps.pool.acquire() as conn:
            nodes = await records.graph_page(conn, user_id, limit, request.offset)
            edges = await links.of_user(conn, user_id, MAX_USER_GRAPH_LINKS)
        present = {r["id"] for r in nodes}
        return graph_pb2.GraphResponse(
            nodes=[messages.record(r) for r in nodes],
            links=[
                messages.link(r) for r in edges
                if r["source_record_id"] in present and r["target_record_id"] in present
            ],
        )
