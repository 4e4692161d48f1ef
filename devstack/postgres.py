"""PostgreSQL as a child process with its own cluster under var/."""

# ruff: noqa: S603 -- starting processes from fixed argv lists (no shell) is the job here

import grp
import hashlib
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from devstack.probes import HOST
from devstack.process import ServerProcess, StartError

# PostgreSQL refuses to run as root; as root we run it (and initdb) as this OS user.
OS_USER = "postgres"
ADMIN_ROLE = "postgres"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<major>/bin holding a server, as Debian lays it out."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")]
    found.sort(key=lambda bin_dir: int(bin_dir.parent.name) if bin_dir.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _owner_options() -> dict:
    if os.geteuid() != 0:
        return {}
    return {"user": OS_USER, "group": OS_USER, "extra_groups": []}


def _reachable_by_owner(path: Path) -> bool:
    """Whether the postgres OS user may traverse path and every directory above it."""
    owner = pwd.getpwnam(OS_USER)
    groups = {owner.pw_gid, *(g.gr_gid for g in grp.getgrall() if OS_USER in g.gr_mem)}
    for directory in [path, *path.parents]:
        if not directory.exists():
            continue  # made later, by us
        info = directory.stat()
        if info.st_uid == owner.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def _chown_to_owner(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, OS_USER, OS_USER)


class PostgresServer(ServerProcess):
    """A cluster with an application role `user` (password `password`, may create databases)
    owning database `database`, and the superuser `postgres` (password `admin_password`).
    TCP on 127.0.0.1 only, no Unix socket (its path could exceed the 107-byte limit in a deep
    checkout). durable=False turns off fsync and friends: faster, fine for throwaway test data."""

    stop_signal = signal.SIGINT  # "fast" shutdown: what `pg_ctl stop -m fast` sends
    start_timeout = 60.0
    stop_timeout = 30.0

    def __init__(
        self,
        datadir: Path | str,
        port: int,
        *,
        password: str = "kushim",  # noqa: S107 (a local default; Stack passes generated ones)
        admin_password: str | None = None,
        user: str = "kushim",
        database: str = "kushim",
        durable: bool = True,
        bin_dir: Path | None = None,
        name: str = "postgres",
    ) -> None:
        super().__init__(name, datadir, port)
        for identifier in (user, database):
            if not _IDENTIFIER.fullmatch(identifier):
                raise ValueError(f"not a plain PostgreSQL identifier: {identifier!r}")
        self.user = user
        self.database = database
        self.password = password
        self.admin_password = admin_password or password
        self.durable = durable
        self._bin_dir = bin_dir

    @property
    def bin_dir(self) -> Path:
        bin_dir = self._bin_dir or find_bin_dir()
        if bin_dir is None:
            raise StartError(
                f"{self.name}: no PostgreSQL server under /usr/lib/postgresql; run devstack install"
            )
        return bin_dir

    @property
    def url(self) -> str:
        return self.database_url(self.database)

    @property
    def admin_url(self) -> str:
        return _url(ADMIN_ROLE, self.admin_password, self.port, "postgres")

    def database_url(self, database: str) -> str:
        return _url(self.user, self.password, self.port, database)

    # -- setup -------------------------------------------------------------------------------
    @property
    def cluster_dir(self) -> Path:
        """Where the cluster really lives: the data dir, unless the postgres OS user cannot
        reach it (a checkout under a private home such as /root/); then a directory under
        /var/tmp, which the data dir links to."""
        if os.geteuid() != 0 or _reachable_by_owner(self.datadir.parent):
            return self.datadir
        digest = hashlib.sha256(str(self.datadir).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"kushim-{digest}" / "postgres"  # noqa: S108 (root-made, 0755)

    def _prepare(self) -> None:
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        cluster = self.cluster_dir
        if cluster != self.datadir:
            cluster.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            if not self.datadir.is_symlink():
                shutil.rmtree(self.datadir, ignore_errors=True)
                self.datadir.parent.mkdir(parents=True, exist_ok=True)
                self.datadir.symlink_to(cluster)
        if (cluster / "PG_VERSION").exists():
            return
        # initdb into a scratch dir and rename at the end, so an interrupted first start
        # never leaves a half-made cluster that later starts would trust.
        scratch = cluster.with_name(cluster.name + ".initdb")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700, parents=True)
        _chown_to_owner(scratch)
        pwfile = scratch.with_name(scratch.name + ".pw")
        pwfile.write_text(self.admin_password + "\n")
        pwfile.chmod(0o600)
        _chown_to_owner(pwfile)
        try:
            self._run_setup(
                "initdb",
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(scratch),
                    "-U",
                    ADMIN_ROLE,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
            )
        finally:
            pwfile.unlink(missing_ok=True)
        # Single-user mode creates the role and database without a running server or a client.
        sql = (
            f"CREATE ROLE {self.user} LOGIN CREATEDB PASSWORD {_literal(self.password)}\n"
            f"CREATE DATABASE {self.database} OWNER {self.user}\n"
        )
        self._run_setup(
            "bootstrap",
            [str(self.bin_dir / "postgres"), "--single", "-D", str(scratch), "postgres"],
            sql,
        )
        if cluster == self.datadir:
            shutil.rmtree(self.datadir, ignore_errors=True)
        scratch.rename(cluster)

    def _run_setup(self, step: str, argv: list[str], stdin: str | None = None) -> None:
        result = subprocess.run(
            argv,
            input=stdin,
            capture_output=True,
            text=True,
            cwd="/",
            **_owner_options(),
            check=False,
        )
        output = (result.stdout + result.stderr).strip()
        errors = [line for line in output.splitlines() if "ERROR:" in line or "FATAL:" in line]
        if result.returncode != 0 or errors:
            last = (errors or output.splitlines() or ["no output"])[-1].strip()
            raise StartError(f"{self.name}: {step} failed (exit {result.returncode}): {last}")

    def _command(self) -> Sequence[str]:
        settings = {
            "listen_addresses": HOST,
            "unix_socket_directories": "",
            "max_connections": "200",
        }
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.cluster_dir), "-p", str(self.port)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def _popen_options(self) -> dict:
        return {**_owner_options(), "cwd": self.cluster_dir}

    def _ready(self) -> bool:
        result = subprocess.run(
            [
                str(self.bin_dir / "pg_isready"),
                "-q",
                "-h",
                HOST,
                "-p",
                str(self.port),
                "-d",
                self.database,
                "-t",
                "1",
            ],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def ensure_role(self, name: str, password: str) -> None:
        """A LOGIN role with no privileges of its own, for the services to run as: the
        migrations grant it data access only, so it cannot change the schema."""
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a plain PostgreSQL identifier: {name!r}")
        self.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') "
            f"THEN CREATE ROLE {name} LOGIN; END IF; END $$; "
            f"ALTER ROLE {name} PASSWORD {_literal(password)}"
        )

    def role_url(self, name: str, password: str, database: str | None = None) -> str:
        return _url(name, password, self.port, database or self.database)

    # -- helpers for tests -------------------------------------------------------------------
    def execute(self, sql: str, database: str = "postgres") -> str:
        """Run sql as the superuser through psql; returns its unaligned output."""
        admin_db_url = self.admin_url.rsplit("/", 1)[0] + "/" + database
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                admin_db_url,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{self.name}: psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        """Create database `name` owned by the application role; returns its URL."""
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a plain PostgreSQL identifier: {name!r}")
        self.execute(f"CREATE DATABASE {name} OWNER {self.user}")
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a plain PostgreSQL identifier: {name!r}")
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _url(user: str, password: str, port: int, database: str) -> str:
    return f"postgresql://{user}:{quote(password, safe='')}@{HOST}:{port}/{database}"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
