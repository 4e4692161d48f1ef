"""Fencing tokens that only ever grow, per resource, across master restarts.

Each lock master keeps a counter per resource (keys.fencing_key) that the
acquire script INCRs. A successful Redlock acquisition answers, per resource,
the maximum over the quorum that granted it, and before answering raises every
quorum master that lags behind to that maximum. So after an acquisition that
returned T, a majority of masters holds a counter >= T; every later quorum
shares at least one master with that majority, so its maximum is > T. This
holds while no majority of masters loses its data at once (one master
restarting empty is fine: it lags, and the next acquisition raises it).

Counters have no TTL: they must outlive every lock of their resource. They
cost one small key per resource ever locked on the (noeviction) lock masters.
"""

from collections.abc import Sequence

# KEYS[1..n]: fencing counters. ARGV[1..n]: the floor for each counter.
# Raises each counter to at least its floor; never lowers one. Returns 1.
RAISE_SCRIPT = """
for i = 1, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if current < tonumber(ARGV[i]) then
    redis.call('SET', KEYS[i], ARGV[i])
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
