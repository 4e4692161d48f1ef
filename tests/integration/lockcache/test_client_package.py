"""The lockcache client package (clients/python) against a real lockcache: only its API."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

import pytest
from kushim_lockcache_client import (
    Computed,
    LockCacheClient,
    LockHeld,
    LockInvalid,
    LockLost,
    LockUnavailable,
    context_group_key,
)

from tests.integration.lockcache.support import eventually, free_port, unique

HOLDER = Path(__file__).with_name("paused_holder.py")


@pytest.fixture
async def lockcache_addr(lockcache) -> str:
    return f"127.0.0.1:{lockcache.server.port}"


@pytest.fixture
async def client(lockcache_addr):
    async with LockCacheClient(lockcache_addr) as client:
        yield client


@pytest.fixture
async def rival(lockcache_addr):
    async with LockCacheClient(lockcache_addr) as client:
        yield client


async def test_two_clients_contend_and_the_second_gets_lock_held(client, rival):
    resource = unique("invoice:")
    async with client.lock(resource, ttl=15) as lease:
        assert lease.fencing_token > 0 and lease.remaining_s() > 0
        with pytest.raises(LockHeld) as held:
            await rival.acquire(resource, ttl=15, retries=0)
        assert held.value.resources == (resource,)
        with pytest.raises(LockHeld):
            async with rival.hold(resource, ttl=15, retries=0):
                pytest.fail("the block of a hold that was not acquired ran")
    # Released on exit: the rival gets it now, with a larger fencing token.
    async with rival.lock(resource, ttl=15, retries=0) as second:
        assert second.fencing_token > lease.fencing_token


async def test_several_resources_are_taken_all_or_none(client, rival):
    a, b, c = unique("a:"), unique("b:"), unique("c:")
    async with client.lock([b, a], ttl=15) as lease:
        assert lease.resources == tuple(sorted([a, b]))
        assert set(lease.fencing_tokens) == {a, b}
        with pytest.raises(LockHeld):
            await rival.acquire([c, a], ttl=15, retries=0)
        # c was not kept by the refused acquisition.
        async with rival.lock(c, ttl=15, retries=0):
            pass


async def test_floors_put_each_token_above_the_callers_stored_one(client):
    a, b = unique("a:"), unique("b:")
    lease = await client.acquire([a, b], ttl=15, floors={a: 1_000, b: 0})
    await client.release(lease)
    assert lease.fencing_tokens[a] > 1_000
    assert 0 < lease.fencing_tokens[b] < 1_000  # 0 is no floor
    assert lease.fencing_ttl_ms > 0
    with pytest.raises(LockInvalid):  # a floor for a resource not locked
        await client.acquire(a, ttl=15, floors={b: 5})


async def test_bad_requests_raise_lock_invalid(client):
    with pytest.raises(LockInvalid):
        await client.acquire("has space", ttl=15)
    with pytest.raises(LockInvalid):
        await client.acquire(unique("r:"), ttl=0.001)
    with pytest.raises(LockInvalid):
        await client.acquire([], ttl=15)


async def test_extend_renews_and_reports_a_lost_lock(client, rival):
    resource = unique("r:")
    lease = await client.acquire(resource, ttl=15)
    extended = await client.extend(lease, ttl=30)
    assert extended.valid_until > lease.valid_until
    assert await client.release(lease)
    assert not await client.release(lease)  # already released: not ours any more
    with pytest.raises(LockLost) as lost:
        await client.extend(lease, ttl=30)
    assert lost.value.fencing_token == lease.fencing_token


async def test_hold_keeps_the_lock_past_its_ttl_and_releases_on_exit(client, rival):
    resource = unique("r:")
    async with client.hold(resource, ttl=0.6) as held:
        first_valid_until = held.valid_until
        await eventually(lambda: held.valid_until > first_valid_until + 0.5)
        with pytest.raises(LockHeld):
            await rival.acquire(resource, ttl=15, retries=0)
        held.check()
    async with rival.lock(resource, ttl=15, retries=0) as lease:
        assert lease.fencing_token > held.fencing_token


async def test_a_paused_holder_loses_its_lock_and_its_fenced_write_is_refused(
    lockcache_addr, client, tmp_path
):
    resource = unique("invoice:")
    db_path = tmp_path / "store.db"
    with contextlib.closing(sqlite3.connect(db_path)) as db, db:
        db.execute("CREATE TABLE invoices (id TEXT PRIMARY KEY, value TEXT, fence INTEGER)")
        db.execute("INSERT INTO invoices VALUES (?, 'new', 0)", (resource,))
    holder = await asyncio.create_subprocess_exec(
        sys.executable, str(HOLDER),
        env=os.environ | {"LOCKCACHE_ADDR": lockcache_addr, "RESOURCE": resource,
                          "DB_PATH": str(db_path)},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(holder.stdout.readline(), 30)
        holder_token = json.loads(line)["fencing_token"]
        holder.send_signal(signal.SIGSTOP)  # a GC pause, a stopped VM

        async def take_over():
            with contextlib.suppress(LockHeld):
                return await client.acquire(resource, ttl=15, retries=0)

        # The holder's heartbeats stop: lockcache lets the lock go after one ttl.
        lease = await eventually(take_over, within=10)
        assert lease.fencing_token > holder_token
        with contextlib.closing(sqlite3.connect(db_path)) as db, db:
            db.execute(
                "UPDATE invoices SET value = 'current', fence = ? WHERE id = ? AND fence < ?",
                (lease.fencing_token, resource, lease.fencing_token),
            )
        holder.send_signal(signal.SIGCONT)
        holder.stdin.write(b"go\n")
        await holder.stdin.drain()
        report = json.loads(await asyncio.wait_for(holder.stdout.readline(), 30))
    finally:
        if holder.returncode is None:
            holder.send_signal(signal.SIGCONT)
            holder.kill()
        await holder.wait()
    assert report["write"] == "refused"
    assert report["lost"]
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        assert db.execute("SELECT value FROM invoices").fetchone() == ("current",)
    await client.release(lease)


async def test_hold_cancels_the_work_and_raises_lock_lost_when_redis_goes(
    lockcache_factory, redis_servers
):
    redis = redis_servers()
    server = await lockcache_factory({"REDIS_URL": redis.url})
    async with LockCacheClient(f"127.0.0.1:{server.server.port}") as client:
        resource = unique("r:")
        told = []
        with pytest.raises(LockLost) as lost:
            async with client.hold(resource, ttl=0.6, on_lost=told.append) as held:
                redis.kill()
                await asyncio.Event().wait()  # the work: runs until cancelled
        assert lost.value.resources == (resource,)
        assert told == [lost.value]
        assert held.lost.is_set()
        with pytest.raises(LockLost):
            held.check()
        with pytest.raises(LockUnavailable):
            await client.acquire(unique("r:"), ttl=15, retries=0)


async def test_redis_down_gives_lock_unavailable_not_held(lockcache_factory, redis_servers):
    redis = redis_servers()
    server = await lockcache_factory({"REDIS_URL": redis.url})
    async with LockCacheClient(f"127.0.0.1:{server.server.port}") as client:
        resource = unique("r:")
        lease = await client.acquire(resource, ttl=15)
        redis.kill()
        with pytest.raises(LockUnavailable) as unavailable:
            await client.acquire(resource, ttl=15, retries=0)
        assert not isinstance(unavailable.value, LockHeld)
        with pytest.raises(LockUnavailable) as extending:
            await client.extend(lease, ttl=15)
        assert not isinstance(extending.value, LockLost)
        assert not await client.release(lease)
        with pytest.raises(LockUnavailable):
            async with client.hold(resource, ttl=1):
                pass


async def test_an_unreachable_lockcache_gives_lock_unavailable_and_cache_misses():
    async with LockCacheClient(f"127.0.0.1:{free_port()}", timeout_s=0.5) as client:
        with pytest.raises(LockUnavailable) as unavailable:
            await client.acquire(unique("r:"), ttl=15)
        assert unavailable.value.code == "UNAVAILABLE"
        with pytest.raises(LockUnavailable):
            async with client.hold(unique("r:"), ttl=1):
                pass
        computed = await client.get_or_fill(
            context_group_key("u", "r", 1), lambda: asyncio.sleep(0, b"fresh")
        )
        assert computed == b"fresh"
        assert not await client.serving()


async def test_a_lockcache_that_never_answers_gives_lock_unavailable_within_the_deadline():
    with socket.socket() as silent:  # accepts connections, never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        target = f"127.0.0.1:{silent.getsockname()[1]}"
        async with LockCacheClient(target, timeout_s=0.3) as client:
            with pytest.raises(LockUnavailable) as acquiring:
                await client.acquire(unique("r:"), ttl=15)
            assert acquiring.value.code == "DEADLINE_EXCEEDED"
            with pytest.raises(LockUnavailable) as holding:
                async with client.hold(unique("r:"), ttl=1):
                    pass
            assert holding.value.code == "DEADLINE_EXCEEDED"


async def test_get_or_fill_computes_once_then_serves_the_cached_value(client):
    key = context_group_key(unique("u"), unique("r"), 2)
    calls = []

    async def compute():
        calls.append(1)
        return Computed(b"value", ("rec-1",))

    assert await client.get_or_fill(key, compute, ttl_s=60) == b"value"
    assert await client.get_or_fill(key, compute, ttl_s=60) == b"value"
    assert len(calls) == 1


async def test_a_bad_cache_key_raises_value_error(client):
    with pytest.raises(ValueError, match="user_id"):
        await client.get_or_fill(context_group_key("a:b", "r", 1), lambda: asyncio.sleep(0, b""))
