"""Neo4j Community, embedded with Bolt, run by deploy/local/neo4j/Launcher.java."""

# ruff: noqa: S603 -- starting processes from fixed argv lists (no shell) is the job here

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from devstack.paths import NEO4J_DEPLOY_DIR, neo4j_lib_dir
from devstack.probes import HOST, tcp_accepts
from devstack.process import ServerProcess, StartError

LAUNCHER_SOURCE = NEO4J_DEPLOY_DIR / "Launcher.java"
USER = "neo4j"

# What Neo4j's own neo4j.conf passes on Java 17 (reflective access for its page cache and
# Netty), plus failing fast on OOM instead of limping on.
JVM_FLAGS = [
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dlog4j2.disable.jmx=true",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",
]


def java_binary() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise StartError("neo4j: java is not installed; run python -m devstack install")
    return found


def compile_launcher(lib_dir: Path) -> Path:
    """Compile Launcher.java once per content, into lib_dir/../neo4j-launcher/<hash>/.

    `java Launcher.java` (source launch) works too, but recompiles on every start: ~3 s of CPU
    that a cold start on 2 cores feels. The hash keeps the cache honest when the file changes.
    """
    digest = hashlib.sha256(LAUNCHER_SOURCE.read_bytes()).hexdigest()[:16]
    target = lib_dir.with_name("neo4j-launcher") / digest
    if (target / "Launcher.class").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    javac = Path(java_binary()).with_name("javac")
    scratch = Path(tempfile.mkdtemp(prefix=".compile-", dir=target.parent))
    result = subprocess.run(
        [str(javac), "-nowarn", "-d", str(scratch), "-cp", f"{lib_dir}/*", str(LAUNCHER_SOURCE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        first = (result.stderr.strip().splitlines() or ["no output"])[0]
        raise StartError(f"neo4j: compiling Launcher.java failed: {first}")
    try:
        scratch.rename(target)
    except OSError:  # a concurrent compile won the race; its result is identical
        shutil.rmtree(scratch, ignore_errors=True)
    return target


class Neo4jServer(ServerProcess):
    """Neo4j with Bolt on 127.0.0.1:bolt_port and auth on (user neo4j, `password`).
    Ready = the Launcher printed READY (password set, Bolt up) and Bolt accepts TCP.

    quick_jit=True stops the JIT at C1: measured here, it cuts the CPU a start costs from ~20 s
    to ~8 s (on 2 cores shared with the other servers, that is most of the wait) at the price
    of slower hot queries: right for development and tests, not for benchmarks."""

    start_timeout = 120.0
    stop_timeout = 30.0

    def __init__(
        self,
        datadir: Path | str,
        bolt_port: int,
        password: str,
        *,
        heap: str = "768m",
        quick_jit: bool = False,
        lib_dir: Path | None = None,
        name: str = "neo4j",
    ) -> None:
        super().__init__(name, datadir, bolt_port)
        if len(password) < 8:
            raise ValueError("Neo4j needs a password of at least 8 characters")
        self.password = password
        self.heap = heap
        self.quick_jit = quick_jit
        self.lib_dir = lib_dir or neo4j_lib_dir()
        self._classes: Path | None = None

    @property
    def url(self) -> str:
        return f"bolt://{HOST}:{self.port}"

    @property
    def user(self) -> str:
        return USER

    def _prepare(self) -> None:
        super()._prepare()
        if not any(self.lib_dir.glob("neo4j-bolt-*.jar")):
            raise StartError(
                f"{self.name}: no Neo4j jars in {self.lib_dir}; run python -m devstack install"
            )
        self._classes = compile_launcher(self.lib_dir)

    def _command(self) -> Sequence[str]:
        return [
            java_binary(),
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            *JVM_FLAGS,
            *(["-XX:TieredStopAtLevel=1"] if self.quick_jit else []),
            "-cp",
            f"{self.lib_dir}/*:{self._classes}",
            "Launcher",
            str(self.datadir),
            str(self.port),
        ]

    def _popen_options(self) -> dict:
        # The password goes through the environment, not argv, to stay out of `ps`.
        return {"env": {**os.environ, "NEO4J_PASSWORD": self.password}}

    def _ready(self) -> bool:
        return "READY bolt://" in self.log_text() and tcp_accepts(self.port)
