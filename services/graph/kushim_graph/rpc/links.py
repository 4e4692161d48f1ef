"""LinkService: manual links, explanations, feedback and stats."""

from kushim.graph.v1 import graph_pb2, graph_pb2_grpc

from kushim_graph import messages
from kushim_graph.contexts import invalidate
from kushim_graph.db import groups, links, outbox, records, semantic_links
from kushim_graph.errors import AlreadyExists, InvalidInput, NotFound
from kushim_graph.rpc.base import Deps, id_of, rpc, user_id_of
from kushim_graph.validation import clean_text
from kushim_graph.writes import group_changes

FEEDBACK = ("positive", "negative")
MAX_COMMENT = 2000
MANUAL_SIGNALS = [{"name": "manual", "weight": 1.0, "detail": "linked by hand"}]


class LinkServicer(graph_pb2_grpc.LinkServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def _changed(self, owed: invalidate.Owed) -> None:
        """After the commit of a change Neo4j projects."""
        self.deps.projection.wake()
        await self.deps.invalidator.send(owed)

    async def _remove(self, conn, user_id: str, link_id) -> invalidate.Owed:
        """Deletes a link and refreshes the groups of its ends; answers what it invalidates."""
        await groups.lock_user(conn, user_id)
        row = await links.delete(conn, user_id, link_id)
        if row is None:
            raise NotFound(f"link {link_id} not found")
        grouped = await groups.groups_of(
            conn, user_id, [row["source_record_id"], row["target_record_id"]]
        )
        touched = set()
        for group_id in {group for group, _ in grouped.values()}:
            touched |= await group_changes.refresh(conn, user_id, group_id, split=False)
        await outbox.add(conn, user_id, "link", [link_id])
        await outbox.add(conn, user_id, "group", touched)
        ends = [row["source_record_id"], row["target_record_id"]]
        return await invalidate.links_changed(conn, user_id, ends, touched)

    @rpc
    async def CreateLink(self, request, context):
        user_id = user_id_of(request)
        a = id_of("source_record_id", request.source_record_id)
        b = id_of("target_record_id", request.target_record_id)
        if a == b:
            raise InvalidInput("target_record_id", "a record cannot link to itself")
        async with self.deps.pool.acquire() as conn, conn.transaction():
            rows = {str(r["id"]): r for r in await records.get_many(conn, user_id, [a, b])}
            for record_id in (a, b):
                if record_id not in rows:
                    raise NotFound(f"record {record_id} not found")
            first, second = sorted(
                (rows[a], rows[b]), key=lambda r: (r["occurred_at"], str(r["id"]))
            )
            await groups.lock_user(conn, user_id)
            # linking by hand lifts an earlier "unrelated" verdict on the pair
            await semantic_links.unsuppress(conn, user_id, a, b)
            link_id = await links.insert_manual(
                conn, user_id, first["id"], second["id"], MANUAL_SIGNALS
            )
            if link_id is None:
                raise AlreadyExists("these records are already linked")
            touched = await group_changes.apply_links(conn, user_id, [(first["id"], second["id"])])
            await outbox.add(conn, user_id, "link", [link_id])
            await outbox.add(conn, user_id, "group", touched)
            row = await links.get(conn, user_id, link_id)
            owed = await invalidate.links_changed(conn, user_id, [a, b], touched)
        await self._changed(owed)
        return graph_pb2.CreateLinkResponse(link=messages.link(row))

    @rpc
    async def GetLink(self, request, context):
        user_id = user_id_of(request)
        link_id = id_of("link_id", request.link_id)
        async with self.deps.pool.acquire() as conn:
            row = await links.get(conn, user_id, link_id)
        if row is None:
            raise NotFound(f"link {link_id} not found")
        return graph_pb2.GetLinkResponse(link=messages.link(row))

    @rpc
    async def GetLinkBetween(self, request, context):
        user_id = user_id_of(request)
        a = id_of("record_a", request.record_a)
        b = id_of("record_b", request.record_b)
        async with self.deps.pool.acquire() as conn:
            row = await links.between(conn, user_id, a, b)
        if row is None:
            raise NotFound(f"no link between {a} and {b}")
        return graph_pb2.GetLinkResponse(link=messages.link(row))

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
        async with self.deps.pool.acquire() as conn, conn.transaction():
            if not await links.set_feedback(conn, user_id, link_id, feedback, comment):
                raise NotFound(f"link {link_id} not found")
            row = await links.get(conn, user_id, link_id)
            if feedback == "negative":
                # Removed, and the pair is kept from every discovery from now on.
                await semantic_links.suppress(
                    conn, user_id, row["source_record_id"], row["target_record_id"]
                )
                owed = await self._remove(conn, user_id, link_id)
            else:
                # Contexts show a link's feedback; no projection: Neo4j does not hold it.
                owed = await invalidate.links_changed(
                    conn, user_id, [row["source_record_id"], row["target_record_id"]]
                )
        if feedback == "negative":
            await self._changed(owed)
        else:
            await self.deps.invalidator.send(owed)
        return graph_pb2.GetLinkResponse(link=messages.link(row))

    @rpc
    async def DeleteLink(self, request, context):
        user_id = user_id_of(request)
        link_id = id_of("link_id", request.link_id)
        async with self.deps.pool.acquire() as conn, conn.transaction():
            owed = await self._remove(conn, user_id, link_id)
        await self._changed(owed)
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
