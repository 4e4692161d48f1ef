"""Mutual TLS between the services: callers without a certificate from the services' CA are
refused, reflection is off unless turned on, and probes have a plaintext health-only port."""

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from kushim.graph.v1 import graph_pb2 as gpb
from kushim.graph.v1 import graph_pb2_grpc as gpb_grpc
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_common.grpctls import GrpcTls
from kushim_graph.config import Config as GraphConfig
from kushim_graph.lockcache import ACQUIRED
from kushim_graph.server import GraphServer
from kushim_lockcache.config import Config as LockcacheConfig
from kushim_lockcache.server import LockcacheServer

from devstack.tls import ServiceCerts, ensure_certs
from tests.integration.graph.support import graph_env
from tests.integration.polling import eventually
from tests.integration.profile import free_port, required_env

DEADLINE = 5


@pytest.fixture(scope="session")
def certs() -> ServiceCerts:
    return ServiceCerts(Path(required_env("KUSHIM_TEST_GRPC_TLS_DIR")))


@pytest.fixture(scope="session")
def foreign_certs(tmp_path_factory) -> ServiceCerts:
    """Certificates from another CA: valid TLS, but not one of ours."""
    return ensure_certs(tmp_path_factory.mktemp("foreign-ca"))


def tls_of(certs: ServiceCerts, service: str) -> GrpcTls:
    env = certs.env(service)
    return GrpcTls(env["GRPC_TLS_CA_CERT"], env["GRPC_TLS_CERT"], env["GRPC_TLS_KEY"])


async def start_lockcache(certs: ServiceCerts, **env: str) -> LockcacheServer:
    config = LockcacheConfig.from_env({
        "BIND_HOST": "127.0.0.1", "LOCKCACHE_PORT": str(free_port()), "METRICS_PORT": "0",
        "REDLOCK_URLS": required_env("REDLOCK_URLS"), **certs.env("lockcache"), **env,
    })  # fmt: skip
    server = LockcacheServer(config)
    await server.start()
    return server


@pytest.fixture
async def lockcache(certs):
    server = await start_lockcache(certs)
    yield f"127.0.0.1:{server.port}"
    await server.stop(0)


def callers(certs: ServiceCerts, foreign: ServiceCerts, addr: str) -> dict[str, grpc.aio.Channel]:
    ca = certs.ca.read_bytes()
    return {
        "plaintext": grpc.aio.insecure_channel(addr),
        "no client certificate": grpc.aio.secure_channel(
            addr, grpc.ssl_channel_credentials(root_certificates=ca)
        ),
        "another CA's certificate": grpc.aio.secure_channel(
            addr,
            grpc.ssl_channel_credentials(
                root_certificates=ca,
                private_key=foreign.key("api").read_bytes(),
                certificate_chain=foreign.cert("api").read_bytes(),
            ),
        ),
    }


async def health_of(channel: grpc.aio.Channel):
    return await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(), timeout=DEADLINE
    )


async def test_lockcache_refuses_callers_without_a_client_certificate_of_its_ca(
    certs, foreign_certs, lockcache
):
    for name, channel in callers(certs, foreign_certs, lockcache).items():
        async with channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await pb_grpc.LockServiceStub(channel).Acquire(
                    pb.AcquireLockRequest(resources=["r:mtls"], ttl_ms=1000), timeout=DEADLINE
                )
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, name


async def test_lockcache_serves_a_caller_with_a_certificate_of_its_ca(certs, lockcache):
    async with grpc.aio.secure_channel(
        lockcache, tls_of(certs, "api").channel_credentials()
    ) as channel:
        answer = await pb_grpc.LockServiceStub(channel).Acquire(
            pb.AcquireLockRequest(resources=["r:mtls-ok"], ttl_ms=1000), timeout=DEADLINE
        )
    assert answer.outcome == pb.ACQUIRED


async def test_graph_refuses_callers_without_a_certificate_and_calls_lockcache_over_tls(
    certs, foreign_certs, lockcache
):
    env = graph_env(required_env("DATABASE_URL"), lockcache, **certs.env("graph"))
    server = GraphServer(GraphConfig.from_env(env))
    port = await server.start()
    addr = f"127.0.0.1:{port}"
    try:
        for name, channel in callers(certs, foreign_certs, addr).items():
            async with channel:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await gpb_grpc.UserServiceStub(channel).GetUserCredentials(
                        gpb.GetUserCredentialsRequest(email="a@example.com"), timeout=DEADLINE
                    )
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, name
        async with grpc.aio.secure_channel(
            addr, tls_of(certs, "api").channel_credentials()
        ) as channel:

            async def serving() -> bool:
                answer = await health_of(channel)
                return answer.status == health_pb2.HealthCheckResponse.SERVING

            await eventually(serving, within=20)
        lock = await server.lockcache.acquire("relationship_discovery:mtls", 1000)
        assert lock.outcome == ACQUIRED
        await server.lockcache.release("relationship_discovery:mtls", lock.token)
    finally:
        await server.stop(0)


async def list_services(channel: grpc.aio.Channel) -> list[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=DEADLINE
    )
    async for answer in call:
        return [s.name for s in answer.list_services_response.service]
    return []


@pytest.mark.parametrize(("setting", "on"), [({}, False), ({"GRPC_REFLECTION": "true"}, True)])
async def test_reflection_is_off_unless_turned_on(certs, setting, on):
    server = await start_lockcache(certs, **setting)
    try:
        async with grpc.aio.secure_channel(
            f"127.0.0.1:{server.port}", tls_of(certs, "api").channel_credentials()
        ) as channel:
            if on:
                assert "kushim.lockcache.v1.LockService" in await list_services(channel)
            else:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await list_services(channel)
                assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(0)


async def test_the_health_port_answers_probes_in_plaintext_and_nothing_else(certs):
    health_port = free_port()
    server = await start_lockcache(certs, GRPC_HEALTH_PORT=str(health_port))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{health_port}") as channel:
            answer = await health_of(channel)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await pb_grpc.LockServiceStub(channel).Acquire(
                    pb.AcquireLockRequest(resources=["r:mtls"], ttl_ms=1000), timeout=DEADLINE
                )
            assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(0)
