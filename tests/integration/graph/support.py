"""Helpers for the graph integration tests: clients, record builders, polling."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from kushim.graph.v1 import graph_pb2 as pb
from kushim.graph.v1 import graph_pb2_grpc as pb_grpc

# The suite imports these from here: one place names what a graph test may use.
from tests.integration.polling import eventually  # noqa: F401
from tests.integration.profile import free_port, required_env  # noqa: F401

HASHED = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"


def ts(value: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(value).astimezone(UTC))
    return stamp


def record(external_id: str, *, platform: str = "jira", kind: str = "task", title: str = "",
           body: str = "", when: str = "2024-03-01T10:00:00+00:00", author: str = "",
           participants=(), metadata=None, url: str = "", data_source_id: str = ""):
    return pb.RecordInput(
        external_id=external_id, source_platform=platform, artifact_type=kind, title=title,
        body=body, url=url, author=author, timestamp=ts(when), participants=list(participants),
        metadata_json=json.dumps(metadata) if metadata is not None else "",
        data_source_id=data_source_id,
    )


def graph_env(database_url: str, lockcache_addr: str, **overrides: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "NEO4J_URI": required_env("NEO4J_URI"),
        "NEO4J_USER": required_env("NEO4J_USER"),
        "NEO4J_PASSWORD": required_env("NEO4J_PASSWORD"),
        "LOCKCACHE_ADDR": lockcache_addr,
        "BIND_HOST": "127.0.0.1",
        "GRAPH_PORT": "0",
        "METRICS_PORT": "0",
        "DB_POOL_SIZE": "8",
        # the semantic pass embeds every record; its own tests turn it on
        "SEMANTIC_LINKS": "off",
        **overrides,
    }


@dataclass
class Graph:
    """gRPC stubs of one graph server, plus the server object for white-box checks."""

    server: object
    channel: grpc.aio.Channel
    records: pb_grpc.RecordServiceStub
    links: pb_grpc.LinkServiceStub
    groups: pb_grpc.GroupServiceStub
    users: pb_grpc.UserServiceStub
    sources: pb_grpc.DataSourceServiceStub
    admin: pb_grpc.AdminServiceStub

    @classmethod
    def connect(cls, server, port: int) -> "Graph":
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        return cls(
            server, channel,
            pb_grpc.RecordServiceStub(channel), pb_grpc.LinkServiceStub(channel),
            pb_grpc.GroupServiceStub(channel), pb_grpc.UserServiceStub(channel),
            pb_grpc.DataSourceServiceStub(channel), pb_grpc.AdminServiceStub(channel),
        )

    async def new_user(self) -> str:
        answer = await self.users.CreateUser(
            pb.CreateUserRequest(email=f"u{uuid.uuid4().hex}@example.com", password_hash=HASHED)
        )
        return answer.user.id

    async def ingest(self, user_id: str, *records):
        answer = await self.records.IngestRecords(
            pb.IngestRecordsRequest(user_id=user_id, records=list(records)), timeout=60
        )
        return list(answer.results)

    async def links_of(self, user_id: str, record_id: str):
        answer = await self.records.ListRecordLinks(
            pb.ListRecordLinksRequest(user_id=user_id, record_id=record_id, limit=100)
        )
        return list(answer.links)

    async def groups_of(self, user_id: str):
        answer = await self.groups.ListGroups(pb.ListGroupsRequest(user_id=user_id, limit=100))
        return list(answer.groups)

    async def outbox_drained(self) -> bool:
        answer = await self.admin.CheckDependencies(pb.CheckDependenciesRequest())
        return answer.outbox_pending == 0


async def rpc_error(call) -> grpc.aio.AioRpcError:
    """The error an awaited call raised (fails the test if it succeeded)."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def postgres_ids(db, user_id: str) -> dict:
    """The ids the Neo4j projection of one user must hold, read from PostgreSQL."""
    user = uuid.UUID(user_id)
    records = await db.fetch("select id from records where user_id = $1", user)
    links = await db.fetch("select id from links where user_id = $1", user)
    groups = await db.fetch("select id from context_groups where user_id = $1", user)
    members = await db.fetch(
        "select record_id, group_id from group_members where user_id = $1", user
    )
    return {
        "artifacts": {str(r["id"]) for r in records},
        "links": {str(r["id"]) for r in links},
        "groups": {str(r["id"]) for r in groups},
        "memberships": {(str(r["record_id"]), str(r["group_id"])) for r in members},
    }


async def projection_matches(graph, db, user_id: str) -> bool:
    return await graph.server.store.user_ids(user_id) == await postgres_ids(db, user_id)
