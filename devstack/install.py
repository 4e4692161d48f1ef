"""Install what the local stack needs, and only what is missing: Debian packages for the
servers and the page tests' browser (as root, with apt-get), the Neo4j jars (with Maven, into
var/neo4j-lib/) and the web page's pinned libraries (with npm, see webassets.py).
A warm machine passes through here in milliseconds."""

# ruff: noqa: S603 -- starting processes from fixed argv lists (no shell) is the job here

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from devstack import webassets
from devstack.neo4j import compile_launcher
from devstack.paths import NEO4J_DEPLOY_DIR, REPO_ROOT, neo4j_lib_dir, var_dir
from devstack.postgres import find_bin_dir

log = logging.getLogger(__name__)

NEO4J_POM = NEO4J_DEPLOY_DIR / "pom.xml"
MARKER = ".resolved"


class InstallError(RuntimeError):
    """One line saying what could not be installed and why."""


def _missing_packages() -> list[str]:
    checks = {
        "postgresql": find_bin_dir() is not None,
        "redis-server": shutil.which("redis-server") is not None,
        "redis-sentinel": shutil.which("redis-sentinel") is not None,
        "redis-tools": shutil.which("redis-cli") is not None,
        "default-jdk-headless": shutil.which("java") is not None
        and shutil.which("javac") is not None,
        "maven": shutil.which("mvn") is not None,
        # the local CA and service certificates for mutual TLS (devstack/tls.py)
        "openssl": shutil.which("openssl") is not None,
        # load generator of make bench's http section
        "wrk": shutil.which("wrk") is not None,
        # the web page's libraries (npm ci) and the browser its tests drive
        "npm": shutil.which("npm") is not None,
        "chromium": shutil.which("chromium") is not None,
        "chromium-driver": shutil.which("chromedriver") is not None,
    }
    return [package for package, present in checks.items() if not present]


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Serialize installs between devstack processes (two test runs starting at once)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(step: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
    log.info("install: %s", step)
    with log_path.open("a") as out:
        out.write(f"\n$ {' '.join(argv)}\n")
        out.flush()
        result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    if result.returncode != 0:
        lines = [
            line.strip()
            for line in log_path.read_text(errors="replace").splitlines()
            if line.strip()
        ]
        errors = [line for line in lines if line.startswith(("E:", "[ERROR]"))]
        reason = (errors or lines or ["no output"])[-1]
        raise InstallError(
            f"install: {step} failed (exit {result.returncode}): {reason} (full log: {log_path})"
        )


def install_packages(log_path: Path) -> bool:
    """apt-get install the missing Debian packages. Returns whether anything was installed."""
    missing = _missing_packages()
    if not missing:
        return False
    if os.geteuid() != 0:
        names = " ".join(missing)
        raise InstallError(
            f"install: missing {names}; run as root or: sudo apt-get install {names}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run("apt-get update", ["apt-get", "update"], log_path, env)
    _run(
        f"apt-get install {' '.join(missing)}",
        ["apt-get", "install", "-y", "--no-install-recommends", *missing],
        log_path,
        env,
    )
    still_missing = _missing_packages()
    if still_missing:
        raise InstallError(
            f"install: still missing after apt-get install: {', '.join(still_missing)}"
        )
    return True


def resolve_neo4j(root: Path, log_path: Path) -> bool:
    """Copy the Neo4j jars of deploy/local/neo4j/pom.xml into var/neo4j-lib/. A marker holding
    the pom's hash is written last, so an interrupted download is redone and a version bump in
    the pom re-resolves. Returns whether anything was downloaded."""
    lib = neo4j_lib_dir(root)
    digest = hashlib.sha256(NEO4J_POM.read_bytes()).hexdigest()
    marker = lib / MARKER
    if marker.exists() and marker.read_text().strip() == digest:
        return False
    scratch = lib.with_name(lib.name + ".download")
    shutil.rmtree(scratch, ignore_errors=True)
    _run(
        "mvn dependency:copy-dependencies (Neo4j jars)",
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(NEO4J_POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={scratch}",
            "-DincludeScope=runtime",
        ],
        log_path,
    )
    (scratch / MARKER).write_text(digest + "\n")
    shutil.rmtree(lib, ignore_errors=True)
    scratch.rename(lib)
    return True


def install_web_assets(root: Path, log_path: Path) -> bool:
    """npm ci the web page's pinned libraries into its served assets when the lock file
    changed. Returns whether anything was installed."""
    if webassets.up_to_date():
        return False
    work_dir = webassets.stage(root)
    _run("npm ci (web page libraries)", webassets.npm_ci_argv(work_dir), log_path)
    webassets.copy_vendored(work_dir)
    return True


def ensure_installed(root: Path = REPO_ROOT) -> float:
    """Install whatever is missing; returns the seconds it took."""
    started = time.monotonic()
    var = var_dir(root)
    log_path = var / "install.log"
    with _exclusive(var / "install.lock"):
        changed = install_packages(log_path)
        changed = resolve_neo4j(root, log_path) or changed
        changed = install_web_assets(root, log_path) or changed
        compile_launcher(neo4j_lib_dir(root))
    elapsed = time.monotonic() - started
    log.info("install: %s (%.1f s)", "done" if changed else "everything already present", elapsed)
    return elapsed
