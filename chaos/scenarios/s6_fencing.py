"""A discovery lock holder frozen past its TTL (SIGSTOP) while a graph instance takes the
lock over and writes, then resumed (SIGCONT): its stale write is fenced out and nothing it
would have written lands.

The holder is `python -m chaos.holder` (graph's own discovery code in a process of its own,
so it can be frozen right between taking the lock and writing); the lock goes through the
fleet's lockcache, the takeover through a gateway and graph's sweeper."""

import asyncio
import json
import os
import signal
import sys
import uuid

import asyncpg

from chaos.load import client_session
from devstack.launch import PYTHONPATH, base_env
from devstack.paths import REPO_ROOT

NAME = "fencing"
FAULT = "lock holder SIGSTOPped past its TTL, another instance takes over, SIGCONT"
SMOKE = True
HOLDER_TTL_MS = 1000
LINKS_OF = """
select id::text, updated_at from links
 where user_id = $1 and (source_record_id = $2 or target_record_id = $2) order by id
"""
RECORD_STATE = "select fencing_token, discovery_state from records where id = $1"


def record(external_id: str, platform: str, kind: str, title: str, body: str) -> dict:
    return {
        "externalId": external_id, "sourcePlatform": platform, "artifactType": kind,
        "title": title, "body": body, "author": "ada", "participants": ["ada"],
        "timestamp": "2024-06-01T09:00:00+00:00", "metadata": {},
    }  # fmt: skip


async def prepare(world) -> None:
    # The sweeper retries a record left pending past the lock TTL: the record the takeover
    # found locked is rediscovered within a few seconds, not the default 15.
    world.overrides.setdefault("graph", {}).update(
        DISCOVERY_SWEEP_INTERVAL_S="0.5", DISCOVERY_LOCK_TTL_MS="3000"
    )


async def post(session, world, headers: dict, body: dict) -> dict:
    url = f"{world.load.base_url}/records"
    async with session.post(url, json=body, headers=headers) as answer:
        made = await answer.json(content_type=None)
        if answer.status not in (200, 201):
            raise AssertionError(f"POST /records: {answer.status} {made}")
        return made


async def inject(world) -> None:
    db = await asyncpg.connect(world.infra["DATABASE_URL"])
    try:
        async with client_session() as session:
            user_id, token = await world.load.register(session)
            headers = {"Authorization": f"Bearer {token}"}
            for key in ("FEN-1", "FEN-2"):
                await post(session, world, headers,
                           record(key, "jira", "task", f"{key}: fence me", "a ticket"))
            pr = record("acme/fence#1", "github", "pull_request", "Fence the writer",
                        "fixes FEN-1")
            made = await post(session, world, headers, pr)
            record_id = made["record"]["id"]
            async with world.fault():
                await run_holder(world, db, session, headers, user_id, record_id, pr)
    finally:
        await db.close()


async def run_holder(world, db, session, headers, user_id: str, record_id: str,
                     pr: dict) -> None:
    env = base_env(
        DATABASE_URL=world.infra["DATABASE_URL"],
        LOCKCACHE_ADDR=world.proxies["lockcache"].address,
        USER_ID=user_id, RECORD_ID=record_id, TTL_MS=str(HOLDER_TTL_MS),
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), PYTHONPATH]),
    )
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "chaos.holder", env=env, cwd=REPO_ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        first = json.loads(await asyncio.wait_for(holder.stdout.readline(), 30))
        if "fencing_token" not in first:
            world.fail(f"the holder did not get the lock: {first}")
            return
        stale = first["fencing_token"]
        # Frozen right after taking the lock; the go-ahead waits in the pipe until it thaws.
        os.killpg(holder.pid, signal.SIGSTOP)
        holder.stdin.write(b"go\n")
        await holder.stdin.drain()
        # The takeover: the pull request changes (it now names FEN-2 too); graph finds the
        # lock held until the holder's TTL runs out, then the sweeper discovers it anew.
        pr = pr | {"body": "fixes FEN-1 and FEN-2"}
        await post(session, world, headers, pr)
        rid = uuid.UUID(record_id)

        async def taken_over() -> bool:
            row = await db.fetchrow(RECORD_STATE, rid)
            return row["fencing_token"] > stale and row["discovery_state"] == "done"

        await world.wait_for(taken_over, "another instance took the lock over and wrote")
        fresh = await db.fetchval(RECORD_STATE, rid)
        links_before = await db.fetch(LINKS_OF, uuid.UUID(user_id), rid)
        os.killpg(holder.pid, signal.SIGCONT)
        last = json.loads(await asyncio.wait_for(holder.stdout.readline(), 30))
        await asyncio.wait_for(holder.wait(), 30)
    finally:
        if holder.returncode is None:
            os.killpg(holder.pid, signal.SIGKILL)
            await holder.wait()
    links_after = await db.fetch(LINKS_OF, uuid.UUID(user_id), rid)
    stored = await db.fetchval(RECORD_STATE, rid)
    world.note(f"holder token {stale}, takeover token {fresh}, holder answered {last}")
    if last.get("outcome") != "stale":
        world.fail(f"the frozen holder's write was not fenced out: {last}")
    if stored != fresh:
        world.fail(f"the record's fencing token moved from {fresh} to {stored}")
    if [tuple(r) for r in links_after] != [tuple(r) for r in links_before]:
        world.fail("the frozen holder's links landed")
    if len(links_before) < 2:
        world.fail(f"the takeover linked {len(links_before)} tickets, expected 2")
