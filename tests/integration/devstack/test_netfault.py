"""The fault proxy on real loopback sockets, in front of an echo server."""

import asyncio
import contextlib
import os
import time

import pytest

from devstack.netfault import FaultProxy
from devstack.ports import free_ports, test_port_base

BASE = test_port_base(os.environ)
SPARE = range(BASE + 40, BASE + 100)
DEADLINE = 10


class Echo:
    """An echo server that counts the connections it accepted."""

    def __init__(self) -> None:
        self.accepted = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = port

    async def _handle(self, reader, writer) -> None:
        self.accepted += 1
        self._tasks.add(asyncio.current_task())
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            self._tasks.discard(asyncio.current_task())

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def eventually(check, within: float = DEADLINE) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


@pytest.fixture
async def echo():
    server = Echo()
    await server.start(free_ports(1, SPARE)[0])
    yield server
    await server.close()


@pytest.fixture
async def proxy(echo):
    async with FaultProxy(echo.port, listen_port=free_ports(1, SPARE)[0], seed=7) as proxy:
        yield proxy


@pytest.fixture
async def connect():
    """connect(port) -> (reader, writer), closed after the test."""
    opened = []

    async def open_(port: int):
        pair = await asyncio.open_connection("127.0.0.1", port)
        opened.append(pair[1])
        return pair

    yield open_
    for writer in opened:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def roundtrip(reader, writer, payload: bytes) -> bytes:
    writer.write(payload)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(payload)), DEADLINE)


async def test_bytes_pass_unchanged_and_in_order_under_jitter(proxy, connect):
    proxy.set(latency_ms=2, jitter_ms=20)
    reader, writer = await connect(proxy.port)
    chunks = [os.urandom(100 + i) for i in range(100)]

    async def send():
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()

    sent = asyncio.create_task(send())
    echoed = await asyncio.wait_for(reader.readexactly(sum(map(len, chunks))), DEADLINE)
    await sent
    assert echoed == b"".join(chunks)
    assert proxy.stats.bytes_upstream == proxy.stats.bytes_downstream == len(echoed)


@pytest.mark.parametrize("direction", ["upstream", "downstream", "both"])
async def test_latency_holds_each_chunk_at_least_that_long(proxy, connect, direction):
    reader, writer = await connect(proxy.port)
    await roundtrip(reader, writer, b"warm")
    proxy.set(latency_ms=150, direction=direction)
    start = time.monotonic()
    assert await roundtrip(reader, writer, b"ping") == b"ping"
    legs = 2 if direction == "both" else 1
    assert time.monotonic() - start >= legs * 0.150


async def test_reset_existing_sends_rst_to_the_client(proxy, connect):
    reader, writer = await connect(proxy.port)
    await roundtrip(reader, writer, b"x")
    assert proxy.reset_existing() == 1
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(1), DEADLINE)
    assert proxy.stats.resets == 1
    await eventually(lambda: proxy.open_connections == 0)


async def test_resets_without_rst_close_with_fin(proxy, connect):
    proxy.set(rst=False)
    reader, writer = await connect(proxy.port)
    await roundtrip(reader, writer, b"x")
    proxy.reset_existing()
    assert await asyncio.wait_for(reader.read(1), DEADLINE) == b""


async def test_reset_existing_with_a_probability_resets_some(proxy, connect):
    pairs = [await connect(proxy.port) for _ in range(20)]
    for reader, writer in pairs:
        await roundtrip(reader, writer, b"x")
    count = proxy.reset_existing(0.5)
    assert 0 < count < 20
    dead = 0
    for reader, writer in pairs:
        try:
            await roundtrip(reader, writer, b"y")
        except (ConnectionResetError, asyncio.IncompleteReadError):
            dead += 1
    assert dead == count


async def test_new_connections_are_reset_existing_ones_live(proxy, connect):
    old_reader, old_writer = await connect(proxy.port)
    await roundtrip(old_reader, old_writer, b"x")
    proxy.set(reset_new=1.0)
    reader, writer = await connect(proxy.port)
    with pytest.raises(ConnectionResetError):
        await roundtrip(reader, writer, b"x")
    assert await roundtrip(old_reader, old_writer, b"still") == b"still"
    proxy.clear()
    reader, writer = await connect(proxy.port)
    assert await roundtrip(reader, writer, b"ok") == b"ok"


async def test_a_chunk_can_reset_its_connection(proxy, connect):
    reader, writer = await connect(proxy.port)
    await roundtrip(reader, writer, b"x")
    proxy.set(reset_per_chunk=1.0)
    with pytest.raises(ConnectionResetError):
        await roundtrip(reader, writer, b"boom")
    assert proxy.stats.resets == 1
    assert proxy.stats.bytes_upstream == 1  # the chunk that reset was not forwarded


async def test_blackhole_accepts_and_stalls_until_lifted(proxy, connect, echo):
    reader, writer = await connect(proxy.port)
    await roundtrip(reader, writer, b"x")
    proxy.set(blackhole=True)
    writer.write(b"held")
    new_reader, new_writer = await connect(proxy.port)
    new_writer.write(b"new")
    # The old connection's bytes are read and held; the new one is not read yet.
    await eventually(lambda: proxy.stats.bytes_received == 2 + 4)
    await eventually(lambda: proxy.stats.accepted == 2)
    assert proxy.stats.bytes_upstream == 1
    assert echo.accepted == 1  # the new connection never reached upstream
    proxy.clear()
    assert await asyncio.wait_for(reader.readexactly(4), DEADLINE) == b"held"
    assert await asyncio.wait_for(new_reader.readexactly(3), DEADLINE) == b"new"
    assert echo.accepted == 2


async def test_down_refuses_and_resets_then_up_listens_on_the_same_port(proxy, connect):
    reader, writer = await connect(proxy.port)
    await roundtrip(reader, writer, b"x")
    port = proxy.port
    await proxy.down()
    assert proxy.is_down
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(1), DEADLINE)
    with pytest.raises(ConnectionRefusedError):
        await connect(port)
    await proxy.up()
    assert proxy.port == port
    reader, writer = await connect(port)
    assert await roundtrip(reader, writer, b"back") == b"back"


async def test_a_refusing_upstream_resets_the_client(connect):
    (dead_port, listen_port) = free_ports(2, SPARE)
    async with FaultProxy(dead_port, listen_port=listen_port) as proxy:
        reader, writer = await connect(proxy.port)
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(1), DEADLINE)
        assert proxy.stats.upstream_failures == 1


async def test_an_upstream_reset_reaches_the_client(proxy, connect, echo):
    reader, writer = await connect(proxy.port)
    await roundtrip(reader, writer, b"x")
    await echo.close()  # cancels its handler: the upstream side closes
    assert await asyncio.wait_for(reader.read(1), DEADLINE) == b""


async def test_close_ends_every_connection_even_stalled_ones(echo, connect):
    proxy = FaultProxy(echo.port, listen_port=free_ports(1, SPARE)[0])
    port = await proxy.start()
    live = await connect(port)
    await roundtrip(*live, b"x")
    proxy.set(blackhole=True)
    stalled = await connect(port)
    await eventually(lambda: proxy.open_connections == 2)
    await proxy.close()
    assert proxy.open_connections == 0
    for reader, _ in (live, stalled):
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(1), DEADLINE)
    with pytest.raises(ConnectionRefusedError):
        await connect(port)
