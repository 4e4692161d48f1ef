"""One Redis server as lockcache sees it: a client plus an up/down state.

Every command goes through `RedisNode.run`, which turns connection failures
and timeouts into `Unavailable` and logs an outage once per state change (not
once per call) with the Redis guide's line, `Failed to connect to Redis: ...`.
A dropped connection is replaced at once (and counted as a reconnect); `watch`
pings servers that are down so the state (and the log) flips back. A rejected
password is an outage too: calls fail at once and only `watch` tries again,
backing off, so a rotated Secret heals without a restart and a wrong one does
not hammer the server with failed AUTHs.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kushim_common.statelog import StateLog
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, OutOfMemoryError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kushim_lockcache import deadline

log = logging.getLogger(__name__)

T = TypeVar("T")

CONNECTED_LINE = "Redis connected successfully"
FAILED_LINE = "Failed to connect to Redis"
NOT_CONFIGURED_LINE = "Redis not configured - caching and distributed locking disabled"
WATCH_INTERVAL_S = 0.5
# Retries of a server that rejected the password: doubled from the watch
# interval up to this.
AUTH_BACKOFF_MAX_S = 30.0
# Writes must go through this long without a refusal before that state ends.
REFUSALS_SETTLE_S = 10.0
# A cluster counts as up again once no call failed for this long (a failover settles).
CLUSTER_SETTLE_S = 2.0

# Eviction may silently drop a held lock; only this policy is safe for locks.
SAFE_LOCK_POLICY = "noeviction"


class Unavailable(Exception):
    """The server could not be reached (or refused us) within the time bounds."""


class EvictingLockMaster(Exception):
    """A lock master whose maxmemory-policy may evict keys."""


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, AuthenticationError):
        return auth_cause(text.splitlines()[0])
    return text.splitlines()[0]


def auth_cause(text: str) -> str:
    """The server's answer with the error code redis-py strips from it."""
    if "username-password pair" in text or "invalid password" in text:
        return f"WRONGPASS {text}"
    if "Authentication required" in text or "already authenticated" in text:
        return f"NOAUTH {text}"
    return text


def is_oom(exc: RedisError) -> bool:
    return isinstance(exc, OutOfMemoryError) or "OOM command not allowed" in str(exc)


class RedisNode:
    def __init__(
        self,
        name: str,
        client: Redis,
        *,
        on_reconnect: Callable[[], None] | None = None,
        lock_master: bool = False,
        cluster: bool = False,
    ) -> None:
        self.name = name
        self.client = client
        self.lock_master = lock_master
        # A cluster is down while one of its nodes is (a failover): calls to the other
        # nodes still succeed, so only the watcher's PING, once no call failed for
        # CLUSTER_SETTLE_S, says it is up again. Otherwise the state (and the log) flaps.
        self.cluster = cluster
        self._last_failure = 0.0
        # unknown until the first call: then its state is logged whichever it is
        self._state = StateLog(log, up="%s (%s)", down="%s: %s: %s", initially=None,
                               down_level=logging.ERROR)
        self.silent = False  # down because it stopped answering (not refusing)
        self.rejected = False  # down because it rejected the password
        self._auth_retry_s = WATCH_INTERVAL_S
        self._next_auth_try = 0.0
        self.refusal: str | None = None  # why it refuses writes, while it does
        self._last_refusal = 0.0
        # A lock master is only used once its maxmemory-policy was checked.
        self.verified = not lock_master
        self.refused = False  # for locks: its maxmemory-policy may evict them
        self.refusal_reason = ""
        self._on_reconnect = on_reconnect
        # Commands still running for calls that may have stopped waiting (autopipeline.py):
        # awaited before the client closes, so none is cut off holding a connection.
        self.in_flight: set[asyncio.Task] = set()

    def keep(self, task: asyncio.Task) -> None:
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    async def drain(self) -> None:
        while self.in_flight:
            await asyncio.wait(list(self.in_flight))

    @property
    def up(self) -> bool | None:
        return self._state.up

    @property
    def usable(self) -> bool:
        return self.verified and not self.refused

    async def run(self, command: Callable[[Redis], Awaitable[T]], *, probe: bool = False) -> T:
        """Runs `command`, within the caller's deadline (see deadline.py).

        A dropped connection (a reset, a server restart) is retried once on a
        fresh one; a server that did not answer is not retried, so a call costs
        at most one socket timeout. Once a server went silent (a call and the
        watcher's probe after it timed out), calls fail at once and only
        `watch` (probe=True) tries it until it answers, so a frozen or
        blackholed server soon costs callers no time. A server that
        refuses or resets is still tried by every call: that costs little, and
        the next try often succeeds."""
        if self.silent and not probe:
            raise Unavailable(f"{self.name}: not answering")
        if self.rejected and not probe:
            raise Unavailable(f"{self.name}: password rejected")
        timeout = deadline.timeout()
        try:
            async with timeout:
                result = await self._reconnecting(command)
        except (TimeoutError, RedisConnectionError, RedisTimeoutError, OSError) as exc:
            if timeout.expired():
                # The caller's budget ran out, which says little about the server.
                raise Unavailable(f"{self.name}: no answer before the call's deadline") from exc
            self.mark_down(exc)
            if isinstance(exc, AuthenticationError):
                self.rejected = True  # until the password is accepted (mark_up)
            # Silent once the watcher's probe times out too: one slow answer (a
            # loaded machine) must not turn every call away.
            if probe and isinstance(exc, (TimeoutError, RedisTimeoutError)):
                self.silent = True  # until an answer (mark_up)
            raise Unavailable(f"{self.name}: {describe(exc)}") from exc
        if self._answered_enough(probe):
            self.mark_up()
        return result

    def _answered_enough(self, probe: bool) -> bool:
        if not self.cluster or self.up is not False:
            return True
        return probe and time.monotonic() - self._last_failure >= CLUSTER_SETTLE_S

    async def _reconnecting(self, command: Callable[[Redis], Awaitable[T]]) -> T:
        try:
            return await command(self.client)
        except AuthenticationError:
            raise  # a new connection would be rejected the same way
        except RedisConnectionError:
            # redis-py dropped the broken connection; the pool opens a new one.
            result = await command(self.client)
        if self._on_reconnect is not None:
            self._on_reconnect()
        return result

    def mark_up(self) -> None:
        self.silent = False
        self.rejected = False
        self._auth_retry_s = WATCH_INTERVAL_S
        if self.up is True:
            return
        if self.up is False and self._on_reconnect is not None:
            self._on_reconnect()
        self._state.report(True, CONNECTED_LINE, self.name)

    def mark_down(self, exc: BaseException) -> None:
        self._last_failure = time.monotonic()
        if self.up is not False:
            self._state.report(False, FAILED_LINE, self.name, describe(exc))

    def refusing(self, exc: RedisError) -> str:
        """Notes a command the server refused; what to tell the caller. A full
        noeviction server refuses writes until memory frees: logged when it
        starts (or starts refusing for another reason), not per call."""
        oom = is_oom(exc)
        reason = f"out of memory: {describe(exc)}" if oom else describe(exc)
        kind = "OOM" if oom else type(exc).__name__  # ReadOnlyError, BusyLoadingError, ...
        self._last_refusal = time.monotonic()
        if kind != self.refusal:
            self.refusal = kind
            log.warning("Redis refuses writes (%s): %s", self.name, reason)
        return reason

    def accepting(self) -> None:
        """A write went through. Near maxmemory small writes pass while large
        ones are refused (Redis counts the command's own buffer), so the server
        counts as accepting again only once refusals stopped for a while."""
        if self.refusal is None or time.monotonic() - self._last_refusal < REFUSALS_SETTLE_S:
            return
        self.refusal = None
        log.info("Redis accepts writes again (%s)", self.name)

    async def connect(self) -> None:
        """First contact at start. An unreachable server, or one that rejects
        the password, is an outage the service starts degraded with."""
        try:
            await self.run(lambda c: c.ping())
        except Unavailable:
            return
        if self.lock_master:
            await self.verify_policy()

    async def verify_policy(self) -> None:
        """Reads the policy from INFO memory: managed and hardened Redis rename
        or disable CONFIG, and a check that then passes would fail open. A master
        whose policy cannot be read at all is not used (fails closed)."""
        try:
            info = await self.run(lambda c: c.info("memory"))
        except ResponseError as exc:
            self.refused = True
            self.refusal_reason = (
                f"{self.name}: cannot read maxmemory_policy from INFO memory ({describe(exc)})"
            )
            raise EvictingLockMaster(
                f"lock master {self.refusal_reason}; allow INFO for this client"
            ) from None
        policy = _text(info.get("maxmemory_policy", ""))
        if policy != SAFE_LOCK_POLICY:
            self.refused = True
            self.refusal_reason = (
                f"{self.name} has maxmemory-policy {policy or 'unknown'}: eviction can drop "
                "held locks"
            )
            raise EvictingLockMaster(
                f"lock master {self.refusal_reason}; set maxmemory-policy {SAFE_LOCK_POLICY}"
            )
        self.verified = True

    async def watch_once(self, on_evicting: Callable[["RedisNode", str], None]) -> None:
        if self.refused and self.up:
            return
        if self.up and self.verified:
            return
        if self.rejected:
            now = time.monotonic()
            if now < self._next_auth_try:
                return
            self._next_auth_try = now + self._auth_retry_s
            self._auth_retry_s = min(2 * self._auth_retry_s, AUTH_BACKOFF_MAX_S)
        try:
            await self.run(lambda c: c.ping(), probe=True)
            if not self.verified and not self.refused:
                await self.verify_policy()
        except Unavailable:
            pass
        except EvictingLockMaster as exc:
            on_evicting(self, str(exc))
        except ResponseError as exc:
            self.mark_down(exc)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


async def watch(
    nodes: list[RedisNode],
    stop: asyncio.Event,
    on_evicting: Callable[[RedisNode, str], None],
) -> None:
    """Pings servers that are down until `stop` is set; `on_evicting` hears of
    a lock master found evicting once it answers."""
    while not stop.is_set():
        await asyncio.gather(*(node.watch_once(on_evicting) for node in nodes))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WATCH_INTERVAL_S):
                await stop.wait()
