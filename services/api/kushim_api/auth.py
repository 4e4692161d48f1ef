"""Bearer tokens (JWT HS256 with a key id and a per-user version) and the middleware that
requires them.

Key rotation: tokens name their key in the `kid` header (a digest of the secret, never the secret).
AUTH_TOKEN_SECRET signs new tokens; AUTH_TOKEN_PREVIOUS_SECRETS still verify the tokens they
signed until those expire, so a rotation logs nobody out. Tokens without `kid` (issued before
key ids) are checked against the current secret only.

Revocation: a token carries the user's `token_version` (`ver`) at issue; logout and a password
change increment it in graph, and the middleware refuses a token older than the current version.
"""

import hashlib
import time
import uuid
from collections.abc import Sequence

import jwt
from aiohttp import web

from kushim_api import keys
from kushim_api.errors import Unauthorized

ISSUER = "kushim"
# /ui/ is the web page's static files; its API calls carry the token like any client's.
PUBLIC_PREFIXES = ("/health", "/metrics", "/auth/", "/webhooks/", "/openapi.json", "/ui/")
# Under /auth/ but about the caller's own session: a token is required.
AUTHENTICATED_AUTH_PATHS = frozenset({"/auth/logout", "/auth/password"})


def key_id(secret: str) -> str:
    return hashlib.sha256(b"kushim-token-key:" + secret.encode()).hexdigest()[:16]


class Tokens:
    def __init__(self, secret: str, ttl_seconds: int,
                 previous_secrets: Sequence[str] = ()) -> None:
        self._secret = secret
        self._kid = key_id(secret)
        self._keys = {key_id(s): s for s in (*previous_secrets, secret)}
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: str, version: int = 0, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"sub": user_id, "iat": issued, "exp": issued + self.ttl_seconds, "iss": ISSUER,
                  "ver": version}
        return jwt.encode(claims, self._secret, algorithm="HS256", headers={"kid": self._kid})

    def verify(self, token: str) -> tuple[str, int]:
        """(user id, token version) of a valid token; Unauthorized otherwise."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            secret = self._keys.get(kid) if kid is not None else self._secret
            if secret is None:
                raise Unauthorized("token signed by a retired key")
            claims = jwt.decode(
                token, secret, algorithms=["HS256"], issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid token") from None
        version = claims.get("ver", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise Unauthorized("invalid token")
        try:
            return str(uuid.UUID(claims["sub"])), version
        except (ValueError, TypeError, AttributeError):
            raise Unauthorized("invalid token") from None


def is_public(request: web.Request) -> bool:
    path = request.path
    if path in AUTHENTICATED_AUTH_PATHS:
        return False
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
        user, version = request.app[keys.TOKENS].verify(token.strip())
        await request.app[keys.TOKEN_VERSIONS].check(user, version)
        request[keys.USER_ID] = user
    return await handler(request)


def user_id(request: web.Request) -> str:
    return request[keys.USER_ID]
