"""The Redis servers lockcache uses: one cache server, N lock masters."""

import asyncio
import logging
from dataclasses import dataclass, field

from redis.exceptions import AuthenticationError

from kushim_lockcache.config import Config
from kushim_lockcache.connection import (
    NOT_CONFIGURED_LINE,
    EvictingLockMaster,
    RedisNode,
    describe,
    watch,
)
from kushim_lockcache.redis_url import close, connect, mask_url, parse_redis_url
from kushim_lockcache.stats import Stats

log = logging.getLogger(__name__)


class StartupError(Exception):
    """lockcache cannot start safely; the message is the one line to log."""


@dataclass
class Backends:
    cache: RedisNode | None
    lock_masters: list[RedisNode]
    stats: Stats
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _watcher: asyncio.Task | None = None

    @property
    def nodes(self) -> list[RedisNode]:
        seen: dict[int, RedisNode] = {}
        for node in [self.cache, *self.lock_masters]:
            if node is not None:
                seen[id(node)] = node
        return list(seen.values())

    async def start(self) -> None:
        """Connects to every server; fails fast on a rejected password or an
        evicting lock master, starts degraded if a server is only unreachable."""
        if not self.nodes:
            log.warning(NOT_CONFIGURED_LINE)
            return
        if self.cache is None:
            log.warning("REDIS_URL not set - caching disabled (locks use REDLOCK_URLS)")
        for node in self.nodes:
            try:
                await node.connect()
            except AuthenticationError as exc:
                raise StartupError(
                    f"Redis authentication failed for {node.name}: {auth_cause(exc)} "
                    "(check the password in REDIS_URL / REDLOCK_URLS)"
                ) from exc
            except EvictingLockMaster as exc:
                raise StartupError(str(exc)) from exc
        self._watcher = asyncio.create_task(watch(self.nodes, self._stop))

    async def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            await self._watcher
        for node in self.nodes:
            await close(node.client)


def auth_cause(exc: AuthenticationError) -> str:
    """The server's answer with the error code redis-py strips from it."""
    text = describe(exc)
    if "username-password pair" in text or "invalid password" in text:
        return f"WRONGPASS {text}"
    if "Authentication required" in text or "already authenticated" in text:
        return f"NOAUTH {text}"
    return text


def open_backends(config: Config, stats: Stats) -> Backends:
    """Builds the clients (nothing connects until Backends.start)."""

    def on_reconnect() -> None:
        stats.reconnected()

    def node(url: str, role: str, lock_master: bool) -> RedisNode:
        target = parse_redis_url(url)
        client = connect(target, tls_ca_cert=config.tls_ca_cert)
        return RedisNode(
            f"{role} {mask_url(url)}", client, on_reconnect=on_reconnect, lock_master=lock_master
        )

    cache = node(config.redis_url, "cache", False) if config.redis_url else None
    masters = []
    for url in config.redlock_urls:
        if cache is not None and url == config.redis_url:
            # One server for both (REDLOCK_URLS unset): it must also be safe for locks.
            cache.lock_master = True
            cache.verified = False
            masters.append(cache)
        else:
            masters.append(node(url, "lock master", True))
    return Backends(cache=cache, lock_masters=masters, stats=stats)
