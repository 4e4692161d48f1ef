"""How the read mix classes a read: hit, or a miss that was cold, needless or a change."""

from bench.read_mix import Tally


def test_each_read_lands_in_exactly_one_class() -> None:
    tally = Tally()
    tally.count_read(True, b"a", b"a")  # served from the cache
    tally.count_read(False, None, b"a")  # first read of the record
    tally.count_read(False, b"a", b"a")  # recomputed, the same as served before
    tally.count_read(False, b"a", b"b")  # recomputed, the context changed
    tally.count_read(True, None, b"a")  # a hit is a hit even unseen (another client filled it)
    assert (tally.reads, tally.cached, tally.cold, tally.needless, tally.changed) == (5, 2, 1, 1, 1)
    assert tally.cached + tally.cold + tally.needless + tally.changed == tally.reads
