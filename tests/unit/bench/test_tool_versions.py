"""The version a bench run reports for a Go tool that cannot say its own."""

from bench import machine


def test_the_stamp_of_the_install_script_names_the_version(tmp_path, monkeypatch):
    monkeypatch.setattr(machine, "TOOL_STAMPS", tmp_path)
    assert machine._pinned_tool_version("ghz") == "not installed"
    (tmp_path / "ghz-v0.93.0").touch()
    (tmp_path / "buf-v1.50.0").touch()
    assert machine._pinned_tool_version("ghz") == "v0.93.0"
