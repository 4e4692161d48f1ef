"""WatchInvalidations, and the cache writes that publish what they changed.

The cache servicer is extended rather than edited: each write that changes what a near cache
may hold (Invalidate, Set, Delete) publishes its event after Redis took the write and before
the caller hears back, so every invalidation a caller saw acknowledged is already on its way
to every watcher.
"""

import grpc
from kushim.lockcache.v1 import lockcache_pb2 as pb
from kushim.lockcache.v1 import lockcache_pb2_grpc as pb_grpc

from kushim_lockcache.cache_service import CacheServicer
from kushim_lockcache.invalidation_feed import NOT_SUPPORTED, InvalidationFeed

Event = pb.InvalidationEvent


class PublishingCacheServicer(CacheServicer):
    def __init__(self, *args, feed: InvalidationFeed) -> None:
        super().__init__(*args)
        self.feed = feed

    async def Set(self, request, context):
        answer = await super().Set(request, context)
        if answer.stored:
            await self.feed.publish(Event(kind=Event.KEY, key=request.key))
        return answer

    async def Delete(self, request, context):
        answer = await super().Delete(request, context)
        if request.key.namespace != pb.RATE_LIMIT:
            await self.feed.publish(Event(kind=Event.KEY, key=request.key))
        return answer

    async def Invalidate(self, request, context):
        answer = await super().Invalidate(request, context)
        if answer.invalidated:
            await self.feed.publish(Event(kind=Event.SCOPE, scope=request))
        return answer


class InvalidationServicer(pb_grpc.InvalidationServiceServicer):
    def __init__(self, feed: InvalidationFeed) -> None:
        self.feed = feed

    async def WatchInvalidations(self, request, context):
        if not self.feed.supported:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, NOT_SUPPORTED)
        watcher = self.feed.watch()
        try:
            while (event := await watcher.queue.get()) is not None:
                yield event
        finally:
            self.feed.unwatch(watcher)
