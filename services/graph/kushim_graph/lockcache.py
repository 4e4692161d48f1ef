"""Graph's calls to lockcache, made through the lockcache client package.

Kept as a thin adapter so discovery, the sweeper and the context cache read lock answers as
data (acquired, held, unavailable) and call invalidations by their meaning. An unreachable
lockcache is treated exactly like "Redis unavailable" (the client package logs it once per
change): locks answer UNAVAILABLE, cache reads miss, invalidations report False.

Context groups are read through the package's near cache (NEAR_CACHE_MAX_ENTRIES > 0): hot
ones come from process memory, kept correct by lockcache's invalidation stream, and this
process's own invalidations drop them before they return.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_common import grpcchannel
from kushim_common.grpctls import GrpcTls
from kushim_common.logs import request_id_var
from kushim_lockcache_client import (
    CacheLease,
    Lease,
    LockHeld,
    LockInvalid,
    LockUnavailable,
    NearCache,
    context_group_key,
)
from kushim_lockcache_client import (
    LockCacheClient as Client,
)

from kushim_graph.metrics import NEAR_CACHE

log = logging.getLogger(__name__)

ACQUIRED = "acquired"
HELD = "held"
UNAVAILABLE = "unavailable"

# The cache entry of a context group; graph's name for the package's key builder.
context_key = context_group_key


@dataclass(frozen=True)
class LockAnswer:
    outcome: str
    token: str = ""
    fencing_token: int = 0
    fencing_tokens: dict[str, int] = field(default_factory=dict)  # per resource when several
    fencing_ttl_ms: int = 0  # how long the tokens' counters live (0: forever)


def _names(resource: str | Iterable[str]) -> tuple[str, ...]:
    return (resource,) if isinstance(resource, str) else tuple(resource)


def _metadata():
    request_id = request_id_var.get()
    return (("x-request-id", request_id),) if request_id else None


class LockCacheClient:
    def __init__(
        self, addr: str, *, timeout_s: float = 2.0, tls: GrpcTls | None = None,
        near_cache_entries: int = 0, near_cache_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.addr = addr
        # The services' channel: transparent retries across lockcache replica restarts.
        self._channel = grpcchannel.connect(addr, tls)
        near = None
        if near_cache_entries:
            near = NearCache(
                max_entries=near_cache_entries, max_bytes=near_cache_bytes,
                on_count=lambda outcome: NEAR_CACHE.labels(outcome).inc(),
            )
        self.client = Client(
            addr, channel=self._channel, timeout_s=timeout_s, metadata=_metadata, near_cache=near
        )

    async def close(self) -> None:
        await self.client.close()  # stops watching invalidations; the channel is ours
        await self._channel.close()

    async def acquire(
        self, resource: str | Iterable[str], ttl_ms: int, *, floors: dict[str, int] | None = None
    ) -> LockAnswer:
        """One resource, or several taken all or none (the answer's fencing_tokens).
        `floors`: per resource, the fencing token PostgreSQL last accepted for it."""
        resources = _names(resource)
        try:
            lease = await self.client.acquire(
                resources, ttl=ttl_ms / 1000, retries=0, floors=floors
            )
        except LockHeld:
            log.info("Failed to acquire lock: %s", ", ".join(resources))
            return LockAnswer(HELD)
        except LockInvalid as exc:
            log.warning("Lock request for %s refused: %s", ", ".join(resources), exc.reason)
            return LockAnswer(UNAVAILABLE)
        except LockUnavailable:
            return LockAnswer(UNAVAILABLE)
        for name in lease.resources:  # the operator line of ARCHITECTURE.md, one per resource
            log.info("Lock acquired: %s", name)
        return LockAnswer(
            ACQUIRED, lease.token, lease.fencing_token, dict(lease.fencing_tokens),
            lease.fencing_ttl_ms,
        )

    async def release(self, resource: str | Iterable[str], token: str) -> None:
        await self.client.release(Lease(_names(resource), token, 0, {}, 0.0))

    async def invalidate_records(self, user_id: str, record_ids) -> bool:
        """Drops the cached contexts of the user that contain one of the records."""
        return await self.client.invalidate(
            pb.InvalidateCacheRequest(
                scope=pb.RECORDS, user_id=user_id, record_ids=sorted(str(r) for r in record_ids)
            )
        )

    async def invalidate_data_source(self, user_id: str, data_source_id: str) -> bool:
        return await self.client.invalidate(
            pb.InvalidateCacheRequest(
                scope=pb.DATA_SOURCE, user_id=user_id, data_source_id=data_source_id
            )
        )

    async def invalidate_profile(self, user_id: str) -> bool:
        return await self.client.invalidate(
            pb.InvalidateCacheRequest(scope=pb.USER_PROFILE_SCOPE, user_id=user_id)
        )

    async def get_or_lease(self, key: pb.CacheKey, wait_ms: int = 2000) -> CacheLease:
        return await self.client.get_or_lease(key, wait_ms=wait_ms)

    async def fill(
        self, key: pb.CacheKey, lease_token: str, value: bytes, ttl_s: int, dependencies=()
    ) -> bool:
        """dependencies: the ids of the records the value was computed from."""
        return await self.client.fill(
            key, lease_token, value, ttl_s=ttl_s, dependencies=dependencies
        )

    async def reachable(self) -> bool:
        return await self.client.serving()
