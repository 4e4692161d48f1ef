"""The web page's vendored libraries: when npm ci is needed, and what gets copied where."""

from pathlib import Path

import pytest

from devstack import webassets


@pytest.fixture
def package(tmp_path: Path) -> Path:
    package_dir = tmp_path / "web"
    package_dir.mkdir()
    (package_dir / "package.json").write_text('{"dependencies": {"cytoscape": "3.33.1"}}')
    (package_dir / "package-lock.json").write_text('{"lockfileVersion": 3}')
    return package_dir


def installed(work_dir: Path) -> Path:
    for source in webassets.VENDORED:
        target = work_dir / "node_modules" / source
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("/* library */")
    return work_dir


def test_nothing_copied_yet_means_an_install_is_needed(tmp_path, package):
    assert not webassets.up_to_date(tmp_path / "vendor", package)


def test_a_copy_for_the_current_lock_is_up_to_date(tmp_path, package):
    vendor = tmp_path / "vendor"
    webassets.copy_vendored(installed(tmp_path / "work"), vendor, package)
    assert webassets.up_to_date(vendor, package)
    for served in webassets.VENDORED.values():
        assert (vendor / served).read_text() == "/* library */"


def test_a_changed_lock_file_asks_for_a_new_install(tmp_path, package):
    vendor = tmp_path / "vendor"
    webassets.copy_vendored(installed(tmp_path / "work"), vendor, package)
    (package / "package-lock.json").write_text('{"lockfileVersion": 3, "changed": true}')
    assert not webassets.up_to_date(vendor, package)


def test_a_deleted_library_file_asks_for_a_new_install(tmp_path, package):
    vendor = tmp_path / "vendor"
    webassets.copy_vendored(installed(tmp_path / "work"), vendor, package)
    for served in webassets.VENDORED.values():
        (vendor / served).unlink()
    assert not webassets.up_to_date(vendor, package)


def test_npm_ci_runs_in_a_fresh_staging_folder_with_the_lock_and_no_scripts(tmp_path, package):
    stale = tmp_path / "var" / "web-assets" / "node_modules" / "old"
    stale.mkdir(parents=True)
    work_dir = webassets.stage(tmp_path, package)
    assert sorted(p.name for p in work_dir.iterdir()) == ["package-lock.json", "package.json"]
    argv = webassets.npm_ci_argv(work_dir)
    assert argv[:2] == ["npm", "ci"] and "--ignore-scripts" in argv and str(work_dir) in argv


def test_the_pinned_lock_file_names_an_exact_cytoscape():
    lock = (webassets.WEB_PACKAGE_DIR / "package-lock.json").read_text()
    spec = (webassets.WEB_PACKAGE_DIR / "package.json").read_text()
    assert '"cytoscape": "3.33.1"' in spec and '"version": "3.33.1"' in lock
    assert '"integrity": "sha512-' in lock
