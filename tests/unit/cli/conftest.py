"""A live gateway (on the in-process fakes) in a background thread, for the sync CLI."""

import asyncio
import threading

import pytest
from aiohttp import web
from kushim_api.app import create_app
from kushim_api.config import Config

from tests.unit.api.fakes_lockcache import FakeBackends


class LiveApi:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.backends: FakeBackends | None = None
        self.runner: web.AppRunner | None = None
        self.url = ""

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    async def _start(self) -> None:
        self.backends = await FakeBackends().start()
        config = Config(
            bind_host="127.0.0.1",
            graph_addr=f"127.0.0.1:{self.backends.graph_port}",
            lockcache_addr=f"127.0.0.1:{self.backends.lockcache_port}",
            environment="development", password_hash_profile="cheapest",  # noqa: S106
            readiness_cache_ms=0,
        )
        self.runner = web.AppRunner(create_app(config))
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.backends.stop()

    def start(self) -> "LiveApi":
        self.thread.start()
        self.call(self._start())
        return self

    def stop(self) -> None:
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def live_api():
    api = LiveApi().start()
    yield api
    api.stop()


@pytest.fixture
def cli_env(tmp_path, live_api):
    return {"HOME": str(tmp_path / "home"), "KUSHIM_URL": live_api.url, "PATH": "/usr/bin"}
