"""RecordService: ingestion with discovery (once per webhook delivery), reads, search, context."""

import logging
import time

from kushim.graph.v1 import graph_pb2, graph_pb2_grpc

from kushim_graph import messages
from kushim_graph.contexts import commit_reach as context_reach
from kushim_graph.db import links, records, users
from kushim_graph.errors import InvalidInput, NotFound
from kushim_graph.metrics import RECORDS_INGESTED
from kushim_graph.rpc.base import Deps, id_of, page, rpc, user_id_of
from kushim_graph.validation import PLATFORMS, clean_record, clean_text
from kushim_graph.writes import store as ingest
from kushim_graph.writes.discover import DONE

log = logging.getLogger(__name__)

MAX_BATCH = 500
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
        async with self.deps.pool.acquire() as conn:
            if not await users.exists(conn, user_id):
                raise NotFound(f"user {user_id} not found")
            if delivery is None:
                outcomes = await ingest.store_batch(conn, user_id, items)
            else:
                outcomes = await ingest.store_delivery(conn, user_id, delivery, items)
        if outcomes is None:
            return graph_pb2.IngestRecordsResponse(duplicate=True)
        results: list[graph_pb2.IngestResult] = []
        to_discover = []
        for index, stored in enumerate(outcomes):
            if isinstance(stored, InvalidInput):
                RECORDS_INGESTED.labels("invalid").inc()
                error = graph_pb2.IngestError(field=stored.field, message=stored.message)
                results.append(graph_pb2.IngestResult(index=index, error=error))
                continue
            result = graph_pb2.IngestResult(
                index=index,
                record=messages.record(stored.row),
                created=stored.created,
                changed=stored.changed,
                stale=stored.stale,
            )
            results.append(result)
            RECORDS_INGESTED.labels(_outcome_label(stored)).inc()
            if stored.changed:
                to_discover.append((result, stored.row["id"]))
        if not to_discover:
            return graph_pb2.IngestRecordsResponse(results=results)
        self.deps.projection.wake()
        # A record sent twice in one batch is discovered once, for its last version.
        latest = {record_id: result for result, record_id in to_discover}
        outcomes = await self.deps.discovery.run_batch(
            user_id, list(latest), until=_discovery_deadline(context)
        )
        touched_groups: set = set()
        linked: set = set()
        for record_id, outcome in outcomes.items():
            result = latest[record_id]
            touched_groups.update(outcome.groups)
            linked.update(
                end for row in outcome.links
                for end in (row["source_record_id"], row["target_record_id"])
            )
            result.links.extend(messages.link(row) for row in outcome.links)
            if outcome.state == DONE:
                result.record.discovery_state = "done"
        # What the deadline left out is answered pending, and discovered right after.
        left = [record_id for record_id in latest if record_id not in outcomes]
        if left:
            self.deps.sweeper.hand_over(user_id, left)
        sources = {r.record.data_source_id for r, _ in to_discover if r.record.data_source_id}
        # Every link discovery wrote or removed has one of these records as an endpoint; the far
        # endpoints of the new links go too, since their contexts now show the new link.
        async with self.deps.pool.acquire() as conn:
            await context_reach.invalidate(
                self.deps.lockcache, conn, user_id, [rid for _, rid in to_discover] + list(linked),
                touched_groups,
            )
        for source_id in sorted(sources):
            await self.deps.lockcache.invalidate_data_source(user_id, source_id)
        return graph_pb2.IngestRecordsResponse(results=results)

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
            source_id = await ingest.delete(conn, user_id, record_id)
        self.deps.projection.wake()
        # Rare: the whole user's contexts rather than the record, its neighbours and its group.
        await self.deps.lockcache.invalidate_context_groups(user_id)
        if source_id is not None:
            await self.deps.lockcache.invalidate_data_source(user_id, str(source_id))
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


def _delivery_of(request) -> ingest.Delivery | None:
    if not request.delivery_id and not request.data_source_id:
        return None
    source_id = id_of("data_source_id", request.data_source_id)
    delivery_id = request.delivery_id.strip()
    if not delivery_id or len(delivery_id) > MAX_DELIVERY_ID or "\x00" in delivery_id:
        raise InvalidInput(
            "delivery_id", f"delivery_id must be 1 to {MAX_DELIVERY_ID} characters"
        )
    return ingest.Delivery(source_id, delivery_id)


def _cleaned(item, delivery: ingest.Delivery | None):
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


def _outcome_label(stored: ingest.Stored) -> str:
    if stored.created:
        return "created"
    if stored.changed:
        return "changed"
    return "stale" if stored.stale else "unchanged"
