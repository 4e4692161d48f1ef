"""The semantic worker outlives a PostgreSQL error: it logs it, backs off and goes on."""

import asyncio
import contextlib
import logging

from kushim_graph.semantic.worker import SemanticWorker


class FlakyPool:
    """The first acquire fails as a lost server does; later ones find nothing to embed."""

    def __init__(self) -> None:
        self.acquired = 0
        self.second = asyncio.Event()

    def acquire(self):
        self.acquired += 1
        if self.acquired >= 2:
            self.second.set()
        return self

    async def __aenter__(self):
        if self.acquired == 1:
            raise OSError("connection refused")
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    async def fetch(self, query, *args):
        return []


async def test_a_postgres_error_is_logged_and_the_loop_goes_on(caplog):
    pool = FlakyPool()
    worker = SemanticWorker(pool, embedder=None, batch=8, idle_poll_s=0.01, max_backoff_s=0.01)
    with caplog.at_level(logging.WARNING, logger="kushim_graph.semantic.worker"):
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(pool.second.wait(), timeout=10)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert "Semantic worker: PostgreSQL error: connection refused" in caplog.text
    assert await worker.run_once() == 0
