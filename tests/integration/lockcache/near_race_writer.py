"""python near_race_writer.py: the writing side of the near cache's raced check.

Writes the values 1..COUNT to the user profile of USER_ID through lockcache (LOCKCACHE_ADDR),
with a near cache, and after each acknowledged write reads the key back through it: a read
older than the caller's own acknowledged write is counted. Prints
{"own_stale": n, "near_hits": n} at the end.
"""

import asyncio
import json
import os

from kushim_lockcache_client import LockCacheClient, NearCache, user_profile_key


async def main(environ: dict[str, str]) -> None:
    key = user_profile_key(environ["USER_ID"])
    own_stale = 0
    near = NearCache()
    async with LockCacheClient(environ["LOCKCACHE_ADDR"], near_cache=near) as client:
        await client.get(key)  # starts the stream
        # Polled: the near cache has no event to wait on; the parent bounds this process.
        while not near.usable:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        for n in range(1, int(environ["COUNT"]) + 1):
            assert await client.set(key, str(n).encode())
            for _ in range(2):
                value = await client.get(key)
                if value is None or int(value) < n:
                    own_stale += 1
    print(json.dumps({"own_stale": own_stale, "near_hits": near.stats.hits}), flush=True)  # noqa: T201


if __name__ == "__main__":
    asyncio.run(main(dict(os.environ)))
