"""UserService: accounts. Passwords arrive hashed by the api; the hash is only read for login."""

import asyncpg
from kushim.graph.v1 import graph_pb2, graph_pb2_grpc

from kushim_graph import messages
from kushim_graph.contexts import invalidate
from kushim_graph.db import users
from kushim_graph.errors import AlreadyExists, InvalidInput, NotFound
from kushim_graph.rpc.base import Deps, rpc, user_id_of
from kushim_graph.validation import clean_text, parse_json_object

MAX_EMAIL = 320
MAX_DISPLAY_NAME = 200


def _email(value: str) -> str:
    email = value.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or len(email) > MAX_EMAIL:
        raise InvalidInput("email", "email must look like name@example.com")
    if any(c.isspace() or ord(c) < 32 for c in email):
        raise InvalidInput("email", "email must not contain spaces or control characters")
    return email


def _display_name(value: str) -> str:
    name = " ".join(clean_text(value).split())
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidInput("display_name", f"display_name is longer than {MAX_DISPLAY_NAME}")
    return name


class UserServicer(graph_pb2_grpc.UserServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def _profile_changed(self, user_id: str, write) -> graph_pb2.UserResponse:
        """write(conn): the user's row after the change (its profile shows updated_at)."""
        async with self.deps.pool.acquire() as conn, conn.transaction():
            row = await write(conn)
            if row is None:
                raise NotFound(f"user {user_id} not found")
            owed = await invalidate.profile_changed(conn, user_id)
        await self.deps.invalidator.send(owed)
        return graph_pb2.UserResponse(user=messages.user(row))

    @rpc
    async def CreateUser(self, request, context):
        email = _email(request.email)
        if not request.password_hash:
            raise InvalidInput("password_hash", "password_hash is required")
        async with self.deps.pool.acquire() as conn:
            try:
                row = await users.create(
                    conn, email, request.password_hash, _display_name(request.display_name)
                )
            except asyncpg.UniqueViolationError:
                row = None
        if row is None:
            raise AlreadyExists("email already registered")
        return graph_pb2.UserResponse(user=messages.user(row))

    @rpc
    async def GetUserCredentials(self, request, context):
        async with self.deps.pool.acquire() as conn:
            row = await users.get_credentials(conn, request.email.strip())
        if row is None:
            raise NotFound("user not found")
        return graph_pb2.GetUserCredentialsResponse(
            user=messages.user(row), password_hash=row["password_hash"]
        )

    @rpc
    async def GetUser(self, request, context):
        user_id = user_id_of(request)
        async with self.deps.pool.acquire() as conn:
            row = await users.get(conn, user_id)
        if row is None:
            raise NotFound(f"user {user_id} not found")
        return graph_pb2.UserResponse(user=messages.user(row))

    @rpc
    async def UpdateUser(self, request, context):
        user_id = user_id_of(request)
        name = _display_name(request.display_name) if request.HasField("display_name") else None
        settings = (
            parse_json_object("settings_json", request.settings_json)
            if request.HasField("settings_json")
            else None
        )
        return await self._profile_changed(
            user_id, lambda conn: users.update(conn, user_id, name, settings)
        )

    @rpc
    async def RevokeTokens(self, request, context):
        user_id = user_id_of(request)
        return await self._profile_changed(
            user_id, lambda conn: users.revoke_tokens(conn, user_id, request.password_hash or None)
        )
