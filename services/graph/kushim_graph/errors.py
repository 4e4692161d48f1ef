"""Failures the RPC layer turns into status codes."""


class GraphError(Exception):
    """Base class; the message is safe to show to the caller."""


class NotFound(GraphError):
    pass


class AlreadyExists(GraphError):
    pass


class FailedPrecondition(GraphError):
    pass


class Unavailable(GraphError):
    pass


class InvalidInput(GraphError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleFencingToken(GraphError):
    """A discovery write carried a fencing token older than the one already recorded, or
    one past its age limit."""

    def __init__(self, record_id, token: int, stored: int, *, expired: bool = False) -> None:
        why = "is past its age limit" if expired else f"is not newer than stored {stored}"
        super().__init__(f"fencing token {token} for record {record_id} {why}")
        self.record_id = record_id
        self.token = token
        self.stored = stored
