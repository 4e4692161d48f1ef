"""LinkService: manual links, explanations, feedback and stats."""

from kushim.graph.v1 import graph_pb2, graph_pb2_grpc

from kushim_graph import messages
from kushim_graph.db import links
from kushim_graph.errors import InvalidInput, NotFound
from kushim_graph.rpc.base import Deps, id_of, rpc, user_id_of
from kushim_graph.validation import clean_text

FEEDBACK = ("positive", "negative")
MAX_COMMENT = 2000


class LinkServicer(graph_pb2_grpc.LinkServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @rpc
    async def CreateLink(self, request, context):
        user_id = user_id_of(request)
        a = id_of("source_record_id", request.source_record_id)
        b = id_of("target_record_id", request.target_record_id)
        if a == b:
            raise InvalidInput("target_record_id", "a record cannot link to itself")
        row = await self.deps.link_edits.create(user_id, a, b)
        return graph_pb2.CreateLinkResponse(link=messages.link(row))

    @rpc
    async def GetLink(self, request, context):
        user_id = user_id_of(request)
        link_id = id_of("link_id", request.link_id)
        async with self.deps.pool.acquire() as conn:
            row = await links.get(conn, user_id, link_id)
        return _answer(row, f"link {link_id} not found")

    @rpc
    async def GetLinkBetween(self, request, context):
        user_id = user_id_of(request)
        a = id_of("record_a", request.record_a)
        b = id_of("record_b", request.record_b)
        async with self.deps.pool.acquire() as conn:
            row = await links.between(conn, user_id, a, b)
        return _answer(row, f"no link between {a} and {b}")

    @rpc
    async def SetLinkFeedback(self, request, context):
        user_id = user_id_of(request)
        link_id = id_of("link_id", request.link_id)
        feedback = request.feedback.strip().lower()
        if feedback not in FEEDBACK:
            raise InvalidInput("feedback", "feedback must be positive or negative")
        comment = clean_text(request.comment).strip()
        if len(comment) > MAX_COMMENT:
            raise InvalidInput("comment", f"comment is longer than {MAX_COMMENT} characters")
        row = await self.deps.link_edits.feedback(user_id, link_id, feedback, comment)
        return graph_pb2.GetLinkResponse(link=messages.link(row))

    @rpc
    async def DeleteLink(self, request, context):
        user_id = user_id_of(request)
        await self.deps.link_edits.delete(user_id, id_of("link_id", request.link_id))
        return graph_pb2.DeleteLinkResponse()

    @rpc
    async def GetLinkStats(self, request, context):
        user_id = user_id_of(request)
        async with self.deps.pool.acquire() as conn:
            rows = await links.stats(conn, user_id)
        answer = graph_pb2.GetLinkStatsResponse()
        for method in ("deterministic", "manual"):
            answer.by_method[method] = 0
        for feedback in ("positive", "negative", "none"):
            answer.by_feedback[feedback] = 0
        for kind in ("strong_contextual", "weak_contextual"):
            answer.by_type[kind] = 0
        for row in rows:
            answer.total += row["n"]
            answer.by_method[row["method"]] += row["n"]
            answer.by_feedback[row["feedback"]] += row["n"]
            answer.by_type[row["link_type"]] += row["n"]
        return answer


def _answer(row, missing: str) -> graph_pb2.GetLinkResponse:
    if row is None:
        raise NotFound(missing)
    return graph_pb2.GetLinkResponse(link=messages.link(row))
