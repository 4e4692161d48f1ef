"""A user's connected platforms and their records (cached per data source)."""

from aiohttp import web
from kushim.graph.v1 import graph_pb2

from kushim_api import keys, record_input, serialize, validate
from kushim_api.auth import user_id
from kushim_api.errors import ValidationError

routes = web.RouteTableDef()

FIELDS = ("platform", "name", "webhookSecret", "config")
SECRET_MIN, SECRET_MAX = 16, 256
# The cached entry holds the newest records up to one full page; deeper pages go to graph.
CACHED_RECORDS = validate.MAX_LIMIT


def _secret(body: dict) -> str:
    secret = validate.string(body, "webhookSecret", max_len=SECRET_MAX, required=False,
                             nullable=True)
    if secret and len(secret) < SECRET_MIN:
        raise ValidationError(
            f"webhookSecret must be at least {SECRET_MIN} characters", field="webhookSecret"
        )
    return secret


def _name(body: dict, required: bool) -> str:
    name = validate.string(body, "name", max_len=200, min_len=1, required=required)
    if required and not name.strip():
        raise ValidationError("name must not be blank", field="name")
    return name.strip()


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
    body = await validate.json_object(request, FIELDS)
    answer = await request.app[keys.UPSTREAM].data_sources.CreateDataSource(
        graph_pb2.CreateDataSourceRequest(
            user_id=user_id(request),
            platform=validate.enum(body, "platform", record_input.PLATFORMS),
            name=_name(body, required=True),
            webhook_secret=_secret(body),
            config_json=validate.json_object_text(body, "config") or "{}",
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
    body = await validate.json_object(request, ("name", "webhookSecret", "config"))
    if not body:
        raise ValidationError("give name, webhookSecret and/or config")
    update = graph_pb2.UpdateDataSourceRequest(
        user_id=target.user_id, data_source_id=target.data_source_id
    )
    if "name" in body:
        update.name = _name(body, required=True)
    if "webhookSecret" in body:
        update.webhook_secret = _secret(body)
    if "config" in body:
        update.config_json = validate.json_object_text(body, "config") or "{}"
    answer = await request.app[keys.UPSTREAM].data_sources.UpdateDataSource(update)
    return web.json_response(serialize.data_source(answer.data_source))


@routes.delete("/data-sources/{id}")
async def delete_data_source(request: web.Request) -> web.Response:
    target = _ds_request(request)
    await request.app[keys.UPSTREAM].data_sources.DeleteDataSource(target)
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
