"""SIGTERM: stop accepting, finish the request in flight, exit 0."""

import asyncio
import signal
import socket
import uuid

import aiohttp
from kushim.graph.v1 import graph_pb2
from kushim_api.auth import Tokens

from tests.integration.api.support import TOKEN_SECRET, LogBuffer, start_gateway, wait_for
from tests.unit.api.fakes_lockcache import FakeBackends


def _refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


async def test_sigterm_drains_in_flight_requests_then_exits_0():
    backends = await FakeBackends().start()
    log = LogBuffer()
    process, port = await asyncio.to_thread(
        start_gateway, log, f"127.0.0.1:{backends.graph_port}",
        f"127.0.0.1:{backends.lockcache_port}", "api-drain", tls=False,
        SHUTDOWN_GRACE_SECONDS="20",
    )
    try:
        user_id = str(uuid.uuid4())
        backends.graph.users[user_id] = (graph_pb2.User(id=user_id), "")
        token = Tokens(TOKEN_SECRET, 600).issue(user_id)
        backends.graph.gate = asyncio.Event()
        async with aiohttp.ClientSession() as session:
            in_flight = asyncio.create_task(session.get(
                f"http://127.0.0.1:{port}/records",
                headers={"Authorization": f"Bearer {token}"}))
            await asyncio.wait_for(backends.graph.entered.wait(), 20)
            process._proc.send_signal(signal.SIGTERM)
            await asyncio.to_thread(wait_for, lambda: _refuses(port))
            assert process.running(), "the gateway must wait for the request in flight"
            backends.graph.gate.set()
            response = await asyncio.wait_for(in_flight, 20)
            assert response.status == 200
            assert (await response.json())["items"] == []
        code = await asyncio.to_thread(process._proc.wait, 30)
        assert code == 0
        assert any("Gateway stopped" in line for line in log.lines())
    finally:
        backends.graph.gate = None
        await asyncio.to_thread(process.stop)
        await backends.stop()
