"""Near cache: reads from process memory against redis-py's GET, how fast invalidations
reach other processes, and a raced write/read check.

Reads: 64 workers read 1000 hot 256-byte entries through the client package's near cache,
then the same keys with redis-py GET directly (same process, back to back).

Delivery and race: a writer process writes 1..N to one key through lockcache A (Set,
acknowledged), while two reader processes read it through their near caches, one on A and
one on a second lockcache process B, every half millisecond. Each reader notes when each write's
event arrived and every read (start time, value); all clocks are CLOCK_MONOTONIC, shared by
the processes. Delivery = arrival - acknowledgement. A read is stale when it returns a value
older than a write acknowledged more than `bound` before the read began; counted for bound 0,
5 ms and the stated bound, the near cache's max age (2 s), past which no entry is served.
BENCH_NEAR_WRITES (100000) sets N.
"""

import asyncio
import bisect
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

import redis.asyncio as aioredis
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim_lockcache import keys
from kushim_lockcache_client import LockCacheClient, NearCache, user_profile_key

from bench.context import Context
from bench.measure import run_async

KEYS = 1000
VALUE = b"x" * 256
BOUNDS_MS = (0.0, 5.0)
READ_PAUSE_S = 0.0005


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def _reads(ctx: Context, workers: int, run: str, max_age_s: float) -> dict[str, dict]:
    near = NearCache(max_age_s=max_age_s)
    client = LockCacheClient(ctx.lockcache_addr, near_cache=near)
    direct = aioredis.from_url(ctx.env["REDIS_URL"], max_connections=workers + 8)
    names = [user_profile_key(f"near-{run}-{i}") for i in range(KEYS)]
    plain = [keys.cache_entry(keys.USER_PROFILE, user_id=k.user_id).key for k in names]
    try:
        for key in names:
            if not await client.set(key, VALUE):
                raise RuntimeError("cannot fill the cache")
        while not near.usable:  # noqa: ASYNC110 - the near cache has no event to wait on
            await asyncio.sleep(0.01)
        for key in names:
            await client.get(key)

        async def near_get(w: int) -> bool:
            value = await client.get(names[random.randrange(KEYS)])  # noqa: S311
            # A hit never yields. A server's read is part of a request that does, so the loop
            # runs between reads and the stream is read on time; without this the workers
            # starve it, it looks silent and the near cache is flushed.
            await asyncio.sleep(0)
            return value is not None

        async def plain_get(w: int) -> bool:
            return await direct.get(plain[random.randrange(KEYS)]) is not None  # noqa: S311

        hits = near.stats.hits
        near_result = await run_async(workers, ctx.seconds, near_get)
        hit_rate = (near.stats.hits - hits) / max(1, near_result.ops)
        plain_result = await run_async(workers, ctx.seconds, plain_get)
        return {
            f"near cache get (client package), max age {max_age_s:g} s": near_result.summary()
            | {"hit_rate": round(hit_rate, 4)},
            "redis-py GET (direct)": plain_result.summary(),
        }
    finally:
        await client.close()
        await direct.aclose()


# ------------------------------------------------------------------ the race, per process


async def _writer(addr: str, user: str, count: int) -> array:
    """The acknowledgement time of each write."""
    key = user_profile_key(user)
    acked = array("d")
    async with LockCacheClient(addr) as client:
        for n in range(1, count + 1):
            if not await client.set(key, str(n).encode()):
                raise RuntimeError(f"write {n} not stored")
            acked.append(time.monotonic())
    return acked


async def _reader(addr: str, user: str, count: int, ready: Path) -> tuple[dict, bytes]:
    """What arrived when, and every read: (start times, values) as raw arrays."""
    key = user_profile_key(user)
    near = NearCache()
    arrived = array("d")
    starts, values = array("d"), array("q")
    apply = near.apply

    flushes_at_sync = [-1]

    def noting(event: pb.InvalidationEvent) -> None:
        apply(event)
        # Arrivals are matched to writes by their order, which holds only until the first
        # gap (GAP or silence) after the reader synced: later ones are not noted.
        if (
            event.kind == pb.InvalidationEvent.KEY
            and event.key.user_id == user
            and near.stats.flushes == flushes_at_sync[0]
        ):
            arrived.append(time.monotonic())

    near.apply = noting
    async with LockCacheClient(addr, near_cache=near) as client:
        await client.get(key)
        while not near.usable:  # noqa: ASYNC110 - the near cache has no event to wait on
            await asyncio.sleep(0.01)
        flushes_at_sync[0] = near.stats.flushes
        await asyncio.to_thread(ready.touch)
        last = 0
        while last < count:
            started = time.monotonic()
            value = await client.get(key)
            last = int(value) if value is not None else 0
            starts.append(started)
            values.append(last)
            # Paced: two spinning readers would take both cores from the writer and lockcache.
            await asyncio.sleep(READ_PAUSE_S)
        seen = {
            "arrived": arrived.tolist(), "hits": near.stats.hits, "flushes": near.stats.flushes,
        }
        return seen, starts.tobytes() + values.tobytes()


def _stale(acked: list[float], starts: array, values: array, bound_s: float) -> int:
    stale = 0
    for started, value in zip(starts, values, strict=True):
        # The newest write acknowledged more than bound_s before the read began.
        newest = bisect.bisect_right(acked, started - bound_s)
        if value < newest:
            stale += 1
    return stale


def _race(ctx: Context, addr_b: str, count: int) -> dict:
    user = f"race-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        readers = []
        for n, addr in enumerate((ctx.lockcache_addr, addr_b)):
            readers.append(subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "-m", "bench.near_cache", "reader", addr, user, str(count),
                 str(work / f"r{n}"), str(work / f"ready{n}")],
            ))  # fmt: skip
        deadline = time.monotonic() + 60
        while not all((work / f"ready{n}").exists() for n in range(2)):
            if time.monotonic() > deadline:
                raise RuntimeError("the readers' near caches did not sync")
            time.sleep(0.05)
        subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "bench.near_cache", "writer", ctx.lockcache_addr, user,
             str(count), str(work / "w")],
            check=True, timeout=3600,
        )  # fmt: skip
        try:
            for n, reader in enumerate(readers):
                if reader.wait(timeout=120) != 0:
                    raise RuntimeError(f"reader {n} failed")
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"reader {n} did not read write {count} within 120 s of its acknowledgement"
            ) from None
        finally:
            for reader in readers:
                if reader.poll() is None:
                    reader.kill()
                    reader.wait()
        acked = array("d")
        acked.frombytes((work / "w").read_bytes())
        acked_list = acked.tolist()
        delivery, reads, hits, flushes = [], 0, 0, 0  # delivery: until each reader's first gap
        stale = {bound: 0 for bound in (*BOUNDS_MS, NearCache.max_age_s * 1000)}
        for n in range(2):
            seen = json.loads((work / f"r{n}").read_text())
            hits += seen["hits"]
            flushes += seen["flushes"]
            delivery += [
                max(0.0, (arrived - ack) * 1000)
                for arrived, ack in zip(seen["arrived"], acked_list, strict=False)
            ]
            raw = (work / f"r{n}.reads").read_bytes()
            starts, values = array("d"), array("q")
            starts.frombytes(raw[: len(raw) // 2])
            values.frombytes(raw[len(raw) // 2:])
            reads += len(starts)
            for bound in stale:
                stale[bound] += _stale(acked_list, starts, values, bound / 1000)
    seconds = acked_list[-1] - acked_list[0] if len(acked_list) > 1 else 0.0
    return {
        "writes": count, "writes_per_s": round(count / seconds, 1) if seconds else 0.0,
        "reads": reads, "near_hits": hits, "flushes": flushes,
        "delivery_p50_ms": round(_percentile(delivery, 0.5), 3),
        "delivery_p99_ms": round(_percentile(delivery, 0.99), 3),
        "delivery_max_ms": round(max(delivery, default=0.0), 3),
        "delivery_samples": len(delivery),
        "stale": {f"{bound:g} ms": n for bound, n in stale.items()},
    }


def run(ctx: Context) -> dict:
    from bench.__main__ import start_lockcache

    workers = ctx.workers()
    rows = []
    # The default max age (misses refill every 2 s), and one longer than the measurement:
    # the cost of a hit alone.
    for max_age_s in (NearCache.max_age_s, 60.0):
        reads = asyncio.run(_reads(ctx, workers, secrets.token_hex(4), max_age_s))
        base = reads["redis-py GET (direct)"]["ops_per_s"]
        rows += [
            {"measure": name, **s, "hit_rate": s.get("hit_rate", ""),
             "vs redis-py GET": round(s["ops_per_s"] / base, 2)}
            for name, s in reads.items()
        ]
    port = ctx.port()
    second = start_lockcache(ctx.env, port)
    try:
        race = _race(ctx, f"127.0.0.1:{port}", int(os.environ.get("BENCH_NEAR_WRITES", "100000")))
    finally:
        second.stop()
    stale = race.pop("stale")
    race_row = {"measure": "race: writes through A, near-cache reads on A and B", **race}
    return {
        "title": (
            f"Near cache: reads ({workers} workers, {len(VALUE)}-byte hits, {ctx.seconds:.0f} s),"
            " invalidation delivery across processes, raced write/read check"
        ),
        "rows": rows,
        "notes": [
            "race: " + ", ".join(f"{k} {v}" for k, v in race_row.items() if k != "measure"),
            "stale reads (value older than a write acknowledged more than the bound before "
            "the read began): " + ", ".join(f"{b}: {n}" for b, n in stale.items())
            + f"; stated bound {NearCache.max_age_s * 1000:g} ms (the near cache's max age)",
        ],
    }


def main(argv: list[str]) -> None:
    role, addr, user, count, out = argv[:5]
    if role == "writer":
        Path(out).write_bytes(asyncio.run(_writer(addr, user, int(count))).tobytes())
    else:
        seen, reads = asyncio.run(_reader(addr, user, int(count), Path(argv[5])))
        Path(out).write_text(json.dumps(seen))
        Path(f"{out}.reads").write_bytes(reads)


if __name__ == "__main__":
    main(sys.argv[1:])
