"""Wires the graph service: pool, lockcache client, Neo4j, servicers, background tasks."""

import asyncio
import logging

import asyncpg
from kushim.graph.v1 import graph_pb2, graph_pb2_grpc
from kushim_common.grpcserve import GrpcServer, run_until_signalled
from kushim_common.stopping import cancel_all

from kushim_graph.config import Config
from kushim_graph.contexts.invalidate import Invalidator
from kushim_graph.contexts.reader import ContextReader
from kushim_graph.db.neo4j_store import Neo4jStore
from kushim_graph.db.pool import create_pool, schema_migrated
from kushim_graph.lockcache import LockCacheClient
from kushim_graph.projection.worker import OutboxWorker
from kushim_graph.rpc.admin import AdminServicer
from kushim_graph.rpc.base import Deps
from kushim_graph.rpc.datasources import DataSourceServicer
from kushim_graph.rpc.groups import GroupServicer
from kushim_graph.rpc.links import LinkServicer
from kushim_graph.rpc.records import RecordServicer
from kushim_graph.rpc.users import UserServicer
from kushim_graph.semantic.runner import SemanticPass
from kushim_graph.writes.coalesce import Coalescer
from kushim_graph.writes.discover import Discovery
from kushim_graph.writes.group_edits import GroupEdits
from kushim_graph.writes.ingest import Ingestion
from kushim_graph.writes.link_edits import LinkEdits
from kushim_graph.writes.sweeper import Sweeper

log = logging.getLogger(__name__)

# How long a stop waits for the background loops to end.
CLOSE_TASKS_S = 5.0

SERVICES = [
    graph_pb2.DESCRIPTOR.services_by_name[name].full_name
    for name in (
        "RecordService", "LinkService", "GroupService", "UserService", "DataSourceService",
        "AdminService",
    )
]


class GraphServer:
    """The running service. start() binds and serves; health turns SERVING once PostgreSQL
    answers (Neo4j and lockcache may be down)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.grpc = GrpcServer(SERVICES, security=config.grpc)
        self.pool: asyncpg.Pool | None = None
        self.lockcache = LockCacheClient(
            config.lockcache_addr, tls=config.grpc.tls,
            near_cache_entries=config.near_cache_max_entries,
            near_cache_bytes=config.near_cache_max_bytes,
        )
        self.store = Neo4jStore(config.neo4j_uri, config.neo4j_user, config.neo4j_password)
        self.tasks: list[asyncio.Task] = []
        self.coalescer: Coalescer | None = None
        self.port = 0

    async def start(self) -> int:
        config = self.config
        # min_size=0: the pool opens connections on demand, so serving starts before the
        # database answers and readiness reflects it.
        self.pool = await create_pool(config.database_url, max_size=config.db_pool_size)
        self.invalidator = Invalidator(self.pool, self.lockcache)
        self.worker = OutboxWorker(
            self.pool, self.store, batch=config.outbox_batch, on_applied=self.invalidator.send
        )
        self.discovery = Discovery(
            self.pool, self.lockcache,
            threshold=config.deterministic_threshold,
            max_candidates=config.max_linking_candidates,
            lock_ttl_ms=config.discovery_lock_ttl_ms,
            lock_attempts=config.discovery_lock_attempts,
            lock_retry_delay_ms=config.discovery_lock_retry_delay_ms,
            on_commit=self.worker.wake,
        )
        self.semantic = SemanticPass(
            self.pool, enabled=config.semantic_links, model_dir=config.embedding_model_dir,
            batch=config.semantic_batch, on_commit=self._semantic_committed,
        )
        context = ContextReader(
            self.pool, self.store, self.lockcache, ttl_s=config.context_group_cache_ttl
        )
        self.sweeper = Sweeper(
            self.pool, self.discovery, self.invalidator,
            interval_s=config.sweep_interval_s,
            stale_after_s=config.discovery_lock_ttl_ms / 1000,
        )
        self.coalescer = Coalescer(self.discovery)
        deps = Deps(
            config, self.pool, self.lockcache, self.worker, context, self.invalidator,
            Ingestion(self.pool, self.coalescer, self.sweeper, self.invalidator,
                      on_commit=self.worker.wake, max_records=config.max_records_per_user),
            GroupEdits(self.pool, self.invalidator, on_commit=self.worker.wake),
            LinkEdits(self.pool, self.invalidator, on_commit=self.worker.wake),
        )
        server = self.grpc.server
        graph_pb2_grpc.add_RecordServiceServicer_to_server(RecordServicer(deps), server)
        graph_pb2_grpc.add_LinkServiceServicer_to_server(LinkServicer(deps), server)
        graph_pb2_grpc.add_GroupServiceServicer_to_server(GroupServicer(deps), server)
        graph_pb2_grpc.add_UserServiceServicer_to_server(UserServicer(deps), server)
        graph_pb2_grpc.add_DataSourceServiceServicer_to_server(DataSourceServicer(deps), server)
        graph_pb2_grpc.add_AdminServiceServicer_to_server(
            AdminServicer(deps, self.store, self.semantic), server
        )
        self.port = self.grpc.bind(f"{config.bind_host}:{config.port}")
        await self.grpc.start()
        log.info("graph listening on %s:%d", config.bind_host, self.port)
        if config.webhook_secret_key is None:
            log.warning("WEBHOOK_SECRET_KEY not set: webhook secrets are stored unencrypted")
        self.tasks.append(asyncio.create_task(self._become_ready(), name="ready"))
        return self.port

    async def _become_ready(self) -> None:
        delay = 0.2
        while True:
            try:
                async with self.pool.acquire() as conn:
                    await schema_migrated(conn)
                break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("Waiting for PostgreSQL (migrated schema): %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        log.info("PostgreSQL connected")
        await self.grpc.mark_serving()
        self.tasks.append(asyncio.create_task(self.worker.run(), name="outbox"))
        self.tasks.append(asyncio.create_task(self.sweeper.run(), name="sweeper"))
        self.tasks.append(asyncio.create_task(self.semantic.run(), name="semantic"))
        self.tasks.append(asyncio.create_task(self.invalidator.run(), name="invalidations"))

    async def _semantic_committed(self, owed) -> None:
        self.worker.wake()
        await self.invalidator.send(owed)

    async def stop(self, grace_seconds: float = 0.0) -> None:
        await self.grpc.stop(grace_seconds)
        await self.close()

    async def close(self) -> None:
        running = await cancel_all(self.tasks, CLOSE_TASKS_S)
        if running:
            names = ", ".join(sorted(task.get_name() for task in running))
            log.warning("Background tasks still running %.0f s into the stop: %s",
                        CLOSE_TASKS_S, names)
        self.tasks.clear()
        if self.coalescer is not None:
            await self.coalescer.close()
        if self.pool is not None:
            await self.pool.close()
        await self.store.close()
        await self.lockcache.close()


async def serve(config: Config) -> None:
    server = GraphServer(config)
    await server.start()
    await run_until_signalled(
        server.grpc, grace_seconds=config.grace_seconds, on_stop=server.close
    )
