"""Cache compression: Redis memory per realistic context entry and the cost per Get,
with compression off (CACHE_COMPRESS_MIN_BYTES=0, a second lockcache) and on (the bench's
lockcache, default threshold), on the same Redis, back to back."""

import asyncio
import secrets
import time
import zlib

import grpc
import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_lockcache import compression, keys

from bench.context import Context
from bench.context_entry import subgraph
from bench.measure import run_async

ENTRIES = 200
WORKERS = 8


def _key(user: str, i: int) -> pb.CacheKey:
    return pb.CacheKey(namespace=pb.CONTEXT_GROUP, user_id=user, record_id=f"r{i}", depth=2)


async def _one_side(addr: str, redis_url: str, value: bytes, seconds: float) -> dict:
    user = f"bench-zip-{secrets.token_hex(4)}"
    direct = aioredis.from_url(redis_url)
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = pb_grpc.CacheServiceStub(channel)
        try:
            before = (await direct.info("memory"))["used_memory"]
            for i in range(ENTRIES):
                answer = await stub.Set(pb.SetCacheRequest(key=_key(user, i), value=value))
                if not answer.stored:
                    raise RuntimeError(f"cannot fill the cache: {answer.message}")
            after = (await direct.info("memory"))["used_memory"]
            usage = await direct.memory_usage(keys.context_group_key(user, "r0", 2))

            async def get(w: int) -> bool:
                got = await stub.Get(pb.GetCacheRequest(key=_key(user, w % ENTRIES)), timeout=5)
                return got.status == pb.HIT and len(got.value) == len(value)

            measured = (await run_async(WORKERS, seconds, get)).summary()
        finally:
            await stub.Invalidate(
                pb.InvalidateCacheRequest(scope=pb.USER_CONTEXT_GROUPS, user_id=user)
            )
            await direct.aclose()
    return {"bytes_per_entry": usage, "used_memory_delta_kb": round((after - before) / 1024),
            **measured}  # fmt: skip


def _codec_us(value: bytes) -> tuple[float, float]:
    """(compress, decompress) microseconds for one value, best of 5 runs."""
    stored = compression.pack(value, 1)

    def best(work) -> float:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(200):
                work()
            runs.append((time.perf_counter() - start) / 200 * 1e6)
        return round(min(runs), 1)

    return best(lambda: zlib.compress(value, compression.LEVEL)), best(
        lambda: compression.unpack(stored, 1 << 24)
    )


def run(ctx: Context) -> dict:
    from bench.__main__ import start_lockcache

    value = subgraph()
    port = ctx.port()
    plain = start_lockcache(ctx.env | {"CACHE_COMPRESS_MIN_BYTES": "0"}, port)
    try:
        off = asyncio.run(_one_side(f"127.0.0.1:{port}", ctx.env["REDIS_URL"], value, ctx.seconds))
    finally:
        plain.stop()
    on = asyncio.run(_one_side(ctx.lockcache_addr, ctx.env["REDIS_URL"], value, ctx.seconds))
    compress_us, decompress_us = _codec_us(value)
    rows = [{"compression": name, **side} for name, side in (("off", off), ("on (zlib 1)", on))]
    return {
        "title": (
            f"Cache compression: {ENTRIES} context entries of {len(value)} bytes "
            f"(bench/context_entry.py), Get hits by {WORKERS} clients, {ctx.seconds:.0f} s each"
        ),
        "rows": rows,
        "notes": [
            f"memory per entry on/off: {on['bytes_per_entry'] / off['bytes_per_entry']:.2f}; "
            f"Get p50 on/off: {on['p50_ms'] / off['p50_ms']:.2f}, "
            f"throughput on/off: {on['ops_per_s'] / off['ops_per_s']:.2f}",
            f"zlib level {compression.LEVEL} in-process: compress {compress_us} µs, "
            f"decompress {decompress_us} µs per entry",
        ],
    }
