"""The invalidation feed behind WatchInvalidations: Redis pub/sub fanned out to watchers.

Every replica publishes each cache write it performed (Invalidate, Set, Delete) on one pub/sub
channel of the cache Redis before answering the write, and subscribes to that channel; each
message it receives goes to every watcher connected to it. So a watcher on any replica hears
of every replica's writes, in the order Redis delivered them.

Why pub/sub rather than RESP3 CLIENT TRACKING: tracking names Redis keys, and the near caches
hold CacheKeys whose scope invalidation deletes one generation key (staleness.py), not the
value keys; the feed would have to map keys back to scopes. Publishing the scope as the caller
named it costs one PUBLISH per write and keeps reads untouched.

Gaps are said, never hidden: when the subscription breaks (Redis restart, dropped connection)
every watcher gets GAP, then SYNCED once resubscribed; a watcher whose queue overflows gets GAP
and SYNCED in place of what it missed. Heartbeats travel through Redis on the same channel, so
a heartbeat received proves every event published before it was delivered; a watcher that
hears nothing for a few intervals knows its stream is stuck (a paused Redis) without any
message saying so.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_common.stopping import cancel_all
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from kushim_lockcache import keys
from kushim_lockcache.connection import RedisNode, Unavailable

log = logging.getLogger(__name__)

HEARTBEAT_S = 0.2
RESUBSCRIBE_S = 0.5
CLOSE_S = 5.0
# Events a slow watcher may have queued before it is told GAP and skips them.
WATCHER_QUEUE = 4096

NOT_SUPPORTED = "the invalidation feed needs REDIS_URL naming one Redis (not a Redis Cluster)"


def gap(reason: str) -> pb.InvalidationEvent:
    return pb.InvalidationEvent(kind=pb.InvalidationEvent.GAP, reason=reason)


def synced() -> pb.InvalidationEvent:
    return pb.InvalidationEvent(
        kind=pb.InvalidationEvent.SYNCED, heartbeat_interval_ms=round(HEARTBEAT_S * 1000)
    )


@dataclass(eq=False)
class Watcher:
    """One WatchInvalidations stream: its events, in order."""

    # Events in order; None ends the stream (lockcache stops).
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(WATCHER_QUEUE + 3))

    def end(self) -> None:
        self.queue.put_nowait(None)

    def send(self, event: pb.InvalidationEvent) -> None:
        if self.queue.qsize() >= WATCHER_QUEUE:
            # Too slow: what it missed is replaced by GAP, then it is in step again.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(gap("this watcher fell behind"))
            self.queue.put_nowait(synced())
        self.queue.put_nowait(event)


class InvalidationFeed:
    def __init__(self, node: RedisNode | None, subscriber: Redis | None = None) -> None:
        self.node = node  # publishes
        self.subscriber = subscriber  # listens, on a connection of its own
        self.supported = subscriber is not None and not isinstance(node.client, RedisCluster)
        self.synced = False
        self.watchers: set[Watcher] = set()
        self.closed = False
        self.publish_failures = 0
        self._publish_failing = False
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        if self.supported:
            self._tasks = [
                asyncio.create_task(self._subscribe()),
                asyncio.create_task(self._heartbeat()),
            ]

    async def close(self) -> None:
        """Ends every stream (its watcher reconnects, to another replica if this one stops)
        and any stream opened from now on."""
        self.closed = True
        for watcher in self.watchers:
            watcher.end()
        # Cancelled again until they end (a cancel lost in a Redis call left the heartbeat
        # running, and the stop waited the whole bound); a close stuck on a dead connection
        # must not hold the server's stop.
        running = await cancel_all(self._tasks, CLOSE_S)
        if running:
            log.warning("Invalidation feed tasks still running %.0f s into the stop", CLOSE_S)
        self._tasks = []

    def watch(self) -> Watcher:
        watcher = Watcher()
        self.watchers.add(watcher)
        if self.closed:
            watcher.end()
        elif self.synced:
            watcher.send(synced())
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    async def publish(self, event: pb.InvalidationEvent) -> None:
        """Publishes a write's event. A failure is logged once per change: the watchers'
        near caches then rely on their entries' age limit."""
        if not self.supported:
            return
        message = event.SerializeToString()
        try:
            await self.node.run(lambda c: c.publish(keys.INVALIDATION_CHANNEL, message))
        except (Unavailable, RedisError) as exc:
            self.publish_failures += 1
            if not self._publish_failing:
                self._publish_failing = True
                log.warning("Invalidation not published to near caches: %s", exc)
            return
        if self._publish_failing:
            self._publish_failing = False
            log.info("Invalidations published to near caches again")

    def _send_all(self, event: pb.InvalidationEvent) -> None:
        for watcher in self.watchers:
            watcher.send(event)

    def _received(self, data: bytes) -> None:
        try:
            event = pb.InvalidationEvent.FromString(data)
        except DecodeError:
            log.warning("Ignored a message on %s that is not an event", keys.INVALIDATION_CHANNEL)
            return
        self._send_all(event)

    async def _heartbeat(self) -> None:
        beat = pb.InvalidationEvent(kind=pb.InvalidationEvent.HEARTBEAT).SerializeToString()
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            if self.synced:
                with contextlib.suppress(Unavailable, RedisError):
                    await self.node.run(lambda c: c.publish(keys.INVALIDATION_CHANNEL, beat))

    async def _subscribe(self) -> None:
        while True:
            pubsub = self.subscriber.pubsub()
            try:
                await pubsub.subscribe(keys.INVALIDATION_CHANNEL)
                # The confirmation: from here on every published event reaches us.
                while await pubsub.get_message(timeout=HEARTBEAT_S) is None:
                    pass
                self.synced = True
                log.info("Invalidation feed subscribed")
                self._send_all(synced())
                while True:
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=HEARTBEAT_S
                    )
                    if message is not None and message["type"] == "message":
                        self._received(message["data"])
            except (RedisError, OSError) as exc:
                if self.synced:
                    log.warning("Invalidation feed lost its subscription: %s", exc)
                    self.synced = False
                    self._send_all(gap(f"subscription to Redis lost: {exc}"))
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(RESUBSCRIBE_S)
