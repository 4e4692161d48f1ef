"""RecordService: ingestion with discovery (once per webhook delivery), reads, search, context."""

import logging
import time

from kushim.graph.v1 import graph_pb2, graph_pb2_grpc
from kushim_common.record_limits import MAX_BATCH

from kushim_graph import messages
from kushim_graph.db import links, records
from kushim_graph.errors import InvalidInput, NotFound
from kushim_graph.metrics import RECORDS_INGESTED
from kushim_graph.rpc.base import Deps, id_of, page, rpc, user_id_of
from kushim_graph.validation import PLATFORMS, clean_record, clean_text
from kushim_graph.writes import store
from kushim_graph.writes.discover import DONE

log = logging.getLogger(__name__)

# Of the caller's deadline, kept for the answer after the last group of discoveries: a
# request never outlives its deadline with its work committed.
ANSWER_RESERVE_S = 0.5
MAX_SEARCH = 1000
MAX_DELIVERY_ID = 256


class RecordServicer(graph_pb2_grpc.RecordServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @rpc
    async def IngestRecords(self, request, context):
        user_id = user_id_of(request)
        if len(request.records) > MAX_BATCH:
            raise InvalidInput(
                "records", f"{len(request.records)} records; at most {MAX_BATCH} per request"
            )
        delivery = _delivery_of(request)
        items = [_cleaned(item, delivery) for item in request.records]
        answer = await self.deps.ingestion.ingest(
            user_id, items, delivery, _discovery_deadline(context)
        )
        if answer is None:
            return graph_pb2.IngestRecordsResponse(duplicate=True)
        return graph_pb2.IngestRecordsResponse(
            results=[_result(index, stored, answer.discovered)
                     for index, stored in enumerate(answer.stored)]
        )

    @rpc
    async def GetRecord(self, request, context):
        user_id = user_id_of(request)
        record_id = id_of("record_id", request.record_id)
        async with self.deps.pool.acquire() as conn:
            row = await records.get(conn, user_id, record_id)
        if row is None:
            raise NotFound(f"record {record_id} not found")
        return graph_pb2.GetRecordResponse(record=messages.record(row))

    @rpc
    async def ListRecords(self, request, context):
        user_id = user_id_of(request)
        limit, offset = page(request.limit, request.offset)
        search = " ".join(clean_text(request.search).split())
        if len(search) > MAX_SEARCH:
            raise InvalidInput("search", f"search is longer than {MAX_SEARCH} characters")
        platform = request.source_platform.strip().lower()
        if platform and platform not in PLATFORMS:
            raise InvalidInput("source_platform", f"unknown source_platform {platform!r}")
        source = (
            id_of("data_source_id", request.data_source_id) if request.data_source_id else None
        )
        async with self.deps.pool.acquire() as conn:
            rows, total = await records.list_page(
                conn, user_id, search, platform, request.artifact_type.strip().lower(),
                source, limit, offset,
            )
        return graph_pb2.ListRecordsResponse(
            records=[messages.record(row) for row in rows], total=total
        )

    @rpc
    async def DeleteRecord(self, request, context):
        user_id = user_id_of(request)
        record_id = id_of("record_id", request.record_id)
        async with self.deps.pool.acquire() as conn:
            owed = await store.delete(conn, user_id, record_id)
        self.deps.projection.wake()
        await self.deps.invalidator.send(owed)
        return graph_pb2.DeleteRecordResponse()

    @rpc
    async def ListRecordLinks(self, request, context):
        user_id = user_id_of(request)
        record_id = id_of("record_id", request.record_id)
        limit, offset = page(request.limit, request.offset)
        async with self.deps.pool.acquire() as conn:
            if await records.get(conn, user_id, record_id) is None:
                raise NotFound(f"record {record_id} not found")
            rows, total = await links.for_record(conn, user_id, record_id, limit, offset)
        return graph_pb2.ListRecordLinksResponse(
            links=[messages.link(row) for row in rows], total=total
        )

    @rpc
    async def GetRecordContext(self, request, context):
        user_id = user_id_of(request)
        record_id = id_of("record_id", request.record_id)
        depth = request.depth or 2
        if not 1 <= depth <= 3:
            raise InvalidInput("depth", "depth must be between 1 and 3")
        subgraph, cached = await self.deps.context.get(user_id, record_id, depth)
        return graph_pb2.GetRecordContextResponse(subgraph=subgraph, cached=cached)


def _discovery_deadline(context) -> float | None:
    """The time.monotonic() instant discovery must be done by, or None without a deadline."""
    remaining = context.time_remaining()
    if remaining is None:
        return None
    return time.monotonic() + remaining - ANSWER_RESERVE_S


def _delivery_of(request) -> store.Delivery | None:
    if not request.delivery_id and not request.data_source_id:
        return None
    source_id = id_of("data_source_id", request.data_source_id)
    delivery_id = request.delivery_id.strip()
    if not delivery_id or len(delivery_id) > MAX_DELIVERY_ID or "\x00" in delivery_id:
        raise InvalidInput(
            "delivery_id", f"delivery_id must be 1 to {MAX_DELIVERY_ID} characters"
        )
    return store.Delivery(source_id, delivery_id)


def _cleaned(item, delivery: store.Delivery | None):
    """The validated record, or why not; a delivery's records are its data source's."""
    if delivery is not None and not item.data_source_id.strip():
        item.data_source_id = delivery.data_source_id
    try:
        clean = clean_record(item)
    except InvalidInput as exc:
        return exc
    if delivery is not None and clean.data_source_id != delivery.data_source_id:
        return InvalidInput("data_source_id", "a delivery's records belong to its data source")
    return clean


def _result(index: int, stored: store.Outcome, discovered: dict) -> graph_pb2.IngestResult:
    if isinstance(stored, InvalidInput):
        RECORDS_INGESTED.labels("invalid").inc()
        error = graph_pb2.IngestError(field=stored.field, message=stored.message)
        return graph_pb2.IngestResult(index=index, error=error)
    RECORDS_INGESTED.labels(_outcome_label(stored)).inc()
    result = graph_pb2.IngestResult(
        index=index, record=messages.record(stored.row), created=stored.created,
        changed=stored.changed, stale=stored.stale,
    )
    outcome = discovered.get(stored.row["id"]) if stored.changed else None
    if outcome is not None:
        result.links.extend(messages.link(row) for row in outcome.links)
        if outcome.state == DONE:
            result.record.discovery_state = "done"
    return result


def _outcome_label(stored: store.Stored) -> str:
    if stored.created:
        return "created"
    if stored.changed:
        return "changed"
    return "stale" if stored.stale else "unchanged"
