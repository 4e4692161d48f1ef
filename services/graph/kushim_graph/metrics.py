"""Prometheus metrics of the graph service."""

from prometheus_client import Counter, Gauge, Histogram

RPC_LATENCY = Histogram(
    "kushim_graph_rpc_seconds", "gRPC handling time", ["method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RECORDS_INGESTED = Counter(
    "kushim_graph_records_ingested_total", "Records ingested", ["outcome"]
)
DISCOVERY_RUNS = Counter("kushim_graph_discovery_total", "Discovery runs", ["outcome"])
LINKS_WRITTEN = Counter("kushim_graph_links_written_total", "Links written by discovery")
OUTBOX_APPLIED = Counter("kushim_graph_outbox_applied_total", "Outbox rows applied to Neo4j")
NEO4J_UP = Gauge("kushim_graph_neo4j_up", "1 when the projection worker reaches Neo4j")
SEMANTIC_EMBEDDED = Counter(
    "kushim_graph_semantic_embedded_total", "Records embedded by the semantic pass"
)
SEMANTIC_LINKS_WRITTEN = Counter(
    "kushim_graph_semantic_links_written_total", "Links written by the semantic pass"
)
NEAR_CACHE = Counter(
    "kushim_graph_near_cache_total",
    "Near cache reads (hit, miss, bypass: stream not synced) and flushes",
    ["outcome"],
)
CACHE_INVALIDATIONS_PENDING = Gauge(
    "kushim_graph_cache_invalidations_pending",
    "Cache invalidations written and not yet acknowledged by lockcache",
)
