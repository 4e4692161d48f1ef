"""wrk's report as the http section reads it."""

from bench.http import _parse

REPORT = """Running 8s test @ http://127.0.0.1:56040/records
  2 threads and 32 connections
  Latency Distribution
     50%  192.34ms
     75%  300.00ms
     90%  800.00ms
     99%    2.12s
  1000 requests in 8.00s, 1.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 12
Requests/sec:    125.50
"""


def test_rates_latencies_and_failures() -> None:
    parsed = _parse(REPORT)
    assert parsed == {
        "rate": 125.5, "p50": 192.34, "p99": 2120.0, "non2xx": 12, "socket_errors": 5,
    }  # fmt: skip


def test_a_clean_run_has_no_failures() -> None:
    clean = "\n".join(
        line for line in REPORT.splitlines() if "errors" not in line and "Non-2xx" not in line
    )
    parsed = _parse(clean)
    assert parsed["non2xx"] == 0 and parsed["socket_errors"] == 0
