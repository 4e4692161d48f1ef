"""The cache side: keys, read-through with a fill lease (GetOrLease/Fill)."""

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kushim.lockcache.v1 import lockcache_pb2 as pb

if TYPE_CHECKING:
    from kushim_lockcache_client.client import LockCacheClient

DEFAULT_WAIT_MS = 2000


@dataclass(frozen=True)
class CacheLease:
    value: bytes | None  # set on a hit
    lease_token: str  # non-empty when this caller must fill


@dataclass(frozen=True)
class Computed:
    """What `compute` may return instead of bytes: the value and the records it was computed
    from (CONTEXT_GROUP), so an invalidation naming one of them drops it."""

    value: bytes
    dependency_record_ids: tuple[str, ...] = ()


def context_group_key(user_id: str, record_id: str, depth: int) -> pb.CacheKey:
    return pb.CacheKey(
        namespace=pb.CONTEXT_GROUP, user_id=user_id, record_id=record_id, depth=depth
    )


def user_profile_key(user_id: str) -> pb.CacheKey:
    return pb.CacheKey(namespace=pb.USER_PROFILE, user_id=user_id)


def platform_data_key(user_id: str, platform: str, data_source_id: str) -> pb.CacheKey:
    return pb.CacheKey(
        namespace=pb.PLATFORM_DATA, user_id=user_id, platform=platform,
        data_source_id=data_source_id,
    )


async def get_or_lease(client: "LockCacheClient", key: pb.CacheKey, wait_ms: int) -> CacheLease:
    """A hit, the lease to fill, or neither (someone else is filling and the wait ran out,
    or Redis/lockcache is down: compute without storing)."""
    answer = await client.call(
        client.cache_service.GetOrLease,
        pb.GetOrLeaseRequest(key=key, wait_ms=wait_ms),
        timeout_s=client.timeout_s + wait_ms / 1000,
    )
    if answer is None:
        return CacheLease(None, "")
    if answer.status == pb.HIT:
        return CacheLease(answer.value, "")
    return CacheLease(None, answer.lease_token)


async def fill(
    client: "LockCacheClient", key: pb.CacheKey, lease_token: str, value: bytes, ttl_s: int,
    dependencies: Iterable[str],
) -> bool:
    """True when stored; False when discarded (invalidated since the lease), too large,
    or lockcache is down."""
    answer = await client.call(
        client.cache_service.Fill,
        pb.FillCacheRequest(
            key=key, lease_token=lease_token, value=value, ttl_seconds=ttl_s,
            dependency_record_ids=[str(d) for d in dependencies],
        ),
    )
    return bool(answer and answer.stored)


async def get_or_fill(
    client: "LockCacheClient",
    key: pb.CacheKey,
    compute: Callable[[], Awaitable[bytes | Computed]],
    *,
    ttl_s: int,
    wait_ms: int,
) -> bytes:
    lease = await client.get_or_lease(key, wait_ms=wait_ms)
    if lease.value is not None:
        return lease.value
    computed = await compute()
    if not isinstance(computed, Computed):
        computed = Computed(computed)
    if lease.lease_token:
        await fill(
            client, key, lease.lease_token, computed.value, ttl_s,
            computed.dependency_record_ids,
        )
    return computed.value
