"""A held lock as the client sees it."""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kushim.lockcache.v1 import lockcache_pb2 as pb

from kushim_lockcache_client.errors import LockHeld, LockInvalid, LockUnavailable


@dataclass(frozen=True)
class Lease:
    resources: tuple[str, ...]
    token: str  # proves ownership to Release / Extend; not a fencing token
    fencing_token: int  # pass with every write the lock protects
    fencing_tokens: Mapping[str, int]  # per resource when several
    valid_until: float  # wall clock, seconds since the epoch
    # How long the lock masters keep a fencing counter after its last acquisition (0: no
    # limit): a store that checks tokens must refuse one older than half of it.
    fencing_ttl_ms: int = 0

    @classmethod
    def from_answer(cls, answer: pb.AcquireLockResponse) -> "Lease":
        return cls(
            resources=tuple(answer.resources),
            token=answer.token,
            fencing_token=answer.fencing_token,
            fencing_tokens=dict(answer.fencing_tokens),
            valid_until=answer.valid_until.ToNanoseconds() / 1e9,
            fencing_ttl_ms=answer.fencing_ttl_ms,
        )

    def remaining_s(self) -> float:
        """Seconds of guaranteed exclusivity left (negative once expired)."""
        return self.valid_until - time.time()


def lease_or_raise(answer: pb.AcquireLockResponse, resources: Sequence[str]) -> Lease:
    """The lease of an ACQUIRED answer; the typed error of any other."""
    if answer.outcome == pb.ACQUIRED:
        return Lease.from_answer(answer)
    reason = answer.message or pb.LockOutcome.Name(answer.outcome).lower()
    if answer.outcome == pb.HELD:
        raise LockHeld(resources, reason)
    if answer.outcome == pb.INVALID:
        raise LockInvalid(resources, reason)
    raise LockUnavailable(resources, reason)
