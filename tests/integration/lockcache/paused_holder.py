"""python paused_holder.py: a lock holder for the client package's paused-holder test.

Holds RESOURCE through lockcache (LOCKCACHE_ADDR) with `client.hold`, prints
{"fencing_token": n}, then waits for a line on stdin (the test freezes the process in
between). Then it writes with its fencing token into the SQLite table at DB_PATH, the
way storage fences writers, and prints {"write": "stored"|"refused", "lost": reason|null}.
"""

import asyncio
import contextlib
import json
import os
import sqlite3
import sys

from kushim_lockcache_client import LockCacheClient, LockLost


def say(answer: dict) -> None:
    print(json.dumps(answer), flush=True)  # noqa: T201 - the parent reads these lines


def fenced_write(db_path: str, resource: str, token: int, value: str) -> bool:
    with contextlib.closing(sqlite3.connect(db_path)) as db, db:
        written = db.execute(
            "UPDATE invoices SET value = ?, fence = ? WHERE id = ? AND fence < ?",
            (value, token, resource, token),
        )
        return written.rowcount == 1


async def main(environ: dict[str, str]) -> None:
    resource = environ["RESOURCE"]
    stored = None
    async with LockCacheClient(environ["LOCKCACHE_ADDR"]) as client:
        try:
            async with client.hold(resource, ttl=0.6, cancel_on_loss=False) as held:
                say({"fencing_token": held.fencing_token})
                await asyncio.to_thread(sys.stdin.readline)
                # Woken after the pause: a stale holder writes before it learns of the loss.
                stored = fenced_write(environ["DB_PATH"], resource, held.fencing_token, "late")
                await held.lost.wait()
        except LockLost as exc:
            say({"write": "stored" if stored else "refused", "lost": exc.reason})
            return
    say({"write": "stored" if stored else "refused", "lost": None})


if __name__ == "__main__":
    asyncio.run(main(dict(os.environ)))
