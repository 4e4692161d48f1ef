"""The lockcache process: Redis backends, both gRPC services, health, metrics."""

import logging

from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc
from kushim_common.grpcserve import GrpcServer

from kushim_lockcache import keys
from kushim_lockcache.backends import open_backends
from kushim_lockcache.cache import Cache
from kushim_lockcache.config import Config
from kushim_lockcache.counters import Counters
from kushim_lockcache.invalidation_feed import InvalidationFeed
from kushim_lockcache.invalidation_service import InvalidationServicer, PublishingCacheServicer
from kushim_lockcache.lease import Leases
from kushim_lockcache.lock_service import LockServicer
from kushim_lockcache.redlock import Redlock
from kushim_lockcache.stats import Stats

log = logging.getLogger(__name__)


class LockcacheServer:
    """Backends + gRPC server; `start()` connects and listens, `stop()` drains."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.stats = Stats()
        self.backends = open_backends(config, self.stats)
        self.redlock = Redlock(
            self.backends.lock_masters,
            self.stats,
            fencing_ttl_ms=config.fencing_counter_ttl_s * 1000,
        )
        ttls = {
            keys.CONTEXT_GROUP: config.context_group_ttl_s,
            keys.USER_PROFILE: config.user_profile_ttl_s,
            keys.PLATFORM: config.platform_data_ttl_s,
            keys.RATE_LIMIT: 60,
        }
        self.cache = Cache(
            self.backends.cache, self.stats, ttls, config.max_value_bytes, config.compress_min_bytes
        )
        self.leases = Leases(self.cache)
        self.counters = Counters(self.backends.lock_masters, self.backends.cache, self.stats)
        self.grpc = GrpcServer(
            [
                pb.DESCRIPTOR.services_by_name["LockService"].full_name,
                pb.DESCRIPTOR.services_by_name["CacheService"].full_name,
                pb.DESCRIPTOR.services_by_name["InvalidationService"].full_name,
            ],
            security=config.grpc,
        )
        pb_grpc.add_LockServiceServicer_to_server(
            LockServicer(self.redlock, config), self.grpc.server
        )
        self.feed = InvalidationFeed(self.backends.cache, self.backends.subscriber)
        pb_grpc.add_CacheServiceServicer_to_server(
            PublishingCacheServicer(
                self.cache, self.leases, self.counters, self.backends, feed=self.feed
            ),
            self.grpc.server,
        )
        pb_grpc.add_InvalidationServiceServicer_to_server(
            InvalidationServicer(self.feed), self.grpc.server
        )
        self.stats.connected_gauge.set_function(
            lambda: 1.0 if self.backends.cache is not None and self.backends.cache.up else 0.0
        )
        self.port = 0
        self._metrics = None

    async def start(self) -> int:
        """Raises StartupError (an evicting lock master of REDLOCK_URLS)."""
        await self.backends.start()
        self.feed.start()
        self.port = self.grpc.bind(f"{self.config.bind_host}:{self.config.port}")
        await self.grpc.start()
        if self.config.metrics_port:
            self._metrics = self.stats.serve_metrics(
                self.config.bind_host, self.config.metrics_port
            )
        await self.grpc.mark_serving()
        log.info("lockcache listening on %s:%d", self.config.bind_host, self.port)
        return self.port

    async def stop(self, grace_seconds: float = 1.0) -> None:
        # Streams end first: an open one would hold the server's stop for the whole grace.
        await self.feed.close()
        await self.grpc.stop(grace_seconds)
        await self.close()

    async def close(self) -> None:
        await self.feed.close()
        await self.backends.close()
        if self._metrics is not None:
            server, thread = self._metrics
            server.shutdown()
            server.server_close()
            thread.join()
            self._metrics = None
