"""python -m chaos.holder: a discovery lock holder that can be frozen between taking the lock
and writing, as a long GC pause or a stopped VM would freeze a graph instance.

It takes `relationship_discovery:{RECORD_ID}` through lockcache (LOCKCACHE_ADDR) for TTL_MS,
prints {"fencing_token": n}, then waits for a line on stdin before it runs graph's discovery
for the record with that token against DATABASE_URL. Its last line says what became of the
write: {"outcome": "stale"} when fenced out, {"outcome": "done", "links": n} when it landed,
or {"outcome": "no-lock"}."""

import asyncio
import json
import os
import sys
import uuid

from kushim_graph.db.pool import create_pool
from kushim_graph.errors import StaleFencingToken
from kushim_graph.lockcache import ACQUIRED, LockCacheClient
from kushim_graph.writes.discover import Discovery


def say(answer: dict) -> None:
    print(json.dumps(answer), flush=True)  # noqa: T201 - the parent reads these lines


async def hold(environ: dict[str, str]) -> None:
    record_id = environ["RECORD_ID"]
    ttl_ms = int(environ["TTL_MS"])
    lockcache = LockCacheClient(environ["LOCKCACHE_ADDR"])
    pool = await create_pool(environ["DATABASE_URL"], max_size=1)
    try:
        lock = await lockcache.acquire(f"relationship_discovery:{record_id}", ttl_ms)
        if lock.outcome != ACQUIRED:
            say({"outcome": "no-lock"})
            return
        say({"fencing_token": lock.fencing_token})
        await asyncio.to_thread(sys.stdin.readline)
        discovery = Discovery(pool, lockcache, threshold=0.7, max_candidates=100,
                              lock_ttl_ms=ttl_ms)
        try:
            async with pool.acquire() as conn:
                outcome = await discovery.discover(
                    conn, environ["USER_ID"], uuid.UUID(record_id), lock.fencing_token
                )
        except StaleFencingToken:
            say({"outcome": "stale"})
        else:
            say({"outcome": outcome.state, "links": len(outcome.links)})
    finally:
        await pool.close()
        await lockcache.close()


if __name__ == "__main__":
    asyncio.run(hold(dict(os.environ)))
