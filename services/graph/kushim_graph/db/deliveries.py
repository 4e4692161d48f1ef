"""Webhook deliveries already claimed, so a redelivery stores nothing twice."""

import asyncpg

CLAIM = """
insert into webhook_deliveries (user_id, data_source_id, delivery_id)
select user_id, id, $3 from data_sources where user_id = $1 and id = $2
on conflict do nothing
returning delivery_id
"""
SOURCE_EXISTS = "select 1 from data_sources where user_id = $1 and id = $2"


async def claim(conn: asyncpg.Connection, user_id: str, source_id: str, delivery_id: str):
    """True the first time, False on a repeat, None when the data source is not the user's."""
    if await conn.fetchval(CLAIM, user_id, source_id, delivery_id) is not None:
        return True
    if await conn.fetchval(SOURCE_EXISTS, user_id, source_id) is None:
        return None
    return False
