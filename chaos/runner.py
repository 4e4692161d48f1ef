"""Runs one scenario: build its world, start the load, inject the fault, let it recover, stop
the load, check, tear down, and answer one result row."""

import asyncio
import importlib
import logging
import pkgutil
import sys
import time
import traceback
from types import ModuleType

from chaos import scenarios
from chaos.checks import verify
from chaos.load import client_session
from chaos.world import Site, World

log = logging.getLogger("chaos")

WARMUP_RECORDS = 6  # acknowledged before the fault: the load is really flowing
AFTER_S = 4.0  # load kept running after the fault is over, to see it recover


def progress(text: str) -> None:
    print(f"chaos: {text}", file=sys.stderr, flush=True)  # noqa: T201 - progress lines


def discover(only: list[str] | None = None, smoke: bool = False) -> list[ModuleType]:
    """The scenario modules of chaos/scenarios, in file-name order; `only` picks by NAME."""
    found = []
    for info in sorted(pkgutil.iter_modules(scenarios.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{scenarios.__name__}.{info.name}")
        if not hasattr(module, "inject"):
            continue
        if only and module.NAME not in only:
            continue
        if smoke and not getattr(module, "SMOKE", False):
            continue
        found.append(module)
    return found


async def restore_servers(site: Site) -> None:
    """Whatever a scenario left down is started again, so the next one finds the world whole."""
    for server in site.servers.values():
        if not server.running():
            progress(f"restarting {server.name}, left down")
            await asyncio.to_thread(server.start)


async def run_scenario(module: ModuleType, site: Site) -> dict:
    world = World(site, module.NAME)
    started = time.monotonic()
    result: dict = {"scenario": module.NAME, "fault": module.FAULT}
    progress(f"{module.NAME}: {module.FAULT}")
    try:
        if hasattr(module, "prepare"):
            await module.prepare(world)
        await world.start()
        load = world.load
        async with client_session() as session:
            running = asyncio.create_task(load.run(session))
            try:
                await world.acknowledged_grows(WARMUP_RECORDS, within=60)
                progress(f"{module.NAME}: load flowing, injecting")
                await module.inject(world)
                progress(f"{module.NAME}: fault over, recovering")
                await world.acknowledged_grows(3, within=60)
                await world.hold(AFTER_S)
            finally:
                load.stop.set()
                await running
            progress(f"{module.NAME}: checking")
            verdict = await verify(session, load, world.infra)
        result.update(summarize(world, verdict))
    except Exception as exc:  # noqa: BLE001 - one broken scenario must not lose the others
        traceback.print_exc()
        world.fail(f"{type(exc).__name__}: {exc}")
        result.update(summarize(world, None))
        result["log_tail"] = world.log.lines()[-30:]
    finally:
        await world.stop()
        await restore_servers(site)
    if not result["passed"]:
        result["service_errors"] = errors_logged(world)
    result["seconds"] = round(time.monotonic() - started, 1)
    verdict_word = "PASS" if result["passed"] else "FAIL"
    progress(f"{module.NAME}: {verdict_word} in {result['seconds']} s")
    return result


def errors_logged(world: World, most: int = 20) -> list[str]:
    """The services' own words on what went wrong: their ERROR lines and tracebacks."""
    marks = ('"ERROR"', "Traceback", '"CRITICAL"')
    return [line for line in world.log.lines() if any(m in line for m in marks)][-most:]


def summarize(world: World, verdict) -> dict:
    load = world.load
    recovery = None
    if world.fault_ended is not None and load is not None:
        recovered = load.recovered_after(world.fault_ended)
        recovery = None if recovered is None else round(max(0.0, recovered), 1)
    fault_s = (
        world.fault_ended - world.fault_started if world.fault_started and world.fault_ended
        else None
    )
    row = {
        "requests": load.requests if load else 0,
        "req_per_s": round(load.rate(), 1) if load else 0.0,
        "statuses": {str(k): v for k, v in load.statuses.items()} if load else {},
        "slowest_seconds": {k: round(v, 2) for k, v in load.slowest.items()} if load else {},
        "unavailable_503": load.unavailable if load else 0,
        "server_errors_500": len(load.server_errors) if load else 0,
        "failures": (load.failures[:20] if load else []),
        "acknowledged": len(load.acknowledged) if load else 0,
        "fault_seconds": round(fault_s, 1) if fault_s else None,
        "requests_in_fault": world.requests_in_fault,
        "req_per_s_in_fault": round(world.requests_in_fault / fault_s, 1) if fault_s else None,
        "recovery_seconds": recovery,
        "notes": world.notes,
        "problems": world.problems,
    }
    if verdict is None:
        row.update(lost=None, duplicate_links=None, neo4j_matches_pg=None, passed=False)
        return row
    row.update(
        lost=len(verdict.lost),
        lost_examples=verdict.lost[:10],
        duplicate_links=verdict.duplicate_links,
        neo4j_matches_pg=verdict.projection.matches,
        projection=verdict.projection.summary(),
        converged_seconds=round(verdict.converged_s, 1),
    )
    row["passed"] = (
        verdict.passed and not load.failures and not world.problems and load.requests > 0
    )
    return row
