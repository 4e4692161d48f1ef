"""The chaos table."""

from chaos.report import markdown


def result(**changes) -> dict:
    row = {
        "scenario": "graph_restart", "fault": "graph killed", "requests": 300, "req_per_s": 20.0,
        "acknowledged": 90, "unavailable_503": 4, "server_errors_500": 0, "lost": 0,
        "duplicate_links": 0, "neo4j_matches_pg": True, "passed": True, "problems": [],
        "failures": [],
    }  # fmt: skip
    return row | changes


def test_a_row_per_scenario_and_failures_listed():
    failed = result(scenario="fencing", passed=False, problems=["the holder's links landed"],
                    lost=None, neo4j_matches_pg=None)
    text = markdown({"date": "2026-01-01T00:00:00+00:00", "seconds": 61.0,
                     "scenarios": [result(), failed]})
    lines = text.splitlines()
    assert lines[0].startswith("Run 2026-01-01T00:00:00+00:00, 61 s in all, 1 of 2")
    held = "300 req, 20.0/s, 90 acked"
    assert f"| graph_restart | graph killed | {held} | 4 | 0 | 0 | 0 | yes | pass |" in lines
    assert f"| fencing | graph killed | {held} | 4 | 0 | ? | 0 | ? | **FAIL** |" in lines
    assert "- fencing: the holder's links landed" in lines
