"""The current token version of each user, as graph stores it, cached briefly per replica.

A token older than its user's version is refused. The cache keeps one graph call per user per
TOKEN_VERSION_CACHE_MS: a logout is effective at once on the replica that served it and within
that time on the others. While graph cannot answer, the last known version is used, and a user
never seen before is let through on the signature alone (graph is then down and nearly every
route fails anyway): availability over revocation, for the length of the outage.
"""

import logging
import time
from collections.abc import Callable

import grpc
from kushim.graph.v1 import graph_pb2
from kushim_common.statelog import StateLog

from kushim_api.errors import Unauthorized
from kushim_api.upstream import Upstream

log = logging.getLogger(__name__)

MAX_CACHED_USERS = 100_000


class TokenVersions:
    def __init__(self, upstream: Upstream, ttl_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._upstream = upstream
        self._ttl = ttl_seconds
        self._clock = clock
        self._known: dict[str, tuple[int, float]] = {}
        self._graph = StateLog(
            log, up="Token versions readable again",
            down="Token versions unreadable: tokens checked by signature only",
        )

    async def check(self, user_id: str, version: int) -> None:
        current = await self._current(user_id)
        if current is not None and version < current:
            raise Unauthorized("token revoked")

    def revoked(self, user_id: str, version: int) -> None:
        """Records a version this replica just set, so its own next request sees it."""
        self._remember(user_id, version)

    async def _current(self, user_id: str) -> int | None:
        known = self._known.get(user_id)
        if known is not None and self._clock() - known[1] < self._ttl:
            return known[0]
        try:
            answer = await self._upstream.users.GetUser(graph_pb2.GetUserRequest(user_id=user_id))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                self._known.pop(user_id, None)
                raise Unauthorized("no such user") from None
            self._graph.report(False)
            return known[0] if known is not None else None
        self._graph.report(True)
        self._remember(user_id, answer.user.token_version)
        return answer.user.token_version

    def _remember(self, user_id: str, version: int) -> None:
        if len(self._known) >= MAX_CACHED_USERS:
            horizon = self._clock() - self._ttl
            self._known = {u: v for u, v in self._known.items() if v[1] > horizon}
            if len(self._known) >= MAX_CACHED_USERS:
                self._known.clear()
        self._known[user_id] = (version, self._clock())
