"""Passwords (argon2id), bearer tokens (JWT HS256) and the middleware that requires them."""

import asyncio
import time
import uuid

import jwt
from aiohttp import web
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from kushim_api import keys
from kushim_api.errors import Unauthorized

ISSUER = "kushim"
# /ui/ is the web page's static files; its API calls carry the token like any client's.
PUBLIC_PREFIXES = ("/health", "/metrics", "/auth/", "/webhooks/", "/openapi.json", "/ui/")

_PROFILES = {
    "rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106_high_memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


class Passwords:
    """argon2id hashing off the event loop; verification of unknown users costs the same."""

    def __init__(self, profile: str) -> None:
        self._hasher = PasswordHasher.from_parameters(_PROFILES[profile])
        self._dummy_hash = self._hasher.hash(uuid.uuid4().hex)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and bool(
                stored_hash
            )
        except (VerificationError, InvalidHashError):
            return False


class Tokens:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: str, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"sub": user_id, "iat": issued, "exp": issued + self.ttl_seconds, "iss": ISSUER}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> str:
        """The user id of a valid token; Unauthorized otherwise."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid token") from None
        subject = claims["sub"]
        try:
            return str(uuid.UUID(subject))
        except (ValueError, TypeError, AttributeError):
            raise Unauthorized("invalid token") from None


def is_public(request: web.Request) -> bool:
    path = request.path
    return path in ("/", "/ui", "/health", "/openapi.json", "/metrics") or path.startswith(
        PUBLIC_PREFIXES
    )


@web.middleware
async def auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    if request.match_info.http_exception is None and not is_public(request):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token")
        request[keys.USER_ID] = request.app[keys.TOKENS].verify(token.strip())
    return await handler(request)


def user_id(request: web.Request) -> str:
    return request[keys.USER_ID]
