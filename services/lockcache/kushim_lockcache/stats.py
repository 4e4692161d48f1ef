"""Counters of this lockcache process, also exported to Prometheus.

Counters are per process (each replica counts what it served); Prometheus
sums replicas. Redis INFO fields come from the cache server on demand.
"""

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from kushim_lockcache.keys import NAMESPACES


@dataclass
class NamespaceCounts:
    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


@dataclass
class Stats:
    namespaces: dict[str, NamespaceCounts] = field(
        default_factory=lambda: {ns: NamespaceCounts() for ns in NAMESPACES}
    )
    locks_acquired: int = 0
    locks_contended: int = 0
    locks_unavailable: int = 0
    reconnects: int = 0
    oom_errors: int = 0
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self._cache = Counter(
            "lockcache_cache_requests",
            "Cache reads by namespace and result",
            ["namespace", "result"],
            registry=r,
        )
        self._locks = Counter(
            "lockcache_lock_acquisitions", "Acquire outcomes", ["outcome"], registry=r
        )
        self._reconnects = Counter(
            "lockcache_redis_reconnects",
            "Redis connections replaced after a drop (reset, restart) or an outage",
            registry=r,
        )
        self._oom = Counter(
            "lockcache_redis_oom_errors",
            "Writes refused by Redis: OOM command not allowed",
            registry=r,
        )
        self.connected_gauge = Gauge(
            "lockcache_redis_up", "1 while the cache Redis answers", registry=r
        )

    def hit(self, namespace: str) -> None:
        self.namespaces[namespace].hits += 1
        self._cache.labels(namespace, "hit").inc()

    def miss(self, namespace: str) -> None:
        self.namespaces[namespace].misses += 1
        self._cache.labels(namespace, "miss").inc()

    def lock(self, outcome: str) -> None:
        if outcome == "acquired":
            self.locks_acquired += 1
        elif outcome == "contended":
            self.locks_contended += 1
        else:
            self.locks_unavailable += 1
        self._locks.labels(outcome).inc()

    def reconnected(self) -> None:
        self.reconnects += 1
        self._reconnects.inc()

    def oom(self) -> None:
        self.oom_errors += 1
        self._oom.inc()

    @property
    def hit_rate(self) -> float:
        hits = sum(c.hits for c in self.namespaces.values())
        total = hits + sum(c.misses for c in self.namespaces.values())
        return hits / total if total else 0.0

    def serve_metrics(self, host: str, port: int):
        """Starts the /metrics HTTP server; returns (server, thread) to shut down."""
        return start_http_server(port, addr=host, registry=self.registry)
