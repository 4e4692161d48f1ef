"""The asyncpg pool: jsonb travels as Python objects."""

import json

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog", format="text"
    )


async def create_pool(database_url: str, *, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        database_url,
        min_size=0,
        max_size=max_size,
        init=_init_connection,
        command_timeout=30,
    )


async def connect(database_url: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool's (tools and tests)."""
    conn = await asyncpg.connect(database_url)
    await _init_connection(conn)
    return conn


async def schema_migrated(conn: asyncpg.Connection) -> None:
    """Raises until the schema's migrations table exists."""
    await conn.fetchval("select 1 from schema_migrations limit 1")
