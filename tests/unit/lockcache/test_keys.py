import pytest
from kushim_lockcache import keys


def test_key_names_match_architecture():
    assert keys.lock_key("relationship_discovery:rec-1") == "locks:relationship_discovery:rec-1"
    assert keys.discovery_resource("rec-1") == "relationship_discovery:rec-1"
    assert keys.context_group_key("u1", "rec-1", 2) == "context_group:{u1}:rec-1:2"
    assert keys.user_profile_key("u1") == "user_profile:{u1}"
    assert keys.platform_key("github", "u1", "ds-9") == "platform:github:{u1}:ds-9"
    assert keys.rate_limit_key("login:ip:127.0.0.1") == "rate_limit:login:ip:127.0.0.1"


def test_fencing_and_lease_keys_stay_apart_from_locks():
    assert keys.fencing_key("relationship_discovery:r") == "fencing:relationship_discovery:r"
    assert keys.lease_key("user_profile:{u1}") == "lease:user_profile:{u1}"


@pytest.mark.parametrize(
    ("namespace", "kwargs", "key", "generations"),
    [
        (
            keys.CONTEXT_GROUP,
            {"user_id": "u", "record_id": "r", "depth": 3},
            "context_group:{u}:r:3",
            ("cache_gen:context_group:{u}",),
        ),
        (keys.USER_PROFILE, {"user_id": "u"}, "user_profile:{u}", ("cache_gen:user_profile:{u}",)),
        (
            keys.PLATFORM,
            {"user_id": "u", "platform": "jira", "data_source_id": "d"},
            "platform:jira:{u}:d",
            ("cache_gen:platform:{u}", "cache_gen:data_source:{u}:d"),
        ),
    ],
)
def test_cache_entry_names_key_and_scopes(namespace, kwargs, key, generations):
    entry = keys.cache_entry(namespace, **kwargs)
    assert entry.key == key
    assert entry.generations == generations


def test_every_scope_names_the_generation_its_entries_carry():
    assert (
        keys.scope_generation(keys.SCOPE_USER_CONTEXT_GROUPS, "u")
        == (keys.cache_entry(keys.CONTEXT_GROUP, user_id="u", record_id="r").generations[0])
    )
    assert keys.scope_generation(keys.SCOPE_USER_PROFILE, "u") == "cache_gen:user_profile:{u}"
    platform = keys.cache_entry(keys.PLATFORM, user_id="u", platform="p", data_source_id="d")
    assert keys.scope_generation(keys.SCOPE_USER_PLATFORM_DATA, "u") in platform.generations
    assert keys.scope_generation(keys.SCOPE_DATA_SOURCE, "u", "d") in platform.generations


@pytest.mark.parametrize("bad", ["", "a:b", "a b", "x\n", "é" * 300])
def test_parts_that_could_forge_or_break_keys_are_refused(bad):
    with pytest.raises(keys.BadKey):
        keys.user_profile_key(bad)


def test_colon_in_ids_cannot_make_two_tenants_share_a_key():
    with pytest.raises(keys.BadKey):
        keys.context_group_key("a:b", "c", 1)


def test_negative_depth_and_unknown_namespace_or_scope_are_refused():
    with pytest.raises(keys.BadKey):
        keys.context_group_key("u", "r", -1)
    with pytest.raises(keys.BadKey):
        keys.cache_entry(keys.RATE_LIMIT, user_id="u")
    with pytest.raises(keys.BadKey):
        keys.scope_generation("everything", "u")
    with pytest.raises(keys.BadKey):
        keys.scope_generation(keys.SCOPE_DATA_SOURCE, "u", "")


@pytest.mark.parametrize("bad", ["", "has space", "x" * 600, "tab\there"])
def test_bad_resources_are_refused(bad):
    with pytest.raises(keys.BadKey):
        keys.lock_key(bad)


def test_record_generations_and_write_epoch_are_per_user():
    assert keys.record_generation("u1", "rec-1") == "cache_gen:record:{u1}:rec-1"
    assert keys.record_generation_prefix("u1") + "rec-1" == keys.record_generation("u1", "rec-1")
    assert keys.write_epoch("u1") == "cache_epoch:context_group:{u1}"
    entry = keys.cache_entry(keys.CONTEXT_GROUP, user_id="u1", record_id="r", depth=2)
    assert (entry.epoch, entry.record_prefix) == (keys.write_epoch("u1"), "cache_gen:record:{u1}:")


def test_only_contexts_track_records():
    entry = keys.cache_entry(keys.USER_PROFILE, user_id="u1")
    assert (entry.epoch, entry.record_prefix) == ("", "")


@pytest.mark.parametrize("record_id", ["", "a:b", "a=b", "a;b", "a,b", "a|b", "a b", "x" * 257])
def test_dependency_ids_cannot_forge_a_value_header(record_id):
    with pytest.raises(keys.BadKey):
        keys.dependency_id(record_id)
    with pytest.raises(keys.BadKey):
        keys.record_generation("u1", record_id)


def test_every_cache_key_of_a_user_hashes_to_the_users_slot():
    from redis.crc import key_slot

    entry = keys.cache_entry(keys.CONTEXT_GROUP, user_id="u1", record_id="r", depth=2)
    names = [
        entry.key, *entry.generations, entry.epoch, keys.lease_key(entry.key),
        keys.record_generation("u1", "r9"), keys.user_profile_key("u1"),
        keys.platform_key("jira", "u1", "d"), keys.data_source_generation("u1", "d"),
    ]  # fmt: skip
    assert {key_slot(name.encode()) for name in names} == {key_slot(b"u1")}


@pytest.mark.parametrize("user", ["a}b", "a{b"])
def test_a_user_id_with_braces_is_refused(user):
    with pytest.raises(keys.BadKey, match="must not contain"):
        keys.user_profile_key(user)
