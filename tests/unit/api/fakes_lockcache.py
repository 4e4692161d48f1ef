"""A fake lockcache (CacheService) and the in-process gRPC server holding every fake."""

import uuid
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from kushim.graph.v1 import graph_pb2_grpc
from kushim.lockcache.v1 import lockcache_pb2, lockcache_pb2_grpc

from tests.unit.api.fakes import GraphStore, Links, Records
from tests.unit.api.fakes_more import Admin, DataSources, Groups, Users

NS_NAMES = {1: "context_group", 2: "user_profile", 3: "platform", 4: "rate_limit"}


def _key(key: lockcache_pb2.CacheKey) -> tuple:
    return (key.namespace, key.user_id, key.record_id, key.depth, key.platform,
            key.data_source_id, key.subject)


def _scope(key: lockcache_pb2.CacheKey) -> tuple:
    return (key.namespace, key.user_id)


@dataclass
class CacheStore:
    values: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)
    leases: dict = field(default_factory=dict)
    generations: dict = field(default_factory=dict)
    hits: dict = field(default_factory=dict)
    misses: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    redis_up: bool = True
    enabled: bool = True
    down: bool = False
    locks_disabled: str = ""


class Cache(lockcache_pb2_grpc.CacheServiceServicer):
    """Refuses what the real service refuses: a counter is no cached value and the reverse."""

    def __init__(self, store: CacheStore):
        self.s = store

    async def _cached(self, key, context) -> tuple:
        if key.namespace not in (1, 2, 3):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"namespace {NS_NAMES.get(key.namespace)!r} holds no cached values")
        return _key(key)

    async def _enter(self, name, request, context):
        self.s.calls.append((name, request, dict(context.invocation_metadata() or ())))
        if self.s.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "fake lockcache is down")
        return self.s.redis_up and self.s.enabled

    def _count(self, key, hit: bool):
        name = NS_NAMES.get(key.namespace, "other")
        target = self.s.hits if hit else self.s.misses
        target[name] = target.get(name, 0) + 1

    async def Get(self, request, context):
        if not await self._enter("Get", request, context):
            return lockcache_pb2.GetCacheResponse(status=lockcache_pb2.CACHE_UNAVAILABLE)
        value = self.s.values.get(await self._cached(request.key, context))
        self._count(request.key, value is not None)
        if value is None:
            return lockcache_pb2.GetCacheResponse(status=lockcache_pb2.MISS)
        return lockcache_pb2.GetCacheResponse(status=lockcache_pb2.HIT, value=value)

    async def Set(self, request, context):
        if not await self._enter("Set", request, context):
            return lockcache_pb2.SetCacheResponse(stored=False, message="unavailable")
        self.s.values[await self._cached(request.key, context)] = request.value
        return lockcache_pb2.SetCacheResponse(stored=True)

    async def Delete(self, request, context):
        if not await self._enter("Delete", request, context):
            return lockcache_pb2.DeleteCacheResponse(deleted=False)
        if request.key.namespace == 4:
            existed = self.s.counters.pop(_key(request.key), None) is not None
        else:
            existed = self.s.values.pop(await self._cached(request.key, context), None) is not None
        return lockcache_pb2.DeleteCacheResponse(deleted=existed)

    async def Invalidate(self, request, context):
        if not await self._enter("Invalidate", request, context):
            return lockcache_pb2.InvalidateCacheResponse(invalidated=False)
        namespace = {1: 1, 2: 2, 3: 3, 4: 3}[request.scope]
        for key in list(self.s.values):
            if key[0] == namespace and key[1] == request.user_id and (
                    request.scope != 4 or key[5] == request.data_source_id):
                del self.s.values[key]
        scope = (namespace, request.user_id)
        self.s.generations[scope] = self.s.generations.get(scope, 0) + 1
        return lockcache_pb2.InvalidateCacheResponse(invalidated=True)

    async def GetOrLease(self, request, context):
        if not await self._enter("GetOrLease", request, context):
            return lockcache_pb2.GetOrLeaseResponse(status=lockcache_pb2.CACHE_UNAVAILABLE)
        value = self.s.values.get(_key(request.key))
        self._count(request.key, value is not None)
        if value is not None:
            return lockcache_pb2.GetOrLeaseResponse(status=lockcache_pb2.HIT, value=value)
        token = uuid.uuid4().hex
        self.s.leases[token] = self.s.generations.get(_scope(request.key), 0)
        return lockcache_pb2.GetOrLeaseResponse(status=lockcache_pb2.MISS, lease_token=token)

    async def Fill(self, request, context):
        if not await self._enter("Fill", request, context):
            return lockcache_pb2.FillCacheResponse(stored=False, message="unavailable")
        generation = self.s.leases.pop(request.lease_token, None)
        if generation is None or generation != self.s.generations.get(_scope(request.key), 0):
            return lockcache_pb2.FillCacheResponse(stored=False, message="invalidated")
        self.s.values[_key(request.key)] = request.value
        return lockcache_pb2.FillCacheResponse(stored=True)

    async def Increment(self, request, context):
        if not await self._enter("Increment", request, context):
            return lockcache_pb2.IncrementCounterResponse(available=False)
        if request.key.namespace != 4:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "namespace must be RATE_LIMIT")
        key = _key(request.key)
        self.s.counters[key] = self.s.counters.get(key, 0) + 1
        return lockcache_pb2.IncrementCounterResponse(
            available=True, count=self.s.counters[key], reset_in_seconds=request.window_seconds)

    async def Stats(self, request, context):
        await self._enter("Stats", request, context)
        answer = lockcache_pb2.GetStatsResponse(
            enabled=self.s.enabled, connected=self.s.redis_up and self.s.enabled,
            total_commands_processed=42, instantaneous_ops_per_sec=3,
            used_memory_human="1.02M", connected_clients=2, locks_acquired=5,
            info={"total_commands_processed": "42", "instantaneous_ops_per_sec": "3",
                  "used_memory_human": "1.02M", "connected_clients": "2",
                  "keyspace_hits": "7"},
            locks_disabled=self.s.locks_disabled)
        for name in ("context_group", "user_profile", "platform"):
            hits, misses = self.s.hits.get(name, 0), self.s.misses.get(name, 0)
            answer.namespaces[name].hits = hits
            answer.namespaces[name].misses = misses
            answer.namespaces[name].hit_rate = hits / (hits + misses) if hits + misses else 0.0
        return answer


class FakeBackends:
    """graph and lockcache fakes on two in-process gRPC servers (127.0.0.1, free ports)."""

    def __init__(self) -> None:
        self.graph = GraphStore()
        self.cache = CacheStore()
        self.graph_port = self.lockcache_port = 0
        self._servers: list[grpc.aio.Server] = []

    async def start(self) -> "FakeBackends":
        graph = grpc.aio.server()
        for add, servicer in (
            (graph_pb2_grpc.add_RecordServiceServicer_to_server, Records),
            (graph_pb2_grpc.add_LinkServiceServicer_to_server, Links),
            (graph_pb2_grpc.add_GroupServiceServicer_to_server, Groups),
            (graph_pb2_grpc.add_UserServiceServicer_to_server, Users),
            (graph_pb2_grpc.add_DataSourceServiceServicer_to_server, DataSources),
            (graph_pb2_grpc.add_AdminServiceServicer_to_server, Admin),
        ):
            add(servicer(self.graph), graph)
        cache = grpc.aio.server()
        lockcache_pb2_grpc.add_CacheServiceServicer_to_server(Cache(self.cache), cache)
        for server in (graph, cache):
            checker = health.aio.HealthServicer()
            await checker.set("", health_pb2.HealthCheckResponse.SERVING)
            health_pb2_grpc.add_HealthServicer_to_server(checker, server)
        self.graph_port = graph.add_insecure_port("127.0.0.1:0")
        self.lockcache_port = cache.add_insecure_port("127.0.0.1:0")
        for server in (graph, cache):
            await server.start()
            self._servers.append(server)
        return self

    async def stop(self) -> None:
        for server in self._servers:
            await server.stop(None)
