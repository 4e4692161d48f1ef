"""python -m kushim_lockcache as operators run it: startup lines, failures, metrics."""

import asyncio
import time
import urllib.request

import grpc
import pytest
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc

from devstack.launch import LogBuffer, base_env, start_service
from tests.integration.lockcache.support import eventually, free_port, unique

DEADLINE = 10
ADMIN_PASSWORD = unique("pw")
NOT_CONFIGURED = "Redis not configured - caching and distributed locking disabled"


class Process:
    """python -m kushim_lockcache as operators run it. Started without a readiness check:
    each test waits for the line or the exit code it expects."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = LogBuffer()
        self.service = start_service(
            "lockcache", base_env(LOCKCACHE_PORT=str(self.port)) | env, lambda: True, out=self.log
        )

    def output(self) -> str:
        return "\n".join(self.log.lines())

    async def wait_for(self, text: str, within: float = 20) -> None:
        def seen():
            return text in self.output() or self.service.returncode is not None

        await eventually(seen, within=within)
        if self.service.returncode is not None:
            await asyncio.to_thread(self.service.stop)  # all it printed has been relayed
        assert text in self.output(), self.output()

    async def exit_code(self, within: float = 20) -> int:
        await eventually(lambda: self.service.returncode is not None, within=within)
        await asyncio.to_thread(self.service.stop)  # all it printed has been relayed
        return self.service.returncode

    def stop(self) -> None:
        self.service.stop()


@pytest.fixture
def processes():
    started: list[Process] = []

    def start(env: dict[str, str]) -> Process:
        process = Process(env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


async def test_unset_redis_url_runs_degraded_and_says_so_once(processes):
    process = processes({"LOG_LEVEL": "INFO"})
    await process.wait_for("lockcache listening")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{process.port}") as channel:
        locks, cache = pb_grpc.LockServiceStub(channel), pb_grpc.CacheServiceStub(channel)
        key = pb.CacheKey(namespace=pb.USER_PROFILE, user_id="u1")
        for _ in range(3):
            got = await cache.Get(pb.GetCacheRequest(key=key), timeout=DEADLINE)
            assert got.status == pb.CACHE_UNAVAILABLE
        lease = await cache.GetOrLease(pb.GetOrLeaseRequest(key=key), timeout=DEADLINE)
        assert (lease.status, lease.lease_token) == (pb.CACHE_UNAVAILABLE, "")
        stored = await cache.Set(pb.SetCacheRequest(key=key, value=b"v"), timeout=DEADLINE)
        assert not stored.stored
        counter = await cache.Increment(
            pb.IncrementCounterRequest(
                key=pb.CacheKey(namespace=pb.RATE_LIMIT, subject="login:ip:1"), window_seconds=9
            ),
            timeout=DEADLINE,
        )
        assert not counter.available
        invalidated = await cache.Invalidate(
            pb.InvalidateCacheRequest(scope=pb.USER_PROFILE_SCOPE, user_id="u1"), timeout=DEADLINE
        )
        assert not invalidated.invalidated
        lock = await locks.Acquire(pb.AcquireLockRequest(resources=["r"]), timeout=DEADLINE)
        assert lock.outcome == pb.UNAVAILABLE
        released = await locks.Release(
            pb.ReleaseLockRequest(resources=["r"], token=unique("t")), timeout=DEADLINE
        )
        assert released.outcome == pb.RELEASE_UNAVAILABLE
        stats = await cache.Stats(pb.GetStatsRequest(), timeout=DEADLINE)
        assert not stats.enabled and not stats.connected
    assert process.output().count(NOT_CONFIGURED) == 1


async def test_wrong_password_runs_degraded_with_one_error_line(processes, redis_servers):
    server = redis_servers(password=ADMIN_PASSWORD)
    process = processes({"REDIS_URL": f"redis://:wrong@127.0.0.1:{server.port}"})
    await process.wait_for("lockcache listening")
    await process.wait_for("Failed to connect to Redis: cache")
    output = process.output()
    assert '"severity": "ERROR"' in output and "WRONGPASS" in output
    assert "wrong@" not in output  # the password is never logged


async def test_one_evicting_redis_runs_with_locks_off(processes, redis_servers):
    server = redis_servers(maxmemory_policy="allkeys-lru")
    process = processes({"REDIS_URL": server.url})
    await process.wait_for("lockcache listening")
    assert "maxmemory-policy allkeys-lru" in process.output()


async def test_an_evicting_lock_master_of_redlock_urls_exits_with_one_line(
    processes, redis_servers
):
    server = redis_servers(maxmemory_policy="allkeys-lru")
    process = processes({"REDLOCK_URLS": server.url})
    assert await process.exit_code() == 1
    assert "maxmemory-policy allkeys-lru" in process.output()


async def test_bad_configuration_names_the_variable(processes):
    process = processes({"LOCK_RETRY_COUNT": "many"})
    assert await process.exit_code() == 2
    assert "LOCK_RETRY_COUNT" in process.output()


async def test_debug_logs_show_the_operator_lines_and_metrics_are_served(processes, redis_servers):
    server = redis_servers()
    metrics_port = free_port()
    process = processes(
        {"REDIS_URL": server.url, "LOG_LEVEL": "DEBUG", "METRICS_PORT": str(metrics_port)}
    )
    await process.wait_for("lockcache listening")
    assert "Redis connected successfully" in process.output()
    resource = unique("relationship_discovery:")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{process.port}") as channel:
        locks = pb_grpc.LockServiceStub(channel)
        await locks.Acquire(pb.AcquireLockRequest(resources=[resource]), timeout=DEADLINE)
        await locks.Acquire(pb.AcquireLockRequest(resources=[resource]), timeout=DEADLINE)
    await process.wait_for(f"Failed to acquire lock: {resource}")
    assert f"Lock acquired: {resource}" in process.output()

    def scrape() -> str:
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            return response.read().decode()

    body = await asyncio.to_thread(scrape)
    assert 'lockcache_lock_acquisitions_total{outcome="acquired"} 1.0' in body
    assert "lockcache_redis_up 1.0" in body
    started = time.monotonic()
    process.stop()
    assert process.service.returncode == 0, (time.monotonic() - started, process.output())
