"""Webhook secrets sealed at rest: AES-256-GCM under WEBHOOK_SECRET_KEY, bound to their user.

A sealed value is "v1:" + base64(nonce | ciphertext+tag); the user id is the associated data,
so a value copied into another user's row does not open. A database dump or a read-only SQL
injection then yields no usable secret. Values without the prefix are plaintext written
before the key was set: they still open, and the next update of the source seals them.
Without a key nothing is sealed (graph logs that at start).
"""

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kushim_graph.errors import FailedPrecondition

PREFIX = "v1:"
NONCE_BYTES = 12
KEY_BYTES = 32


class SecretUnreadable(FailedPrecondition):
    """A sealed secret that this key cannot open (another key, or a tampered value)."""


def parse_key(raw: str) -> bytes:
    """The key from its base64 form; ValueError says what is wrong with it."""
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise ValueError("must be base64 (e.g. `openssl rand -base64 32`)") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


class SecretBox:
    def __init__(self, key: bytes | None) -> None:
        self._aead = AESGCM(key) if key else None

    def seal(self, secret: str, user_id: str) -> str:
        if not secret or self._aead is None:
            return secret
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), str(user_id).encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str, user_id: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        if self._aead is None:
            raise SecretUnreadable("a sealed webhook secret, and WEBHOOK_SECRET_KEY is not set")
        blob = base64.b64decode(stored[len(PREFIX) :])
        try:
            plain = self._aead.decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], str(user_id).encode()
            )
        except InvalidTag:
            raise SecretUnreadable("a webhook secret this WEBHOOK_SECRET_KEY cannot open") from None
        return plain.decode()
