"""Each service, started as operators start it with one bad value, stops at once: exit code 2
and one stderr line in the same format, naming the variable."""

import asyncio

import pytest

from devstack.launch import LogBuffer, base_env, start_service
from tests.integration.polling import eventually


@pytest.mark.parametrize("service, variable, value", [
    ("api", "UPSTREAM_TIMEOUT_MS", "soon"),
    ("graph", "DB_POOL_SIZE", "0"),
    ("lockcache", "LOCKCACHE_PORT", "70000"),
])
async def test_a_bad_value_stops_the_service_with_one_line_naming_it(service, variable, value):
    out = LogBuffer()
    env = base_env(KUSHIM_ENV="development", DATABASE_URL="postgresql://kushim@127.0.0.1:1/kushim",
                   **{variable: value})
    process = start_service(service, env, lambda: True, out=out)
    try:
        await eventually(lambda: process.returncode is not None)
    finally:
        await asyncio.to_thread(process.stop)  # all it printed has been relayed
    assert process.returncode == 2
    (line,) = out.lines()
    prefix = f"{service:<10}| kushim-{service}: configuration error: {variable} must be "
    assert line.startswith(prefix), line
