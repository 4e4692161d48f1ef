"""What the lockcache integration tests share."""

import uuid
from dataclasses import dataclass

import grpc
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_lockcache.server import LockcacheServer

# The suite imports these from here: one place names what a lockcache test may use.
from tests.integration.polling import eventually  # noqa: F401
from tests.integration.profile import free_port, required_env  # noqa: F401


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


@dataclass
class Client:
    server: LockcacheServer
    channel: grpc.aio.Channel
    locks: pb_grpc.LockServiceStub
    cache: pb_grpc.CacheServiceStub


def shared_env_on_redis_and_cluster(request) -> dict[str, str]:
    """A module runs its cache tests on both forms of REDIS_URL with
    `shared_env = pytest.fixture(params=["redis", "cluster"])(shared_env_on_redis_and_cluster)`:
    the shared cache Redis, and the session's Redis Cluster (redis+cluster://)."""
    env = {"REDIS_URL": required_env("REDIS_URL"), "REDLOCK_URLS": required_env("REDLOCK_URLS")}
    if request.param == "cluster":
        env["REDIS_URL"] = request.getfixturevalue("redis_cluster").url
    return env
