"""Lock acquire+release cycles/s on the 3-master Redlock: lockcache (over gRPC) against
aioredlock and pottery talking to the same masters directly. Each client locks its own
resource (no contention), so this measures the cost of a cycle, not waiting."""

import asyncio
import logging
import secrets
from urllib.parse import urlparse

import grpc
import redis
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc

from bench.context import Context
from bench.measure import Result, run_async, run_threads

TTL_MS = 10_000
CHANNELS = 4


async def _lockcache(ctx: Context, workers: int, addr: str = "") -> Result:
    channels = [grpc.aio.insecure_channel(addr or ctx.lockcache_addr) for _ in range(CHANNELS)]
    stubs = [pb_grpc.LockServiceStub(c) for c in channels]
    run = secrets.token_hex(4)

    async def cycle(i: int) -> bool:
        stub = stubs[i % CHANNELS]
        resource = f"bench:lockcache:{run}:{i}"
        answer = await stub.Acquire(
            pb.AcquireLockRequest(resources=[resource], ttl_ms=TTL_MS, retry_count=0), timeout=5
        )
        if answer.outcome != pb.ACQUIRED:
            return False
        released = await stub.Release(
            pb.ReleaseLockRequest(resources=[resource], token=answer.token), timeout=5
        )
        return released.outcome == pb.RELEASED

    try:
        return await run_async(workers, ctx.seconds, cycle)
    finally:
        for channel in channels:
            await channel.close()


async def _aioredlock(ctx: Context, workers: int, urls: list[str] | None = None) -> Result:
    from aioredlock import Aioredlock, LockError

    urls = urls or ctx.redlock_urls
    # It logs every refused connection to a master that is down, per lock.
    logging.getLogger("aioredlock").setLevel(logging.CRITICAL)
    masters = [{"host": urlparse(u).hostname, "port": urlparse(u).port} for u in urls]
    manager = Aioredlock(masters, retry_count=1)
    run = secrets.token_hex(4)

    async def cycle(i: int) -> bool:
        try:
            lock = await manager.lock(f"bench:aioredlock:{run}:{i}", lock_timeout=TTL_MS / 1000)
            await manager.unlock(lock)
        except LockError:
            return False
        return True

    try:
        return await run_async(workers, ctx.seconds, cycle)
    finally:
        await manager.destroy()


def _pottery(ctx: Context, workers: int) -> Result:
    from pottery import Redlock

    # pottery runs each master call in its own thread pool: no pool limit here.
    masters = {redis.Redis.from_url(u) for u in ctx.redlock_urls}
    run = secrets.token_hex(4)
    locks = [
        Redlock(key=f"bench:pottery:{run}:{i}", masters=masters, auto_release_time=TTL_MS / 1000)
        for i in range(workers)
    ]

    def cycle(i: int) -> bool:
        if not locks[i].acquire(blocking=False):
            return False
        locks[i].release()
        return True

    try:
        return run_threads(workers, ctx.seconds, cycle)
    finally:
        for master in masters:
            master.close()


def _one_master_down(ctx: Context) -> list[str]:
    """The lock masters with the first one replaced by a port nobody listens on (connections
    refused, as from a master that is down)."""
    first, *others = ctx.redlock_urls
    parts = urlparse(first)
    dead = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0] + f":{ctx.port()}")
    return [dead.geturl(), *others]


def _lockcache_one_down(ctx: Context, workers: int) -> Result:
    from bench.__main__ import start_lockcache

    port = ctx.port()
    service = start_lockcache(ctx.env | {"REDLOCK_URLS": ",".join(_one_master_down(ctx))}, port)
    try:
        return asyncio.run(_lockcache(ctx, workers, f"127.0.0.1:{port}"))
    finally:
        service.stop()


def run(ctx: Context) -> dict:
    workers = ctx.workers()
    rows = []
    measured = {
        "lockcache (gRPC → Redlock)": lambda: asyncio.run(_lockcache(ctx, workers)),
        "aioredlock (direct)": lambda: asyncio.run(_aioredlock(ctx, workers)),
        "pottery (direct, threads)": lambda: _pottery(ctx, workers),
        "lockcache, 1 of 3 masters down": lambda: _lockcache_one_down(ctx, workers),
        "aioredlock, 1 of 3 masters down": lambda: asyncio.run(
            _aioredlock(ctx, workers, _one_master_down(ctx))
        ),
    }
    base = None
    notes = []
    for name, measure in measured.items():
        try:
            summary = measure().summary()
        except Exception as exc:  # noqa: BLE001 - a peer library failing is a result too
            notes.append(f"{name}: could not run: {type(exc).__name__}: {exc}")
            continue
        base = base or summary["ops_per_s"]
        rows.append(
            {"client": name, **summary, "vs lockcache": round(summary["ops_per_s"] / base, 2)}
        )
    return {
        "title": (
            f"Locks: acquire+release cycles/s, {len(ctx.redlock_urls)}-master Redlock, "
            f"{workers} concurrent clients, {ctx.seconds:.0f} s each"
        ),
        "rows": rows,
        "notes": notes,
    }
