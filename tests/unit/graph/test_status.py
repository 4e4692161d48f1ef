"""Failures become status codes; nothing unexpected leaks its text to the caller."""

import asyncpg
import grpc
import pytest
from kushim_graph.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidInput,
    NotFound,
    StaleFencingToken,
    Unavailable,
)
from kushim_graph.rpc.base import _status_of, page


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (InvalidInput("depth", "depth must be between 1 and 3"),
         grpc.StatusCode.INVALID_ARGUMENT, "depth: depth must be between 1 and 3"),
        (NotFound("record r not found"), grpc.StatusCode.NOT_FOUND, "record r not found"),
        (AlreadyExists("taken"), grpc.StatusCode.ALREADY_EXISTS, "taken"),
        (FailedPrecondition("no split"), grpc.StatusCode.FAILED_PRECONDITION, "no split"),
        (Unavailable("Neo4j unavailable"), grpc.StatusCode.UNAVAILABLE, "Neo4j unavailable"),
        (ConnectionRefusedError("refused"), grpc.StatusCode.UNAVAILABLE,
         "PostgreSQL unavailable"),
        (asyncpg.CannotConnectNowError("starting"), grpc.StatusCode.UNAVAILABLE,
         "PostgreSQL unavailable"),
        (asyncpg.AdminShutdownError("terminating connection due to administrator command"),
         grpc.StatusCode.UNAVAILABLE, "PostgreSQL unavailable"),
        (asyncpg.CrashShutdownError("another server process exited abnormally"),
         grpc.StatusCode.UNAVAILABLE, "PostgreSQL unavailable"),
        (asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in "
                                     "progress"), grpc.StatusCode.UNAVAILABLE,
         "PostgreSQL unavailable"),
        (RuntimeError("secret internals"), grpc.StatusCode.INTERNAL, "internal error"),
    ],
)
def test_status_of(error, code, message):
    assert _status_of(error, "Method") == (code, message)


def test_stale_token_message_names_both_tokens():
    error = StaleFencingToken("r1", 5, 7)
    assert "5" in str(error) and "7" in str(error) and "r1" in str(error)


def test_page_defaults_and_caps():
    assert page(0, 0) == (20, 0)
    assert page(500, 10) == (100, 10)
    with pytest.raises(InvalidInput):
        page(-1, 0)
