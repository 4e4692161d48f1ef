"""The one fencing rule of discovery, for both of its paths.

Every discovery write is one transaction that first takes the record's PostgreSQL advisory
lock, so the writers of one record are serialized with or without lockcache, and then
advances the record's stored fencing token:
- under a lockcache lock, to the lock's token, refused unless that token is newer than the
  stored one and the token is younger than its age limit;
- without lockcache (Redis down, the fallback path), to the stored token + 1.
A run whose token is not newer than the stored one rolls back: a newer run of either path
has written since it was issued.

The stored token is the durable high-water mark. The next acquisition passes it to lockcache
as the floor of the resource's counter, so tokens from Redis stay above every token accepted
here, fallback ones included, and lockcache's counters may expire (see lockcache's
fencing.py). A token is accepted for at most half of its counter's TTL, measured on
PostgreSQL's clock from before the acquisition: once a counter can have expired and restarted
from the floor, no write with a token it issued can still land.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from kushim_graph.errors import StaleFencingToken

READ_FLOOR = """
select fencing_token, clock_timestamp() as now from records where user_id = $1 and id = $2
"""
LOCK_RECORD = "select pg_advisory_xact_lock(hashtextextended('discovery:' || $1::uuid::text, 0))"
# $4 null: the fallback path, which advances the stored token by one. Otherwise $4 is accepted
# only if newer than every token that wrote this record before, and before $5. The record is
# done unless it changed again meanwhile (then its next discovery is still due).
ADVANCE_AND_MARK_DONE = """
update records
   set fencing_token = coalesce($4::bigint, fencing_token + 1),
       discovery_state = case when checksum = $3 then 'done' else discovery_state end
 where user_id = $1 and id = $2
   and ($4::bigint is null
        or (fencing_token < $4::bigint
            and clock_timestamp() < coalesce($5::timestamptz, 'infinity'::timestamptz)))
returning id
"""
STORED_TOKEN = "select fencing_token from records where user_id = $1 and id = $2"  # noqa: S105


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


async def read_floor(conn, user_id: str, record_id) -> Floor | None:
    """None when the record does not exist."""
    row = await conn.fetchrow(READ_FLOOR, user_id, record_id)
    return None if row is None else Floor(row["fencing_token"], row["now"])


async def lock_record(conn, record_id) -> None:
    """Serializes the discovery writers of one record until the transaction ends."""
    await conn.execute(LOCK_RECORD, record_id)


async def advance(
    conn, user_id: str, record_id, checksum: str, token: int | None,
    accept_until: datetime | None = None,
) -> None:
    """Applies the rule above inside the writing transaction, after `lock_record`;
    raises StaleFencingToken when the token is refused."""
    updated = await conn.fetchval(
        ADVANCE_AND_MARK_DONE, user_id, record_id, checksum, token, accept_until
    )
    if updated is None and token is not None:
        stored = await conn.fetchval(STORED_TOKEN, user_id, record_id)
        raise StaleFencingToken(record_id, token, stored or 0, expired=(stored or 0) < token)
