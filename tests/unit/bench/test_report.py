"""bench results as the Markdown tables of bench/README.md."""

from bench.report import markdown

DOCUMENT = {
    "date": "2026-11-26T02:00:00+00:00",
    "wall_seconds": 700.4,
    "machine": {
        "cpus": 2, "cpu_model": "EPYC", "memory_gib": 23.5, "kernel": "Linux 6.1",
        "python": "3.11.7", "load_at_start": "1.00 / 1.00 / 1.00",
        "load_at_end": "2.00 / 1.00 / 1.00", "versions": {"redis-server": "7.0.15"},
    },  # fmt: skip
    "sections": {
        "read_mix": {
            "title": "mix",
            "rows": [{"writes": "5%", "hit_rate_pct": 29.0, "reads": 1200}],
            "notes": ["a note"],
        },
        "broken": {"title": "broken", "rows": [], "notes": ["failed: boom"]},
    },
}


def test_markdown_has_machine_chart_rows_and_notes() -> None:
    text = markdown(DOCUMENT, "x.png")
    assert "700 s in all" in text
    assert "redis-server 7.0.15" in text
    assert "![bench chart](results/x.png)" in text
    assert "| 5% | 29.0 | 1,200 |" in text
    assert "- failed: boom" in text
