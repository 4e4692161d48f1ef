"""Python client of Kushim's lockcache: Redlock locks with fencing tokens, and its caches.

    async with LockCacheClient("127.0.0.1:50051") as client:
        async with client.lock("invoice:42", ttl=15) as lease:
            store.write(invoice, fencing_token=lease.fencing_token)
"""

from kushim_lockcache_client.cache import (
    CacheLease,
    Computed,
    context_group_key,
    platform_data_key,
    user_profile_key,
)
from kushim_lockcache_client.client import LockCacheClient
from kushim_lockcache_client.errors import (
    LockError,
    LockHeld,
    LockInvalid,
    LockLost,
    LockUnavailable,
)
from kushim_lockcache_client.holding import HeldLock
from kushim_lockcache_client.invalidation_watch import InvalidationWatch
from kushim_lockcache_client.lease import Lease
from kushim_lockcache_client.near_cache import NearCache, NearCacheStats

__all__ = [
    "CacheLease",
    "Computed",
    "HeldLock",
    "InvalidationWatch",
    "Lease",
    "LockCacheClient",
    "LockError",
    "LockHeld",
    "LockInvalid",
    "LockLost",
    "LockUnavailable",
    "NearCache",
    "NearCacheStats",
    "context_group_key",
    "platform_data_key",
    "user_profile_key",
]
