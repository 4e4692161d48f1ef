"""argon2id hashing and verification, bounded so no burst of logins can exhaust memory.

Each argon2id hash holds its memory cost (64 MiB with rfc9106_low_memory) for its whole run, so
memory grows with the number of hashes running at once. They run on a small dedicated pool of
PASSWORD_HASH_CONCURRENCY threads (never the default executor, which grows with the CPU count
and is shared with everything else), and at most PASSWORD_HASH_QUEUE more wait for a thread;
beyond that a request is refused at once with 503 + Retry-After instead of queueing memory.

Sizing rule: concurrency × memory cost + the gateway's own footprint (~100 MiB, request bodies
in flight included) must stay under the pod's memory limit with room to spare; the 384 MiB
limit fits 2 × 64 MiB. Hashes store their parameters, so changing the profile never locks
anyone out: old hashes verify with the cost they were made with.
"""

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from kushim_api.errors import Unavailable

PROFILES = {
    "rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106_high_memory": profiles.RFC_9106_HIGH_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


class HashingBusy(Unavailable):
    """More password hashes asked for than the pool runs plus its queue."""


class Passwords:
    """argon2id off the event loop; verification of unknown users costs the same as of known."""

    def __init__(self, profile: str, concurrency: int, queue: int) -> None:
        self._hasher = PasswordHasher.from_parameters(PROFILES[profile])
        self._dummy_hash = self._hasher.hash(uuid.uuid4().hex)
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="argon2")
        self._admitted = 0
        self._capacity = concurrency + queue

    @property
    def memory_cost_kib(self) -> int:
        return self._hasher.memory_cost

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await self._run(self._verify, stored_hash, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, work, *args):
        # Counted on the event loop thread only, so no lock is needed.
        if self._admitted >= self._capacity:
            raise HashingBusy("too many sign-ins at once, retry shortly")
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)
        finally:
            self._admitted -= 1

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and bool(
                stored_hash
            )
        except (VerificationError, InvalidHashError):
            return False
