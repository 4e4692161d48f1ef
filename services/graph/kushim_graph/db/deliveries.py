"""Webhook deliveries already stored, so a redelivery stores nothing twice.

A claim is written in the transaction that stores the delivery's records (writes/store.py), so it
exists exactly when they committed.
"""

import asyncpg

# Waits for a concurrent transaction claiming the same delivery: once that one commits this
# answers no row (a duplicate), once it rolls back this one claims.
CLAIM = """
insert into webhook_deliveries (user_id, data_source_id, delivery_id)
select user_id, id, $3 from data_sources where user_id = $1 and id = $2
on conflict do nothing
returning delivery_id
"""
SOURCE_EXISTS = "select 1 from data_sources where user_id = $1 and id = $2"
# Claims past the retention, oldest first, a bounded batch per statement. Senders come again
# within days at most (Slack and Jira retry within hours, GitHub redelivers on request for
# 3 days); a delivery arriving after its claim expired is stored again, which the upsert
# makes harmless (same content: unchanged; older than the stored version: stale).
EXPIRE = """
delete from webhook_deliveries d
 using (select user_id, data_source_id, delivery_id from webhook_deliveries
         where claimed_at < now() - make_interval(secs => $1)
         order by claimed_at
         limit $2
         for update skip locked) old
 where d.user_id = old.user_id and d.data_source_id = old.data_source_id
   and d.delivery_id = old.delivery_id
"""


async def claim(conn: asyncpg.Connection, user_id: str, source_id: str, delivery_id: str):
    """True the first time, False on a repeat, None when the data source is not the user's."""
    if await conn.fetchval(CLAIM, user_id, source_id, delivery_id) is not None:
        return True
    if await conn.fetchval(SOURCE_EXISTS, user_id, source_id) is None:
        return None
    return False


async def expire(conn: asyncpg.Connection, older_than_s: float, batch: int) -> int:
    """Deletes up to `batch` claims older than `older_than_s`; answers how many."""
    status = await conn.execute(EXPIRE, older_than_s, batch)
    return int(status.split()[-1])
