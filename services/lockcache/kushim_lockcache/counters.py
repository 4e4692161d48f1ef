"""Rate-limit counters (login and registration attempts, ingest requests) on the lock masters.

The cache Redis evicts under memory pressure (allkeys-lru): a counter kept there could vanish
before its window ends and the limit would restart early. The lock masters run noeviction, so a
counter lives exactly its window. Each hit increments the counter on every usable master, and
the answer is the highest count: a master that restarted empty, or was down for part of the
window, does not lower it. With no lock masters (REDLOCK_URLS unset and a cluster or evicting
REDIS_URL) the counters go to the cache Redis, as the only place shared by replicas.
"""

import asyncio
import math

from redis.exceptions import RedisError

from kushim_lockcache import keys
from kushim_lockcache.connection import RedisNode, Unavailable, is_oom
from kushim_lockcache.stats import Stats

INCREMENT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class Counters:
    def __init__(self, masters: list[RedisNode], cache: RedisNode | None, stats: Stats) -> None:
        self.nodes = masters or ([cache] if cache is not None else [])
        # The one Redis of REDIS_URL serves counters even when its policy rules out locks.
        self._unchecked = cache
        self.stats = stats
        self._scripts = [node.client.register_script(INCREMENT_SCRIPT) for node in self.nodes]

    async def increment(self, subject: str, window_seconds: int) -> tuple[bool, int, int]:
        """(available, count in the window after this hit, seconds until it resets)."""
        key = keys.rate_limit_key(subject)
        answers = await asyncio.gather(
            *(
                self._on(node, lambda c, s=script: s([key], [window_seconds * 1000]))
                for node, script in zip(self.nodes, self._scripts, strict=True)
            )
        )
        counted = [answer for answer in answers if answer is not None]
        if not counted:
            return False, 0, 0
        count, ttl_ms = max((int(count), int(ttl)) for count, ttl in counted)
        return True, count, math.ceil(ttl_ms / 1000)

    async def reset(self, subject: str) -> bool:
        """Ends a window early (a successful login clears its account's failures); true when a
        node held the counter and dropped it. A master unreachable now keeps its count, which
        the highest-count rule then still answers until the window ends: a reset may be lost,
        a hit never is."""
        key = keys.rate_limit_key(subject)
        answers = await asyncio.gather(
            *(self._on(node, lambda c: c.delete(key)) for node in self.nodes)
        )
        return any(answers)

    async def _on(self, node: RedisNode, command):
        """The node's answer; None when it is down, refuses the write or may evict."""
        if node is not self._unchecked and not node.usable:
            return None
        try:
            result = await node.run(command)
        except Unavailable:
            return None
        except RedisError as exc:
            if is_oom(exc):
                self.stats.oom()
            node.refusing(exc)
            return None
        node.accepting()
        return result
