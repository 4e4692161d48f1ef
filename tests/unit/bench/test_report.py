"""bench/README.md's results block is replaced and nothing around it is touched."""

from pathlib import Path

from bench.report import BEGIN, END, markdown, update_readme

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


def test_update_replaces_only_the_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Head\n\n{BEGIN}\nold table\n{END}\n\n## Bad input\n\nkept\n")
    update_readme(readme, "new table\n", "r.json")
    text = readme.read_text()
    assert "old table" not in text
    assert "new table" in text and "results/r.json" in text
    assert text.startswith("# Head\n")
    assert text.endswith("\n## Bad input\n\nkept\n")


def test_update_appends_a_block_when_there_is_none(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Head\n")
    update_readme(readme, "table\n", "r.json")
    text = readme.read_text()
    assert text.startswith("# Head\n") and BEGIN in text and "table" in text
