"""DataSourceService: a user's connected platforms. Webhook secrets are write-only."""

from kushim.graph.v1 import graph_pb2, graph_pb2_grpc

from kushim_graph import messages
from kushim_graph.contexts import invalidate
from kushim_graph.db import datasources, users
from kushim_graph.errors import InvalidInput, NotFound
from kushim_graph.rpc.base import Deps, id_of, name_of, page, rpc, user_id_of
from kushim_graph.secretbox import SecretBox
from kushim_graph.validation import PLATFORMS, parse_json_object

MAX_SECRET = 1024


def _secret(value: str) -> str:
    if len(value) > MAX_SECRET or "\x00" in value:
        raise InvalidInput("webhook_secret", f"webhook_secret must be at most {MAX_SECRET} chars")
    return value


class DataSourceServicer(graph_pb2_grpc.DataSourceServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.box = SecretBox(deps.config.webhook_secret_key)

    @rpc
    async def ListDataSources(self, request, context):
        user_id = user_id_of(request)
        limit, offset = page(request.limit, request.offset)
        async with self.deps.pool.acquire() as conn:
            rows, total = await datasources.list_page(conn, user_id, limit, offset)
        return graph_pb2.ListDataSourcesResponse(
            data_sources=[messages.data_source(row) for row in rows], total=total
        )

    @rpc
    async def CreateDataSource(self, request, context):
        user_id = user_id_of(request)
        platform = request.platform.strip().lower()
        if platform not in PLATFORMS:
            allowed = ", ".join(sorted(PLATFORMS))
            raise InvalidInput("platform", f"platform must be one of {allowed}")
        name = name_of(request.name)
        config = parse_json_object("config_json", request.config_json)
        async with self.deps.pool.acquire() as conn:
            if not await users.exists(conn, user_id):
                raise NotFound(f"user {user_id} not found")
            row = await datasources.create(
                conn, user_id, platform, name, config,
                self.box.seal(_secret(request.webhook_secret), user_id),
            )
        return graph_pb2.DataSourceResponse(data_source=messages.data_source(row))

    @rpc
    async def GetDataSource(self, request, context):
        user_id = user_id_of(request)
        source_id = id_of("data_source_id", request.data_source_id)
        async with self.deps.pool.acquire() as conn:
            row = await datasources.get(conn, user_id, source_id)
        if row is None:
            raise NotFound(f"data source {source_id} not found")
        return graph_pb2.DataSourceResponse(data_source=messages.data_source(row))

    @rpc
    async def UpdateDataSource(self, request, context):
        user_id = user_id_of(request)
        source_id = id_of("data_source_id", request.data_source_id)
        name = name_of(request.name) if request.HasField("name") else None
        secret = (
            self.box.seal(_secret(request.webhook_secret), user_id)
            if request.HasField("webhook_secret")
            else None
        )
        config = (
            parse_json_object("config_json", request.config_json)
            if request.HasField("config_json")
            else None
        )
        async with self.deps.pool.acquire() as conn, conn.transaction():
            row = await datasources.update(conn, user_id, source_id, name, secret, config)
            if row is None:
                raise NotFound(f"data source {source_id} not found")
            owed = await invalidate.data_source_changed(conn, user_id, source_id)
        await self.deps.invalidator.send(owed)
        return graph_pb2.DataSourceResponse(data_source=messages.data_source(row))

    @rpc
    async def DeleteDataSource(self, request, context):
        user_id = user_id_of(request)
        source_id = id_of("data_source_id", request.data_source_id)
        async with self.deps.pool.acquire() as conn, conn.transaction():
            detached = await datasources.delete(conn, user_id, source_id)
            if detached is None:
                raise NotFound(f"data source {source_id} not found")
            owed = await invalidate.data_source_changed(conn, user_id, source_id, detached)
        await self.deps.invalidator.send(owed)
        return graph_pb2.DeleteDataSourceResponse()

    @rpc
    async def GetWebhookSecret(self, request, context):
        source_id = id_of("data_source_id", request.data_source_id)
        async with self.deps.pool.acquire() as conn:
            row = await datasources.get_secret(conn, source_id)
        if row is None:
            raise NotFound(f"data source {source_id} not found")
        return graph_pb2.GetWebhookSecretResponse(
            user_id=str(row["user_id"]), platform=row["platform"],
            webhook_secret=self.box.open(row["webhook_secret"], str(row["user_id"])),
        )
