"""Sweeper.hand_over: records a request left pending wait in memory up to a bound."""

import uuid

from kushim_graph.writes import sweeper
from kushim_graph.writes.sweeper import Sweeper


def test_handed_over_records_are_kept_up_to_the_bound(monkeypatch):
    monkeypatch.setattr(sweeper, "MAX_HANDED", 5)
    sweep = Sweeper(None, None, None, interval_s=60.0, stale_after_s=15.0)
    a, b, c, d, e, f, g, h = (uuid.uuid4() for _ in range(8))
    sweep.hand_over("u1", [a, b, str(c)])  # ids as text are taken as the UUIDs they name
    sweep.hand_over("u2", [d, e, f, g])
    sweep.hand_over("u1", [h])
    # The rest stays pending in PostgreSQL, for a pass over stale records.
    assert dict(sweep._handed) == {"u1": [a, b, c], "u2": [d, e]}
    assert sweep._wake.is_set()
