"""The web page's third-party browser libraries: `npm ci` of services/api/web's pinned lock
file in var/web-assets/, then the files the page loads copied into the gateway's served
assets (services/api/kushim_api/web/vendor/, git-ignored). Nothing is fetched at run time."""

import hashlib
import shutil
from pathlib import Path

from devstack.paths import REPO_ROOT, var_dir

WEB_PACKAGE_DIR = REPO_ROOT / "services" / "api" / "web"
VENDOR_DIR = REPO_ROOT / "services" / "api" / "kushim_api" / "web" / "vendor"
# package path inside node_modules -> name served under /ui/vendor/
VENDORED = {"cytoscape/dist/cytoscape.min.js": "cytoscape.min.js"}
MARKER = ".installed"
LOCK_FILES = ("package.json", "package-lock.json")


def lock_digest(package_dir: Path = WEB_PACKAGE_DIR) -> str:
    digest = hashlib.sha256()
    for name in LOCK_FILES:
        digest.update((package_dir / name).read_bytes())
    return digest.hexdigest()


def up_to_date(vendor_dir: Path = VENDOR_DIR, package_dir: Path = WEB_PACKAGE_DIR) -> bool:
    marker = vendor_dir / MARKER
    return (
        marker.exists()
        and marker.read_text().strip() == lock_digest(package_dir)
        and all((vendor_dir / name).is_file() for name in VENDORED.values())
    )


def npm_ci_argv(work_dir: Path) -> list[str]:
    # --ignore-scripts: the libraries are copied as files; none of their install scripts run.
    return ["npm", "ci", "--prefix", str(work_dir), "--no-audit", "--no-fund", "--ignore-scripts"]


def stage(root: Path = REPO_ROOT, package_dir: Path = WEB_PACKAGE_DIR) -> Path:
    """A fresh var/web-assets/ holding the package and lock files, for `npm ci` to run in."""
    work_dir = var_dir(root) / "web-assets"
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    for name in LOCK_FILES:
        shutil.copyfile(package_dir / name, work_dir / name)
    return work_dir


def copy_vendored(work_dir: Path, vendor_dir: Path = VENDOR_DIR,
                  package_dir: Path = WEB_PACKAGE_DIR) -> None:
    """Copies the served files, then the marker last, so an interrupted copy is redone."""
    vendor_dir.mkdir(parents=True, exist_ok=True)
    for source, served in VENDORED.items():
        shutil.copyfile(work_dir / "node_modules" / source, vendor_dir / served)
    (vendor_dir / MARKER).write_text(lock_digest(package_dir) + "\n")
