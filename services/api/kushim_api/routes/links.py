"""Links: manual creation, explanation, lookup between two records, feedback, stats."""

from aiohttp import web
from kushim.graph.v1 import graph_pb2

from kushim_api import bodies, keys, serialize, validate
from kushim_api.auth import user_id
from kushim_api.errors import ValidationError

routes = web.RouteTableDef()

@routes.post("/links")
async def create_link(request: web.Request) -> web.Response:
    body = await bodies.read(request, bodies.LinkInput)
    source, target = body.sourceRecordId, body.targetRecordId
    if source == target:
        raise ValidationError("a record cannot be linked to itself", field="targetRecordId")
    answer = await request.app[keys.UPSTREAM].links.CreateLink(graph_pb2.CreateLinkRequest(
        user_id=user_id(request), source_record_id=source, target_record_id=target
    ))
    return web.json_response(serialize.link(answer.link), status=201)


@routes.get("/links/stats")
async def link_stats(request: web.Request) -> web.Response:
    answer = await request.app[keys.UPSTREAM].links.GetLinkStats(
        graph_pb2.GetLinkStatsRequest(user_id=user_id(request))
    )
    return web.json_response(serialize.link_stats(answer))


@routes.get("/links/between/{a}/{b}")
async def link_between(request: web.Request) -> web.Response:
    answer = await request.app[keys.UPSTREAM].links.GetLinkBetween(
        graph_pb2.GetLinkBetweenRequest(
            user_id=user_id(request),
            record_a=validate.path_uuid(request, "a"),
            record_b=validate.path_uuid(request, "b"),
        )
    )
    return web.json_response(serialize.link(answer.link))


@routes.get("/links/{id}/explanation")
async def explanation(request: web.Request) -> web.Response:
    answer = await request.app[keys.UPSTREAM].links.GetLink(graph_pb2.GetLinkRequest(
        user_id=user_id(request), link_id=validate.path_uuid(request, "id")
    ))
    return web.json_response(serialize.explanation(answer.link))


@routes.post("/links/{id}/feedback")
async def feedback(request: web.Request) -> web.Response:
    link_id = validate.path_uuid(request, "id")
    body = await bodies.read(request, bodies.LinkFeedback)
    answer = await request.app[keys.UPSTREAM].links.SetLinkFeedback(
        graph_pb2.SetLinkFeedbackRequest(
            user_id=user_id(request), link_id=link_id, feedback=body.feedback,
            comment=body.comment,
        )
    )
    return web.json_response(serialize.link(answer.link))


@routes.delete("/links/{id}")
async def delete_link(request: web.Request) -> web.Response:
    await request.app[keys.UPSTREAM].links.DeleteLink(graph_pb2.DeleteLinkRequest(
        user_id=user_id(request), link_id=validate.path_uuid(request, "id")
    ))
    return web.Response(status=204)
