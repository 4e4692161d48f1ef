"""How the client package reads lockcache's answers (pure logic, no server)."""

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_lockcache_client import (
    LockCacheClient,
    LockHeld,
    LockInvalid,
    LockUnavailable,
    context_group_key,
    platform_data_key,
    user_profile_key,
)
from kushim_lockcache_client.client import to_ms
from kushim_lockcache_client.lease import lease_or_raise


def test_an_acquired_answer_becomes_a_lease_with_its_fencing_tokens():
    until = Timestamp()
    until.FromNanoseconds(1_700_000_000_500_000_000)
    lock_token = "t"  # noqa: S105 - a test value
    answer = pb.AcquireLockResponse(
        outcome=pb.ACQUIRED, token=lock_token, fencing_token=7, valid_until=until,
        resources=["a", "b"], fencing_tokens={"a": 7, "b": 3},
    )  # fmt: skip
    lease = lease_or_raise(answer, ["b", "a"])
    assert lease.resources == ("a", "b")
    assert (lease.token, lease.fencing_token) == ("t", 7)
    assert dict(lease.fencing_tokens) == {"a": 7, "b": 3}
    assert lease.valid_until == pytest.approx(1_700_000_000.5)


@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        (pb.HELD, LockHeld),
        (pb.INVALID, LockInvalid),
        (pb.UNAVAILABLE, LockUnavailable),
        # An outcome this client does not know is read as the safe failure: unknown, not held.
        (pb.LOCK_OUTCOME_UNSPECIFIED, LockUnavailable),
        (99, LockUnavailable),
    ],
)
def test_every_other_outcome_raises_its_typed_error(outcome, error):
    answer = pb.AcquireLockResponse(outcome=outcome, message="why")
    with pytest.raises(error) as raised:
        lease_or_raise(answer, ["r"])
    assert raised.value.resources == ("r",)


def test_a_held_answer_without_a_message_still_says_what_happened():
    with pytest.raises(LockHeld, match="held"):
        lease_or_raise(pb.AcquireLockResponse(outcome=pb.HELD), ["r"])


def test_seconds_become_milliseconds_never_zero():
    assert to_ms(15) == 15_000
    assert to_ms(0.25) == 250
    assert to_ms(0.0001) == 1


def test_a_client_needs_a_target_or_a_channel():
    with pytest.raises(ValueError, match="target or a channel"):
        LockCacheClient()


def test_key_builders_fill_the_fields_of_their_namespace():
    assert context_group_key("u", "r", 2) == pb.CacheKey(
        namespace=pb.CONTEXT_GROUP, user_id="u", record_id="r", depth=2
    )
    assert user_profile_key("u") == pb.CacheKey(namespace=pb.USER_PROFILE, user_id="u")
    assert platform_data_key("u", "github", "d") == pb.CacheKey(
        namespace=pb.PLATFORM_DATA, user_id="u", platform="github", data_source_id="d"
    )
