"""Storing records: insert or update by identity, with the rows discovery looks candidates up by.

Records posted through the API are written as a batch: the new ones (an import's usual case)
in one transaction, by pipelined inserts and set-based index rows; a changed or repeated one
in a transaction of its own, so a failing one undoes none of the others. A webhook delivery's
records are written in one transaction with the delivery's claim. Relationship discovery runs
afterwards.

The stored version of a record is the one with the latest `timestamp` (its own time: an
issue's last update, a comment's edit). An older version arriving late, a webhook retried out
of order or an import replaying an old snapshot, is acknowledged as stale and not written: no
outbox row, no rediscovery. POST /records keeps the newer version too: webhooks and importers
posting records write the same identities, and one rule keeps either from undoing the
other's newer version (a client that must put an older version back deletes the record
first). Equal timestamps: the last writer wins, since some edits keep the original time (a
Slack message edit keeps the message's `ts`) and the later arrival is then the better guess.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

import asyncpg

from kushim_graph import quota
from kushim_graph.contexts import invalidate
from kushim_graph.db import datasources, deliveries, groups, links, outbox, records
from kushim_graph.discovery.derive import derive, df_delta, keywords
from kushim_graph.errors import InvalidInput, NotFound
from kushim_graph.validation import CleanRecord

log = logging.getLogger(__name__)

_RETRIES = 3
# Records derived (tokenized, references extracted) between two yields to the event loop.
YIELD_EVERY = 50
_RETRIABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)


@dataclass(frozen=True)
class Stored:
    row: asyncpg.Record
    created: bool
    changed: bool
    stale: bool = False


@dataclass(frozen=True)
class Delivery:
    """A webhook delivery: its records are stored once per (data source, delivery id)."""

    data_source_id: str
    delivery_id: str


# What became of one record of a request: stored (or kept), or rejected.
Outcome = Stored | InvalidInput


class _Raced(Exception):
    """Another transaction inserted the same identity first; look again."""


async def store_batch(conn: asyncpg.Connection, user_id: str,
                      items: Sequence[CleanRecord | InvalidInput],
                      owed: list[invalidate.Owed], max_records: int = 0) -> list[Outcome]:
    """The outcomes of storing each record in a transaction of its own, item for item (a
    failing one undoes none of the others): the first version of each identity
    not stored yet is inserted with the others in one transaction; the rest (changed records,
    an identity repeated in the batch, one another writer inserted first) one by one after.
    The invalidations of every transaction are appended to `owed`."""
    outcomes: list = list(items)
    first: dict = {}
    one_by_one = []
    for index, item in enumerate(items):
        if isinstance(item, InvalidInput):
            continue
        identity = (item.source_platform, item.external_id)
        if identity in first:
            one_by_one.append(index)
        else:
            first[identity] = index
    current = await records.by_identities(conn, user_id, list(first))
    new = []
    for identity, index in first.items():
        if identity not in current:
            new.append(index)
            continue
        kept = kept_version(current[identity], items[index])
        if kept is None:
            one_by_one.append(index)
        else:
            outcomes[index] = kept
    await quota.check_new_records(conn, user_id, len(new), max_records)
    if new:
        stored = await _retrying(
            lambda: _insert_new(conn, user_id, [items[i] for i in new], owed),
            f"{len(new)} records",
        )
        for index, outcome in zip(new, stored, strict=True):
            if outcome is None:
                one_by_one.append(index)  # raced: look again
            else:
                outcomes[index] = outcome
    for index in sorted(one_by_one):
        outcomes[index] = await _attempt(store, conn, user_id, items[index], owed)
    return outcomes


async def _insert_new(conn: asyncpg.Connection, user_id: str, cleans: list[CleanRecord],
                      owed: list[invalidate.Owed]) -> list[Outcome | None]:
    """New records in one transaction, keyword choice and DFs as if inserted in order."""
    answers: list = [None] * len(cleans)
    derived_all = []
    for n, clean in enumerate(cleans):
        derived_all.append(derive(clean))
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)  # CPU work: let the other requests of the process move on
    async with conn.transaction():
        sources = {c.data_source_id for c in cleans if c.data_source_id}
        unknown = {s for s in sources if await datasources.get(conn, user_id, s) is None}
        chosen = []
        for n, clean in enumerate(cleans):
            if clean.data_source_id in unknown:
                answers[n] = InvalidInput(
                    "data_source_id", f"data source {clean.data_source_id} not found"
                )
            else:
                chosen.append((n, uuid.uuid4(), clean, derived_all[n]))
        # Identities in one order, so concurrent batches wait on each other, never deadlock.
        chosen.sort(key=lambda c: (c[2].source_platform, c[2].external_id))
        rows = await records.insert_many(conn, user_id, [c[1:] for c in chosen])
        terms = sorted({t for *_, derived in chosen for t in derived.term_freqs})
        df, n_docs = await records.document_frequencies(conn, user_id, terms)
        index_rows, delta = [], {}
        for n, record_id, clean, derived in sorted(chosen, key=lambda c: c[0]):
            if record_id not in rows:
                continue
            n_docs += 1
            words = keywords(derived.term_freqs, df, n_docs)
            for term, change in df_delta(None, derived.term_freqs).items():
                delta[term] = delta.get(term, 0) + change
                if term:
                    df[term] = df.get(term, 0) + change
            index_rows.append((record_id, clean.occurred_at, *records.index_rows(derived, words)))
            answers[n] = Stored(rows[record_id], True, True)
        await records.insert_index_rows_many(conn, user_id, index_rows)
        await records.apply_df_delta(conn, user_id, delta)
        await outbox.add(conn, user_id, "record", list(rows))
        inserted = [c for _, record_id, c, _ in chosen if record_id in rows]
        owed.append(await invalidate.record_stored(
            conn, user_id, list(rows), [c.data_source_id for c in inserted if c.data_source_id]
        ))
    return answers


async def store_delivery(conn: asyncpg.Connection, user_id: str, delivery: Delivery,
                         items: Sequence[CleanRecord | InvalidInput],
                         owed: list[invalidate.Owed],
                         max_records: int = 0) -> list[Outcome] | None:
    """A delivery's records with its claim in one transaction, so both commit or neither and a
    failed delivery is stored when it comes again. None: it was stored before, nothing written."""

    async def once() -> list[Outcome] | None:
        async with conn.transaction():
            first = await deliveries.claim(
                conn, user_id, delivery.data_source_id, delivery.delivery_id
            )
            if first is None:
                raise NotFound(f"data source {delivery.data_source_id} not found")
            if not first:
                return None
            identities = {
                (item.source_platform, item.external_id)
                for item in items
                if not isinstance(item, InvalidInput)
            }
            stored = await records.by_identities(conn, user_id, list(identities))
            await quota.check_new_records(
                conn, user_id, len(identities - stored.keys()), max_records
            )
            # Each record in a savepoint: a rejected one leaves the others and the claim.
            return [await _attempt(_write, conn, user_id, item, owed) for item in items]

    return await _retrying(once, f"delivery {delivery.delivery_id}")


async def store(conn: asyncpg.Connection, user_id: str, clean: CleanRecord,
                owed: list[invalidate.Owed]) -> Stored:
    # An unchanged or older record (a redelivered webhook, a re-run import) costs one read.
    kept = kept_version(
        await records.by_identity(conn, user_id, clean.source_platform, clean.external_id), clean
    )
    if kept is not None:
        return kept
    return await _retrying(lambda: _write(conn, user_id, clean, owed), clean.external_id)


def kept_version(current, clean: CleanRecord) -> Stored | None:
    """The stored version stays when it has the same content or a later timestamp."""
    if current is None:
        return None
    if current["checksum"] == clean.checksum:
        return Stored(current, False, False)
    if current["occurred_at"] > clean.occurred_at:
        return Stored(current, False, False, stale=True)
    return None  # newer, or the same time with other content: the last writer wins


async def _attempt(write: Callable[..., Awaitable[Stored]], conn: asyncpg.Connection,
                   user_id: str, item: CleanRecord | InvalidInput,
                   owed: list[invalidate.Owed]) -> Outcome:
    if isinstance(item, InvalidInput):
        return item
    try:
        return await write(conn, user_id, item, owed)
    except InvalidInput as exc:
        return exc


async def _retrying(attempt: Callable[[], Awaitable], what: str):
    """Runs a whole transaction again when PostgreSQL chose it as a deadlock victim."""
    retried = 0
    while True:
        try:
            return await attempt()
        except _RETRIABLE:
            retried += 1
            if retried > _RETRIES:
                raise
            log.info("Retrying ingestion of %s after a lock conflict", what)


async def _write(conn: asyncpg.Connection, user_id: str, clean: CleanRecord,
                 owed: list[invalidate.Owed]) -> Stored:
    """One record in a transaction, or in a savepoint of the caller's transaction."""
    derived = derive(clean)
    for _ in range(_RETRIES + 1):
        try:
            async with conn.transaction():
                return await _store_once(conn, user_id, clean, derived, owed)
        except _Raced:
            continue
    raise RuntimeError(f"record {clean.external_id} kept racing with concurrent writers")


async def _store_once(conn, user_id: str, clean: CleanRecord, derived,
                      owed: list[invalidate.Owed]) -> Stored:
    existing = await records.lock_by_identity(
        conn, user_id, clean.source_platform, clean.external_id
    )
    kept = kept_version(existing, clean)
    if kept is not None:
        return replace(kept, row=await records.get(conn, user_id, existing["id"]))
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
    # A record moved to another data source leaves the old one's data too.
    sources = {clean.data_source_id, existing and existing["data_source_id"]} - {None, ""}
    owed.append(await invalidate.record_stored(conn, user_id, [row["id"]], sources))
    return Stored(row, existing is None, True)


async def delete(conn: asyncpg.Connection, user_id: str, record_id: str) -> invalidate.Owed:
    """Removes a record with its links and membership; answers what it invalidates."""
    async with conn.transaction():
        row = await records.lock_for_delete(conn, user_id, record_id)
        if row is None:
            raise NotFound(f"record {record_id} not found")
        owed = await invalidate.record_deleted(conn, user_id, record_id, row["data_source_id"])
        link_ids = [link_id for link_id, _ in await links.ends_of_record(conn, user_id, record_id)]
        grouped = await groups.groups_of(conn, user_id, [record_id])
        await records.delete(conn, user_id, record_id)
        await records.apply_df_delta(conn, user_id, df_delta(row["term_freqs"], None))
        named = {"record": [record_id], "link": link_ids}
        for group_id, _ in grouped.values():  # one group at most
            await groups.touch(conn, user_id, group_id)
            named["group"] = [group_id]
        await outbox.add_many(conn, user_id, named)
        return owed
