"""Concurrent requests of one user share discovery transactions.

Webhook bursts are many single-record requests of one user, and one user's discoveries
serialize on its group lock anyway: discovered one by one, each pays its own lock round trips
and commit while the others wait. Here, while a batch of a user's records is discovered, the
records of the requests arriving meanwhile gather, and go together in the next batch, with
the earliest of their deadlines. The batch runs in a task of its own, so a request that gives
up (its caller's deadline) does not stop the others' discovery.
"""

import asyncio
from dataclasses import dataclass, field

from kushim_graph.writes.discover import Discovery


@dataclass
class _Waiting:
    record_ids: list
    until: float | None
    answer: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Coalescer:
    def __init__(self, discovery: Discovery) -> None:
        self.discovery = discovery
        self._waiting: dict[str, list[_Waiting]] = {}
        self._tasks: set[asyncio.Task] = set()

    async def run_batch(self, user_id: str, record_ids, *, until: float | None = None) -> dict:
        """As Discovery.run_batch, for these records, possibly with other requests' ones."""
        waiting = _Waiting(list(record_ids), until)
        queue = self._waiting.get(user_id)
        if queue is None:
            self._waiting[user_id] = [waiting]
            task = asyncio.create_task(self._drain(user_id), name=f"discovery:{user_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            queue.append(waiting)
        return await asyncio.shield(waiting.answer)

    async def _drain(self, user_id: str) -> None:
        queue = self._waiting[user_id]
        try:
            while queue:
                batch = list(queue)
                queue.clear()
                untils = [w.until for w in batch if w.until is not None]
                ids = [record_id for w in batch for record_id in w.record_ids]
                try:
                    outcomes = await self.discovery.run_batch(
                        user_id, ids, until=min(untils) if untils else None
                    )
                except Exception as exc:  # noqa: BLE001 - every waiting request gets it
                    for w in batch:
                        w.answer.set_exception(exc)
                    continue
                for w in batch:
                    w.answer.set_result(
                        {r: outcomes[r] for r in w.record_ids if r in outcomes}
                    )
        finally:
            del self._waiting[user_id]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            await asyncio.gather(task, return_exceptions=True)
