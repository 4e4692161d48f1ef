import pytest
from kushim_lockcache import keys
from kushim_lockcache.lease import BadLease, dependency_list, parse_lease_token

CONTEXT = keys.cache_entry(keys.CONTEXT_GROUP, user_id="u", record_id="r", depth=1)
PROFILE = keys.cache_entry(keys.USER_PROFILE, user_id="u")


def test_a_context_lease_token_carries_the_write_epoch():
    assert parse_lease_token(CONTEXT, "id.g1.e1") == ("id", "g1", "e1")
    assert parse_lease_token(PROFILE, "id.g1,g2") == ("id", "g1,g2", "")


@pytest.mark.parametrize(
    ("entry", "token"),
    [
        (CONTEXT, "id.g1"),
        (CONTEXT, ".g1.e1"),
        (PROFILE, "id.g1.e1"),
        (PROFILE, "nodot"),
    ],
)
def test_tokens_of_another_shape_are_refused(entry, token):
    with pytest.raises(BadLease):
        parse_lease_token(entry, token)


def test_dependencies_are_distinct_in_order():
    assert dependency_list(CONTEXT, ["b", "a", "b"]) == "b,a"
    assert dependency_list(CONTEXT, []) == ""


def test_above_the_cap_a_context_depends_on_every_record():
    many = [f"r{i}" for i in range(keys.MAX_DEPENDENCIES + 1)]
    assert dependency_list(CONTEXT, many) == ""
    assert dependency_list(CONTEXT, many[:-1]).count(",") == keys.MAX_DEPENDENCIES - 1


def test_only_contexts_take_dependencies():
    with pytest.raises(keys.BadKey):
        dependency_list(PROFILE, ["a"])
    with pytest.raises(keys.BadKey):
        dependency_list(CONTEXT, ["a=b"])
