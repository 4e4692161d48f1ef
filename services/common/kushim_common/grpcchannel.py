"""Client channels between the services: bounded transparent retries across replica restarts."""

import json

import grpc

from kushim_common.grpctls import GrpcTls

# A backend replica that is draining (rolling update) answers UNAVAILABLE to calls that reach
# it at the last moment, and CANCELLED to calls it had received but not yet handed to a handler
# when shutdown began (grpc/grpc#41785: core reports those as cancelled, not unavailable).
# Neither reached application code, and every call the services send is idempotent by identity
# (records by externalId, deliveries by id, invalidations bump a generation, releases compare
# the token), so retrying on a fresh connection is safe; the call deadline bounds the total.
RETRY_SERVICE_CONFIG = {
    "methodConfig": [
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
