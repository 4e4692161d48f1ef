"""The read mix's Zipf draw: ranks in range, frequencies falling with rank as 1/(k+1)^s."""

# ruff: noqa: S311 - seeded generators make the draws reproducible; nothing here is secret

import random
from collections import Counter

from bench.read_mix import Zipf


def test_draws_stay_within_the_ranks() -> None:
    zipf = Zipf(50, 1.1, random.Random(1))
    assert {zipf.draw() for _ in range(5_000)} <= set(range(50))


def test_cdf_ends_at_one_and_rises() -> None:
    zipf = Zipf(2_000, 1.1, random.Random(1))
    assert abs(zipf.cdf[-1] - 1.0) < 1e-9
    assert all(a < b for a, b in zip(zipf.cdf, zipf.cdf[1:], strict=False))


def test_rank_frequencies_follow_the_power_law() -> None:
    n, s, draws = 2_000, 1.1, 40_000
    zipf = Zipf(n, s, random.Random(7))
    counts = Counter(zipf.draw() for _ in range(draws))
    harmonic = sum(1 / (k + 1) ** s for k in range(n))
    expected_top = draws / harmonic
    assert abs(counts[0] - expected_top) < 0.1 * expected_top
    # rank 0 against rank 9: (10 / 1)^1.1 = 12.6 times as often
    assert 9 < counts[0] / counts[9] < 17


def test_the_last_rank_is_reachable_when_random_returns_its_top() -> None:
    class Top(random.Random):
        def random(self) -> float:
            return 1.0

    assert Zipf(10, 1.1, Top()).draw() == 9
