"""What a lock call can end in besides success: each carries the resources and the reason."""

from collections.abc import Sequence


class LockError(Exception):
    def __init__(self, resources: Sequence[str], reason: str) -> None:
        super().__init__(f"{', '.join(resources)}: {reason}" if resources else reason)
        self.resources = tuple(resources)
        self.reason = reason


class LockHeld(LockError):
    """Another holder has one of the resources (after the retries asked for): try later,
    or skip the work; someone else is doing it."""


class LockUnavailable(LockError):
    """No quorum of lock masters answered, Redis is not configured, or lockcache itself could
    not be reached (`code` is then the gRPC status). Never means "held": whether anyone holds
    the lock is unknown. Retry later; do not do the work unlocked unless storage fences it."""

    def __init__(self, resources: Sequence[str], reason: str, code: str = "") -> None:
        super().__init__(resources, reason)
        self.code = code


class LockInvalid(LockError, ValueError):
    """The request itself is wrong (empty or malformed resource, ttl out of range, more than
    64 resources): fix the call, retrying cannot help."""


class LockLost(LockError):
    """The lock stopped being yours while you worked (taken over after expiry, no quorum to
    extend it, the holder paused past its heartbeat, or max_hold reached). Stop; anything
    written after this point must be refused by storage through the fencing token."""

    def __init__(self, resources: Sequence[str], reason: str, fencing_token: int) -> None:
        super().__init__(resources, reason)
        self.fencing_token = fencing_token
