"""Storing records: insert or update by identity, with the rows discovery looks candidates up by.

Each record is written in its own transaction; relationship discovery runs afterwards.
"""

import logging
from dataclasses import dataclass

import asyncpg

from kushim_graph.db import datasources, outbox, records
from kushim_graph.discovery.derive import derive, df_delta, keywords
from kushim_graph.errors import InvalidInput, NotFound
from kushim_graph.validation import CleanRecord

log = logging.getLogger(__name__)

_RETRIES = 3
_RETRIABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


@dataclass(frozen=True)
class Stored:
    row: asyncpg.Record
    created: bool
    changed: bool


class _Raced(Exception):
    """Another transaction inserted the same identity first; look again."""


async def store(conn: asyncpg.Connection, user_id: str, clean: CleanRecord) -> Stored:
    # An unchanged record (a redelivered webhook, a re-run import) costs one read, no write.
    current = await records.by_identity(conn, user_id, clean.source_platform, clean.external_id)
    if current is not None and current["checksum"] == clean.checksum:
        return Stored(current, False, False)
    derived = derive(clean)
    for attempt in range(1, _RETRIES + 2):
        try:
            async with conn.transaction():
                return await _store_once(conn, user_id, clean, derived)
        except _Raced:
            continue
        except _RETRIABLE:
            if attempt > _RETRIES:
                raise
            log.info("Retrying ingestion of %s after a lock conflict", clean.external_id)
    raise RuntimeError(f"record {clean.external_id} kept racing with concurrent writers")


async def _store_once(conn, user_id: str, clean: CleanRecord, derived) -> Stored:
    existing = await records.lock_by_identity(
        conn, user_id, clean.source_platform, clean.external_id
    )
    if existing is not None and existing["checksum"] == clean.checksum:
        return Stored(await records.get(conn, user_id, existing["id"]), False, False)
    if clean.data_source_id and await datasources.get(conn, user_id, clean.data_source_id) is None:
        raise InvalidInput("data_source_id", f"data source {clean.data_source_id} not found")
    df, n_docs = await records.document_frequencies(conn, user_id, derived.term_freqs)
    if existing is None:
        row = await records.insert(conn, user_id, clean, derived)
        if row is None:
            raise _Raced
        delta = df_delta(None, derived.term_freqs)
    else:
        row = await records.update(conn, user_id, existing["id"], clean, derived)
        delta = df_delta(existing["term_freqs"], derived.term_freqs)
    chosen = keywords(derived.term_freqs, df, n_docs + (existing is None))
    await records.replace_index_rows(
        conn, user_id, row["id"], clean.occurred_at, derived, chosen, new=existing is None
    )
    await records.apply_df_delta(conn, user_id, delta)
    await outbox.add(conn, user_id, "record", [row["id"]])
    return Stored(row, existing is None, True)


DELETE_LOCK = """
select id, term_freqs, data_source_id from records where user_id = $1 and id = $2 for update
"""
RECORD_LINKS = """
select id from links where user_id = $1 and (source_record_id = $2 or target_record_id = $2)
"""
RECORD_GROUP = "select group_id from group_members where user_id = $1 and record_id = $2"
TOUCH_GROUP = "update context_groups set updated_at = now() where user_id = $1 and id = $2"


async def delete(conn: asyncpg.Connection, user_id: str, record_id: str):
    """Removes a record with its links and membership; answers its data source id."""
    async with conn.transaction():
        row = await conn.fetchrow(DELETE_LOCK, user_id, record_id)
        if row is None:
            raise NotFound(f"record {record_id} not found")
        link_ids = [r["id"] for r in await conn.fetch(RECORD_LINKS, user_id, record_id)]
        group_id = await conn.fetchval(RECORD_GROUP, user_id, record_id)
        await records.delete(conn, user_id, record_id)
        await records.apply_df_delta(conn, user_id, df_delta(row["term_freqs"], None))
        named = {"record": [record_id], "link": link_ids}
        if group_id is not None:
            await conn.execute(TOUCH_GROUP, user_id, group_id)
            named["group"] = [group_id]
        await outbox.add_many(conn, user_id, named)
        return row["data_source_id"]
