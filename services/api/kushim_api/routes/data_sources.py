"""A user's connected platforms and their records (cached per data source)."""

from aiohttp import web
from kushim.graph.v1 import graph_pb2

from kushim_api import bodies, keys, serialize, validate
from kushim_api.auth import user_id
from kushim_api.errors import ValidationError

routes = web.RouteTableDef()

# The cached entry holds the newest records up to one full page; deeper pages go to graph.
CACHED_RECORDS = validate.MAX_LIMIT


def _ds_request(request: web.Request) -> graph_pb2.GetDataSourceRequest:
    return graph_pb2.GetDataSourceRequest(
        user_id=user_id(request), data_source_id=validate.path_uuid(request, "id")
    )


@routes.get("/data-sources")
async def list_data_sources(request: web.Request) -> web.Response:
    limit, offset = validate.pagination(request)
    answer = await request.app[keys.UPSTREAM].data_sources.ListDataSources(
        graph_pb2.ListDataSourcesRequest(user_id=user_id(request), limit=limit, offset=offset)
    )
    items = [serialize.data_source(d) for d in answer.data_sources]
    return web.json_response(validate.page(items, answer.total, limit, offset))


@routes.post("/data-sources")
async def create_data_source(request: web.Request) -> web.Response:
    body = await bodies.read(request, bodies.DataSourceInput)
    answer = await request.app[keys.UPSTREAM].data_sources.CreateDataSource(
        graph_pb2.CreateDataSourceRequest(
            user_id=user_id(request), platform=body.platform, name=body.name,
            webhook_secret=body.webhookSecret, config_json=body.config or "{}",
        )
    )
    return web.json_response(serialize.data_source(answer.data_source), status=201)


@routes.get("/data-sources/{id}")
async def get_data_source(request: web.Request) -> web.Response:
    answer = await request.app[keys.UPSTREAM].data_sources.GetDataSource(_ds_request(request))
    return web.json_response(serialize.data_source(answer.data_source))


@routes.patch("/data-sources/{id}")
async def update_data_source(request: web.Request) -> web.Response:
    target = _ds_request(request)
    body = await bodies.read(request, bodies.DataSourcePatch)
    sent = body.model_fields_set
    if not sent:
        raise ValidationError("give name, webhookSecret and/or config")
    update = graph_pb2.UpdateDataSourceRequest(
        user_id=target.user_id, data_source_id=target.data_source_id
    )
    if "name" in sent:
        update.name = body.name
    if "webhookSecret" in sent:
        update.webhook_secret = body.webhookSecret
    if "config" in sent:
        update.config_json = body.config or "{}"
    answer = await request.app[keys.UPSTREAM].data_sources.UpdateDataSource(update)
    request.app[keys.CACHES].forget_platform_data(target.user_id)
    return web.json_response(serialize.data_source(answer.data_source))


@routes.delete("/data-sources/{id}")
async def delete_data_source(request: web.Request) -> web.Response:
    target = _ds_request(request)
    await request.app[keys.UPSTREAM].data_sources.DeleteDataSource(target)
    request.app[keys.CACHES].forget_platform_data(target.user_id)
    return web.Response(status=204)


@routes.get("/data-sources/{id}/records")
async def data_source_records(request: web.Request) -> web.Response:
    target = _ds_request(request)
    limit, offset = validate.pagination(request)
    upstream = request.app[keys.UPSTREAM]
    source = (await upstream.data_sources.GetDataSource(target)).data_source

    async def fetch(fetch_limit: int, fetch_offset: int) -> dict:
        answer = await upstream.records.ListRecords(graph_pb2.ListRecordsRequest(
            user_id=target.user_id, data_source_id=target.data_source_id,
            limit=fetch_limit, offset=fetch_offset,
        ))
        return {"items": [serialize.record(r) for r in answer.records], "total": answer.total}

    if offset + limit > CACHED_RECORDS:
        head = await fetch(limit, offset)
        return web.json_response(validate.page(head["items"], head["total"], limit, offset))
    caches = request.app[keys.CACHES]
    head = await caches.read_through(
        caches.platform_key(source.platform, target.user_id, target.data_source_id),
        "platform", lambda: fetch(CACHED_RECORDS, 0),
    )
    items = head["items"][offset:offset + limit]
    return web.json_response(validate.page(items, head["total"], limit, offset))
