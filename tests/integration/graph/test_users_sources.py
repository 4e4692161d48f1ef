"""Users, data sources and dependency checks."""

import base64
import json
import os
import uuid

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kushim.graph.v1 import graph_pb2 as pb
from kushim_graph.config import Config
from kushim_graph.server import GraphServer

from tests.integration.graph.support import Graph, free_port, graph_env, rpc_error

HASHED = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
SHARED = "webhook-signing-value"


async def test_user_lifecycle(graph):
    email = f"Mixed.{uuid.uuid4().hex}@Example.com"
    created = await graph.users.CreateUser(
        pb.CreateUserRequest(email=email, password_hash=HASHED, display_name=" Ann\x00 ")
    )
    user = created.user
    assert user.email == email and user.display_name == "Ann"
    error = await rpc_error(graph.users.CreateUser(
        pb.CreateUserRequest(email=email.upper(), password_hash=HASHED)
    ))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    creds = await graph.users.GetUserCredentials(
        pb.GetUserCredentialsRequest(email=email.lower())
    )
    assert creds.password_hash == HASHED and creds.user.id == user.id
    updated = await graph.users.UpdateUser(pb.UpdateUserRequest(
        user_id=user.id, settings_json=json.dumps({"theme": "dark"})
    ))
    assert updated.user.display_name == "Ann"
    assert json.loads(updated.user.settings_json) == {"theme": "dark"}
    renamed = await graph.users.UpdateUser(pb.UpdateUserRequest(user_id=user.id, display_name="B"))
    assert renamed.user.display_name == "B" and json.loads(renamed.user.settings_json)
    fetched = await graph.users.GetUser(pb.GetUserRequest(user_id=user.id))
    assert fetched.user.display_name == "B"


async def test_user_errors(graph):
    missing = str(uuid.uuid4())
    for call in (
        graph.users.GetUser(pb.GetUserRequest(user_id=missing)),
        graph.users.UpdateUser(pb.UpdateUserRequest(user_id=missing, display_name="x")),
        graph.users.GetUserCredentials(pb.GetUserCredentialsRequest(email="no@such.org")),
    ):
        assert (await rpc_error(call)).code() == grpc.StatusCode.NOT_FOUND
    for request in (
        pb.CreateUserRequest(email="not-an-email", password_hash=HASHED),
        pb.CreateUserRequest(email="a@b.co", password_hash=""),
    ):
        error = await rpc_error(graph.users.CreateUser(request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    user = await graph.new_user()
    error = await rpc_error(graph.users.UpdateUser(
        pb.UpdateUserRequest(user_id=user, settings_json="[1]")
    ))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "settings_json" in error.details()


async def test_data_source_lifecycle_never_returns_secret(graph):
    user = await graph.new_user()
    created = await graph.sources.CreateDataSource(pb.CreateDataSourceRequest(
        user_id=user, platform="GitHub", name="acme", webhook_secret=SHARED,
        config_json=json.dumps({"org": "acme"}),
    ))
    source = created.data_source
    assert source.platform == "github" and source.has_webhook_secret
    assert SHARED not in str(created)
    secret = await graph.sources.GetWebhookSecret(
        pb.GetWebhookSecretRequest(data_source_id=source.id)
    )
    assert (secret.user_id, secret.platform, secret.webhook_secret) == (user, "github", SHARED)
    updated = await graph.sources.UpdateDataSource(pb.UpdateDataSourceRequest(
        user_id=user, data_source_id=source.id, name="acme-2", webhook_secret=""
    ))
    assert updated.data_source.name == "acme-2" and not updated.data_source.has_webhook_secret
    assert json.loads(updated.data_source.config_json) == {"org": "acme"}
    listed = await graph.sources.ListDataSources(pb.ListDataSourcesRequest(user_id=user))
    assert listed.total == 1 and listed.data_sources[0].id == source.id
    await graph.sources.DeleteDataSource(
        pb.GetDataSourceRequest(user_id=user, data_source_id=source.id)
    )
    for call in (
        graph.sources.GetDataSource(
            pb.GetDataSourceRequest(user_id=user, data_source_id=source.id)
        ),
        graph.sources.DeleteDataSource(
            pb.GetDataSourceRequest(user_id=user, data_source_id=source.id)
        ),
        graph.sources.UpdateDataSource(
            pb.UpdateDataSourceRequest(user_id=user, data_source_id=source.id, name="x")
        ),
        graph.sources.GetWebhookSecret(pb.GetWebhookSecretRequest(data_source_id=source.id)),
    ):
        assert (await rpc_error(call)).code() == grpc.StatusCode.NOT_FOUND


async def test_data_source_validation(graph):
    user = await graph.new_user()
    for request, field in (
        (pb.CreateDataSourceRequest(user_id=user, platform="myspace", name="x"), "platform"),
        (pb.CreateDataSourceRequest(user_id=user, platform="jira", name=" "), "name"),
        (pb.CreateDataSourceRequest(user_id=user, platform="jira", name="j", config_json="{"),
         "config_json"),
    ):
        error = await rpc_error(graph.sources.CreateDataSource(request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and field in error.details()
    error = await rpc_error(graph.sources.CreateDataSource(
        pb.CreateDataSourceRequest(user_id=str(uuid.uuid4()), platform="jira", name="j")
    ))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_check_dependencies_all_up(graph):
    answer = await graph.admin.CheckDependencies(pb.CheckDependenciesRequest())
    assert dict(answer.dependencies) == {
        "postgres": "up", "neo4j": "up", "lockcache": "up", "semantic_model": "disabled",
    }
    assert answer.outbox_pending >= 0


async def test_check_dependencies_reports_lockcache_down(graph_factory):
    graph = await graph_factory(LOCKCACHE_ADDR=f"127.0.0.1:{free_port()}")
    answer = await graph.admin.CheckDependencies(pb.CheckDependenciesRequest())
    assert answer.dependencies["lockcache"] == "down"
    assert answer.dependencies["postgres"] == "up"


async def test_postgres_down_is_unavailable_and_not_serving(database_url, lockcache_addr):
    dead = f"postgresql://kushim:x@127.0.0.1:{free_port()}/kushim"
    server = GraphServer(Config.from_env(graph_env(dead, lockcache_addr, DATABASE_URL=dead)))
    port = await server.start()
    graph = Graph.connect(server, port)
    try:
        health = await health_pb2_grpc.HealthStub(graph.channel).Check(
            health_pb2.HealthCheckRequest()
        )
        assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING
        answer = await graph.admin.CheckDependencies(pb.CheckDependenciesRequest())
        assert answer.dependencies["postgres"] == "down"
        error = await rpc_error(graph.records.GetRecord(
            pb.GetRecordRequest(user_id=str(uuid.uuid4()), record_id=str(uuid.uuid4()))
        ))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert error.details() == "PostgreSQL unavailable"
    finally:
        await graph.channel.close()
        await server.stop(0)


async def test_webhook_secrets_are_stored_encrypted_and_read_back_in_plaintext(graph_factory, db):
    key = base64.b64encode(os.urandom(32)).decode()
    graph = await graph_factory(WEBHOOK_SECRET_KEY=key)
    user = await graph.new_user()
    created = await graph.sources.CreateDataSource(pb.CreateDataSourceRequest(
        user_id=user, platform="github", name="sealed", webhook_secret=SHARED,
    ))
    source_id = created.data_source.id
    stored = await db.fetchval(
        "select webhook_secret from data_sources where id = $1", uuid.UUID(source_id)
    )
    assert SHARED not in stored and stored.startswith("v1:")
    secret = await graph.sources.GetWebhookSecret(
        pb.GetWebhookSecretRequest(data_source_id=source_id)
    )
    assert secret.webhook_secret == SHARED
    await graph.sources.UpdateDataSource(pb.UpdateDataSourceRequest(
        user_id=user, data_source_id=source_id, webhook_secret="rotated-secret",  # noqa: S106
    ))
    stored = await db.fetchval(
        "select webhook_secret from data_sources where id = $1", uuid.UUID(source_id)
    )
    assert "rotated-secret" not in stored
    # A graph holding another key cannot open it: a clear refusal, not a wrong secret.
    other = await graph_factory(WEBHOOK_SECRET_KEY=base64.b64encode(os.urandom(32)).decode())
    error = await rpc_error(
        other.sources.GetWebhookSecret(pb.GetWebhookSecretRequest(data_source_id=source_id))
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
