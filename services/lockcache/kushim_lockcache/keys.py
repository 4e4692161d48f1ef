"""Every Redis key lockcache touches, built here and nowhere else.

Value keys carry exactly the names of ARCHITECTURE.md. Scope invalidation uses
one generation key per scope (see staleness.py for why): a cached value
records the generations it was written under and is only served while they
are unchanged.

Every cache key of a user carries the user id as a Redis Cluster hash tag,
`{<userId>}` (context_group:{u1}:rec-1:2): on a cluster one user's values,
generations, epoch and leases share a slot, so each Lua script (which reads a
value with its generations and builds record keys itself) runs on one node.
On one Redis the braces are just part of the name. Lock keys carry no tag: they
live on independent masters, never on a cluster.
"""

from dataclasses import dataclass

CONTEXT_GROUP = "context_group"
USER_PROFILE = "user_profile"
PLATFORM = "platform"
RATE_LIMIT = "rate_limit"
NAMESPACES = (CONTEXT_GROUP, USER_PROFILE, PLATFORM, RATE_LIMIT)

MAX_PART_LENGTH = 256
MAX_RESOURCE_LENGTH = 512


class BadKey(ValueError):
    """A key part that is empty, too long or could forge another tenant's key."""


def _part(name: str, value: str) -> str:
    if not value:
        raise BadKey(f"{name} is required")
    if len(value) > MAX_PART_LENGTH:
        raise BadKey(f"{name} is longer than {MAX_PART_LENGTH} characters")
    # ':' separates parts: "a:b" + "c" must never meet "a" + "b:c".
    if ":" in value or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise BadKey(f"{name} must not contain ':', spaces or control characters")
    return value


def _user(user_id: str) -> str:
    """The user id as the keys' hash tag. Braces are refused: "a}b" would tag as "a"."""
    user_id = _part("user_id", user_id)
    if "{" in user_id or "}" in user_id:
        raise BadKey("user_id must not contain '{' or '}'")
    return "{" + user_id + "}"


# ------------------------------------------------------------------ locks


def check_resource(resource: str) -> str:
    if not resource:
        raise BadKey("resource is required")
    if len(resource) > MAX_RESOURCE_LENGTH:
        raise BadKey(f"resource is longer than {MAX_RESOURCE_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in resource):
        raise BadKey("resource must not contain spaces or control characters")
    return resource


def lock_key(resource: str) -> str:
    """locks:relationship_discovery:{recordId} for resource relationship_discovery:{recordId}."""
    return f"locks:{check_resource(resource)}"


def fencing_key(resource: str) -> str:
    """The fencing counter of a resource, kept on the lock masters beside the lock."""
    return f"fencing:{check_resource(resource)}"


def discovery_resource(record_id: str) -> str:
    return f"relationship_discovery:{_part('record_id', record_id)}"


# ----------------------------------------------------------------- caches


def context_group_key(user_id: str, record_id: str, depth: int) -> str:
    if depth < 0:
        raise BadKey("depth must be >= 0")
    return f"context_group:{_user(user_id)}:{_part('record_id', record_id)}:{depth}"


def user_profile_key(user_id: str) -> str:
    return f"user_profile:{_user(user_id)}"


def platform_key(platform: str, user_id: str, data_source_id: str) -> str:
    return (
        f"platform:{_part('platform', platform)}:{_user(user_id)}"
        f":{_part('data_source_id', data_source_id)}"
    )


def rate_limit_key(subject: str) -> str:
    """rate_limit:{subject}; subjects such as login:ip:127.0.0.1 keep their colons."""
    return f"rate_limit:{check_resource(subject)}"


# The pub/sub channel of the near caches' invalidation feed (invalidation_feed.py).
INVALIDATION_CHANNEL = "cache_invalidations"


def context_groups_generation(user_id: str) -> str:
    return f"cache_gen:context_group:{_user(user_id)}"


def user_profile_generation(user_id: str) -> str:
    return f"cache_gen:user_profile:{_user(user_id)}"


def platform_generation(user_id: str) -> str:
    return f"cache_gen:platform:{_user(user_id)}"


def data_source_generation(user_id: str, data_source_id: str) -> str:
    return f"cache_gen:data_source:{_user(user_id)}:{_part('data_source_id', data_source_id)}"


# A context depends on at most this many records one by one; a larger one depends on every
# record of its user (the write epoch), as every context did before.
MAX_DEPENDENCIES = 256
_DEPENDENCY_SEPARATORS = "=;,|"


def record_generation_prefix(user_id: str) -> str:
    """cache_gen:record:{userId}: + a record id is the generation key of one record.

    The read script builds the keys of the records a context value names (see staleness.py)."""
    return f"cache_gen:record:{_user(user_id)}:"


def record_generation(user_id: str, record_id: str) -> str:
    return record_generation_prefix(user_id) + dependency_id(record_id)


def dependency_id(record_id: str) -> str:
    """A record id as a context value names it: a key part free of the value header's
    separators."""
    record_id = _part("record_id", record_id)
    if any(ch in _DEPENDENCY_SEPARATORS for ch in record_id):
        raise BadKey(f"record_id must not contain any of {_DEPENDENCY_SEPARATORS!r}")
    return record_id


def write_epoch(user_id: str) -> str:
    """Counts the records invalidations of a user (staleness.RECORDS_SCRIPT): a fill tells
    by it whether its records were written since its lease, and a context value depending on
    every record of the user is served only under the epoch it was filled under."""
    return f"cache_epoch:context_group:{_user(user_id)}"


def lease_key(value_key: str) -> str:
    """The fill lease of one value key (GetOrLease / Fill)."""
    return f"lease:{value_key}"


@dataclass(frozen=True)
class CacheEntry:
    namespace: str
    key: str
    generations: tuple[str, ...]  # scopes whose invalidation drops this entry
    # Context values only: the user's write epoch and the prefix of its record generations.
    epoch: str = ""
    record_prefix: str = ""


def cache_entry(
    namespace: str,
    *,
    user_id: str = "",
    record_id: str = "",
    depth: int = 0,
    platform: str = "",
    data_source_id: str = "",
) -> CacheEntry:
    if namespace == CONTEXT_GROUP:
        return CacheEntry(
            namespace,
            context_group_key(user_id, record_id, depth),
            (context_groups_generation(user_id),),
            write_epoch(user_id),
            record_generation_prefix(user_id),
        )
    if namespace == USER_PROFILE:
        return CacheEntry(namespace, user_profile_key(user_id), (user_profile_generation(user_id),))
    if namespace == PLATFORM:
        return CacheEntry(
            namespace,
            platform_key(platform, user_id, data_source_id),
            (platform_generation(user_id), data_source_generation(user_id, data_source_id)),
        )
    raise BadKey(f"namespace {namespace!r} holds no cached values")


SCOPE_USER_CONTEXT_GROUPS = "user_context_groups"
SCOPE_USER_PROFILE = "user_profile"
SCOPE_USER_PLATFORM_DATA = "user_platform_data"
SCOPE_DATA_SOURCE = "data_source"
SCOPE_RECORDS = "records"  # the context values that contain one of some records


def scope_generation(scope: str, user_id: str, data_source_id: str = "") -> str:
    """The one generation key whose removal invalidates a whole scope."""
    if scope == SCOPE_USER_CONTEXT_GROUPS:
        return context_groups_generation(user_id)
    if scope == SCOPE_USER_PROFILE:
        return user_profile_generation(user_id)
    if scope == SCOPE_USER_PLATFORM_DATA:
        return platform_generation(user_id)
    if scope == SCOPE_DATA_SOURCE:
        return data_source_generation(user_id, data_source_id)
    raise BadKey(f"unknown invalidation scope {scope!r}")
