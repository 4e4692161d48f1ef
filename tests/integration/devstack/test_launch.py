"""devstack.launch, the one way tests, chaos and bench start a service: what it runs, and how a
start that fails reads."""

import asyncio
import sys

import pytest

from devstack.launch import (
    LAST_READINESS,
    LogBuffer,
    base_env,
    http_ready,
    service_process,
    start_service,
)
from devstack.process import StartError
from tests.integration.profile import free_port


def test_a_service_is_python_dash_m_its_package_named_after_it_unless_told():
    process = service_process("graph", {"A": "1"}, lambda: True)
    assert process.argv == [sys.executable, "-m", "kushim_graph"]
    assert process.name == "graph" and process.env == {"A": "1"}
    assert service_process("api", {}, lambda: True, name="api-2").name == "api-2"
    assert process.pid is None  # built, not started


async def test_a_service_that_exits_while_starting_fails_with_one_line_naming_it():
    out = LogBuffer()
    env = base_env(LOCKCACHE_PORT="-1")
    with pytest.raises(StartError) as failed:
        await asyncio.to_thread(start_service, "lockcache", env, lambda: False, out=out)
    message = str(failed.value)
    assert message.startswith("lockcache exited with code 2 while starting: ")
    assert "kushim-lockcache: configuration error: LOCKCACHE_PORT" in message
    assert "\n" not in message


async def test_a_service_never_ready_is_stopped_and_the_failure_names_it():
    env = base_env(LOCKCACHE_PORT=str(free_port()))  # no Redis: it runs, degraded
    process = service_process("lockcache", env, lambda: False, name="never-ready",
                              out=LogBuffer(), start_timeout=2)
    with pytest.raises(StartError, match=r"^never-ready was not ready within 2 s: "):
        await asyncio.to_thread(process.start)
    assert not process.running() and process.returncode is not None


def test_the_gateway_probe_is_false_and_says_why_when_nothing_listens():
    port = free_port()
    assert http_ready(port) is False
    assert LAST_READINESS[port].startswith("ConnectionRefusedError")
