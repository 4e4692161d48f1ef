"""The discovery locks of a batch of records: `relationship_discovery:{recordId}` each.

One multi-resource Acquire per group of at most 64 (lockcache's limit; all or none, one round
trip per master). A group answered HELD is halved until the records another instance holds
are alone; a lone held record is tried again (attempts in all, the delay apart plus up to as
much jitter, as the Redis guide says) and then left pending for the sweeper while the others
go on. A group
answered UNAVAILABLE (Redis down, lockcache unreachable) is discovered without fencing tokens
(fencing.py's fallback path). Each Acquire carries the records' stored fencing tokens as the
floors of their counters, so the tokens answered stay above every token PostgreSQL accepted.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from kushim_graph.lockcache import ACQUIRED, HELD, LockCacheClient

MAX_RESOURCES = 64


def resource_of(record_id) -> str:
    return f"relationship_discovery:{record_id}"


@dataclass(frozen=True)
class Grant:
    """Records discovered together: under one lockcache lock (`token`, fencing token per
    record), or, with `token` empty, without one (the fallback path of fencing.py)."""

    record_ids: list
    token: str = ""
    fencing: dict = field(default_factory=dict)  # record id -> fencing token
    fencing_ttl_ms: int = 0  # how long the tokens' counters live (0: forever)

    @property
    def resources(self) -> list[str]:
        return [resource_of(r) for r in self.record_ids]


@dataclass(frozen=True)
class LockPlan:
    grants: list[Grant]
    held: list  # record ids another instance holds: left pending


class BatchLocks:
    def __init__(self, lockcache: LockCacheClient, *, ttl_ms: int, attempts: int,
                 retry_delay_ms: int,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.lockcache = lockcache
        self.ttl_ms = ttl_ms
        self.attempts = attempts
        self.retry_delay_ms = retry_delay_ms
        self.sleep = sleep

    async def take(self, record_ids: list, floors: dict | None = None) -> LockPlan:
        """`floors`: record id -> the fencing token PostgreSQL last accepted for it."""
        grants: list[Grant] = []
        held: list = []
        for first in range(0, len(record_ids), MAX_RESOURCES):
            await self._take(record_ids[first : first + MAX_RESOURCES], grants, held,
                             floors or {})
        return LockPlan(grants, held)

    async def _take(self, group: list, grants: list[Grant], held: list, floors: dict) -> None:
        alone = len(group) == 1
        resources = [resource_of(r) for r in group]
        group_floors = {resource_of(r): floors[r] for r in group if floors.get(r)}
        answer = await self.lockcache.acquire(resources, self.ttl_ms, floors=group_floors)
        # A group is not retried whole: halving finds the held records sooner.
        for _ in range(self.attempts - 1 if alone else 0):
            if answer.outcome != HELD:
                break
            jitter = random.uniform(0, self.retry_delay_ms)  # noqa: S311 - not a secret
            await self.sleep((self.retry_delay_ms + jitter) / 1000)
            answer = await self.lockcache.acquire(resources, self.ttl_ms, floors=group_floors)
        if answer.outcome == ACQUIRED:
            fencing = {r: answer.fencing_tokens[resource_of(r)] for r in group}
            grants.append(Grant(group, answer.token, fencing, answer.fencing_ttl_ms))
        elif answer.outcome != HELD:
            grants.append(Grant(group))
        elif alone:
            held.extend(group)
        else:
            middle = len(group) // 2
            await self._take(group[:middle], grants, held, floors)
            await self._take(group[middle:], grants, held, floors)

    async def release(self, grant: Grant) -> None:
        if grant.token:
            await self.lockcache.release(grant.resources, grant.token)
