"""AdminService: rebuild the Neo4j projection; dependency states for readiness."""

import asyncio

from kushim.graph.v1 import graph_pb2, graph_pb2_grpc

from kushim_graph.db import outbox
from kushim_graph.db.neo4j_store import NEO4J_DOWN
from kushim_graph.errors import Unavailable
from kushim_graph.projection.reproject import reproject
from kushim_graph.rpc.base import Deps, rpc, user_id_of
from kushim_graph.semantic.runner import SemanticPass

CHECK_TIMEOUT_S = 2.0


class AdminServicer(graph_pb2_grpc.AdminServiceServicer):
    def __init__(self, deps: Deps, store, semantic: SemanticPass) -> None:
        self.deps = deps
        self.store = store
        self.semantic = semantic

    @rpc
    async def Reproject(self, request, context):
        user_id = user_id_of(request) if request.user_id else None
        try:
            counts = await reproject(self.deps.pool, self.store, user_id)
        except NEO4J_DOWN as exc:
            raise Unavailable(f"Neo4j unavailable: {type(exc).__name__}") from exc
        return graph_pb2.ReprojectResponse(**counts)

    async def _postgres(self) -> tuple[str, int]:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                async with self.deps.pool.acquire() as conn:
                    return "up", await outbox.estimate(conn)
        except Exception:  # noqa: BLE001 - any failure means down
            return "down", 0

    async def _neo4j(self) -> str:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                return "up" if await self.store.ping() else "down"
        except TimeoutError:
            return "down"

    async def _lockcache(self) -> str:
        return "up" if await self.deps.lockcache.reachable() else "down"

    @rpc
    async def CheckDependencies(self, request, context):
        (postgres, pending), neo4j, lockcache = await asyncio.gather(
            self._postgres(), self._neo4j(), self._lockcache()
        )
        return graph_pb2.CheckDependenciesResponse(
            dependencies={
                "postgres": postgres, "neo4j": neo4j, "lockcache": lockcache,
                "semantic_model": self.semantic.state,
            },
            outbox_pending=pending,
        )
