"""python -m bench (make bench): start the infra and a lockcache, run the sections in order,
write bench/results/<date>.json and a chart of it (<date>.png), print a Markdown table and put
it in bench/README.md.

A section is a module bench/<name>.py with `run(ctx: Context) -> dict` answering
{"title": str, "rows": [dict, ...], "notes": [str, ...]}. Adding one is adding its name
to SECTIONS. Env: KUSHIM_BENCH_PORT_BASE (56000), BENCH_SECONDS (8 per measurement),
BENCH_CLIENTS (64), BENCH_SECTIONS (comma-separated subset)."""

import importlib
import json
import logging
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.chart import draw
from bench.context import Context
from bench.machine import describe, load_average, summary
from bench.report import README_HEAD, markdown
from devstack.install import ensure_installed
from devstack.launch import start_service
from devstack.ports import TEST_PORT_BASE_VAR
from devstack.probes import tcp_accepts
from devstack.readme_results import update_readme
from devstack.services import ServiceProcess
from devstack.stack import Stack

SECTIONS = [
    "locks",
    "cache",
    "near_cache",
    "ghz",
    "http",
    "ingest",
    "history_import",
    "graph_context",
    "read_mix",
    "compression",
    "fencing_memory",
]

HERE = Path(__file__).resolve().parent
DEFAULT_PORT_BASE = 56000

log = logging.getLogger("bench")


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)  # noqa: T201


def start_lockcache(env: dict[str, str], port: int) -> ServiceProcess:
    service_env = (
        os.environ
        | env
        | {
            "BIND_HOST": "127.0.0.1",
            "LOCKCACHE_PORT": str(port),
            "METRICS_PORT": "0",
            "LOG_LEVEL": "ERROR",
        }
    )
    return start_service("lockcache", service_env, lambda: tcp_accepts(port))


def run_sections(ctx: Context, names: list[str]) -> dict[str, dict]:
    results = {}
    for n, name in enumerate(names, start=1):
        started = time.monotonic()
        progress(f"[{n}/{len(names)}] {name} ...")
        try:
            section = importlib.import_module(f"bench.{name}")
            result = section.run(ctx)
        except Exception as exc:  # noqa: BLE001 - one broken section must not lose the others
            traceback.print_exc()
            result = {"title": name, "rows": [], "notes": [f"failed: {exc!r}"]}
        result["seconds"] = round(time.monotonic() - started, 1)
        results[name] = result
        progress(f"[{n}/{len(names)}] {name} done in {result['seconds']} s")
    return results


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s", stream=sys.stderr)
    logging.getLogger("pottery").setLevel(logging.WARNING)  # its script registrations
    began = time.monotonic()
    base = int(os.environ.get("KUSHIM_BENCH_PORT_BASE", DEFAULT_PORT_BASE))
    wanted = [s for s in os.environ.get("BENCH_SECTIONS", "").split(",") if s]
    names = [n for n in SECTIONS if not wanted or n in wanted]
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    ensure_installed()
    # As in production: PostgreSQL fsyncs, Neo4j's JIT compiles fully.
    stack = Stack.for_profile(
        "test", environ={TEST_PORT_BASE_VAR: str(base)}, durable=True, quick_jit=False
    )
    stack.start()
    service = None
    try:
        # Without the semantic pass: bench.semantic_eval measures it on its own; here it would
        # only share the cores with what a section measures.
        env = stack.env() | {"SEMANTIC_LINKS": "off"}
        machine = describe(env)
        progress(f"machine: {summary(machine)}")
        progress(f"sections: {', '.join(names)}; {seconds:g} s per measurement")
        ctx = Context(env=env, lockcache_addr="", seconds=seconds, spare_ports=stack.ports.spare)
        port = ctx.port()
        service = start_lockcache(env, port)
        ctx.lockcache_addr = f"127.0.0.1:{port}"
        results = run_sections(ctx, names)
    finally:
        if service is not None:
            service.stop()
        stack.stop()
    machine["load_at_end"] = load_average()
    now = datetime.now(UTC)
    document = {
        "date": now.isoformat(timespec="seconds"),
        "machine": machine,
        "seconds_per_measurement": seconds,
        "sections": results,
        "wall_seconds": round(time.monotonic() - began, 1),
    }
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    out = results_dir / f"{now:%Y-%m-%dT%H%M%SZ}.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    chart = draw(document, out.with_suffix(".png"))
    table = markdown(document, chart.name if chart else None)
    print(table)  # noqa: T201
    if names == SECTIONS:
        update_readme(HERE / "README.md", table, out.name, new_file_head=README_HEAD)
    else:
        progress("a subset of the sections ran: bench/README.md keeps the last full run")
    progress(f"wrote {out.relative_to(HERE.parent)}" + (f" and {chart.name}" if chart else ""))
    progress(f"total wall time {document['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
