"""The channel the client opens when it is not given one.

Only calls that are idempotent by identity are retried (on UNAVAILABLE, within the call's
deadline): Release and Extend compare the lock token, reads and invalidations can repeat.
Acquire, Hold, GetOrLease and Increment are never retried: a repeat of an Acquire whose answer
was lost would find the caller's own, now unknown, lock and answer HELD until it expires.
"""

import json

import grpc

LOCKS = "kushim.lockcache.v1.LockService"
CACHE = "kushim.lockcache.v1.CacheService"

IDEMPOTENT = [
    {"service": LOCKS, "method": "Release"},
    {"service": LOCKS, "method": "Extend"},
    {"service": CACHE, "method": "Get"},
    {"service": CACHE, "method": "GetMany"},
    {"service": CACHE, "method": "Set"},
    {"service": CACHE, "method": "Delete"},
    {"service": CACHE, "method": "Invalidate"},
    {"service": CACHE, "method": "Fill"},
    {"service": CACHE, "method": "Stats"},
    {"service": "grpc.health.v1.Health", "method": "Check"},
]

SERVICE_CONFIG = {
    "methodConfig": [
        {
            "name": IDEMPOTENT,
            "retryPolicy": {
                "maxAttempts": 4,
                "initialBackoff": "0.05s",
                "maxBackoff": "0.5s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ]
}

OPTIONS = [
    ("grpc.enable_retries", 1),
    ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]


def open_channel(target: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(target, options=OPTIONS)
