"""Redlock over N independent masters, with fencing tokens.

Acquire: SET NX PX of one random token on every master in parallel (all the
resources of a call in one script per master, so each master grants all or
none of them), success on a quorum (N//2+1) within the validity time
ttl - elapsed - drift (drift = ttl*0.01 + 2 ms, monotonic clock); otherwise an
awaited undo on every master and a jittered retry. Release and Extend compare
the token first, so nobody frees or extends a lock they do not hold.

Public calls are safe to cancel: the Redis work runs in a shielded task; a
cancelled Acquire that still won releases what it won, a cancelled Release
finishes.
"""

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from kushim_lockcache import deadline, fencing, keys
from kushim_lockcache.autopipeline import AutoPipeline
from kushim_lockcache.connection import RedisNode, Unavailable
from kushim_lockcache.stats import Stats

log = logging.getLogger(__name__)

# KEYS[1..n]: lock keys, KEYS[n+1..2n]: their fencing counters.
# ARGV[1]: token, ARGV[2]: ttl in ms, ARGV[3]: fencing counter ttl in ms,
# ARGV[4..3+n]: the caller's floor for each counter.
# Returns the new fencing counters (one per resource: above both the stored
# counter and the floor) if every lock key was free and is now set to the
# token, else false (nothing changed).
ACQUIRE_SCRIPT = """
local n = #KEYS / 2
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    return false
  end
end
local fences = {}
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
  if tonumber(redis.call('GET', KEYS[n + i]) or '0') < tonumber(ARGV[3 + i]) then
    redis.call('SET', KEYS[n + i], ARGV[3 + i])
  end
  fences[i] = redis.call('INCR', KEYS[n + i])
  redis.call('PEXPIRE', KEYS[n + i], ARGV[3])
end
return fences
"""

# KEYS[1..n]: lock keys. ARGV[1]: token.
# Deletes each key that holds the token; returns how many it deleted.
RELEASE_SCRIPT = """
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    released = released + 1
  end
end
return released
"""

# KEYS[1..n]: lock keys. ARGV[1]: token, ARGV[2]: new ttl in ms.
# Returns 1 and sets the ttl of every key if all hold the token, else 0.
EXTEND_SCRIPT = """
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) ~= ARGV[1] then
    return 0
  end
end
for i = 1, #KEYS do
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return 1
"""

MAX_JITTER_MS = 200
MIN_TTL_MS = 10
MAX_TTL_MS = 24 * 3600 * 1000
MAX_RESOURCES = 64


class LockError(Exception):
    def __init__(self, resources: Sequence[str], reason: str) -> None:
        super().__init__(f"{', '.join(resources)}: {reason}")
        self.resources = list(resources)
        self.reason = reason


class LockHeld(LockError):
    """Another holder has it (after every retry)."""


class LockUnavailable(LockError):
    """Redis not configured, or no quorum of masters reachable."""


class LockNotOwned(LockError):
    """Release/Extend with a token that does not hold the lock (any more)."""


class BadLockRequest(LockError):
    """Empty or malformed resources, ttl out of range."""


@dataclass(frozen=True)
class Lock:
    resources: tuple[str, ...]
    token: str
    fencing_tokens: dict[str, int] = field(default_factory=dict)
    validity_ms: int = 0
    valid_until: float = 0.0  # wall clock, seconds since the epoch

    @property
    def fencing_token(self) -> int:
        return max(self.fencing_tokens.values())


def drift_ms(ttl_ms: int) -> float:
    return ttl_ms * 0.01 + 2


def check_request(resources: Sequence[str], ttl_ms: int) -> tuple[str, ...]:
    """Sorted, de-duplicated resources (a fixed order, so callers never deadlock)."""
    if not resources:
        raise BadLockRequest([], "no resource given")
    if len(resources) > MAX_RESOURCES:
        raise BadLockRequest(resources, f"more than {MAX_RESOURCES} resources")
    if not MIN_TTL_MS <= ttl_ms <= MAX_TTL_MS:
        raise BadLockRequest(resources, f"ttl_ms must be in [{MIN_TTL_MS}, {MAX_TTL_MS}]")
    try:
        for resource in resources:
            keys.check_resource(resource)
    except keys.BadKey as exc:
        raise BadLockRequest(resources, str(exc)) from None
    return tuple(sorted(set(resources)))


def check_floors(resources: Sequence[str], floors: Mapping[str, int]) -> list[int]:
    """The floor of each resource, in `resources` order (0 when not given)."""
    unknown = sorted(set(floors) - set(resources))
    if unknown:
        raise BadLockRequest(resources, f"fencing floor for a resource not locked: {unknown[0]}")
    if any(not 0 <= value <= fencing.MAX_FLOOR for value in floors.values()):
        raise BadLockRequest(resources, f"fencing floors must be in [0, {fencing.MAX_FLOOR}]")
    return [floors.get(resource, 0) for resource in resources]


class Redlock:
    def __init__(
        self, masters: list[RedisNode], stats: Stats, *, fencing_ttl_ms: int = fencing.TTL_MS
    ) -> None:
        self.masters = masters
        self.stats = stats
        self.fencing_ttl_ms = fencing_ttl_ms
        self.quorum = len(masters) // 2 + 1
        self._acquire = [m.client.register_script(ACQUIRE_SCRIPT) for m in masters]
        self._release = [m.client.register_script(RELEASE_SCRIPT) for m in masters]
        self._extend = [m.client.register_script(EXTEND_SCRIPT) for m in masters]
        self._raise = [m.client.register_script(fencing.RAISE_SCRIPT) for m in masters]
        self._pipelines = [AutoPipeline(m) for m in masters]

    # ------------------------------------------------------------- acquire

    async def acquire(
        self,
        resources: Sequence[str],
        ttl_ms: int,
        retry_count: int,
        retry_delay_ms: int,
        floors: Mapping[str, int] | None = None,
    ) -> Lock:
        """`floors`: per resource, a value every fencing token answered exceeds."""
        resources = check_request(resources, ttl_ms)
        floor_values = check_floors(resources, floors or {})
        abandoned = asyncio.Event()
        task = asyncio.ensure_future(
            self._acquire_with_retries(
                resources, ttl_ms, retry_count, retry_delay_ms, floor_values, abandoned
            )
        )
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # The caller is gone: stop retrying, and free whatever the
            # attempt in flight wins, since nobody else knows its token.
            abandoned.set()
            lock = await _won(task)
            if lock is not None:
                await self._release_unbounded(lock.resources, lock.token)
            raise

    async def _acquire_with_retries(
        self,
        resources: tuple[str, ...],
        ttl_ms: int,
        retry_count: int,
        retry_delay_ms: int,
        floors: list[int],
        abandoned: asyncio.Event,
    ) -> Lock:
        if not self.masters:
            self.stats.lock("unavailable")
            raise LockUnavailable(resources, "Redis not configured")
        token = secrets.token_hex(16)
        error: LockError = LockHeld(resources, "held by another holder")
        for attempt in range(retry_count + 1):
            started = time.monotonic()
            try:
                lock = await self._attempt(resources, token, ttl_ms, floors)
            except LockError as exc:
                error = exc
            else:
                self.stats.lock("acquired")
                for resource in resources:
                    log.debug("Lock acquired: %s", resource)
                return lock
            if attempt == retry_count or abandoned.is_set():
                break
            jitter = random.uniform(0, min(retry_delay_ms, MAX_JITTER_MS))  # noqa: S311
            pause = (retry_delay_ms + jitter) / 1000
            left = deadline.remaining()
            # Another attempt must end before the caller's deadline, undoing a partial
            # acquisition included: allow it twice what this one took (resets, jitter).
            if left is not None and left < pause + 2 * (time.monotonic() - started):
                break
            await asyncio.sleep(pause)
        self.stats.lock("unavailable" if isinstance(error, LockUnavailable) else "contended")
        for resource in resources:
            log.warning("Failed to acquire lock: %s", resource)
        raise error

    async def _attempt(
        self, resources: tuple[str, ...], token: str, ttl_ms: int, floors: list[int]
    ) -> Lock:
        lock_keys = [keys.lock_key(r) for r in resources]
        fence_keys = [keys.fencing_key(r) for r in resources]
        start = time.monotonic()
        answers = await asyncio.gather(
            *(
                self._on(
                    i,
                    self._acquire,
                    lock_keys + fence_keys,
                    [token, ttl_ms, self.fencing_ttl_ms, *floors],
                )  # fmt: skip
                for i in range(len(self.masters))
            )
        )
        granted = [(i, [int(v) for v in a]) for i, a in enumerate(answers) if isinstance(a, list)]
        for i, _ in granted:
            self.masters[i].accepting()
        reachable = sum(1 for a in answers if not isinstance(a, Unavailable))
        if len(granted) >= self.quorum:
            maxima, lagging = fencing.merge([values for _, values in granted])
            raised = await asyncio.gather(
                *(
                    self._on(granted[j][0], self._raise, fence_keys, [self.fencing_ttl_ms, *maxima])
                    for j in lagging
                )
            )
            behind = sum(1 for r in raised if isinstance(r, Unavailable))
            validity = ttl_ms - (time.monotonic() - start) * 1000 - drift_ms(ttl_ms)
            if len(granted) - behind >= self.quorum and validity > 0:
                return Lock(
                    resources=resources,
                    token=token,
                    fencing_tokens=dict(zip(resources, maxima, strict=True)),
                    validity_ms=int(validity),
                    valid_until=time.time() + validity / 1000,
                )
        await self._release_unbounded(resources, token)
        if reachable < self.quorum:
            why = "; ".join(str(a) for a in answers if isinstance(a, Unavailable))
            raise LockUnavailable(
                resources, f"{reachable} of {len(self.masters)} lock masters reachable ({why})"
            )
        raise LockHeld(resources, "held by another holder")

    # ------------------------------------------------------ release, extend

    async def release(self, resources: Sequence[str], token: str) -> None:
        """Raises LockNotOwned / LockUnavailable; finishes even if cancelled."""
        resources = check_request(resources, MIN_TTL_MS)
        if not self.masters:
            raise LockUnavailable(resources, "Redis not configured")
        released, reachable = await asyncio.shield(self._release_all(resources, token))
        if released:
            return
        if reachable < self.quorum:
            raise LockUnavailable(resources, f"{reachable} of {len(self.masters)} reachable")
        raise LockNotOwned(resources, "not held with this token (expired or someone else's)")

    async def _release_all(self, resources: Sequence[str], token: str) -> tuple[int, int]:
        """Compare-and-delete on every master; (masters that released, reachable)."""
        lock_keys = [keys.lock_key(r) for r in resources]
        answers = await asyncio.gather(
            *(self._on(i, self._release, lock_keys, [token]) for i in range(len(self.masters)))
        )
        released = sum(1 for a in answers if not isinstance(a, Unavailable) and int(a) > 0)
        reachable = sum(1 for a in answers if not isinstance(a, Unavailable))
        return released, reachable

    async def _release_unbounded(self, resources: Sequence[str], token: str) -> None:
        """Undoes a partial or abandoned acquisition even when the caller's
        deadline has passed: nobody else knows the token to free it."""
        with deadline.unbounded():
            await self._release_all(resources, token)

    async def extend(self, resources: Sequence[str], token: str, ttl_ms: int) -> Lock:
        resources = check_request(resources, ttl_ms)
        if not self.masters:
            raise LockUnavailable(resources, "Redis not configured")
        lock_keys = [keys.lock_key(r) for r in resources]
        start = time.monotonic()
        answers = await asyncio.gather(
            *(
                self._on(i, self._extend, lock_keys, [token, ttl_ms])
                for i in range(len(self.masters))
            )
        )
        extended = sum(1 for a in answers if not isinstance(a, Unavailable) and int(a) == 1)
        reachable = sum(1 for a in answers if not isinstance(a, Unavailable))
        validity = ttl_ms - (time.monotonic() - start) * 1000 - drift_ms(ttl_ms)
        if extended >= self.quorum and validity > 0:
            return Lock(resources, token, {}, int(validity), time.time() + validity / 1000)
        if reachable < self.quorum:
            raise LockUnavailable(resources, f"{reachable} of {len(self.masters)} reachable")
        raise LockNotOwned(resources, "lock lost: not held with this token on a quorum")

    async def _on(self, index: int, scripts: list, script_keys: list[str], args: list):
        """Runs scripts[index] on master `index` (in the pipeline of its loop tick); an
        unreachable master answers Unavailable."""
        master = self.masters[index]
        if master.refused:
            return Unavailable(f"locks disabled: {master.refusal_reason}")
        if not master.usable:
            return Unavailable(master.name)
        try:
            return await self._pipelines[index].eval(scripts[index], script_keys, args)
        except Unavailable as exc:
            return exc
        except RedisError as exc:
            # e.g. OOM on a full master: this master cannot grant, the others may.
            return Unavailable(f"{master.name}: {master.refusing(exc)}")


async def _won(task: "asyncio.Future[Lock]") -> Lock | None:
    try:
        return await task
    except LockError:
        return None
