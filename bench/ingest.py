"""graph: ingest throughput with relationship discovery at 10k and 100k stored records.

Two users' stores are pre-filled with a synthetic corpus over the same two years, 10k and 100k
records, by COPY (bypassing discovery, but with the same derived index rows ingestion writes).
Then new records that reference stored ones are ingested for both through a graph process over
gRPC, batch for batch in turn, each record running discovery. The cost
per record should stay nearly flat as the store grows 10x: candidates come from indexes,
never from a scan of the user's records.
"""

import asyncio
import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from bench.context import Context
from devstack.launch import start_service
from devstack.probes import tcp_accepts
from devstack.services import ServiceProcess

REPO = Path(__file__).resolve().parents[1]
STAGES = (10_000, 100_000)
NEW_RECORDS = int(os.environ.get("BENCH_INGEST_RECORDS", "400"))
BATCH = 50
SPAN = timedelta(days=730)
START = datetime(2023, 1, 1, tzinfo=UTC)
PROJECTS = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL"]
SYLLABLES = ["ka", "lo", "mi", "ren", "tus", "va", "zo", "pel", "dri", "qua", "sen", "bor"]


def start_graph(ctx: Context, **overrides: str) -> tuple[ServiceProcess, str]:
    """A graph process on the bench infra (the same binary as production)."""
    port = ctx.port()
    env = (
        os.environ
        | ctx.env
        | {
            "BIND_HOST": "127.0.0.1",
            "GRAPH_PORT": str(port),
            "METRICS_PORT": "0",
            "LOCKCACHE_ADDR": ctx.lockcache_addr,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(
                str(REPO / p) for p in ("gen", "services/graph", "services/common")
            ),
        }
        | overrides
    )
    return start_service("graph", env, lambda: tcp_accepts(port)), f"127.0.0.1:{port}"


async def migrate(database_url: str) -> None:
    from kushim_graph.migrate import run

    await run(database_url)


async def analyze(database_url: str) -> None:
    """Planner statistics for what a section loaded, as autovacuum leaves them within about a
    minute: before that, a table filled from empty is planned as if it held a row or two."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("analyze")
    finally:
        await conn.close()


class Corpus:
    """Deterministic synthetic work records: tickets, PRs that fix them, chat about both."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible corpus, not secrets
        self.words = sorted(
            {
                "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4)))
                for _ in range(4000)
            }
        )
        self.people = [f"person{i}@example.com" for i in range(40)]
        self.tickets: list[str] = []

    def text(self, n: int) -> str:
        return " ".join(self.rng.choice(self.words) for _ in range(n))

    def make(self, index: int, total: int) -> dict:
        when = START + SPAN * (index / total) + timedelta(minutes=self.rng.randint(0, 600))
        author = self.rng.choice(self.people)
        kind = self.rng.random()
        if kind < 0.4 or not self.tickets:
            key = f"{self.rng.choice(PROJECTS)}-{index + 1}"
            self.tickets.append(key)
            return dict(
                external_id=key,
                source_platform="jira",
                artifact_type="task",
                title=self.text(6),
                body=self.text(60),
                author=author,
                when=when,
                participants=[self.rng.choice(self.people)],
            )
        target = self.tickets[max(0, len(self.tickets) - 1 - int(self.rng.expovariate(0.02)))]
        if kind < 0.75:
            return dict(
                external_id=f"acme/app#{index + 1}",
                source_platform="github",
                artifact_type="pull_request",
                title=f"{self.text(5)} {target}",
                body=f"Fixes {target}. {self.text(40)}",
                author=author,
                when=when,
                participants=[],
                url=f"https://github.com/acme/app/pull/{index + 1}",
            )
        return dict(
            external_id=f"C1.{index + 1}",
            source_platform="slack",
            artifact_type="message",
            title="",
            body=f"{target}: {self.text(25)}",
            author=author,
            when=when,
            participants=self.rng.sample(self.people, 3),
        )


COLUMNS = [
    "id",
    "user_id",
    "source_platform",
    "external_id",
    "artifact_type",
    "title",
    "body",
    "url",
    "author",
    "occurred_at",
    "participants",
    "metadata",
    "checksum",
    "refs",
    "identity_keys",
    "metadata_keys",
    "term_freqs",
    "discovery_state",
]


async def prefill(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    corpus: Corpus,
    start: int,
    stop: int,
    total: int,
    df: dict[str, int],
) -> None:
    """COPY records start..stop with their derived index rows; `df` is updated in place."""
    from kushim_graph.validation import CleanRecord

    cleans = []
    for index in range(start, stop):
        item = corpus.make(index, total)
        cleans.append(CleanRecord(
            item["external_id"], item["source_platform"], item["artifact_type"], item["title"],
            item["body"], item.get("url", ""), item["author"], item["when"],
            tuple(item["participants"]), {}, None, uuid.uuid4().hex,
        ))  # fmt: skip
    await copy_records(conn, user_id, cleans, df, "done")


async def copy_records(conn: asyncpg.Connection, user_id: uuid.UUID, cleans: list,
                       df: dict[str, int], discovery_state: str) -> None:
    """COPY the records with the derived index rows ingestion writes, keywords chosen as if
    they came in order; `df` ('' = document count) is updated in place."""
    from kushim_graph.discovery.derive import derive, keywords

    records, keys, features = [], [], []
    for clean in cleans:
        derived = derive(clean)
        record_id = uuid.uuid4()
        n_docs = df.get("", 0) + 1
        chosen = keywords(derived.term_freqs, df, n_docs)
        for term in derived.term_freqs:
            df[term] = df.get(term, 0) + 1
        df[""] = n_docs
        records.append((
            record_id, user_id, clean.source_platform, clean.external_id, clean.artifact_type,
            clean.title, clean.body, clean.url, clean.author, clean.occurred_at,
            list(clean.participants), json.dumps(clean.metadata), clean.checksum,
            json.dumps(derived.refs_json), sorted(derived.identity),
            sorted(derived.metadata_keys), json.dumps(derived.term_freqs), discovery_state,
        ))  # fmt: skip
        keys += [(user_id, k, "identity", record_id) for k in derived.identity]
        keys += [(user_id, k, "mention", record_id) for k in derived.mentions]
        people = sorted(derived.people)[:50]
        features += [
            (user_id, f, clean.occurred_at, record_id)
            for f in sorted({f"p:{p}" for p in people} | {f"t:{k}" for k in chosen})
        ]
    await conn.copy_records_to_table("records", records=records, columns=COLUMNS)
    await conn.copy_records_to_table(
        "record_keys", records=keys, columns=["user_id", "key", "kind", "record_id"]
    )
    await conn.copy_records_to_table(
        "record_features",
        records=features,
        columns=["user_id", "feature", "occurred_at", "record_id"],
    )


async def store_df(conn: asyncpg.Connection, user_id: uuid.UUID, df: dict[str, int]) -> None:
    await conn.execute("delete from term_df where user_id = $1", user_id)
    await conn.copy_records_to_table(
        "term_df",
        records=[(user_id, t, n) for t, n in df.items()],
        columns=["user_id", "term", "df"],
    )
    await conn.execute("analyze records; analyze record_keys; analyze record_features")


def new_records(corpus: Corpus, offset: int, total: int) -> list:
    """Records to ingest, landing across the whole span among the stored ones."""
    from kushim.graph.v1 import graph_pb2 as pb

    items = []
    for i in range(NEW_RECORDS):
        item = corpus.make(offset + i, total)
        item["when"] = START + SPAN * random.Random(offset + i).random()  # noqa: S311
        stamp = Timestamp()
        stamp.FromDatetime(item.pop("when"))
        items.append(pb.RecordInput(timestamp=stamp, **item))
    return items


async def ingest_interleaved(work: list[tuple[str, str, list]]) -> list[dict]:
    """Batches for each (graph address, user, records) in turn, so load from anything else on
    the machine weighs on every case alike; answers one result per case."""
    from kushim.graph.v1 import graph_pb2 as pb
    from kushim.graph.v1 import graph_pb2_grpc as pb_grpc

    spent = [0.0] * len(work)
    links = [0] * len(work)
    per_record: list[list[float]] = [[] for _ in work]
    channels = {addr: grpc.aio.insecure_channel(addr) for addr, _, _ in work}
    stubs = {addr: pb_grpc.RecordServiceStub(channel) for addr, channel in channels.items()}
    try:
        for first in range(0, NEW_RECORDS, BATCH):
            for n, (addr, user_id, items) in enumerate(work):
                batch = items[first : first + BATCH]
                started = time.perf_counter()
                answer = await stubs[addr].IngestRecords(
                    pb.IngestRecordsRequest(user_id=user_id, records=batch), timeout=300
                )
                elapsed = time.perf_counter() - started
                spent[n] += elapsed
                per_record[n].append(elapsed * 1000 / len(batch))
                links[n] += sum(len(r.links) for r in answer.results)
                assert not any(r.HasField("error") for r in answer.results)
    finally:
        for channel in channels.values():
            await channel.close()
    return [
        {
            "records_per_s": round(NEW_RECORDS / spent[n], 1),
            "ms_per_record_p50": round(sorted(per_record[n])[len(per_record[n]) // 2], 2),
            "links_made": links[n],
        }
        for n in range(len(work))
    ]


async def measure(ctx: Context, graphs: dict[str, str]) -> list[dict]:
    """graphs: DETERMINISTIC_THRESHOLD -> address of a graph process using it."""
    url = ctx.env["DATABASE_URL"]
    await migrate(url)
    conn = await asyncpg.connect(url)
    work, fills = [], []
    try:
        for stage in STAGES:
            started = time.perf_counter()
            user_id = await conn.fetchval(
                "insert into users (email, password_hash) values ($1, 'x') returning user_id",
                f"bench-{stage}-{uuid.uuid4().hex}@example.com",
            )
            corpus = Corpus()
            df: dict[str, int] = {}
            for first in range(0, stage, 5_000):
                await prefill(conn, user_id, corpus, first, min(first + 5_000, stage), stage, df)
            await store_df(conn, user_id, df)
            fills.append(round(time.perf_counter() - started, 1))
            for n, (threshold, addr) in enumerate(graphs.items()):
                items = new_records(corpus, stage + n * NEW_RECORDS, stage)
                work.append((threshold, stage, fills[-1], addr, str(user_id), items))
    finally:
        await conn.close()
    results = await ingest_interleaved([(addr, user, items) for *_, addr, user, items in work])
    return [
        {"threshold": threshold, "stored_records": stage, **result, "prefill_s": fill}
        for (threshold, stage, fill, *_), result in zip(work, results, strict=True)
    ]


def run(ctx: Context) -> dict:
    # At the default threshold only referenced candidates can link, so the time window is not
    # searched; at 0.5 people + keywords + proximity can link, and up to 100 candidates are
    # scored per record.
    started = [start_graph(ctx, DETERMINISTIC_THRESHOLD=t) for t in ("0.7", "0.5")]
    try:
        graphs = {t: addr for t, (_, addr) in zip(("0.7", "0.5"), started, strict=True)}
        rows = asyncio.run(measure(ctx, graphs))
    finally:
        for service, _ in started:
            service.stop()
    notes = []
    for threshold in ("0.7", "0.5"):
        small, large = (r["records_per_s"] for r in rows if r["threshold"] == threshold)
        notes.append(
            f"threshold {threshold}: throughput at 100k / at 10k stored = "
            f"{large / small if small else 0:.2f} (1.0 = perfectly flat)"
        )
    notes.append("pre-fill by COPY with the derived index rows; new records reference stored ones")
    return {
        "title": "graph ingest with discovery (records/s per case, batches of 50, interleaved)",
        "rows": rows,
        "notes": notes,
    }
