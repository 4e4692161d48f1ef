"""Applies the numbered SQL files of migrations/ in order, once each, under an advisory lock.

Run as a separate step (`make migrate`, a Kubernetes Job), never at every replica's start.
"""

import asyncio
import logging
import os
import re
from importlib import resources

import asyncpg
from kushim_common.envconfig import load_or_exit
from kushim_common.logs import setup_logging

from kushim_graph.config import Config

log = logging.getLogger(__name__)

# Any fixed number works; it only has to differ from other advisory locks of this database.
MIGRATION_LOCK_KEY = 7_305_421_001
_FILE_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

CREATE_TABLE = """
create table if not exists schema_migrations (
    version    integer primary key,
    name       text not null,
    applied_at timestamptz not null default now()
)
"""
APPLIED = "select version from schema_migrations"
# {role} is checked by Config (a plain identifier); SQL has no parameters for role names.
GRANT_RUNTIME = """
grant usage on schema public to {role};
grant select, insert, update, delete on all tables in schema public to {role};
grant usage, select on all sequences in schema public to {role};
"""
RECORD = "insert into schema_migrations (version, name) values ($1, $2)"


def available() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration file, in order."""
    found = []
    for entry in resources.files("kushim_graph.migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text("utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers in {versions}")
    return found


async def migrate(conn: asyncpg.Connection) -> list[int]:
    """Applies what is missing; answers the versions applied now. Safe to run concurrently."""
    await conn.execute("select pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(CREATE_TABLE)
        done = {row["version"] for row in await conn.fetch(APPLIED)}
        applied = []
        for version, name, sql in available():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(RECORD, version, name)
            log.info("Applied migration %03d_%s", version, name)
            applied.append(version)
        return applied
    finally:
        await conn.execute("select pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)


async def run(database_url: str, runtime_role: str | None = None) -> list[int]:
    """Applies what is missing, connected as the schema's owner; then grants `runtime_role`
    (the role the service runs as) data access to every table and sequence, and no more:
    it owns nothing, so it can neither create, alter nor drop."""
    conn = await asyncpg.connect(database_url)
    try:
        applied = await migrate(conn)
        if runtime_role is not None:
            await conn.execute(GRANT_RUNTIME.format(role=runtime_role))
        return applied
    finally:
        await conn.close()


def main() -> None:
    config = load_or_exit("kushim-graph migrate", Config.from_env, os.environ)
    setup_logging(config.log_level)
    applied = asyncio.run(run(config.migration_database_url, config.database_runtime_role))
    log.info("Schema up to date (%d migration(s) applied now)", len(applied))


if __name__ == "__main__":
    main()
