"""Closed-loop load: N concurrent workers repeat one operation for a fixed time."""

import asyncio
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class Result:
    ops: int
    seconds: float
    errors: int
    latencies_ms: list[float]

    def summary(self) -> dict[str, float]:
        lat = sorted(self.latencies_ms)
        q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [0.0] * 99
        return {
            "ops_per_s": round(self.ops / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(q[49], 3),
            "p99_ms": round(q[98], 3),
            "ops": self.ops,
            "errors": self.errors,
        }


async def run_async(
    workers: int, seconds: float, operation: Callable[[int], Awaitable[bool]]
) -> Result:
    """`operation(worker)` returns True for a successful op (False counts as error)."""
    stop_at = time.monotonic() + seconds
    latencies: list[float] = []
    errors = 0

    async def worker(index: int) -> None:
        nonlocal errors
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            ok = await operation(index)
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    return Result(len(latencies), time.monotonic() - started, errors, latencies)


def run_threads(workers: int, seconds: float, operation: Callable[[int], bool]) -> Result:
    """The same with one OS thread per worker (for synchronous clients)."""
    stop_at = time.monotonic() + seconds
    per_thread: list[list[float]] = [[] for _ in range(workers)]
    failures = [0] * workers

    def worker(index: int) -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            if operation(index):
                per_thread[index].append((time.perf_counter() - started) * 1000)
            else:
                failures[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = [ms for chunk in per_thread for ms in chunk]
    return Result(len(latencies), time.monotonic() - started, sum(failures), latencies)
