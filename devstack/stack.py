"""The whole local infrastructure of one profile: PostgreSQL, a cache Redis, three lock-master
Redis instances and Neo4j, with data under var/<profile>/. For `make run`, a server named in
the environment (REDIS_URL or REDLOCK_URLS, DATABASE_URL, NEO4J_URI) is used instead of
starting the local one."""

import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devstack.neo4j import Neo4jServer
from devstack.paths import REPO_ROOT, var_dir
from devstack.ports import Ports, reserve_ports, test_port_base
from devstack.postgres import PostgresServer
from devstack.process import ServerProcess, StartAborted
from devstack.profilelock import ProfileLock
from devstack.redis import RedisServer

log = logging.getLogger(__name__)

RUNTIME_ROLE = "kushim_runtime"

# The settings that name a server of one's own.
EXTERNAL_VARS = (
    "REDIS_URL", "REDLOCK_URLS", "DATABASE_URL", "NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD",
)


def masked(urls: str) -> str:
    """URLs (one, or comma-separated) with their passwords shown as ***. devstack uses the
    standard library only, so it cannot borrow lockcache's mask_url."""
    return re.sub(r"://([^:/@,]*):[^@,]*@", r"://\1:***@", urls)


def external_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The server settings given in the environment (blank ones are not given). The Neo4j
    credentials count only with NEO4J_URI: alone they would break the local Neo4j's."""
    given = {name: environ[name] for name in EXTERNAL_VARS if environ.get(name, "").strip()}
    if "NEO4J_URI" not in given:
        given.pop("NEO4J_USER", None)
        given.pop("NEO4J_PASSWORD", None)
    return given


def _load_secrets(path: Path) -> dict[str, str]:
    """Passwords made once per profile and kept beside its data: the data dirs are initialized
    with them, so they must outlive any one run."""
    wanted = ("postgres_admin", "postgres", "postgres_runtime", "neo4j")
    current: dict[str, str] = {}
    if path.exists():
        current = json.loads(path.read_text())
    if all(key in current for key in wanted):
        return current
    current = {key: current.get(key) or secrets.token_urlsafe(18) for key in wanted}
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(current, indent=2) + "\n")
    scratch.chmod(0o600)
    scratch.replace(path)
    return current


class Stack:
    """Start with start(), stop with stop() (or use it as a context manager). env() is
    available without starting: it only depends on the profile's ports and passwords."""

    def __init__(
        self,
        profile: str,
        root_dir: Path = REPO_ROOT,
        ports: Ports | None = None,
        *,
        durable: bool | None = None,
        quick_jit: bool = True,
        external: Mapping[str, str] | None = None,
    ) -> None:
        """durable: PostgreSQL fsyncs (default: only for the `run` profile; test data is
        throwaway). quick_jit: Neo4j's JIT stops at C1, which cuts the CPU its start costs by
        more than half; benchmarks of graph queries want quick_jit=False and durable=True.
        external: settings from external_settings(); their servers are not started.
        REDIS_URL replaces the local lock masters too (as in the Redis guide, lockcache then
        puts locks on REDIS_URL, or turns them off if it evicts); REDLOCK_URLS alone
        replaces only the lock masters."""
        self.profile = profile
        self.external = dict(external or {})
        self.ports = ports or Ports.run()
        self.dir = var_dir(root_dir) / profile
        self.passwords = _load_secrets(self.dir / "secrets.json")
        self.postgres = PostgresServer(
            self.dir / "postgres",
            self.ports.postgres,
            password=self.passwords["postgres"],
            admin_password=self.passwords["postgres_admin"],
            durable=profile == "run" if durable is None else durable,
        )
        self.cache_redis = RedisServer(
            self.dir / "redis-cache",
            self.ports.cache_redis,
            maxmemory_policy="allkeys-lru",
            maxmemory="256mb",
            name="redis-cache",
        )
        # Locks never live on an evicting Redis: eviction could silently drop a held lock.
        self.lock_redis = [
            RedisServer(
                self.dir / f"redis-lock-{i}",
                port,
                maxmemory_policy="noeviction",
                name=f"redis-lock-{i}",
            )
            for i, port in enumerate(self.ports.lock_redis, start=1)
        ]
        self.neo4j = Neo4jServer(
            self.dir / "neo4j", self.ports.neo4j, self.passwords["neo4j"], quick_jit=quick_jit
        )
        self.lock = ProfileLock(self.dir, profile)

    @classmethod
    def for_profile(
        cls,
        profile: str,
        root_dir: Path = REPO_ROOT,
        environ: Mapping[str, str] = os.environ,
        **options: bool,
    ) -> "Stack":
        """`run` or `test` (whose ports and directory follow KUSHIM_TEST_PORT_BASE);
        options as for Stack()."""
        if profile == "run":
            external = external_settings(environ)
            return cls("run", root_dir, Ports.run(), external=external, **options)
        if profile == "test":
            base = test_port_base(environ)
            return cls(f"test-{base}", root_dir, Ports.test(base), **options)
        raise ValueError(f"unknown profile {profile!r}; use run or test")

    @property
    def own_lock_masters(self) -> bool:
        return "REDIS_URL" not in self.external and "REDLOCK_URLS" not in self.external

    @property
    def servers(self) -> list[ServerProcess]:
        """The servers this stack starts: those not given in `external`."""
        servers: list[ServerProcess] = []
        if "DATABASE_URL" not in self.external:
            servers.append(self.postgres)
        if "REDIS_URL" not in self.external:
            servers.append(self.cache_redis)
        if self.own_lock_masters:
            servers += self.lock_redis
        if "NEO4J_URI" not in self.external:
            servers.append(self.neo4j)
        return servers

    def env(self) -> dict[str, str]:
        """DATABASE_URL is the schema owner's (migrations, tests that create databases);
        RUNTIME_DATABASE_URL is the DML-only role the services run as in `make run`. A
        DATABASE_URL given in the environment is used as given, with no runtime role."""
        env = {"DATABASE_URL": self.postgres.url, "REDIS_URL": self.cache_redis.url}
        if "DATABASE_URL" not in self.external:
            env |= {
                "MIGRATION_DATABASE_URL": self.postgres.url,
                "DATABASE_RUNTIME_ROLE": RUNTIME_ROLE,
                "RUNTIME_DATABASE_URL": self.postgres.role_url(
                    RUNTIME_ROLE, self.passwords["postgres_runtime"]
                ),
            }
        if self.own_lock_masters:
            env["REDLOCK_URLS"] = ",".join(server.url for server in self.lock_redis)
        if "NEO4J_URI" not in self.external:
            env |= {
                "NEO4J_URI": self.neo4j.url,
                "NEO4J_USER": self.neo4j.user,
                "NEO4J_PASSWORD": self.neo4j.password,
            }
        return env | self.external

    def start(self, mode: str = "library") -> float:
        """Take the profile's lock and start every server in parallel; returns the seconds
        it took. On any failure, stops what did start and raises the first StartError."""
        started = time.monotonic()
        reserve_ports(self.ports.ranges())
        self.lock.acquire(mode)
        abort = threading.Event()
        try:
            errors = self._each_in_parallel(lambda server: server.start(abort=abort), abort)
            if errors:
                raise errors[0]
            if "DATABASE_URL" not in self.external:
                self.postgres.ensure_role(RUNTIME_ROLE, self.passwords["postgres_runtime"])
        except BaseException:
            abort.set()
            self._stop_servers()
            self.lock.release()
            raise
        self.lock.update(ready=True, children={s.name: s.pid for s in self.servers if s.pid})
        elapsed = time.monotonic() - started
        log.info("infra %s ready in %.1f s", self.profile, elapsed)
        return elapsed

    def stop(self) -> float:
        started = time.monotonic()
        self._stop_servers()
        self.lock.release()
        elapsed = time.monotonic() - started
        log.info("infra %s stopped in %.1f s", self.profile, elapsed)
        return elapsed

    def running(self) -> dict[str, bool]:
        return {server.name: server.running() for server in self.servers}

    def _stop_servers(self) -> None:
        errors = self._each_in_parallel(lambda server: server.stop())
        for error in errors:
            log.error("stop failed: %s", error)

    def _each_in_parallel(
        self, action: Callable[[ServerProcess], None], abort: threading.Event | None = None
    ) -> list[Exception]:
        """Run action on every server at once (they are independent; cold start is bound by
        the slowest, Neo4j). Returns the errors, the first failure first; the first failure
        also sets abort, so the others give up instead of finishing a start that is moot."""
        errors: list[Exception] = []

        def guarded(server: ServerProcess) -> None:
            try:
                action(server)
            except Exception as error:
                if not isinstance(error, StartAborted):
                    errors.append(error)
                if abort is not None:
                    abort.set()

        with ThreadPoolExecutor(
            max_workers=len(self.servers), thread_name_prefix="devstack"
        ) as pool:
            futures = [pool.submit(guarded, server) for server in self.servers]
            try:
                for future in futures:
                    future.result()
            except BaseException:  # Ctrl-C: let the workers give up before the pool joins them
                if abort is not None:
                    abort.set()
                raise
        return errors

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
