"""The results block bench and chaos write into their READMEs."""

from pathlib import Path

from devstack.readme_results import BEGIN, END, update_readme


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


def test_a_missing_readme_starts_with_the_head_given(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    update_readme(readme, "table\n", "r.json", new_file_head="# Benchmarks\n\n")
    text = readme.read_text()
    assert text.startswith(f"# Benchmarks\n\n{BEGIN}\n") and text.endswith(f"table\n{END}\n")
