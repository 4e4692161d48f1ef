"""The semantic pass of one graph server: loads the model off the event loop, then runs the
worker. Its state is what readiness reports as `semantic_model`."""

import asyncio
import logging
from pathlib import Path

import asyncpg

from kushim_graph.semantic.model import Embedder, ModelError
from kushim_graph.semantic.worker import SemanticWorker

log = logging.getLogger(__name__)

DISABLED, LOADING, UP, DOWN = "disabled", "loading", "up", "down"


class SemanticPass:
    def __init__(
        self, pool: asyncpg.Pool, *, enabled: bool, model_dir: str, batch: int, on_commit=None
    ) -> None:
        self.pool = pool
        self.model_dir = Path(model_dir)
        self.batch = batch
        self.on_commit = on_commit
        self.state = LOADING if enabled else DISABLED
        self.worker: SemanticWorker | None = None

    async def run(self) -> None:
        if self.state == DISABLED:
            log.info("Semantic links disabled (SEMANTIC_LINKS=off)")
            return
        try:
            embedder = await asyncio.to_thread(Embedder, self.model_dir)
        except ModelError as exc:
            self.state = DOWN
            log.error("Semantic links unavailable: %s (EMBEDDING_MODEL_DIR)", exc)
            return
        self.state = UP
        log.info("Semantic model loaded from %s", self.model_dir)
        self.worker = SemanticWorker(
            self.pool, embedder, batch=self.batch, on_commit=self.on_commit
        )
        await self.worker.run()
