"""The per-user limit on stored records (MAX_RECORDS_PER_USER).

A request that would store more new records than the user has left is refused whole, before
anything is written, with a message naming the limit; updates of stored records always pass.
The count is the user's document count that ingest keeps anyway (term_df's '' row), one indexed
read. Concurrent requests of one user each see the count before the others commit, so the
limit can be passed by at most what they add together (one batch is at most 500 records).
"""

import asyncpg

from kushim_graph.db import records
from kushim_graph.errors import FailedPrecondition


class RecordQuotaExceeded(FailedPrecondition):
    """Refused: the user's stored records would pass MAX_RECORDS_PER_USER."""


async def check_new_records(conn: asyncpg.Connection, user_id: str, new: int, limit: int) -> None:
    """Raises RecordQuotaExceeded when `new` more records would pass `limit` (0: no limit)."""
    if limit <= 0 or new <= 0:
        return
    _, stored = await records.document_frequencies(conn, user_id, [])
    if stored + new > limit:
        raise RecordQuotaExceeded(
            f"record quota exceeded: {stored} records stored, {new} new in this request; "
            f"the limit is {limit} records per user (MAX_RECORDS_PER_USER)"
        )
