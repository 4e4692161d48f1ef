"""Helpers shared by the lockcache integration tests."""

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import pytest
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_lockcache.server import LockcacheServer

from devstack.ports import test_port_base

PORT_BASE = test_port_base(os.environ)
OWN_PORTS = range(PORT_BASE + 40, PORT_BASE + 100)
_next_port = [0]


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(
            f"{name} is not set: run the suite with `python -m devstack test` "
            "(or export the variables printed by `python -m devstack env --profile test`)"
        )
    return value


def free_port() -> int:
    """The next port of this suite's own range that nothing listens on."""
    for _ in range(len(OWN_PORTS)):
        port = OWN_PORTS[_next_port[0] % len(OWN_PORTS)]
        _next_port[0] += 1
        with socket.socket() as s:
            # Servers bind with SO_REUSEADDR too: TIME_WAIT leftovers don't count.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {OWN_PORTS}")


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


@dataclass
class Client:
    server: LockcacheServer
    channel: grpc.aio.Channel
    locks: pb_grpc.LockServiceStub
    cache: pb_grpc.CacheServiceStub


async def eventually(check: Callable, *, within: float = 10.0, interval: float = 0.05):
    """Polls `check` (sync or async) until it returns a truthy value or time runs out."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(interval)
