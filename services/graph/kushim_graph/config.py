"""Configuration of the graph service, read once from the environment."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from kushim_common import envconfig
from kushim_common.envconfig import ConfigError, config_repr, secret
from kushim_common.grpctls import GrpcSecurity, read_grpc_security

from kushim_graph.secretbox import parse_key


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _database_url(environ: Mapping[str, str], name: str) -> str:
    url = environ.get(name, "").strip()
    if not url:
        raise ConfigError(f"{name} must be set, e.g. postgresql://user:pass@host:5432/kushim")
    if urlsplit(url).scheme not in ("postgres", "postgresql"):
        raise ConfigError(f"{name} must start with postgresql://")
    return url


def _role(environ: Mapping[str, str], name: str) -> str | None:
    role = environ.get(name, "").strip()
    if not role:
        return None
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ConfigError(f"{name} must be a plain lower-case PostgreSQL role name, got {role!r}")
    return role


def _webhook_secret_key(environ: Mapping[str, str]) -> bytes | None:
    raw = environ.get("WEBHOOK_SECRET_KEY", "").strip()
    if not raw:
        return None
    try:
        return parse_key(raw)
    except ValueError as exc:
        raise ConfigError(f"WEBHOOK_SECRET_KEY {exc}") from None


@dataclass(frozen=True)
class Config:
    database_url: str = secret(mask=_mask_url)
    neo4j_uri: str
    neo4j_user: str
    neo4j_password: str = secret()
    bind_host: str = "0.0.0.0"  # noqa: S104 - a pod listens on all of its interfaces
    port: int = 50052
    lockcache_addr: str = "127.0.0.1:50051"
    log_level: str = "INFO"
    metrics_port: int = 9102
    deterministic_threshold: float = 0.7
    max_linking_candidates: int = 100
    discovery_lock_ttl_ms: int = 15_000
    discovery_lock_attempts: int = 3
    discovery_lock_retry_delay_ms: int = 200
    context_group_cache_ttl: int = 300
    # Context groups kept in process memory (0 turns the near cache off), within this size.
    near_cache_max_entries: int = 10_000
    near_cache_max_bytes: int = 64 * 1024 * 1024
    db_pool_size: int = 10
    sweep_interval_s: float = 5.0
    outbox_batch: int = 200
    grace_seconds: float = 10.0
    semantic_links: bool = True
    # where the image (and devstack's install step, var/embedding-model) puts the model files
    embedding_model_dir: str = "/opt/kushim/embedding-model"
    semantic_batch: int = 64
    # Records one user may store (quota.py); 0 = no limit.
    max_records_per_user: int = 1_000_000
    grpc: GrpcSecurity = GrpcSecurity()
    webhook_secret_key: bytes | None = secret(None)
    # Migrations run as the schema's owner; the service as a role granted DML only.
    migration_database_url: str = secret("", mask=_mask_url)
    database_runtime_role: str | None = None

    __repr__ = config_repr

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        neo4j_uri = envconfig.read_str(environ, "NEO4J_URI", "bolt://127.0.0.1:7687")
        if urlsplit(neo4j_uri).scheme not in ("bolt", "neo4j", "bolt+s", "neo4j+s"):
            raise ConfigError(f"NEO4J_URI must be a bolt:// or neo4j:// URI, got {neo4j_uri!r}")
        return cls(
            database_url=_database_url(environ, "DATABASE_URL"),
            neo4j_uri=neo4j_uri,
            neo4j_user=envconfig.read_str(environ, "NEO4J_USER", "neo4j"),
            neo4j_password=environ.get("NEO4J_PASSWORD", ""),
            bind_host=envconfig.read_str(environ, "BIND_HOST", cls.bind_host),
            port=envconfig.read_port(environ, "GRAPH_PORT", cls.port, allow_zero=True),
            lockcache_addr=envconfig.read_addr(environ, "LOCKCACHE_ADDR", cls.lockcache_addr),
            log_level=envconfig.read_log_level(environ, "LOG_LEVEL"),
            metrics_port=envconfig.read_port(
                environ, "METRICS_PORT", cls.metrics_port, allow_zero=True
            ),
            deterministic_threshold=envconfig.read_float(
                environ, "DETERMINISTIC_THRESHOLD", 0.7, minimum=0.0, maximum=1.0
            ),
            max_linking_candidates=envconfig.read_int(
                environ, "MAX_LINKING_CANDIDATES", 100, minimum=1, maximum=10_000
            ),
            discovery_lock_ttl_ms=envconfig.read_int(
                environ, "DISCOVERY_LOCK_TTL_MS", 15_000, minimum=100, maximum=600_000
            ),
            discovery_lock_attempts=envconfig.read_int(
                environ, "DISCOVERY_LOCK_ATTEMPTS", 3, minimum=1, maximum=20
            ),
            discovery_lock_retry_delay_ms=envconfig.read_int(
                environ, "DISCOVERY_LOCK_RETRY_DELAY_MS", 200, minimum=1, maximum=10_000
            ),
            context_group_cache_ttl=envconfig.read_int(
                environ, "CONTEXT_GROUP_CACHE_TTL", 300, minimum=1, maximum=86_400
            ),
            near_cache_max_entries=envconfig.read_int(
                environ, "NEAR_CACHE_MAX_ENTRIES", 10_000, minimum=0, maximum=10_000_000
            ),
            near_cache_max_bytes=envconfig.read_int(
                environ, "NEAR_CACHE_MAX_BYTES", 64 * 1024 * 1024, minimum=1024
            ),
            db_pool_size=envconfig.read_int(environ, "DB_POOL_SIZE", 10, minimum=1, maximum=200),
            sweep_interval_s=envconfig.read_float(
                environ, "DISCOVERY_SWEEP_INTERVAL_S", 5.0, minimum=0.05, maximum=3600.0
            ),
            outbox_batch=envconfig.read_int(
                environ, "OUTBOX_BATCH", 200, minimum=1, maximum=10_000
            ),
            grace_seconds=envconfig.read_float(
                environ, "SHUTDOWN_GRACE_S", 10.0, minimum=0.0, maximum=120.0
            ),
            semantic_links=envconfig.read_bool(environ, "SEMANTIC_LINKS", cls.semantic_links),
            embedding_model_dir=envconfig.read_str(
                environ, "EMBEDDING_MODEL_DIR", cls.embedding_model_dir
            ),
            semantic_batch=envconfig.read_int(
                environ, "SEMANTIC_BATCH", 64, minimum=1, maximum=1_000
            ),
            max_records_per_user=envconfig.read_int(
                environ, "MAX_RECORDS_PER_USER", cls.max_records_per_user, minimum=0
            ),
            grpc=read_grpc_security(environ),
            webhook_secret_key=_webhook_secret_key(environ),
            migration_database_url=_database_url(environ, "MIGRATION_DATABASE_URL")
            if environ.get("MIGRATION_DATABASE_URL", "").strip()
            else _database_url(environ, "DATABASE_URL"),
            database_runtime_role=_role(environ, "DATABASE_RUNTIME_ROLE"),
        )
