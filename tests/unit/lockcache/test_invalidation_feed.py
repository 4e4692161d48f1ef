"""The invalidation feed's fan-out and failure bookkeeping (fakes for Redis)."""

import logging

from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_lockcache.connection import Unavailable
from kushim_lockcache.invalidation_feed import WATCHER_QUEUE, InvalidationFeed, Watcher

Event = pb.InvalidationEvent


class FakeNode:
    """Publishes into a list, or fails while `down`."""

    def __init__(self) -> None:
        self.client = object()
        self.published: list[bytes] = []
        self.down = False

    async def run(self, command):
        if self.down:
            raise Unavailable("cache: connection refused")
        return await command(self)

    async def publish(self, channel: str, message: bytes) -> int:
        self.published.append(message)
        return 1


def drained(watcher: Watcher) -> list:
    events = []
    while not watcher.queue.empty():
        events.append(watcher.queue.get_nowait())
    return events


def key_event(n: int) -> pb.InvalidationEvent:
    return Event(kind=Event.KEY, key=pb.CacheKey(namespace=pb.USER_PROFILE, user_id=f"u{n}"))


def test_a_watcher_that_falls_behind_gets_a_gap_then_synced_instead_of_what_it_missed():
    watcher = Watcher()
    for n in range(WATCHER_QUEUE + 5):
        watcher.send(key_event(n))
    events = drained(watcher)
    kinds = [e.kind for e in events]
    assert kinds[:2] == [Event.GAP, Event.SYNCED]
    assert "fell behind" in events[0].reason
    # What follows the gap is in order and complete from there on.
    expected = [f"u{n}" for n in range(WATCHER_QUEUE, WATCHER_QUEUE + 5)]
    assert [e.key.user_id for e in events[2:]] == expected


async def test_a_watcher_joining_a_synced_feed_hears_synced_first_and_a_closed_feed_ends_it():
    feed = InvalidationFeed(FakeNode(), subscriber=object())
    feed.synced = True
    watcher = feed.watch()
    assert [e.kind for e in drained(watcher)] == [Event.SYNCED]
    await feed.close()
    assert drained(watcher) == [None]
    late = feed.watch()
    assert drained(late) == [None]


async def test_events_published_are_serialized_on_the_channel():
    node = FakeNode()
    feed = InvalidationFeed(node, subscriber=object())
    await feed.publish(key_event(1))
    assert [Event.FromString(m) for m in node.published] == [key_event(1)]


async def test_a_failed_publish_is_counted_and_logged_once_per_change(caplog):
    node = FakeNode()
    feed = InvalidationFeed(node, subscriber=object())
    node.down = True
    with caplog.at_level(logging.INFO, logger="kushim_lockcache.invalidation_feed"):
        await feed.publish(key_event(1))
        await feed.publish(key_event(2))
        node.down = False
        await feed.publish(key_event(3))
    assert feed.publish_failures == 2
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if "not published" in m]) == 1
    assert any("published to near caches again" in m for m in messages)
    assert len(node.published) == 1


def test_a_message_that_is_not_an_event_is_ignored(caplog):
    feed = InvalidationFeed(FakeNode(), subscriber=object())
    watcher = feed.watch()
    feed._received(b"\xff\xff not protobuf")
    feed._received(key_event(1).SerializeToString())
    assert drained(watcher) == [key_event(1)]
    assert "not an event" in caplog.text


async def test_without_a_cache_redis_the_feed_is_unsupported_and_publishes_nothing():
    feed = InvalidationFeed(None)
    assert not feed.supported
    feed.start()
    await feed.publish(key_event(1))
    await feed.close()
