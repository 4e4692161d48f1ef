"""python -m chaos (make chaos): start an infra profile of its own, run every scenario of
chaos/scenarios against it, write chaos/results/<UTC time>.json, print a Markdown table and
put it in chaos/README.md; exit 1 if any scenario failed.

Env: KUSHIM_CHAOS_PORT_BASE (57000), CHAOS_SCENARIOS (comma-separated NAMEs, default all),
CHAOS_REPEAT (runs of each scenario, 1; more to chase a rare failure)."""

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from chaos.report import markdown
from chaos.runner import discover, progress, run_scenario
from chaos.world import Site
from devstack.launch import migrate
from devstack.ports import TEST_PORT_BASE_VAR, PortPool
from devstack.readme_results import update_readme
from devstack.stack import Stack

HERE = Path(__file__).resolve().parent
DEFAULT_PORT_BASE = 57000


def stack_site(stack: Stack) -> Site:
    servers = {server.name: server for server in stack.servers}
    servers["postgres"] = stack.postgres
    servers["neo4j"] = stack.neo4j
    return Site(stack.env(), servers, PortPool(stack.ports.spare), stack.dir / "chaos")


async def run_all(site: Site, only: list[str], repeat: int) -> list[dict]:
    return [
        await run_scenario(module, site) for module in discover(only) for _ in range(repeat)
    ]


def main() -> int:
    base = int(os.environ.get("KUSHIM_CHAOS_PORT_BASE", DEFAULT_PORT_BASE))
    only = [s for s in os.environ.get("CHAOS_SCENARIOS", "").split(",") if s]
    repeat = int(os.environ.get("CHAOS_REPEAT", "1"))
    started = time.monotonic()
    # Durable: with synchronous_commit off (the test profile's default) a PostgreSQL crash
    # drops commits the outbox already projected, and Neo4j keeps records PostgreSQL lost.
    stack = Stack.for_profile("test", environ={TEST_PORT_BASE_VAR: str(base)}, durable=True)
    progress(f"starting infra {stack.profile}")
    stack.start()
    try:
        site = stack_site(stack)
        migrate(site.infra["DATABASE_URL"])
        results = asyncio.run(run_all(site, only, repeat))
    finally:
        stack.stop()
    now = datetime.now(UTC)
    document = {
        "date": now.isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "scenarios": results,
    }
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    out = results_dir / f"{now:%Y-%m-%dT%H%M%SZ}.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    table = markdown(document)
    print(table)  # noqa: T201
    update_readme(HERE / "README.md", table, out.name)
    return 0 if results and all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
