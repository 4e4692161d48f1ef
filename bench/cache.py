"""Cache Get throughput and latency: lockcache (over gRPC) against redis-py directly
(plain GET, and the same Lua read lockcache runs), with redis-benchmark as the ceiling."""

import asyncio
import csv
import io
import random
import secrets
import shutil
import subprocess
from urllib.parse import urlparse

import grpc
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_lockcache import keys
from kushim_lockcache.staleness import GET_SCRIPT

from bench.context import Context
from bench.measure import run_async

KEYS = 1000
VALUE = b"x" * 256
CHANNELS = 4


def _key(run: str, i: int) -> pb.CacheKey:
    return pb.CacheKey(namespace=pb.USER_PROFILE, user_id=f"bench-{run}-{i}")


async def _fill(stub, run: str) -> None:
    for i in range(KEYS):
        answer = await stub.Set(pb.SetCacheRequest(key=_key(run, i), value=VALUE), timeout=5)
        if not answer.stored:
            raise RuntimeError(f"cannot fill the cache: {answer.message}")


async def _measure(ctx: Context, workers: int, run: str) -> dict[str, dict]:
    channels = [grpc.aio.insecure_channel(ctx.lockcache_addr) for _ in range(CHANNELS)]
    stubs = [pb_grpc.CacheServiceStub(c) for c in channels]
    direct = aioredis.from_url(ctx.env["REDIS_URL"], max_connections=workers + 8)
    read = direct.register_script(GET_SCRIPT)
    entries = [keys.cache_entry(keys.USER_PROFILE, user_id=f"bench-{run}-{i}") for i in range(KEYS)]
    try:
        await _fill(stubs[0], run)

        async def via_lockcache(w: int) -> bool:
            key = _key(run, random.randrange(KEYS))  # noqa: S311
            answer = await stubs[w % CHANNELS].Get(pb.GetCacheRequest(key=key), timeout=5)
            return answer.status == pb.HIT

        async def plain_get(w: int) -> bool:
            return await direct.get(entries[random.randrange(KEYS)].key) is not None  # noqa: S311

        async def lua_get(w: int) -> bool:
            entry = entries[random.randrange(KEYS)]  # noqa: S311
            return (
                await read([entry.key, *entry.generations], [entry.epoch, entry.record_prefix])
                is not None
            )

        results = {}
        for name, op in (
            ("lockcache Get (gRPC → Lua read)", via_lockcache),
            ("redis-py GET (direct)", plain_get),
            ("redis-py same Lua read (direct)", lua_get),
        ):
            results[name] = (await run_async(workers, ctx.seconds, op)).summary()
        return results
    finally:
        for channel in channels:
            await channel.close()
        await direct.aclose()


def _redis_benchmark(ctx: Context, workers: int) -> dict | None:
    binary = shutil.which("redis-benchmark")
    if binary is None:
        return None
    url = urlparse(ctx.env["REDIS_URL"])
    requests = max(20_000, int(40_000 * ctx.seconds))
    out = subprocess.run(  # noqa: S603
        [binary, "-h", url.hostname, "-p", str(url.port), "-c", str(workers),
         "-n", str(requests), "-d", str(len(VALUE)), "-t", "get", "--csv"],
        capture_output=True, text=True, timeout=ctx.seconds * 10 + 30, check=True,
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    row = rows[0]
    rps = float(row["rps"])
    return {
        "ops_per_s": round(rps, 1),
        "p50_ms": float(row["p50_latency_ms"]),
        "p99_ms": float(row["p99_latency_ms"]),
        "ops": requests,
        "errors": 0,
    }


def run(ctx: Context) -> dict:
    workers = ctx.workers()
    measured = asyncio.run(_measure(ctx, workers, secrets.token_hex(4)))
    ceiling = _redis_benchmark(ctx, workers)
    if ceiling:
        measured["redis-benchmark GET (C, ceiling)"] = ceiling
    base = next(iter(measured.values()))["ops_per_s"]
    rows = [
        {"client": name, **s, "vs lockcache": round(s["ops_per_s"] / base, 2)}
        for name, s in measured.items()
    ]
    return {
        "title": (
            f"Cache Get (hits, {len(VALUE)}-byte values): {workers} concurrent clients, "
            f"{ctx.seconds:.0f} s each"
        ),
        "rows": rows,
        "notes": [],
    }
