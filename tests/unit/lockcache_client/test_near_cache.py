"""The near cache's bookkeeping (pure logic, a fake clock, events built by hand)."""

import pytest
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_lockcache_client import (
    NearCache,
    context_group_key,
    platform_data_key,
    user_profile_key,
)

Event = pb.InvalidationEvent


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def synced_cache(**options) -> NearCache:
    near = NearCache(**options)
    near.apply(Event(kind=Event.SYNCED, heartbeat_interval_ms=200))
    return near


def stored(near: NearCache, key: pb.CacheKey, value: bytes) -> bytes | None:
    assert near.put(key, value, near.begin())
    return near.get(key)


def test_nothing_is_served_or_stored_before_the_stream_is_synced():
    near = NearCache()
    key = user_profile_key("u1")
    assert not near.put(key, b"v", near.begin())
    assert near.get(key) is None
    assert near.stats.bypassed == 1 and near.stats.refused == 1


def test_a_stored_value_is_a_hit_until_its_key_is_written():
    near = synced_cache()
    key = user_profile_key("u1")
    assert stored(near, key, b"v") == b"v"
    near.apply(Event(kind=Event.KEY, key=key))
    assert near.get(key) is None
    assert (near.stats.hits, near.stats.misses) == (1, 1)


def test_a_read_begun_before_an_invalidation_is_not_stored_after_it():
    near = synced_cache()
    key = context_group_key("u1", "r1", 2)
    begun = near.begin()  # the read from lockcache is in flight...
    near.apply(Event(kind=Event.SCOPE, scope=pb.InvalidateCacheRequest(
        scope=pb.RECORDS, user_id="u1", record_ids=["r9"])))  # ...when this arrives
    assert not near.put(key, b"old", begun)
    assert near.get(key) is None
    # A read begun after it stores.
    assert near.put(key, b"new", near.begin())


def test_an_invalidation_of_another_user_or_namespace_does_not_refuse_a_read():
    near = synced_cache()
    key = user_profile_key("u1")
    begun = near.begin()
    near.drop_scope(pb.InvalidateCacheRequest(scope=pb.USER_PROFILE_SCOPE, user_id="u2"))
    near.drop_scope(pb.InvalidateCacheRequest(scope=pb.USER_CONTEXT_GROUPS, user_id="u1"))
    assert near.put(key, b"v", begun)


def test_a_gap_empties_the_cache_and_bypasses_it_until_synced():
    near = synced_cache()
    key = user_profile_key("u1")
    stored(near, key, b"v")
    begun = near.begin()
    near.apply(Event(kind=Event.GAP, reason="subscription lost"))
    assert not near.usable and len(near) == 0 and near.state == "subscription lost"
    assert near.get(key) is None and near.stats.bypassed == 1
    near.apply(Event(kind=Event.SYNCED, heartbeat_interval_ms=200))
    # A read begun before the gap may hold a value whose invalidation was lost.
    assert not near.put(key, b"v", begun)
    assert near.put(key, b"v", near.begin())


@pytest.mark.parametrize(
    ("scope", "dropped", "kept"),
    [
        (pb.USER_CONTEXT_GROUPS, "context", "profile"),
        (pb.RECORDS, "context", "platform"),
        (pb.USER_PROFILE_SCOPE, "profile", "context"),
        (pb.USER_PLATFORM_DATA, "platform", "profile"),
        (pb.DATA_SOURCE, "platform", "context"),
    ],
)
def test_each_scope_drops_its_namespace_of_its_user_only(scope, dropped, kept):
    near = synced_cache()
    keys = {
        "context": context_group_key("u1", "r1", 1),
        "profile": user_profile_key("u1"),
        "platform": platform_data_key("u1", "github", "ds1"),
    }
    other_user = keys[dropped].__class__()
    other_user.CopyFrom(keys[dropped])
    other_user.user_id = "u2"
    for key in [*keys.values(), other_user]:
        stored(near, key, b"v")
    near.apply(Event(kind=Event.SCOPE, scope=pb.InvalidateCacheRequest(
        scope=scope, user_id="u1", data_source_id="ds1")))
    assert near.get(keys[dropped]) is None
    assert near.get(keys[kept]) == b"v"
    assert near.get(other_user) == b"v"


def test_an_unknown_scope_flushes_everything():
    near = synced_cache()
    stored(near, user_profile_key("u1"), b"v")
    near.drop_scope(pb.InvalidateCacheRequest(scope=99, user_id="u1"))
    assert len(near) == 0 and near.usable


def test_entries_are_bounded_by_count_least_recently_used_first():
    near = synced_cache(max_entries=2)
    a, b, c = (user_profile_key(u) for u in ("a", "b", "c"))
    stored(near, a, b"1")
    stored(near, b, b"2")
    assert near.get(a) == b"1"  # a is now the most recently used
    stored(near, c, b"3")
    assert near.get(b) is None and near.get(a) == b"1" and near.get(c) == b"3"


def test_entries_are_bounded_by_bytes_and_a_value_too_large_is_not_stored():
    near = synced_cache(max_bytes=10)
    stored(near, user_profile_key("a"), b"x" * 6)
    stored(near, user_profile_key("b"), b"y" * 6)
    assert near.get(user_profile_key("a")) is None
    assert near.size_bytes == 6
    assert not near.put(user_profile_key("c"), b"z" * 11, near.begin())


def test_an_entry_older_than_max_age_is_a_miss():
    clock = Clock()
    near = synced_cache(max_age_s=2.0, clock=clock)
    key = user_profile_key("u1")
    stored(near, key, b"v")
    clock.now += 2.5
    assert near.get(key) is None and len(near) == 0


def test_metrics_hear_hits_misses_bypasses_and_flushes():
    heard: list[str] = []
    near = NearCache(on_count=heard.append)
    key = user_profile_key("u1")
    near.get(key)
    near.apply(Event(kind=Event.SYNCED, heartbeat_interval_ms=200))
    near.get(key)
    stored(near, key, b"v")
    assert heard == ["bypass", "flush", "miss", "hit"]


def test_remembering_too_many_invalidated_groups_turns_into_a_flush_of_reads_in_flight():
    from kushim_lockcache_client import near_cache

    near = synced_cache()
    begun = near.begin()
    for n in range(near_cache.MAX_TOUCHED_GROUPS + 1):
        near.drop_key(user_profile_key(f"other{n}"))
    assert not near.put(user_profile_key("u1"), b"v", begun)
    assert near.put(user_profile_key("u1"), b"v", near.begin())


@pytest.mark.parametrize("options", [{"max_entries": 0}, {"max_bytes": 0}, {"max_age_s": 0}])
def test_a_near_cache_without_room_or_age_is_refused(options):
    with pytest.raises(ValueError, match="near cache"):
        NearCache(**options)
