"""Users: email unique case-insensitively; the password hash is only read for login."""

import asyncpg

COLUMNS = "user_id, email, display_name, settings, created_at, updated_at, token_version"

INSERT = f"""
insert into users (email, password_hash, display_name)
values ($1, $2, $3)
on conflict (lower(email)) do nothing
returning {COLUMNS}
"""
GET = f"select {COLUMNS} from users where user_id = $1"
GET_CREDENTIALS = f"select {COLUMNS}, password_hash from users where lower(email) = lower($1)"
UPDATE = f"""
update users
   set display_name = coalesce($2, display_name),
       settings = coalesce($3, settings),
       updated_at = now()
 where user_id = $1
returning {COLUMNS}
"""
EXISTS = "select 1 from users where user_id = $1"
REVOKE_TOKENS = f"""
update users
   set token_version = token_version + 1,
       password_hash = coalesce($2, password_hash),
       updated_at = now()
 where user_id = $1
returning {COLUMNS}
"""


async def create(conn: asyncpg.Connection, email: str, password_hash: str, display_name: str):
    """The new user, or None when the email is taken."""
    return await conn.fetchrow(INSERT, email, password_hash, display_name)


async def get(conn: asyncpg.Connection, user_id: str):
    return await conn.fetchrow(GET, user_id)


async def get_credentials(conn: asyncpg.Connection, email: str):
    return await conn.fetchrow(GET_CREDENTIALS, email)


async def update(conn: asyncpg.Connection, user_id: str, display_name: str | None, settings):
    return await conn.fetchrow(UPDATE, user_id, display_name, settings)


async def revoke_tokens(conn: asyncpg.Connection, user_id: str, password_hash: str | None):
    return await conn.fetchrow(REVOKE_TOKENS, user_id, password_hash)


async def exists(conn: asyncpg.Connection, user_id: str) -> bool:
    return await conn.fetchval(EXISTS, user_id) is not None
