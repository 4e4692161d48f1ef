"""graph: context subgraph reads (depth 2), uncached vs cached through lockcache.

Uncached: the user's context-group cache is invalidated before every read, so each read
traverses Neo4j and loads the records, links and groups from PostgreSQL. Cached: the
subgraph comes from the lockcache GetOrLease hit.
"""

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from bench.context import Context
from bench.ingest import migrate, start_graph

TICKETS = 10
NOT_A_HASH = "bench-user-never-logs-in"


def cluster():
    from kushim.graph.v1 import graph_pb2 as pb

    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = []
    for t in range(1, TICKETS + 1):
        for n, (external, platform, kind, body) in enumerate([
            (f"CTX-{t}", "jira", "task", f"ticket {t}"),
            (f"acme/ctx#{t}", "github", "pull_request", f"Fixes CTX-{t}"),
            (f"acme/ctx#{t + 100}", "github", "pull_request", f"Follow-up to acme/ctx#{t}"),
            (f"C9.{t}", "slack", "message", f"CTX-{t} and CTX-{t % TICKETS + 1} are related"),
        ]):
            stamp = Timestamp()
            stamp.FromDatetime(start + timedelta(days=t, hours=n))
            items.append(pb.RecordInput(
                external_id=external, source_platform=platform, artifact_type=kind,
                title=body, body=body, author=f"dev{t % 3}", timestamp=stamp,
            ))
    return items


def _summary(name: str, latencies: list[float]) -> dict:
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {"read": name, "reads": len(latencies), "p50_ms": round(q[49], 2),
            "p99_ms": round(q[98], 2), "mean_ms": round(statistics.fmean(latencies), 2)}


async def measure(ctx: Context, addr: str) -> list[dict]:
    from kushim.graph.v1 import graph_pb2 as pb
    from kushim.graph.v1 import graph_pb2_grpc as pb_grpc
    from kushim.lockcache.v1 import lockcache_pb2 as lpb
    from kushim.lockcache.v1 import lockcache_pb2_grpc as lpb_grpc

    await migrate(ctx.env["DATABASE_URL"])
    async with grpc.aio.insecure_channel(addr) as channel, \
            grpc.aio.insecure_channel(ctx.lockcache_addr) as lc_channel:
        users = pb_grpc.UserServiceStub(channel)
        records = pb_grpc.RecordServiceStub(channel)
        admin = pb_grpc.AdminServiceStub(channel)
        cache = lpb_grpc.CacheServiceStub(lc_channel)
        user = (await users.CreateUser(pb.CreateUserRequest(
            email=f"bench-ctx-{uuid.uuid4().hex}@example.com", password_hash=NOT_A_HASH
        ))).user.id
        answer = await records.IngestRecords(
            pb.IngestRecordsRequest(user_id=user, records=cluster()), timeout=120
        )
        start_id = answer.results[0].record.id
        deadline = time.monotonic() + 60
        while (await admin.CheckDependencies(pb.CheckDependenciesRequest())).outbox_pending:
            if time.monotonic() > deadline:
                raise RuntimeError("the outbox did not drain into Neo4j")
            await asyncio.sleep(0.1)
        request = pb.GetRecordContextRequest(user_id=user, record_id=start_id, depth=2)
        invalidate = lpb.InvalidateCacheRequest(scope=lpb.USER_CONTEXT_GROUPS, user_id=user)
        nodes = len((await records.GetRecordContext(request)).subgraph.nodes)

        uncached: list[float] = []
        stop = time.monotonic() + ctx.seconds
        while time.monotonic() < stop:
            await cache.Invalidate(invalidate)
            t0 = time.perf_counter()
            reply = await records.GetRecordContext(request)
            uncached.append((time.perf_counter() - t0) * 1000)
            assert not reply.cached
        await records.GetRecordContext(request)
        cached: list[float] = []
        stop = time.monotonic() + ctx.seconds
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            reply = await records.GetRecordContext(request)
            cached.append((time.perf_counter() - t0) * 1000)
            assert reply.cached
    rows = [_summary("uncached", uncached), _summary("cached", cached)]
    for row in rows:
        row["nodes"] = nodes
    return rows


def run(ctx: Context) -> dict:
    service, addr = start_graph(ctx)
    try:
        rows = asyncio.run(measure(ctx, addr))
    finally:
        service.stop()
    ratio = rows[0]["p50_ms"] / rows[1]["p50_ms"] if rows[1]["p50_ms"] else 0.0
    return {
        "title": "graph context subgraph reads, depth 2, one client",
        "rows": rows,
        "notes": [
            f"uncached / cached p50 latency = {ratio:.1f}x (the Redis caching guide expects "
            "2-5x for read-through caching)"
        ],
    }
