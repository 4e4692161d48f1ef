"""What every servicer shares: the service's dependencies and error-to-status mapping."""

import functools
import logging
import time
from dataclasses import dataclass

import asyncpg
import grpc

from kushim_graph.config import Config
from kushim_graph.contexts.invalidate import Invalidator
from kushim_graph.contexts.reader import ContextReader
from kushim_graph.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidInput,
    NotFound,
    Unavailable,
)
from kushim_graph.lockcache import LockCacheClient
from kushim_graph.metrics import RPC_LATENCY
from kushim_graph.projection.worker import OutboxWorker
from kushim_graph.validation import clean_text, parse_uuid
from kushim_graph.writes.group_edits import GroupEdits
from kushim_graph.writes.ingest import Ingestion
from kushim_graph.writes.link_edits import LinkEdits

log = logging.getLogger(__name__)

_STATUS = (
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
)
_DB_DOWN = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    # A restart ends sessions with "terminating connection due to administrator command",
    # a crashed backend makes the server end every other one.
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # A connection the server ended mid-operation can surface as a protocol-state error
    # ("cannot switch to state 15; another operation (2) is in progress", asyncpg#1069).
    asyncpg.InternalClientError,
    ConnectionError,
    OSError,
    TimeoutError,
)


@dataclass
class Deps:
    """The service's resources and use cases, opened once in server.py and shared by all
    servicers."""

    config: Config
    pool: asyncpg.Pool
    lockcache: LockCacheClient
    projection: OutboxWorker
    context: ContextReader
    invalidator: Invalidator
    ingestion: Ingestion
    group_edits: GroupEdits
    link_edits: LinkEdits


def user_id_of(request) -> str:
    if not request.user_id:
        raise InvalidInput("user_id", "user_id is required")
    return parse_uuid("user_id", request.user_id)


def id_of(field: str, value: str) -> str:
    if not value:
        raise InvalidInput(field, f"{field} is required")
    return parse_uuid(field, value)


MAX_NAME = 200


def name_of(value: str) -> str:
    """A group's or a data source's name: whitespace collapsed, required, bounded."""
    name = " ".join(clean_text(value).split())
    if not name:
        raise InvalidInput("name", "name is required")
    if len(name) > MAX_NAME:
        raise InvalidInput("name", f"name is longer than {MAX_NAME} characters")
    return name


def page(limit: int, offset: int, *, default: int = 20, maximum: int = 100) -> tuple[int, int]:
    if limit < 0 or offset < 0:
        raise InvalidInput("limit", "limit and offset must not be negative")
    return (min(limit, maximum) if limit else default), offset


def rpc(method):
    """Runs a servicer method, answering GraphErrors and database outages with status codes."""

    @functools.wraps(method)
    async def wrapper(self, request, context):
        started = time.perf_counter()
        try:
            answer = await method(self, request, context)
        except Exception as exc:  # noqa: BLE001 - every failure is answered, never raised
            code, message = _status_of(exc, method.__name__)
        else:
            RPC_LATENCY.labels(method.__name__, "OK").observe(time.perf_counter() - started)
            return answer
        RPC_LATENCY.labels(method.__name__, code.name).observe(time.perf_counter() - started)
        await context.abort(code, message)

    return wrapper


def _status_of(exc: Exception, name: str) -> tuple[grpc.StatusCode, str]:
    for kind, code in _STATUS:
        if isinstance(exc, kind):
            if isinstance(exc, InvalidInput):
                return code, f"{exc.field}: {exc.message}"
            return code, str(exc)
    if isinstance(exc, _DB_DOWN):
        log.warning("%s: PostgreSQL unavailable: %s", name, exc)
        return grpc.StatusCode.UNAVAILABLE, "PostgreSQL unavailable"
    if isinstance(exc, asyncpg.DataError):
        return grpc.StatusCode.INVALID_ARGUMENT, f"invalid value: {exc}"
    log.exception("%s failed", name)
    return grpc.StatusCode.INTERNAL, "internal error"
