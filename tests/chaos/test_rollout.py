"""Rollout rehearsal: processes stand in for pods, small TCP proxies for Services.

Under steady load through two gateway instances, each service is rolled the way
a Deployment with maxSurge 1 / maxUnavailable 0 rolls it (deploy/k8s): start the
new instance, wait until its readiness probe passes, add it to the Service, drop
the old one from the Service, wait out the preStop sleep, then SIGTERM the old
one and let it drain. Every request must succeed, every old instance must exit
cleanly, and every record the gateway acknowledged must be readable afterwards.
"""

import asyncio
import logging
import time

import pytest

from chaos.checks import missing_records
from chaos.fleet import SERVICES, Fleet
from chaos.load import Load, client_session
from chaos.proxy import ServiceProxy
from devstack.launch import LogBuffer, migrate
from tests.integration.api.support import free_port, required_env

log = logging.getLogger(__name__)

pytestmark = pytest.mark.slow

TOKEN_SECRET = "rollout-rehearsal-token-secret-0123456789"  # noqa: S105
REPLICAS = {"lockcache": 2, "graph": 2, "api": 2}
ROLL_ORDER = SERVICES
WARMUP_S = 2.0
INFRA = ("DATABASE_URL", "REDIS_URL", "REDLOCK_URLS", "NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD")


async def test_rolling_every_service_loses_nothing():
    infra = {name: required_env(name) for name in INFRA}
    migrate(infra["DATABASE_URL"])
    proxies = {name: ServiceProxy(name) for name in ROLL_ORDER}
    for proxy in proxies.values():
        await proxy.start()
    fleet = Fleet(LogBuffer(), proxies, infra, free_port, TOKEN_SECRET)
    load = Load(f"http://{proxies['api'].address}", context_reads=False)
    try:
        for service in ROLL_ORDER:
            await fleet.scale_up(service, REPLICAS[service])
        async with client_session() as session:
            running = asyncio.create_task(load.run(session))
            started = time.monotonic()
            await asyncio.sleep(WARMUP_S)
            before = load.requests
            for service in ROLL_ORDER:
                await fleet.roll(service)
            during = load.requests - before
            await asyncio.sleep(WARMUP_S)
            load.stop.set()
            await running
            elapsed = time.monotonic() - started
            lost = await missing_records(session, load)
    finally:
        await asyncio.to_thread(fleet.stop_all)
        for proxy in proxies.values():
            await proxy.close()

    summary = (
        f"rollout rehearsal: {load.requests} requests in {elapsed:.1f} s "
        f"({during} while rolling {', '.join(ROLL_ORDER)}), {len(load.failures)} failed; "
        f"{len(load.acknowledged)} records acknowledged, {len(lost)} lost; "
        f"old instances' exit codes {sorted({c for _, c in fleet.exit_codes})}"
    )
    log.warning("%s", summary)
    assert during > 0, f"the load ran while rolling; {summary}"
    upstream = [line for line in fleet.log.lines() if "Upstream" in line or "Traceback" in line]
    assert not load.failures, "\n".join(
        [summary, *load.failures[:20], *upstream[-20:], f"last words: {fleet.last_words}"]
    )
    assert not lost, summary + "\n" + "\n".join(lost[:20])
    assert len(fleet.exit_codes) == sum(REPLICAS.values()), summary
    assert all(code == 0 for _, code in fleet.exit_codes), (
        f"{fleet.exit_codes}; {summary}; last words: {fleet.last_words}"
    )
    assert sum(p.refused for p in proxies.values()) == 0, f"a Service had no endpoint; {summary}"
