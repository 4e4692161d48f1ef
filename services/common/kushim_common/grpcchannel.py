"""Client channels between the services: bounded transparent retries across replica restarts."""

import json

import grpc

from kushim_common.grpctls import GrpcTls

# A backend replica that is draining (rolling update) answers UNAVAILABLE to calls that reach
# it at the last moment, and CANCELLED to calls it had received but not yet handed to a handler
# when shutdown began (grpc/grpc#41785: core reports those as cancelled, not unavailable).
# Neither reached application code in the common case, but an UNAVAILABLE can also follow a
# call that did run (the connection broke before the answer), so only idempotent calls are
# retried: reads, and writes idempotent by identity (records by externalId, deliveries by id,
# invalidations bump a generation, releases compare the token). The calls below create,
# count or move something each time they run, and are never retried: their callers see the
# failure (503) and decide. The call deadline bounds the total of the retries.
NOT_RETRIED = {
    "kushim.graph.v1.UserService": ("CreateUser", "RevokeTokens"),
    "kushim.graph.v1.GroupService": ("CreateGroup", "MergeGroups", "SplitGroup"),
    "kushim.graph.v1.DataSourceService": ("CreateDataSource",),
    "kushim.graph.v1.LinkService": ("CreateLink",),
    "kushim.lockcache.v1.CacheService": ("Increment",),
    "kushim.lockcache.v1.LockService": ("Acquire", "Hold"),
}
RETRY_SERVICE_CONFIG = {
    "methodConfig": [
        {
            # A method named here is more specific than the default below, and has no policy.
            "name": [
                {"service": service, "method": method}
                for service, methods in NOT_RETRIED.items()
                for method in methods
            ],
        },
        {
            "name": [{}],
            "retryPolicy": {
                "maxAttempts": 4,
                "initialBackoff": "0.05s",
                "maxBackoff": "0.5s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE", "CANCELLED"],
            },
        }
    ]
}

CHANNEL_OPTIONS = [
    ("grpc.enable_retries", 1),
    ("grpc.service_config", json.dumps(RETRY_SERVICE_CONFIG)),
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
    ("grpc.max_send_message_length", 32 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]


def connect(addr: str, tls: GrpcTls | None = None) -> grpc.aio.Channel:
    """A channel to another Kushim service, with the retry policy above; mutual TLS when
    `tls` is given (see grpctls.py)."""
    if tls is None:
        return grpc.aio.insecure_channel(addr, options=CHANNEL_OPTIONS)
    return grpc.aio.secure_channel(addr, tls.channel_credentials(), options=CHANNEL_OPTIONS)
