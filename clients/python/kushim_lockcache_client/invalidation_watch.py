"""Keeps a near cache in step with lockcache's WatchInvalidations stream.

The stream is reopened after it ends or fails (backing off up to MAX_RETRY_S); meanwhile the
near cache is empty and bypassed. A stream that stays silent for SILENT_HEARTBEATS heartbeat
intervals counts as broken too: heartbeats come through Redis, so silence means events may be
stuck (a paused Redis, a stalled replica) even though the connection looks fine.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence

import grpc
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc

from kushim_lockcache_client.near_cache import NearCache

log = logging.getLogger(__name__)

SILENT_HEARTBEATS = 5
# Until SYNCED says the interval, the longest wait for the next message.
FIRST_MESSAGE_S = 2.0
MIN_RETRY_S = 0.1
MAX_RETRY_S = 2.0
CLOSE_S = 5.0  # how long close() waits for the stream's task to end

Metadata = Callable[[], Sequence[tuple[str, str]] | None]


class InvalidationWatch:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        near: NearCache,
        *,
        metadata: Metadata = lambda: None,
    ) -> None:
        self.near = near
        self._stub = pb_grpc.InvalidationServiceStub(channel)
        self._metadata = metadata
        self._task: asyncio.Task | None = None
        self._logged = "not started"
        self._synced = False  # the current stream said SYNCED

    def start(self) -> None:
        """Starts watching (once; later calls do nothing). Needs a running loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=CLOSE_S)
            self._task = None
        self.near.broken("closed")

    async def _run(self) -> None:
        retry_s = MIN_RETRY_S
        while True:
            self._synced = False
            reason = await self._follow()
            self.near.broken(reason)
            self._note(reason)
            if self._synced:
                retry_s = MIN_RETRY_S
            await asyncio.sleep(retry_s)
            retry_s = min(2 * retry_s, MAX_RETRY_S)

    async def _follow(self) -> str:
        """Applies one stream's events until it breaks; says why it did."""
        call = self._stub.WatchInvalidations(
            pb.WatchInvalidationsRequest(), metadata=self._metadata()
        )
        silence_s = FIRST_MESSAGE_S
        try:
            while True:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
                # arrives as a read completes, and then close() would wait for good.
                try:
                    async with asyncio.timeout(silence_s):
                        event = await call.read()
                except TimeoutError:
                    return f"no message for {silence_s:.1f} s"
                if event is grpc.aio.EOF:
                    return "ended by lockcache"
                if event.kind == pb.InvalidationEvent.SYNCED:
                    silence_s = SILENT_HEARTBEATS * event.heartbeat_interval_ms / 1000
                    self._synced = True
                    self._note("")
                self.near.apply(event)
        except grpc.aio.AioRpcError as exc:
            return f"{exc.code().name}: {exc.details()}"
        finally:
            call.cancel()

    def _note(self, reason: str) -> None:
        """Logs the stream's state once per change."""
        if bool(reason) == bool(self._logged):
            return
        self._logged = reason
        if reason:
            log.warning("Near cache bypassed: invalidation stream broken (%s)", reason)
        else:
            log.info("Near cache in use: invalidation stream synced")
