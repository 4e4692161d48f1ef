"""A TCP fault proxy on loopback: listen port -> upstream host:port.

Faults switch at runtime, from the event loop the proxy runs in:

- latency: every chunk is held `latency_ms` plus a uniform jitter in
  [0, jitter_ms) before it is forwarded, upstream (client -> server),
  downstream or both. Chunks are stamped when they arrive and forwarded in
  order, so the delay models a slow link rather than a slow reader: throughput
  is unchanged, each byte is late.
- resets: a new connection is reset at accept with probability `reset_new`;
  each forwarded chunk resets its connection with probability
  `reset_per_chunk`; `reset_existing(p)` resets every open connection with
  probability p at once. A reset is a true RST (SO_LINGER 0) on both the
  client and the upstream socket, or a plain close when `rst` is False.
- blackhole: connections are accepted but nothing is forwarded (new ones do
  not even reach upstream) until it is lifted; held data then flows, as after
  a partition that TCP retransmission outlived.
- down: the port refuses connections and open ones are reset, until `up()`.

Why our own rather than toxiproxy (which installs here too): it runs inside
the event loop of the chaos harness or test using it, with no second process or HTTP API to manage,
its randomness is seeded per proxy so a run can be replayed, and it can reset
every open connection at once, which toxiproxy's reset_peer (armed per
connection, fired by data) does not.
"""

import asyncio
import contextlib
import ipaddress
import random
import socket
import struct
from dataclasses import dataclass, replace

CHUNK_BYTES = 64 * 1024
# Chunks one direction may hold while they wait out their latency; the reader
# stops (TCP backpressure) beyond it.
QUEUED_CHUNKS = 256
UPSTREAM, DOWNSTREAM, BOTH = "upstream", "downstream", "both"
_LINGER_RST = struct.pack("ii", 1, 0)


@dataclass(frozen=True)
class Faults:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    direction: str = BOTH  # which way latency applies
    reset_new: float = 0.0  # probability a new connection is reset at accept
    reset_per_chunk: float = 0.0  # probability a forwarded chunk resets its connection
    blackhole: bool = False
    rst: bool = True  # resets send RST; False closes with FIN

    def __post_init__(self) -> None:
        if self.direction not in (UPSTREAM, DOWNSTREAM, BOTH):
            raise ValueError(f"direction must be upstream, downstream or both: {self.direction}")
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        for name in ("reset_new", "reset_per_chunk"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1]")

    def delay_s(self, direction: str, rng: random.Random) -> float:
        """The added delay of one chunk travelling `direction`."""
        if self.direction not in (BOTH, direction) or not (self.latency_ms or self.jitter_ms):
            return 0.0
        return (self.latency_ms + rng.uniform(0, self.jitter_ms)) / 1000


CLEAR = Faults()


@dataclass
class ProxyStats:
    accepted: int = 0
    resets: int = 0  # connections this proxy reset or closed on purpose
    upstream_failures: int = 0  # connections dropped because upstream refused
    bytes_received: int = 0  # read from either side, forwarded or not (yet)
    bytes_upstream: int = 0  # forwarded client -> server
    bytes_downstream: int = 0  # forwarded server -> client


class FaultProxy:
    """`async with FaultProxy(port) as proxy:` or `await proxy.start()` / `close()`."""

    def __init__(
        self,
        upstream_port: int,
        *,
        upstream_host: str = "127.0.0.1",
        listen_port: int = 0,
        listen_host: str = "127.0.0.1",
        seed: int | None = None,
    ) -> None:
        if not ipaddress.ip_address(listen_host).is_loopback:
            raise ValueError(f"the fault proxy listens on loopback only, not {listen_host}")
        self.upstream = (upstream_host, upstream_port)
        self.listen_host = listen_host
        self.port = listen_port
        self.faults = CLEAR
        self.stats = ProxyStats()
        self.rng = random.Random(seed)  # noqa: S311 - fault dice, not secrets
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task] = set()
        self._changed = asyncio.Event()

    @property
    def address(self) -> str:
        return f"{self.listen_host}:{self.port}"

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    @property
    def is_down(self) -> bool:
        return self._server is None

    async def start(self) -> int:
        """Listens (on listen_port, or a free port if 0); returns the port."""
        await self.up()
        return self.port

    async def __aenter__(self) -> "FaultProxy":
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    # ----------------------------------------------------------- faults

    def set(self, faults: Faults | None = None, /, **changes) -> Faults:
        """Switches faults: `set(Faults(...))`, `set(latency_ms=200)` (on top of
        the current ones) or `set()` (clears all). Returns the faults now on."""
        if faults is None:
            faults = self.faults if changes else CLEAR
        self.faults = replace(faults, **changes)
        # Wake everything stalled on a blackhole so it reads the new faults.
        self._changed.set()
        self._changed = asyncio.Event()
        return self.faults

    def clear(self) -> None:
        self.set()

    def reset_existing(self, probability: float = 1.0) -> int:
        """Resets each open connection with `probability`; how many it reset."""
        victims = [c for c in list(self._connections) if self.rng.random() < probability]
        for connection in victims:
            connection.reset()
        return len(victims)

    async def down(self) -> None:
        """Refuses new connections (nothing listens) and resets open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.reset_existing(1.0)

    async def up(self) -> None:
        """Listens again, on the same port."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._accepted, self.listen_host, self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stops listening, resets every connection and waits for their tasks."""
        await self.down()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------ plumbing

    async def _unblocked(self) -> None:
        while self.faults.blackhole:
            await self._changed.wait()

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        connection = _Connection(self, reader, writer)
        self._connections.add(connection)
        task = connection.task = asyncio.get_running_loop().create_task(connection.run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Connection:
    def __init__(
        self, proxy: FaultProxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.proxy = proxy
        self.client = (reader, writer)
        self.upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.pumps: list[asyncio.Task] = []
        self.task: asyncio.Task | None = None
        self.was_reset = False

    async def run(self) -> None:
        proxy = self.proxy
        try:
            if proxy.faults.reset_new and proxy.rng.random() < proxy.faults.reset_new:
                self.reset()
                return
            await proxy._unblocked()
            try:
                self.upstream = await asyncio.open_connection(*proxy.upstream)
            except OSError:
                proxy.stats.upstream_failures += 1
                self._abort(rst=True)
                return
            self.pumps = [
                asyncio.create_task(self._pump(self.client[0], self.upstream[1], UPSTREAM)),
                asyncio.create_task(self._pump(self.upstream[0], self.client[1], DOWNSTREAM)),
            ]
            await asyncio.wait(self.pumps, return_when=asyncio.FIRST_EXCEPTION)
            if any(not p.cancelled() and p.exception() is not None for p in self.pumps):
                # One side failed (say its peer reset): the other side sees a reset too.
                self._abort(rst=True)
        finally:
            for pump in self.pumps:
                pump.cancel()
            await asyncio.gather(*self.pumps, return_exceptions=True)
            await self._close()
            proxy._connections.discard(self)

    def reset(self) -> None:
        """Resets both sides now (RST unless the faults say FIN) and ends the
        connection's task, wherever it waits (a blackhole, a connect, a pump)."""
        if self.was_reset:
            return
        self.was_reset = True
        self.proxy.stats.resets += 1
        self._abort(rst=self.proxy.faults.rst)
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    def _writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client[1], self.upstream and self.upstream[1]) if w]

    def _abort(self, *, rst: bool) -> None:
        for writer in self._writers():
            if rst:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
                writer.transport.abort()
            else:
                writer.close()

    async def _close(self) -> None:
        for writer in self._writers():
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: str
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue(QUEUED_CHUNKS)
        forward = asyncio.create_task(self._forward(queue, writer, direction))
        try:
            if await self._receive(reader, queue, direction):
                await forward
        finally:
            forward.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await forward

    async def _receive(
        self, reader: asyncio.StreamReader, queue: asyncio.Queue, direction: str
    ) -> bool:
        """Stamps and queues chunks until EOF (True) or a reset it made (False)."""
        proxy = self.proxy
        loop = asyncio.get_running_loop()
        due = 0.0
        while data := await reader.read(CHUNK_BYTES):
            proxy.stats.bytes_received += len(data)
            faults = proxy.faults
            if faults.reset_per_chunk and proxy.rng.random() < faults.reset_per_chunk:
                self.reset()
                return False
            # Never before the previous chunk: jitter must not reorder bytes.
            due = max(due, loop.time() + faults.delay_s(direction, proxy.rng))
            await queue.put((due, data))
        await queue.put(None)
        return True

    async def _forward(
        self, queue: asyncio.Queue, writer: asyncio.StreamWriter, direction: str
    ) -> None:
        loop = asyncio.get_running_loop()
        stats = self.proxy.stats
        while (item := await queue.get()) is not None:
            due, data = item
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            await self.proxy._unblocked()
            writer.write(data)
            await writer.drain()
            if direction == UPSTREAM:
                stats.bytes_upstream += len(data)
            else:
                stats.bytes_downstream += len(data)
        if writer.can_write_eof():
            writer.write_eof()
