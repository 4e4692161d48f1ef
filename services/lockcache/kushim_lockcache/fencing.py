"""Fencing tokens that only ever grow, per resource, across master restarts.

Each lock master keeps a counter per resource (keys.fencing_key) that the
acquire script INCRs. A successful Redlock acquisition answers, per resource,
the maximum over the quorum that granted it, and before answering raises every
quorum master that lags behind to that maximum. So after an acquisition that
returned T, a majority of masters holds a counter >= T; every later quorum
shares at least one master with that majority, so its maximum is > T. This
holds while no majority of masters loses its data at once (one master
restarting empty is fine: it lags, and the next acquisition raises it).

Counters expire FENCING_COUNTER_TTL_S after their last acquisition, so the
lock masters hold one small key per resource locked within that window, not
per resource ever locked. Growth across an expiry (or a majority of masters
losing their data) comes from the caller: it passes its durable high-water
mark (the token its database last accepted) as a floor, and every token
answered is above it. A token is only as safe as its counter: the caller
accepts it for at most half of the counter's TTL (see graph's
writes/fencing.py), so by the time a counter can expire and restart from
the floor, no write carrying an older token can still land.
"""

from collections.abc import Sequence

# Measured (bench/fencing_memory.py): 180-235 bytes per counter (key, value, expiry) on
# Redis 7, so a 128 MB lock master holds 570,000-700,000 counters: 10 minutes of TTL
# covers about 1,000 distinct resources locked per second.
TTL_MS = 600 * 1000
# Lua numbers are doubles: integers stay exact up to 2^53.
MAX_FLOOR = 2**53 - 2

# KEYS[1..n]: fencing counters. ARGV[1]: counter ttl in ms, ARGV[2..n+1]: the
# floor for each counter. Raises each counter to at least its floor (with the
# ttl); never lowers one. Returns 1.
RAISE_SCRIPT = """
for i = 1, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if current < tonumber(ARGV[i + 1]) then
    redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[1])
  end
end
return 1
"""


def merge(per_master: Sequence[Sequence[int]]) -> tuple[list[int], list[int]]:
    """Given the counters each granting master returned (one list per master,
    one value per resource), answers the per-resource maxima and the indexes
    of masters that lag behind them and must be raised."""
    if not per_master:
        raise ValueError("no master granted the lock")
    maxima = [max(column) for column in zip(*per_master, strict=True)]
    lagging = [i for i, values in enumerate(per_master) if list(values) != maxima]
    return maxima, lagging
