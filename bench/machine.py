"""What a bench run ran on: the machine and the versions of every server and client library,
asked of the running servers where they can answer."""

import asyncio
import os
import platform
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import asyncpg
import neo4j

LIBRARIES = {
    "grpcio": "grpcio",
    "aiohttp": "aiohttp",
    "asyncpg": "asyncpg",
    "neo4j driver": "neo4j",
    "redis-py": "redis",
    "aioredlock": "aioredlock",
    "pottery": "pottery",
}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    return 0.0


def load_average() -> str:
    """1/5/15-minute load: the machine is shared, so this says how quiet it was."""
    return " / ".join(f"{n:.2f}" for n in os.getloadavg())


# Go tools built by deploy/tools/install.sh report no version of their own ("dev"): its stamp
# files name the pinned one.
TOOL_STAMPS = Path(__file__).resolve().parent.parent / "var" / "tools" / "stamps"


def _pinned_tool_version(name: str) -> str:
    stamps = sorted(TOOL_STAMPS.glob(f"{name}-v*"))
    return stamps[-1].name.removeprefix(f"{name}-") if stamps else "not installed"


def _command_version(argv: list[str], pattern: str) -> str:
    if shutil.which(argv[0]) is None:
        return "not installed"
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False).stdout  # noqa: S603
    found = re.search(pattern, out)
    return found.group(1) if found else out.strip()


async def _postgres_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("show server_version")
    finally:
        await conn.close()


def _neo4j_version(env: dict[str, str]) -> str:
    auth = (env["NEO4J_USER"], env["NEO4J_PASSWORD"])
    with neo4j.GraphDatabase.driver(env["NEO4J_URI"], auth=auth) as driver:
        records, _, _ = driver.execute_query(
            "call dbms.components() yield name, versions, edition "
            "return name, versions[0] as version, edition"
        )
    return ", ".join(f"{r['version']} ({r['edition']})" for r in records)


def describe(env: dict[str, str]) -> dict:
    versions = {
        "python": sys.version.split()[0],
        "redis-server": _command_version(["redis-server", "--version"], r"v=(\S+)"),
        "redis-benchmark": _command_version(["redis-benchmark", "--version"], r"(\d+\.\d+\.\d+)"),
        "wrk": _command_version(["wrk", "--version"], r"wrk (\S+)"),
        "ghz": _pinned_tool_version("ghz"),
        "postgresql": asyncio.run(_postgres_version(env["DATABASE_URL"])),
        "neo4j": _neo4j_version(env),
    }
    for label, distribution in LIBRARIES.items():
        try:
            versions[label] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[label] = "not installed"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": versions["python"],
        "load_at_start": load_average(),
        "versions": versions,
    }


def summary(machine: dict) -> str:
    """One line for the console and the README."""
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    return (
        f"{machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB, "
        f"{machine['kernel']}, load {machine['load_at_start']} at start; {versions}"
    )
