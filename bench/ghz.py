"""lockcache's rate with a Go client (ghz) next to the Python one (grpc.aio, the driver of the
locks and cache sections), same RPCs, concurrency and connections: the Go rows show what the
server gives when the load generator is not Python. Acquire locks a new resource per request
(no contention, the lock expires after TTL_MS); Get reads one cached user profile (a hit)."""

import asyncio
import json
import secrets
import subprocess
from pathlib import Path

import grpc
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc

from bench.context import Context
from bench.measure import run_async

REPO = Path(__file__).resolve().parent.parent
PROTO = "kushim/lockcache/v1/lockcache.proto"
GHZ = REPO / "var" / "tools" / "bin" / "ghz"  # pinned by deploy/tools/install.sh
TTL_MS = 2000
CONNECTIONS = 4
CACHED_USER = "benchghz"


def parse_report(report: dict) -> dict[str, float]:
    """ghz's JSON report as a bench row: OK answers per second of the run, latencies in ms."""
    seconds = report["total"] / 1e9
    codes = report.get("statusCodeDistribution") or {}
    ok = codes.get("OK", 0)
    distribution = report.get("latencyDistribution") or []
    latencies = {p["percentage"]: p["latency"] / 1e6 for p in distribution}
    return {
        "ops_per_s": round(ok / seconds, 1) if seconds else 0.0,
        "p50_ms": round(latencies.get(50, 0.0), 3),
        "p99_ms": round(latencies.get(99, 0.0), 3),
        "ops": ok,
        "errors": sum(codes.values()) - ok,
    }


def mean(runs: list[dict[str, float]]) -> dict[str, float]:
    """Rates and latencies averaged, counts summed."""
    summed = {"ops", "errors"}
    return {
        k: sum(r[k] for r in runs) if k in summed else round(sum(r[k] for r in runs) / len(runs), 3)
        for k in runs[0]
    }


def _ghz(ctx: Context, method: str, data: dict, workers: int) -> dict[str, float]:
    if not GHZ.is_file():
        raise RuntimeError(f"{GHZ} is missing: run deploy/tools/install.sh (make bench does)")
    done = subprocess.run(  # noqa: S603 - fixed argv
        [
            str(GHZ), "--insecure", "--proto", str(REPO / "protos" / PROTO),
            "--import-paths", str(REPO / "protos"), "--call", method,
            "-d", json.dumps(data), "-c", str(workers), "--connections", str(CONNECTIONS),
            "-z", f"{max(1, int(ctx.seconds))}s", "--format", "json", ctx.lockcache_addr,
        ],
        capture_output=True, text=True, timeout=ctx.seconds + 60, check=False,
    )  # fmt: skip
    if not done.stdout.strip():
        raise RuntimeError(f"ghz failed: {done.stderr.strip()[-300:]}")
    return parse_report(json.loads(done.stdout))


async def _python(ctx: Context, rpc: str, workers: int) -> dict[str, float]:
    channels = [grpc.aio.insecure_channel(ctx.lockcache_addr) for _ in range(CONNECTIONS)]
    locks = [pb_grpc.LockServiceStub(c) for c in channels]
    cache = [pb_grpc.CacheServiceStub(c) for c in channels]
    run = secrets.token_hex(4)
    counter = iter(range(1 << 62))
    key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id=CACHED_USER)

    async def acquire(i: int) -> bool:
        answer = await locks[i % CONNECTIONS].Acquire(
            pb.AcquireLockRequest(
                resources=[f"bench:py:{run}:{next(counter)}"], ttl_ms=TTL_MS, retry_count=0
            ),
            timeout=5,
        )
        return answer.outcome == pb.ACQUIRED

    async def get(i: int) -> bool:
        answer = await cache[i % CONNECTIONS].Get(pb.GetCacheRequest(key=key), timeout=5)
        return answer.status == pb.HIT

    try:
        result = await run_async(workers, ctx.seconds, acquire if rpc == "Acquire" else get)
        return result.summary()
    finally:
        for channel in channels:
            await channel.close()


async def _fill_cache(ctx: Context) -> None:
    async with grpc.aio.insecure_channel(ctx.lockcache_addr) as channel:
        answer = await pb_grpc.CacheServiceStub(channel).Set(
            pb.SetCacheRequest(
                key=pb.CacheKey(namespace=pb.USER_PROFILE, user_id=CACHED_USER),
                value=b"x" * 512, ttl_seconds=600,
            ),
            timeout=5,
        )  # fmt: skip
    if not answer.stored:
        raise RuntimeError(f"could not cache the profile the Get rows read: {answer.message}")


def run(ctx: Context) -> dict:
    workers = ctx.workers()
    asyncio.run(_fill_cache(ctx))
    run_id = secrets.token_hex(4)
    calls = {
        "Acquire": (
            "kushim.lockcache.v1.LockService.Acquire",
            {"resources": [f"bench:ghz:{run_id}:{{{{.RequestNumber}}}}"], "ttl_ms": TTL_MS,
             "retry_count": 0},
        ),
        "Get (hit)": (
            "kushim.lockcache.v1.CacheService.Get",
            {"key": {"namespace": "USER_PROFILE", "user_id": CACHED_USER}},
        ),
    }  # fmt: skip
    rows, notes = [], []
    for rpc, (method, data) in calls.items():
        measure = {
            "ghz (Go)": lambda m=method, d=data: _ghz(ctx, m, d, workers),
            "grpc.aio (Python)": lambda r=rpc: asyncio.run(_python(ctx, r.split()[0], workers)),
        }
        # A B B A: the machine's load drifts during a run; each client gets an early and a
        # late turn, and its row is the mean of the two.
        runs: dict[str, list[dict]] = {client: [] for client in measure}
        try:
            for client in [*measure, *reversed(measure)]:
                runs[client].append(measure[client]())
        except Exception as exc:  # noqa: BLE001 - one client failing is a result too
            notes.append(f"{rpc}: could not run: {type(exc).__name__}: {exc}")
            continue
        base = mean(runs["ghz (Go)"])["ops_per_s"]
        for client, measured in runs.items():
            summary = mean(measured)
            rows.append({
                "rpc": rpc, "client": client, **summary,
                "vs ghz": round(summary["ops_per_s"] / base, 2) if base else 0.0,
            })  # fmt: skip
    notes.append(
        "ghz ends a run by cancelling the calls in flight; those count as errors here, "
        "so a few errors per row are expected"
    )
    return {
        "title": (
            f"lockcache under ghz (Go) and grpc.aio (Python): {workers} concurrent clients, "
            f"{CONNECTIONS} connections, 2 x {ctx.seconds:.0f} s each (A B B A)"
        ),
        "rows": rows,
        "notes": notes,
    }
