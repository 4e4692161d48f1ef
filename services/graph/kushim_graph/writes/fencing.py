"""The one fencing rule of discovery, for both of its paths.

Every discovery write is one transaction that first takes the record's PostgreSQL advisory
lock, so the writers of one record are serialized with or without lockcache, and then
advances the record's stored fencing token:
- under a lockcache lock, to the lock's token, refused unless that token is newer than the
  stored one and the token is younger than its age limit;
- without lockcache (Redis down, the fallback path), to the stored token + 1.
A record whose token is refused (a newer run of either path has written since it was issued,
or the token is past its age limit) has its result discarded; the other records written in
the same transaction go on.

The stored token is the durable high-water mark. The next acquisition passes it to lockcache
as the floor of the resource's counter, so tokens from Redis stay above every token accepted
here, fallback ones included, and lockcache's counters may expire (see lockcache's
fencing.py). A token is accepted for at most half of its counter's TTL, measured on
PostgreSQL's clock from before the acquisition: once a counter can have expired and restarted
from the floor, no write with a token it issued can still land.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from kushim_graph.db import fencing as db_fencing


@dataclass(frozen=True)
class Floor:
    """A record's stored token and PostgreSQL's clock, read before acquiring its lock."""

    token: int
    read_at: datetime

    def accept_until(self, fencing_ttl_ms: int) -> datetime | None:
        """When a token issued after this read stops being accepted (None: never; a
        lockcache whose counters do not expire answers no ttl)."""
        if fencing_ttl_ms <= 0:
            return None
        return self.read_at + timedelta(milliseconds=fencing_ttl_ms / 2)


@dataclass(frozen=True)
class Refusal:
    """A record whose token was refused: the token stored, and whether the token was
    refused for its age rather than for being older."""

    stored: int
    expired: bool


async def read_floors(conn, user_id: str, record_ids) -> dict:
    """Record id -> Floor, for the records that exist."""
    rows = await db_fencing.read_floors(conn, user_id, record_ids)
    return {row["id"]: Floor(row["fencing_token"] or 0, row["now"]) for row in rows}


async def read_floor(conn, user_id: str, record_id) -> Floor | None:
    """None when the record does not exist."""
    return (await read_floors(conn, user_id, [record_id])).get(record_id)


async def lock_records(conn, record_ids) -> None:
    """Serializes the discovery writers of each record until the transaction ends."""
    await db_fencing.lock_records(conn, record_ids)


async def lock_record(conn, record_id) -> None:
    await lock_records(conn, [record_id])


async def advance(
    conn, user_id: str, checksums: dict, tokens: dict, accept_until: dict | None = None
) -> dict:
    """Applies the rule above to every record of `checksums` (id -> checksum) inside the
    writing transaction, after `lock_records`. `tokens`: id -> lockcache fencing token, None
    on the fallback path; `accept_until`: id -> the token's age limit. Answers the refused
    records, id -> Refusal; the others are advanced and marked done."""
    ids = list(checksums)
    if not ids:
        return {}
    limits = accept_until or {}
    accepted = await db_fencing.advance_and_mark_done(
        conn, user_id, ids, [checksums[r] for r in ids], [tokens.get(r) for r in ids],
        [limits.get(r) for r in ids],
    )
    refused = [r for r in ids if r not in accepted]
    if not refused:
        return {}
    stored = await db_fencing.stored_tokens(conn, user_id, refused)
    return {
        r: Refusal(stored.get(r, 0), expired=stored.get(r, 0) < (tokens.get(r) or 0))
        for r in refused
    }
