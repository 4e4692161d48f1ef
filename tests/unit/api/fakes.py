"""In-memory stand-ins for graph and lockcache, served over real gRPC in the test process."""

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from kushim.graph.v1 import graph_pb2, graph_pb2_grpc


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


@dataclass
class GraphStore:
    users: dict[str, tuple[graph_pb2.User, str]] = field(default_factory=dict)
    records: dict[str, tuple[str, graph_pb2.Record]] = field(default_factory=dict)
    links: dict[str, tuple[str, graph_pb2.Link]] = field(default_factory=dict)
    groups: dict[str, tuple[str, graph_pb2.ContextGroup, list[str]]] = field(default_factory=dict)
    sources: dict[str, tuple[str, graph_pb2.DataSource, str]] = field(default_factory=dict)
    claims: set[tuple[str, str]] = field(default_factory=set)
    calls: list[tuple[str, object, dict]] = field(default_factory=list)
    down: bool = False
    postgres: str = "up"
    semantic_model: str = "up"
    neo4j: str = "up"
    gate: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)


class _Base:
    def __init__(self, store):
        self.s = store

    async def _enter(self, name, request, context):
        self.s.calls.append((name, request, dict(context.invocation_metadata() or ())))
        if self.s.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "fake is down")
        if self.s.gate is not None:
            self.s.entered.set()
            await self.s.gate.wait()

    async def _missing(self, context, what="not found"):
        await context.abort(grpc.StatusCode.NOT_FOUND, what)


def _checksum(r: graph_pb2.RecordInput) -> str:
    return hashlib.sha256(r.SerializeToString(deterministic=True)).hexdigest()


class Records(_Base, graph_pb2_grpc.RecordServiceServicer):
    def _get(self, user_id, record_id):
        owner, rec = self.s.records.get(record_id, (None, None))
        return rec if owner == user_id else None

    async def IngestRecords(self, request, context):
        await self._enter("IngestRecords", request, context)
        delivery = (request.data_source_id, request.delivery_id)
        if request.delivery_id and delivery in self.s.claims:
            return graph_pb2.IngestRecordsResponse(duplicate=True)
        results = []
        for index, item in enumerate(request.records):
            item.data_source_id = item.data_source_id or request.data_source_id
            if item.data_source_id and self.s.sources.get(item.data_source_id, ("",))[0] != \
                    request.user_id:
                results.append(graph_pb2.IngestResult(index=index, error=graph_pb2.IngestError(
                    field="dataSourceId", message="no such data source")))
                continue
            existing = next((r for o, r in self.s.records.values() if o == request.user_id
                             and r.source_platform == item.source_platform
                             and r.external_id == item.external_id), None)
            checksum = _checksum(item)
            if existing is not None and existing.checksum == checksum:
                results.append(graph_pb2.IngestResult(index=index, record=existing,
                                                      created=False, changed=False))
                continue
            rec = graph_pb2.Record(
                id=existing.id if existing else str(uuid.uuid4()),
                external_id=item.external_id, source_platform=item.source_platform,
                artifact_type=item.artifact_type, title=item.title, body=item.body,
                url=item.url, author=item.author, timestamp=item.timestamp,
                participants=item.participants, metadata_json=item.metadata_json or "{}",
                data_source_id=item.data_source_id, checksum=checksum,
                created_at=existing.created_at if existing else _now(), updated_at=_now(),
                discovery_state="done",
            )
            self.s.records[rec.id] = (request.user_id, rec)
            made = []
            for owner, other in list(self.s.records.values()):
                if owner == request.user_id and other.id != rec.id and other.external_id and \
                        other.external_id in f"{rec.title} {rec.body}":
                    link = graph_pb2.Link(
                        id=str(uuid.uuid4()), source_record_id=other.id,
                        target_record_id=rec.id, confidence=0.9, link_type="strong_contextual",
                        method="deterministic", created_at=_now(),
                        signals=[graph_pb2.Signal(name="explicit_reference", weight=0.9,
                                                  detail=f"mentions {other.external_id}")])
                    self.s.links[link.id] = (request.user_id, link)
                    made.append(link)
            results.append(graph_pb2.IngestResult(index=index, record=rec,
                                                  created=existing is None, changed=True,
                                                  links=made))
        if request.delivery_id:
            self.s.claims.add(delivery)
        return graph_pb2.IngestRecordsResponse(results=results)

    async def GetRecord(self, request, context):
        await self._enter("GetRecord", request, context)
        rec = self._get(request.user_id, request.record_id)
        if rec is None:
            await self._missing(context, "record not found")
        return graph_pb2.GetRecordResponse(record=rec)

    async def ListRecords(self, request, context):
        await self._enter("ListRecords", request, context)
        found = [r for o, r in self.s.records.values() if o == request.user_id
                 and (not request.search or request.search.lower() in
                      f"{r.title} {r.body}".lower())
                 and (not request.source_platform or r.source_platform == request.source_platform)
                 and (not request.artifact_type or r.artifact_type == request.artifact_type)
                 and (not request.data_source_id or r.data_source_id == request.data_source_id)]
        window = found[request.offset:request.offset + (request.limit or 20)]
        return graph_pb2.ListRecordsResponse(records=window, total=len(found))

    async def DeleteRecord(self, request, context):
        await self._enter("DeleteRecord", request, context)
        if self._get(request.user_id, request.record_id) is None:
            await self._missing(context, "record not found")
        del self.s.records[request.record_id]
        for link_id, (_, link) in list(self.s.links.items()):
            if request.record_id in (link.source_record_id, link.target_record_id):
                del self.s.links[link_id]
        return graph_pb2.DeleteRecordResponse()

    async def ListRecordLinks(self, request, context):
        await self._enter("ListRecordLinks", request, context)
        if self._get(request.user_id, request.record_id) is None:
            await self._missing(context, "record not found")
        found = sorted((link for o, link in self.s.links.values() if o == request.user_id and
                        request.record_id in (link.source_record_id, link.target_record_id)),
                       key=lambda x: -x.confidence)
        return graph_pb2.ListRecordLinksResponse(
            links=found[request.offset:request.offset + request.limit], total=len(found))

    async def GetRecordContext(self, request, context):
        await self._enter("GetRecordContext", request, context)
        rec = self._get(request.user_id, request.record_id)
        if rec is None:
            await self._missing(context, "record not found")
        links = [x for o, x in self.s.links.values() if o == request.user_id and
                 rec.id in (x.source_record_id, x.target_record_id)]
        ids = {rec.id} | {x.source_record_id for x in links} | {x.target_record_id for x in links}
        nodes = [self.s.records[i][1] for i in ids]
        groups = [g for o, g, m in self.s.groups.values() if o == request.user_id and rec.id in m]
        return graph_pb2.GetRecordContextResponse(
            subgraph=graph_pb2.Subgraph(nodes=nodes, links=links, groups=groups))



class Links(_Base, graph_pb2_grpc.LinkServiceServicer):
    def _get(self, user_id, link_id):
        owner, link = self.s.links.get(link_id, (None, None))
        return link if owner == user_id else None

    async def CreateLink(self, request, context):
        await self._enter("CreateLink", request, context)
        for rid in (request.source_record_id, request.target_record_id):
            if self.s.records.get(rid, ("",))[0] != request.user_id:
                await self._missing(context, "record not found")
        pair = {request.source_record_id, request.target_record_id}
        if any(o == request.user_id and {x.source_record_id, x.target_record_id} == pair
               for o, x in self.s.links.values()):
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, "already linked")
        link = graph_pb2.Link(
            id=str(uuid.uuid4()), source_record_id=request.source_record_id,
            target_record_id=request.target_record_id, confidence=1.0,
            link_type="strong_contextual", method="manual", created_at=_now(),
            signals=[graph_pb2.Signal(name="manual", weight=1.0, detail="linked by hand")])
        self.s.links[link.id] = (request.user_id, link)
        return graph_pb2.CreateLinkResponse(link=link)

    async def GetLink(self, request, context):
        await self._enter("GetLink", request, context)
        link = self._get(request.user_id, request.link_id)
        if link is None:
            await self._missing(context, "link not found")
        return graph_pb2.GetLinkResponse(link=link)

    async def GetLinkBetween(self, request, context):
        await self._enter("GetLinkBetween", request, context)
        pair = {request.record_a, request.record_b}
        for owner, link in self.s.links.values():
            if owner == request.user_id and {link.source_record_id, link.target_record_id} == pair:
                return graph_pb2.GetLinkResponse(link=link)
        await self._missing(context, "no link between these records")

    async def SetLinkFeedback(self, request, context):
        await self._enter("SetLinkFeedback", request, context)
        link = self._get(request.user_id, request.link_id)
        if link is None:
            await self._missing(context, "link not found")
        link.feedback, link.feedback_comment = request.feedback, request.comment
        return graph_pb2.GetLinkResponse(link=link)

    async def DeleteLink(self, request, context):
        await self._enter("DeleteLink", request, context)
        if self._get(request.user_id, request.link_id) is None:
            await self._missing(context, "link not found")
        del self.s.links[request.link_id]
        return graph_pb2.DeleteLinkResponse()

    async def GetLinkStats(self, request, context):
        await self._enter("GetLinkStats", request, context)
        mine = [x for o, x in self.s.links.values() if o == request.user_id]
        answer = graph_pb2.GetLinkStatsResponse(total=len(mine))
        for link in mine:
            answer.by_method[link.method] += 1
            answer.by_feedback[link.feedback or "none"] += 1
            answer.by_type[link.link_type] += 1
        return answer
