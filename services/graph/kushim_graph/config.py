"""Configuration of the graph service, read once from the environment."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from kushim_common.logs import parse_log_level


class ConfigError(ValueError):
    """A bad setting; the message names the variable."""


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _database_url(environ: Mapping[str, str]) -> str:
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        raise ConfigError("DATABASE_URL must be set, e.g. postgresql://user:pass@host:5432/kushim")
    if urlsplit(url).scheme not in ("postgres", "postgresql"):
        raise ConfigError("DATABASE_URL must start with postgresql://")
    return url


def _addr(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, "").strip() or default
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(f"{name} must be host:port, got {value!r}")
    return value


@dataclass(frozen=True)
class Config:
    database_url: str = field(repr=False)
    neo4j_uri: str
    neo4j_user: str
    neo4j_password: str = field(repr=False)
    bind_host: str = "0.0.0.0"  # noqa: S104 - a pod listens on all of its interfaces
    port: int = 50052
    lockcache_addr: str = "127.0.0.1:50051"
    log_level: str = "INFO"
    metrics_port: int = 9102
    deterministic_threshold: float = 0.7
    max_linking_candidates: int = 100
    discovery_lock_ttl_ms: int = 15_000
    context_group_cache_ttl: int = 300
    db_pool_size: int = 10
    sweep_interval_s: float = 5.0
    outbox_batch: int = 200
    grace_seconds: float = 10.0

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in self.__dict__.items()
            if name not in ("database_url", "neo4j_password")
        )
        return f"Config(database_url={_mask_url(self.database_url)!r}, {shown})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        try:
            log_level = parse_log_level(environ.get("LOG_LEVEL", ""))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        neo4j_uri = environ.get("NEO4J_URI", "").strip() or "bolt://127.0.0.1:7687"
        if urlsplit(neo4j_uri).scheme not in ("bolt", "neo4j", "bolt+s", "neo4j+s"):
            raise ConfigError(f"NEO4J_URI must be a bolt:// or neo4j:// URI, got {neo4j_uri!r}")
        return cls(
            database_url=_database_url(environ),
            neo4j_uri=neo4j_uri,
            neo4j_user=environ.get("NEO4J_USER", "").strip() or "neo4j",
            neo4j_password=environ.get("NEO4J_PASSWORD", ""),
            bind_host=environ.get("BIND_HOST", "").strip() or "0.0.0.0",  # noqa: S104
            port=_int(environ, "GRAPH_PORT", 50052, 0, 65535),
            lockcache_addr=_addr(environ, "LOCKCACHE_ADDR", "127.0.0.1:50051"),
            log_level=log_level,
            metrics_port=_int(environ, "METRICS_PORT", 9102, 0, 65535),
            deterministic_threshold=_float(environ, "DETERMINISTIC_THRESHOLD", 0.7, 0.0, 1.0),
            max_linking_candidates=_int(environ, "MAX_LINKING_CANDIDATES", 100, 1, 10_000),
            discovery_lock_ttl_ms=_int(environ, "DISCOVERY_LOCK_TTL_MS", 15_000, 100, 600_000),
            context_group_cache_ttl=_int(environ, "CONTEXT_GROUP_CACHE_TTL", 300, 1, 86_400),
            db_pool_size=_int(environ, "DB_POOL_SIZE", 10, 1, 200),
            sweep_interval_s=_float(environ, "DISCOVERY_SWEEP_INTERVAL_S", 5.0, 0.05, 3600.0),
            outbox_batch=_int(environ, "OUTBOX_BATCH", 200, 1, 10_000),
            grace_seconds=_float(environ, "SHUTDOWN_GRACE_S", 10.0, 0.0, 120.0),
        )
