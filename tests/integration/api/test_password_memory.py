"""A burst of registrations and logins with the production hash profile: the gateway process
stays within its pod's memory limit and answers every request (2xx, 4xx, 429 or 503)."""

import asyncio

import aiohttp

from tests.integration.api.support import LogBuffer, start_gateway, unique_email

POD_MEMORY_LIMIT_KIB = 384 * 1024  # deploy/k8s/base api limits.memory
BURST = 50


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


async def _post(session: aiohttp.ClientSession, url: str, body: dict) -> int:
    async with session.post(url, json=body) as response:
        await response.read()
        return response.status


async def test_fifty_concurrent_registrations_and_logins_stay_within_the_pod_limit(backends):
    process, port = await asyncio.to_thread(
        start_gateway, LogBuffer(), backends.graph_addr, backends.lockcache_addr, "api-argon2",
        PASSWORD_HASH_PROFILE="rfc9106_low_memory",  # noqa: S106 - a profile name
        LOGIN_RATE_LIMIT_PER_IP="100000",
        LOGIN_RATE_LIMIT_PER_ACCOUNT="100000", REGISTER_RATE_LIMIT_PER_IP="100000",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        emails = [unique_email() for _ in range(BURST)]
        password = "correct horse battery"  # noqa: S105
        async with aiohttp.ClientSession() as session:
            statuses = await asyncio.gather(
                *(_post(session, f"{base}/auth/register", {"email": e, "password": password})
                  for e in emails),
                *(_post(session, f"{base}/auth/login", {"email": e, "password": password})
                  for e in emails),
            )
        assert all(200 <= s < 300 or 400 <= s < 500 or s == 503 for s in statuses), statuses
        assert 201 in statuses
        assert _peak_rss_kib(process._proc.pid) <= POD_MEMORY_LIMIT_KIB
    finally:
        await asyncio.to_thread(process.stop)
