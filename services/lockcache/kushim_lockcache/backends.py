"""The Redis servers lockcache uses: one cache server, N lock masters."""

import asyncio
import logging
from dataclasses import dataclass, field

from redis.asyncio import Redis

from kushim_lockcache.config import Config
from kushim_lockcache.connection import (
    NOT_CONFIGURED_LINE,
    EvictingLockMaster,
    RedisNode,
    watch,
)
from kushim_lockcache.redis_url import close, connect, mask_url, parse_redis_url
from kushim_lockcache.stats import Stats

log = logging.getLogger(__name__)


# How long one step of closing may take before it is abandoned (logged).
CLOSE_STEP_S = 5.0


async def _bounded(step, what: str) -> bool:
    """Awaits `step` for at most CLOSE_STEP_S; False (logged) when it did not finish."""
    try:
        async with asyncio.timeout(CLOSE_STEP_S):
            await step
    except TimeoutError:
        log.warning("Gave up waiting for %s after %.0f s while closing", what, CLOSE_STEP_S)
        return False
    return True


class StartupError(Exception):
    """lockcache cannot start safely; the message is the one line to log."""


@dataclass
class Backends:
    cache: RedisNode | None
    lock_masters: list[RedisNode]
    stats: Stats
    cluster_cache: bool = False
    # The invalidation feed's own client for the cache server: a subscription holds its
    # connection for good and must never compete with commands for the command pool's.
    subscriber: Redis | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _watcher: asyncio.Task | None = None

    @property
    def nodes(self) -> list[RedisNode]:
        seen: dict[int, RedisNode] = {}
        for node in [self.cache, *self.lock_masters]:
            if node is not None:
                seen[id(node)] = node
        return list(seen.values())

    @property
    def locks_disabled(self) -> str:
        """Why locks are off for good (empty while they are on): the one Redis of
        REDIS_URL evicts, so it holds only the cache."""
        if not self.lock_masters:
            if self.cluster_cache:
                return "REDIS_URL is a Redis Cluster, which holds the cache only"
            return "Redis not configured"
        shared = self.cache is not None and self.cache in self.lock_masters
        return self.cache.refusal_reason if shared else ""

    async def start(self) -> None:
        """Connects to every server; fails fast on an evicting lock master of
        REDLOCK_URLS, starts degraded if a server is unreachable or rejects the
        password (see connection.py). One evicting Redis for both (REDLOCK_URLS
        unset) keeps the cache and turns locks off."""
        if not self.nodes:
            log.warning(NOT_CONFIGURED_LINE)
            return
        if self.cache is None:
            log.warning("REDIS_URL not set - caching disabled (locks use REDLOCK_URLS)")
        elif not self.lock_masters:
            log.warning(
                "Distributed locking disabled: %s; discovery falls back to PostgreSQL locks. "
                "Set REDLOCK_URLS to independent masters to turn locks on",
                self.locks_disabled,
            )
        for node in self.nodes:
            try:
                await node.connect()
            except EvictingLockMaster as exc:
                if node is not self.cache:
                    raise StartupError(str(exc)) from exc
                self._evicting(node, str(exc))
        self._watcher = asyncio.create_task(watch(self.nodes, self._stop, self._evicting))

    def _evicting(self, node: RedisNode, message: str) -> None:
        if node is self.cache:
            log.warning(
                "Distributed locking disabled: %s; caching works, discovery falls back to "
                "PostgreSQL locks. Set REDLOCK_URLS to independent masters with "
                "maxmemory-policy noeviction to turn locks on",
                node.refusal_reason,
            )
        else:
            log.error("%s", message)

    async def close(self) -> None:
        """Stops watching and closes every client. Each step is bounded: a server that stopped
        answering must not hold the pod's shutdown past its grace period."""
        self._stop.set()
        if self._watcher is not None:
            await _bounded(asyncio.shield(self._watcher), "the servers' watcher")
        for node in self.nodes:
            if not await _bounded(node.drain(), f"calls in flight to {node.name}"):
                for task in node.in_flight:
                    task.cancel()
            await _bounded(close(node.client), f"closing {node.name}")
        if self.subscriber is not None:
            await _bounded(close(self.subscriber), "closing the invalidation feed's client")


def open_backends(config: Config, stats: Stats) -> Backends:
    """Builds the clients (nothing connects until Backends.start)."""

    def on_reconnect() -> None:
        stats.reconnected()

    def client(target):
        return connect(
            target,
            tls_ca_cert=config.tls_ca_cert,
            tls_cert=config.tls_cert,
            tls_key=config.tls_key,
            sentinel_password=config.sentinel_password,
        )

    def node(url: str, role: str, lock_master: bool) -> RedisNode:
        target = parse_redis_url(url)
        return RedisNode(
            f"{role} {mask_url(url)}",
            client(target),
            on_reconnect=on_reconnect,
            lock_master=lock_master,
            cluster=target.cluster,
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
    subscriber = None
    if cache is not None and not config.cluster_cache:
        subscriber = client(parse_redis_url(config.redis_url))
    return Backends(
        cache=cache, lock_masters=masters, stats=stats, cluster_cache=config.cluster_cache,
        subscriber=subscriber,
    )
