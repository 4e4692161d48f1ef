"""Data sources: a user's connected platforms. The webhook secret is never listed."""

import asyncpg

COLUMNS = (
    "id, user_id, platform, name, config, webhook_secret <> '' as has_webhook_secret, "
    "created_at, updated_at"
)

INSERT = f"""
insert into data_sources (user_id, platform, name, config, webhook_secret)
values ($1, $2, $3, $4, $5)
returning {COLUMNS}
"""
GET = f"select {COLUMNS} from data_sources where user_id = $1 and id = $2"
LIST = f"""
select {COLUMNS} from data_sources where user_id = $1
 order by created_at desc, id limit $2 offset $3
"""
COUNT = "select count(*) from data_sources where user_id = $1"
UPDATE = f"""
update data_sources
   set name = coalesce($3, name),
       webhook_secret = coalesce($4, webhook_secret),
       config = coalesce($5, config),
       updated_at = now()
 where user_id = $1 and id = $2
returning {COLUMNS}
"""
DELETE = "delete from data_sources where user_id = $1 and id = $2 returning id"
# What the foreign key's "on delete set null" would do, done first to learn which records.
DETACH_RECORDS = """
update records set data_source_id = null
 where user_id = $1 and data_source_id = $2
returning id
"""
# Webhooks carry no bearer token: looked up by id alone, answering the owner.
GET_SECRET = "select user_id, platform, webhook_secret from data_sources where id = $1"  # noqa: S105


async def create(conn: asyncpg.Connection, user_id, platform, name, config, secret):
    return await conn.fetchrow(INSERT, user_id, platform, name, config, secret)


async def get(conn: asyncpg.Connection, user_id: str, source_id: str):
    return await conn.fetchrow(GET, user_id, source_id)


async def list_page(conn: asyncpg.Connection, user_id: str, limit: int, offset: int):
    rows = await conn.fetch(LIST, user_id, limit, offset)
    return rows, await conn.fetchval(COUNT, user_id)


async def update(conn: asyncpg.Connection, user_id, source_id, name, secret, config):
    return await conn.fetchrow(UPDATE, user_id, source_id, name, secret, config)


async def delete(conn: asyncpg.Connection, user_id: str, source_id: str) -> list | None:
    """Deletes the source; answers the ids of the records that named it (None: no such
    source)."""
    detached = await conn.fetch(DETACH_RECORDS, user_id, source_id)
    if await conn.fetchval(DELETE, user_id, source_id) is None:
        return None
    return [row["id"] for row in detached]


async def get_secret(conn: asyncpg.Connection, source_id: str):
    return await conn.fetchrow(GET_SECRET, source_id)
