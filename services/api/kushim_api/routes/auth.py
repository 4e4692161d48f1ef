"""POST /auth/register, /auth/login, /auth/logout and /auth/password."""

import grpc
from aiohttp import web
from kushim.graph.v1 import graph_pb2

from kushim_api import auth, bodies, keys, serialize
from kushim_api.clientaddr import client_address
from kushim_api.errors import Conflict, Forbidden, Unauthorized
from kushim_api.ratelimit import Limit, login_limits

routes = web.RouteTableDef()

def client_ip(request: web.Request) -> str:
    config = request.app[keys.CONFIG]
    return client_address(
        request.remote, request.headers.getall("X-Forwarded-For", ()),
        hops=config.trusted_proxy_hops, networks=config.trusted_proxy_networks,
    )


async def _email_taken(request: web.Request, email: str) -> bool:
    try:
        await request.app[keys.UPSTREAM].users.GetUserCredentials(
            graph_pb2.GetUserCredentialsRequest(email=email)
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise
    return True


@routes.post("/auth/register")
async def register(request: web.Request) -> web.Response:
    body = await bodies.read(request, bodies.RegisterInput)
    email, password, display_name = body.email, body.password, body.displayName
    config = request.app[keys.CONFIG]
    await request.app[keys.RATE_LIMITER].check(Limit(
        "register_ip", f"register:ip:{client_ip(request)}", config.register_rate_limit_per_ip,
        config.login_rate_limit_window_seconds,
    ))
    # A taken email is refused before the hash: argon2 memory is spent only on new accounts.
    # CreateUser still answers ALREADY_EXISTS for the race between two registrations.
    if await _email_taken(request, email):
        raise Conflict("an account with this email already exists")
    password_hash = await request.app[keys.PASSWORDS].hash(password)
    try:
        answer = await request.app[keys.UPSTREAM].users.CreateUser(graph_pb2.CreateUserRequest(
            email=email, password_hash=password_hash, display_name=display_name
        ))
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.ALREADY_EXISTS:
            raise Conflict("an account with this email already exists") from None
        raise
    token = request.app[keys.TOKENS].issue(answer.user.id, answer.user.token_version)
    return web.json_response({"user": serialize.user(answer.user), "token": token}, status=201)


async def _authenticate(request: web.Request, email: str, password: str) -> graph_pb2.User:
    """The account of these credentials, under the login rate limits; Unauthorized otherwise."""
    config = request.app[keys.CONFIG]
    limiter = request.app[keys.RATE_LIMITER]
    account, ip = login_limits(
        email, client_ip(request), per_account=config.login_rate_limit_per_account,
        per_ip=config.login_rate_limit_per_ip,
        window_seconds=config.login_rate_limit_window_seconds,
    )
    await limiter.check(ip)
    await limiter.check(account)
    stored_hash, user = None, None
    try:
        answer = await request.app[keys.UPSTREAM].users.GetUserCredentials(
            graph_pb2.GetUserCredentialsRequest(email=email)
        )
        stored_hash, user = answer.password_hash, answer.user
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:
            raise
    if not await request.app[keys.PASSWORDS].verify(stored_hash, password) or user is None:
        raise Unauthorized("invalid email or password")
    await limiter.reset(account)
    return user


def _token_answer(request: web.Request, user: graph_pb2.User) -> web.Response:
    tokens = request.app[keys.TOKENS]
    return web.json_response({
        "token": tokens.issue(user.id, user.token_version), "expiresIn": tokens.ttl_seconds,
        "userId": user.id,
    })


async def _revoke(request: web.Request, password_hash: str = "") -> graph_pb2.User:
    answer = await request.app[keys.UPSTREAM].users.RevokeTokens(graph_pb2.RevokeTokensRequest(
        user_id=auth.user_id(request), password_hash=password_hash
    ))
    request.app[keys.TOKEN_VERSIONS].revoked(answer.user.id, answer.user.token_version)
    request.app[keys.CACHES].forget_profile(answer.user.id)  # its updatedAt moved
    return answer.user


@routes.post("/auth/login")
async def login(request: web.Request) -> web.Response:
    body = await bodies.read(request, bodies.LoginInput)
    email = body.email.strip().lower()
    return _token_answer(request, await _authenticate(request, email, body.password))


@routes.post("/auth/logout")
async def logout(request: web.Request) -> web.Response:
    """Revokes every token of the caller (all sessions: tokens carry one version per user)."""
    await _revoke(request)
    return web.Response(status=204)


@routes.post("/auth/password")
async def change_password(request: web.Request) -> web.Response:
    """Replaces the password and revokes every earlier token; answers a fresh one."""
    body = await bodies.read(request, bodies.PasswordChange)
    current, new = body.currentPassword, body.newPassword
    me = await request.app[keys.UPSTREAM].users.GetUser(
        graph_pb2.GetUserRequest(user_id=auth.user_id(request))
    )
    try:
        await _authenticate(request, me.user.email, current)
    except Unauthorized:
        raise Forbidden("currentPassword is not this account's password") from None
    new_hash = await request.app[keys.PASSWORDS].hash(new)
    return _token_answer(request, await _revoke(request, new_hash))
