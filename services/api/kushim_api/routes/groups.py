"""Context groups and the user's whole graph."""

from aiohttp import web
from kushim.graph.v1 import graph_pb2

from kushim_api import bodies, keys, serialize, validate
from kushim_api.auth import user_id
from kushim_api.errors import ValidationError

routes = web.RouteTableDef()
# GET /graph pages its nodes (oldest first, bodies omitted); links are those among the page.
GRAPH_PAGE_DEFAULT = 500
GRAPH_PAGE_MAX = 2_000


def _group_request(request: web.Request) -> graph_pb2.GetGroupRequest:
    return graph_pb2.GetGroupRequest(
        user_id=user_id(request), group_id=validate.path_uuid(request, "id")
    )


@routes.get("/context-groups")
async def list_groups(request: web.Request) -> web.Response:
    limit, offset = validate.pagination(request)
    answer = await request.app[keys.UPSTREAM].groups.ListGroups(graph_pb2.ListGroupsRequest(
        user_id=user_id(request), limit=limit, offset=offset
    ))
    items = [serialize.group(g) for g in answer.groups]
    return web.json_response(validate.page(items, answer.total, limit, offset))


@routes.post("/context-groups")
async def create_group(request: web.Request) -> web.Response:
    body = await bodies.read(request, bodies.GroupInput)
    answer = await request.app[keys.UPSTREAM].groups.CreateGroup(graph_pb2.CreateGroupRequest(
        user_id=user_id(request), name=body.name, record_ids=list(dict.fromkeys(body.recordIds)),
    ))
    return web.json_response(serialize.group_with_members(answer), status=201)


@routes.get("/context-groups/{id}")
async def get_group(request: web.Request) -> web.Response:
    answer = await request.app[keys.UPSTREAM].groups.GetGroup(_group_request(request))
    return web.json_response(serialize.group_with_members(answer))


@routes.get("/context-groups/{id}/members")
async def list_group_members(request: web.Request) -> web.Response:
    """Every member, a page at a time (group answers show the oldest 500)."""
    limit, offset = validate.pagination(request)
    answer = await request.app[keys.UPSTREAM].groups.ListGroupMembers(
        graph_pb2.ListGroupMembersRequest(
            user_id=user_id(request), group_id=validate.path_uuid(request, "id"),
            limit=limit, offset=offset,
        )
    )
    items = [serialize.record(r) for r in answer.records]
    return web.json_response(validate.page(items, answer.total, limit, offset))


@routes.get("/context-groups/{id}/graph")
async def group_graph(request: web.Request) -> web.Response:
    answer = await request.app[keys.UPSTREAM].groups.GetGroupGraph(_group_request(request))
    return web.json_response(serialize.graph(answer.nodes, answer.links))


@routes.patch("/context-groups/{id}")
async def rename_group(request: web.Request) -> web.Response:
    group_id = validate.path_uuid(request, "id")
    body = await bodies.read(request, bodies.GroupRename)
    answer = await request.app[keys.UPSTREAM].groups.RenameGroup(graph_pb2.RenameGroupRequest(
        user_id=user_id(request), group_id=group_id, name=body.name
    ))
    return web.json_response(serialize.group_with_members(answer))


@routes.delete("/context-groups/{id}")
async def delete_group(request: web.Request) -> web.Response:
    await request.app[keys.UPSTREAM].groups.DeleteGroup(_group_request(request))
    return web.Response(status=204)


@routes.post("/context-groups/{id}/records")
async def add_member(request: web.Request) -> web.Response:
    group_id = validate.path_uuid(request, "id")
    body = await bodies.read(request, bodies.GroupMember)
    answer = await request.app[keys.UPSTREAM].groups.AddGroupMember(graph_pb2.GroupMemberRequest(
        user_id=user_id(request), group_id=group_id, record_id=body.recordId,
    ))
    return web.json_response(serialize.group_with_members(answer))


@routes.delete("/context-groups/{id}/records/{recordId}")
async def remove_member(request: web.Request) -> web.Response:
    answer = await request.app[keys.UPSTREAM].groups.RemoveGroupMember(
        graph_pb2.GroupMemberRequest(
            user_id=user_id(request), group_id=validate.path_uuid(request, "id"),
            record_id=validate.path_uuid(request, "recordId"),
        )
    )
    return web.json_response(serialize.group_with_members(answer))


@routes.post("/context-groups/{id}/merge")
async def merge_groups(request: web.Request) -> web.Response:
    target = validate.path_uuid(request, "id")
    source = (await bodies.read(request, bodies.GroupMerge)).sourceGroupId
    if source == target:
        raise ValidationError("a group cannot be merged into itself", field="sourceGroupId")
    answer = await request.app[keys.UPSTREAM].groups.MergeGroups(graph_pb2.MergeGroupsRequest(
        user_id=user_id(request), target_group_id=target, source_group_id=source
    ))
    return web.json_response(serialize.group_with_members(answer))


@routes.post("/context-groups/{id}/split")
async def split_group(request: web.Request) -> web.Response:
    answer = await request.app[keys.UPSTREAM].groups.SplitGroup(_group_request(request))
    return web.json_response({"groups": [serialize.group(g) for g in answer.groups]})


@routes.get("/graph")
async def user_graph(request: web.Request) -> web.Response:
    limit = validate.query_int(request, "limit", GRAPH_PAGE_DEFAULT, minimum=1,
                               maximum=GRAPH_PAGE_MAX)
    offset = validate.query_int(request, "offset", 0, minimum=0, maximum=validate.MAX_OFFSET)
    answer = await request.app[keys.UPSTREAM].groups.GetUserGraph(
        graph_pb2.GetUserGraphRequest(user_id=user_id(request), limit=limit, offset=offset)
    )
    return web.json_response(
        {**serialize.graph(answer.nodes, answer.links), "limit": limit, "offset": offset}
    )
