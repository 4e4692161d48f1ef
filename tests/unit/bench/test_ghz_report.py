"""ghz's JSON report as the ghz section reads it."""

from bench.ghz import mean, parse_report

REPORT = {
    "count": 1014,
    "total": 2_000_000_000,
    "rps": 507.0,
    "statusCodeDistribution": {"OK": 998, "Unavailable": 16},
    "latencyDistribution": [
        {"percentage": 10, "latency": 22_759_938},
        {"percentage": 50, "latency": 29_934_892},
        {"percentage": 99, "latency": 59_319_515},
    ],
}


def test_only_ok_answers_count_as_operations() -> None:
    assert parse_report(REPORT) == {
        "ops_per_s": 499.0, "p50_ms": 29.935, "p99_ms": 59.32, "ops": 998, "errors": 16,
    }  # fmt: skip


def test_a_run_with_no_answers_reads_as_zero() -> None:
    empty = {"total": 1_000_000_000, "statusCodeDistribution": None, "latencyDistribution": None}
    assert parse_report(empty) == {
        "ops_per_s": 0.0, "p50_ms": 0.0, "p99_ms": 0.0, "ops": 0, "errors": 0,
    }  # fmt: skip


def test_two_runs_average_rates_and_sum_counts() -> None:
    first = {"ops_per_s": 100.0, "p50_ms": 10.0, "p99_ms": 30.0, "ops": 800, "errors": 1}
    second = {"ops_per_s": 200.0, "p50_ms": 20.0, "p99_ms": 50.0, "ops": 1600, "errors": 0}
    assert mean([first, second]) == {
        "ops_per_s": 150.0, "p50_ms": 15.0, "p99_ms": 40.0, "ops": 2400, "errors": 1,
    }  # fmt: skip
