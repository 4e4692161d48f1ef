"""Bearer tokens (JWT HS256) and the middleware that requires them."""

import time
import uuid

import jwt
from aiohttp import web

from kushim_api import keys
from kushim_api.errors import Unauthorized

ISSUER = "kushim"
PUBLIC_PREFIXES = ("/health", "/metrics", "/auth/", "/webhooks/", "/openapi.json")

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
    return path in ("/health", "/openapi.json", "/metrics") or path.startswith(PUBLIC_PREFIXES)


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
