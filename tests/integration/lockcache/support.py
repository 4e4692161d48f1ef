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
