"""import: a user's history through HTTP `POST /records` in batches of 500, timed until
discovery is done for every record, with precision and recall on linkset-dev's true links.

The records are the real commit history of `../shared/data/linkset-dev/` (BENCH_LINKSET,
4,584 commits and 713 labelled links) plus a generated mix of tickets, PRs naming them and chat
messages (bench/ingest.py's Corpus, BENCH_IMPORT_MIX records). Two rows: every batch sent at
once by HTTP (discovery in the request, or after it for what the deadline left pending), and
a backlog stored without discovery (COPY of the same rows as `pending`) drained by the sweeper.
"""

import asyncio
import json
import os
import secrets
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg

from bench.context import Context
from bench.http import service_env, start_on
from bench.ingest import START, Corpus, copy_records, store_df
from devstack.services import ServiceProcess

REPO = Path(__file__).resolve().parents[1]
LINKSET = Path(os.environ.get("BENCH_LINKSET", REPO.parent / "shared/data/linkset-dev"))
MIX = int(os.environ.get("BENCH_IMPORT_MIX", "2000"))
# A shorter run (profiling, a quick look): only the first N records of the history.
LIMIT = int(os.environ.get("BENCH_IMPORT_RECORDS", "0"))
BATCH = 500
POLL_S = 0.25
DONE_WITHIN_S = 900

PENDING = """
select count(*) from records where user_id = $1 and discovery_state = 'pending'
"""
LINKED_PAIRS = """
select a.external_id, b.external_id
  from links l
  join records a on a.id = l.source_record_id
  join records b on b.id = l.target_record_id
 where l.user_id = $1 and a.source_platform = 'github' and b.source_platform = 'github'
"""


def history() -> list[dict]:
    """linkset-dev's commits, then the generated mix, in one list of API records."""
    with (LINKSET / "records.jsonl").open() as lines:
        items = [json.loads(line) for line in lines if line.strip()]
    corpus = Corpus(seed=11)
    for index in range(MIX):
        made = corpus.make(index, MIX)
        record = {
            "externalId": made["external_id"], "sourcePlatform": made["source_platform"],
            "artifactType": made["artifact_type"], "title": made["title"],
            "body": made["body"], "author": made["author"],
            "timestamp": made["when"].isoformat(), "participants": made["participants"],
        }
        if made.get("url"):
            record["url"] = made["url"]
        items.append(record)
    return items[:LIMIT] if LIMIT else items


def truth():
    """(true pairs, ignored pairs, root of a sha in the truth graph); pairs are frozensets
    of shas."""
    def pairs(name: str) -> list[frozenset]:
        with (LINKSET / name).open() as lines:
            rows = [json.loads(line) for line in lines if line.strip()]
        return [frozenset((row["a"], row["b"])) for row in rows]

    true = set(pairs("truth.jsonl"))
    # Pairs joined through the truth graph (two backports of one change, a revert's chain).
    parent: dict = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for pair in true:
        a, b = tuple(pair)
        parent[root(a)] = root(b)
    return true, set(pairs("ignore_pairs.jsonl")), root


def score(found: set, true: set, ignored: set, root) -> dict:
    judged = {p for p in found if p not in ignored and (p in true or not _joined(p, root))}
    hits = len(judged & true)
    return {
        "precision": round(hits / len(judged), 3) if judged else 0.0,
        "recall": round(hits / len(true), 3) if true else 0.0,
    }


def _joined(pair: frozenset, root) -> bool:
    a, b = tuple(pair)
    return root(a) == root(b)


async def _user_of(conn: asyncpg.Connection, token_email: str) -> uuid.UUID:
    return await conn.fetchval("select user_id from users where email = $1", token_email)


async def _wait_done(conn: asyncpg.Connection, user_id) -> None:
    deadline = time.monotonic() + DONE_WITHIN_S
    while await conn.fetchval(PENDING, user_id):
        if time.monotonic() > deadline:
            raise RuntimeError(f"discovery not done within {DONE_WITHIN_S} s")
        await asyncio.sleep(POLL_S)


async def _precision_recall(conn, user_id) -> dict:
    true, ignored, root = truth()
    found = {frozenset(row) for row in await conn.fetch(LINKED_PAIRS, user_id)}
    return score(found, true, ignored, root)


async def by_http(url: str, database_url: str, items: list[dict]) -> dict:
    conn = await asyncpg.connect(database_url)
    try:
        async with aiohttp.ClientSession() as session:
            email = f"bench-{secrets.token_hex(6)}@example.com"
            account = {"email": email, "password": secrets.token_urlsafe(16)}
            async with session.post(f"{url}/auth/register", json=account) as answer:
                token = (await answer.json())["token"]
            user_id = await _user_of(conn, email)
            headers = {"Authorization": f"Bearer {token}"}
            statuses, pending_answered = [], 0
            started = time.perf_counter()
            for first in range(0, len(items), BATCH):
                batch = {"records": items[first : first + BATCH]}
                async with session.post(f"{url}/records", json=batch, headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=120)) as answer:
                    statuses.append(answer.status)
                    body = await answer.json()
                for result in body.get("results", []):
                    record = result.get("record") or {}
                    pending_answered += record.get("discoveryState") == "pending"
            answered = time.perf_counter() - started
            await _wait_done(conn, user_id)
            elapsed = time.perf_counter() - started
        quality = await _precision_recall(conn, user_id)
    finally:
        await conn.close()
    batches = f"{sum(200 <= s < 300 for s in statuses)}/{len(statuses)}"
    return _row("POST /records, batches of 500", len(items), elapsed, answered, batches,
                pending_answered, quality)


async def by_sweeper(database_url: str, items: list[dict], start_graph) -> dict:
    """The same history stored as a backlog (pending, no discovery yet), then one graph
    process started to drain it through its sweeper."""
    from kushim_graph.validation import CleanRecord

    conn = await asyncpg.connect(database_url)
    try:
        user_id = await conn.fetchval(
            "insert into users (email, password_hash) values ($1, 'x') returning user_id",
            f"bench-backlog-{uuid.uuid4().hex}@example.com",
        )
        cleans = [
            CleanRecord(
                item["externalId"], item["sourcePlatform"], item["artifactType"],
                item.get("title", ""), item.get("body", ""), item.get("url", ""),
                item.get("author", ""), _timestamp(item["timestamp"]),
                tuple(item.get("participants", ())), item.get("metadata", {}), None,
                uuid.uuid4().hex,
            )
            for item in items
        ]
        df: dict[str, int] = {}
        await copy_records(conn, user_id, cleans, df, "pending")
        await store_df(conn, user_id, df)
        await conn.execute(
            "update records set discovery_requested_at = now() - interval '1 hour'"
            " where user_id = $1", user_id,
        )
        started = time.perf_counter()
        service = start_graph()
        try:
            await _wait_done(conn, user_id)
            elapsed = time.perf_counter() - started
        finally:
            service.stop()
        quality = await _precision_recall(conn, user_id)
    finally:
        await conn.close()
    return _row("backlog drained by the sweeper", len(items), elapsed, 0.0, "-", 0, quality)


def _row(path: str, records: int, elapsed: float, answered: float, batches: str,
         pending: int, quality: dict) -> dict:
    return {
        "path": path, "records": records, "records/s": round(records / elapsed, 1),
        "answered s": round(answered, 1), "done s": round(elapsed, 1),
        "batches 2xx": batches, "left pending in answers": pending, **quality,
    }


def _timestamp(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else START


def run(ctx: Context) -> dict:
    subprocess_env = service_env(ctx)
    asyncio.run(_migrate(subprocess_env["DATABASE_URL"]))
    items = history()
    services: list[ServiceProcess] = []
    rows = []
    try:
        graph_port = ctx.port()
        graph_env = service_env(ctx, GRAPH_PORT=str(graph_port), LOCKCACHE_ADDR=ctx.lockcache_addr,
                         DB_POOL_SIZE="20")
        services.append(start_on("graph", graph_env, graph_port))
        api_port = ctx.port()
        services.append(start_on("api", service_env(
            ctx, PORT=str(api_port), GRAPH_ADDR=f"127.0.0.1:{graph_port}",
            LOCKCACHE_ADDR=ctx.lockcache_addr, AUTH_TOKEN_SECRET=secrets.token_urlsafe(48),
            SHUTDOWN_GRACE_SECONDS="5"), api_port))
        rows.append(asyncio.run(by_http(f"http://127.0.0.1:{api_port}",
                                        ctx.env["DATABASE_URL"], items)))
    finally:
        for service in reversed(services):
            service.stop()
    sweeper_port = ctx.port()
    sweeper_env = service_env(ctx, GRAPH_PORT=str(sweeper_port), LOCKCACHE_ADDR=ctx.lockcache_addr,
                       DB_POOL_SIZE="20", DISCOVERY_SWEEP_INTERVAL_S="0.2")
    rows.append(asyncio.run(by_sweeper(
        ctx.env["DATABASE_URL"], items,
        lambda: start_on("graph", sweeper_env, sweeper_port, "graph-sweeper"),
    )))
    return {
        "title": "import: linkset-dev history + generated mix, timed until discovery is done",
        "rows": rows,
        "notes": [
            f"{len(items)} records (linkset-dev commits, then {MIX} generated "
            "tickets/PRs/chat) for a new user; precision/recall on linkset-dev's 713 links "
            "(ignore_pairs and pairs joined through the truth graph count neither way).",
            "records/s = records ÷ time from the first POST until no record is pending.",
        ],
    }


async def _migrate(database_url: str) -> None:
    from kushim_graph.migrate import run as migrate

    await migrate(database_url)
