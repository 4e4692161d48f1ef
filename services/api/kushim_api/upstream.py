"""gRPC clients for graph and lockcache: bounded deadlines, request ids, error counting."""

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kushim.graph.v1 import graph_pb2_grpc
from kushim.lockcache.v1 import lockcache_pb2_grpc
from kushim_common import grpcchannel
from kushim_common.grpcserve import REQUEST_ID_HEADER
from kushim_common.grpctls import GrpcTls
from kushim_common.logs import request_id_var

from kushim_api.metrics import Metrics


class Client:
    """One gRPC service: every method call gets the deadline and the request id."""

    def __init__(self, stub: Any, upstream: str, service: str, timeout: float,
                 metrics: Metrics) -> None:
        self._stub = stub
        self._upstream = upstream
        self._service = service
        self._timeout = timeout
        self._metrics = metrics

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self._stub, name)

        async def call(request: Any) -> Any:
            metadata = ((REQUEST_ID_HEADER, request_id_var.get() or "-"),)
            try:
                return await method(request, timeout=self._timeout, metadata=metadata)
            except grpc.aio.AioRpcError as exc:
                self._metrics.upstream_errors.labels(
                    self._upstream, f"{self._service}/{name}", exc.code().name
                ).inc()
                raise

        return call


class Upstream:
    """Channels and clients for both backing services."""

    def __init__(self, graph: grpc.aio.Channel, lockcache: grpc.aio.Channel,
                 timeout: float, metrics: Metrics) -> None:
        self.graph_channel = graph
        self.lockcache_channel = lockcache

        def client(stub: Any, upstream: str, service: str) -> Client:
            return Client(stub, upstream, service, timeout, metrics)

        self.records = client(graph_pb2_grpc.RecordServiceStub(graph), "graph", "RecordService")
        self.links = client(graph_pb2_grpc.LinkServiceStub(graph), "graph", "LinkService")
        self.groups = client(graph_pb2_grpc.GroupServiceStub(graph), "graph", "GroupService")
        self.users = client(graph_pb2_grpc.UserServiceStub(graph), "graph", "UserService")
        self.data_sources = client(
            graph_pb2_grpc.DataSourceServiceStub(graph), "graph", "DataSourceService"
        )
        self.admin = client(graph_pb2_grpc.AdminServiceStub(graph), "graph", "AdminService")
        self.graph_health = client(health_pb2_grpc.HealthStub(graph), "graph", "Health")
        self.cache = client(
            lockcache_pb2_grpc.CacheServiceStub(lockcache), "lockcache", "CacheService"
        )
        self.lockcache_health = client(health_pb2_grpc.HealthStub(lockcache), "lockcache", "Health")

    @classmethod
    def connect(cls, graph_addr: str, lockcache_addr: str, timeout: float,
                metrics: Metrics, *, tls: GrpcTls | None = None) -> "Upstream":
        return cls(
            grpcchannel.connect(graph_addr, tls),
            grpcchannel.connect(lockcache_addr, tls),
            timeout,
            metrics,
        )

    async def close(self) -> None:
        await self.graph_channel.close()
        await self.lockcache_channel.close()


HEALTH_CHECK = health_pb2.HealthCheckRequest(service="")
SERVING = health_pb2.HealthCheckResponse.SERVING
