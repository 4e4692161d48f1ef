"""Records: ingest (one or a batch), search, read, delete, links and context."""

from aiohttp import web
from kushim.graph.v1 import graph_pb2
from kushim_common.record_limits import ARTIFACT_TYPES, PLATFORMS

from kushim_api import keys, record_input, serialize, validate
from kushim_api.auth import user_id
from kushim_api.errors import ValidationError
from kushim_api.ratelimit import Limit

routes = web.RouteTableDef()


async def ingest(request: web.Request, uid: str, inputs: list[graph_pb2.RecordInput], *,
                 data_source_id: str = "", delivery_id: str = ""
                 ) -> list[graph_pb2.IngestResult] | None:
    """Sends records to graph (which invalidates the platform data they change). With a
    webhook delivery's id: None when that delivery was stored before."""
    answer = await request.app[keys.UPSTREAM].records.IngestRecords(
        graph_pb2.IngestRecordsRequest(
            user_id=uid, records=inputs, data_source_id=data_source_id, delivery_id=delivery_id
        )
    )
    if answer.duplicate:
        return None
    if any(r.record.data_source_id and (r.created or r.changed) for r in answer.results):
        request.app[keys.CACHES].forget_platform_data(uid)
    return list(answer.results)


@routes.post("/records")
async def create_records(request: web.Request) -> web.Response:
    uid = user_id(request)
    config = request.app[keys.CONFIG]
    await request.app[keys.RATE_LIMITER].check(Limit(
        "ingest_user", f"ingest:user:{uid}", config.ingest_rate_limit_per_user,
        config.ingest_rate_limit_window_seconds,
    ))
    is_batch, items = record_input.parse_batch(await validate.json_body(request))
    valid = [(i, item) for i, item in enumerate(items) if not isinstance(item, ValidationError)]
    results: dict[int, dict] = {}
    if valid:
        answers = await ingest(request, uid, [item for _, item in valid])
        for result in answers:
            position = valid[result.index][0] if 0 <= result.index < len(valid) else -1
            result.index = position
            results[position] = serialize.ingest_result(result)
    if not is_batch:
        only = results.get(0)
        if only is None or only["status"] == "rejected":
            error = (only or {}).get("error") or {}
            raise ValidationError(error.get("message", "record rejected"), field=error.get("field"))
        del only["index"], only["status"]
        return web.json_response(only, status=201 if only["created"] else 200)
    for i, item in enumerate(items):
        if isinstance(item, ValidationError):
            results[i] = {"index": i, "status": "rejected", "error": {
                "field": item.details.get("field"), "message": item.message,
            }}
    ordered = [results[i] for i in sorted(results)]
    summary = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "pendingDiscovery": 0}
    for result in ordered:
        summary[result["status"]] += 1
        # Stored, its discovery still due: done right after this answer (see the contract).
        summary["pendingDiscovery"] += (result.get("record") or {}).get(
            "discoveryState") == "pending"
    return web.json_response({"results": ordered, "summary": summary})


@routes.get("/records")
async def list_records(request: web.Request) -> web.Response:
    limit, offset = validate.pagination(request)
    search = validate.query_text(request, "search", max_len=500).strip()
    # A text search re-runs for every page: deep pages cost the database more and more.
    deepest = request.app[keys.CONFIG].search_offset_max
    if search and offset > deepest:
        raise ValidationError(f"offset must be at most {deepest} with search; narrow the search",
                              field="offset", maxOffset=deepest)
    answer = await request.app[keys.UPSTREAM].records.ListRecords(graph_pb2.ListRecordsRequest(
        user_id=user_id(request),
        search=search,
        source_platform=validate.query_enum(request, "source", PLATFORMS),
        artifact_type=validate.query_enum(request, "type", ARTIFACT_TYPES),
        limit=limit, offset=offset,
    ))
    items = [serialize.record(r) for r in answer.records]
    return web.json_response(validate.page(items, answer.total, limit, offset))


@routes.get("/records/{id}")
async def get_record(request: web.Request) -> web.Response:
    answer = await request.app[keys.UPSTREAM].records.GetRecord(graph_pb2.GetRecordRequest(
        user_id=user_id(request), record_id=validate.path_uuid(request, "id")
    ))
    return web.json_response(serialize.record(answer.record))


@routes.delete("/records/{id}")
async def delete_record(request: web.Request) -> web.Response:
    uid = user_id(request)
    await request.app[keys.UPSTREAM].records.DeleteRecord(graph_pb2.DeleteRecordRequest(
        user_id=uid, record_id=validate.path_uuid(request, "id")
    ))
    request.app[keys.CACHES].forget_platform_data(uid)
    return web.Response(status=204)


@routes.get("/records/{id}/links")
async def record_links(request: web.Request) -> web.Response:
    record_id = validate.path_uuid(request, "id")
    limit, offset = validate.pagination(request)
    answer = await request.app[keys.UPSTREAM].records.ListRecordLinks(
        graph_pb2.ListRecordLinksRequest(
            user_id=user_id(request), record_id=record_id, limit=limit, offset=offset
        )
    )
    items = [serialize.link(x) for x in answer.links]
    return web.json_response(validate.page(items, answer.total, limit, offset))


@routes.get("/records/{id}/context")
async def record_context(request: web.Request) -> web.Response:
    record_id = validate.path_uuid(request, "id")
    depth = validate.query_int(request, "depth", 2, minimum=1, maximum=3)
    answer = await request.app[keys.UPSTREAM].records.GetRecordContext(
        graph_pb2.GetRecordContextRequest(
            user_id=user_id(request), record_id=record_id, depth=depth
        )
    )
    return web.json_response(serialize.context(answer, depth))
