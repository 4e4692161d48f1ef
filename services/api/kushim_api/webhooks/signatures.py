"""Signature checks for webhook deliveries, constant-time throughout.

GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
Jira: the same scheme in `X-Hub-Signature` (Jira Cloud signs deliveries this way
when the webhook is registered with a secret; Jira has no other shared-secret
mechanism, so a delivery without it is refused).
Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:{ts}:{body}")>` with
`X-Slack-Request-Timestamp` no more than five minutes from now (replay window).
"""

import hashlib
import hmac

SLACK_REPLAY_WINDOW_SECONDS = 300
TIMESTAMP_DIGITS_MAX = 12


def _hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _header_bytes(value: str) -> bytes:
    # Header bytes that are not UTF-8 arrive as lone surrogates; they can only fail to match.
    return value.strip().encode("utf-8", "replace")


def hub_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + _hex_hmac(secret, body)
    return hmac.compare_digest(expected.encode(), _header_bytes(header))


def slack_signature_valid(secret: str, body: bytes, timestamp: str | None,
                          signature: str | None, now: float) -> bool:
    # isdigit alone admits "²" and other digits int() refuses; past 4300 digits int() refuses
    # any string, and no Unix time in seconds needs more than 12.
    if not secret or not timestamp or not signature or not (
        timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= TIMESTAMP_DIGITS_MAX
    ):
        return False
    if abs(now - int(timestamp)) > SLACK_REPLAY_WINDOW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + _hex_hmac(secret, base)
    return hmac.compare_digest(expected.encode(), _header_bytes(signature))


def sign_hub(secret: str, body: bytes) -> str:
    return "sha256=" + _hex_hmac(secret, body)


def sign_slack(secret: str, body: bytes, timestamp: int) -> str:
    return "v0=" + _hex_hmac(secret, b"v0:" + str(timestamp).encode() + b":" + body)
