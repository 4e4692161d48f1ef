"""lockcache settings, read once from the environment in __main__."""

import os.path
from collections.abc import Mapping
from dataclasses import dataclass, field

from kushim_common.envconfig import (
    ConfigError,
    read_bool,
    read_int,
    read_log_level,
    read_port,
    read_str,
)
from kushim_common.grpctls import GrpcSecurity, read_grpc_security

from kushim_lockcache.redis_url import mask_url, parse_redis_url

MIB = 1024 * 1024


def _url(environ: Mapping[str, str], name: str, raw: str) -> str:
    try:
        parse_redis_url(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    return raw


def _is_cluster(url: str) -> bool:
    return parse_redis_url(url).cluster


@dataclass(frozen=True)
class Config:
    bind_host: str = "0.0.0.0"  # noqa: S104 - a pod listens on all its interfaces
    port: int = 50051
    # Secrets live in these URLs: repr shows them masked.
    redis_url: str | None = field(default=None, repr=False)
    redlock_urls: tuple[str, ...] = field(default=(), repr=False)
    tls_ca_cert: str | None = None
    discovery_lock_ttl_ms: int = 15_000
    lock_retry_count: int = 3
    lock_retry_delay_ms: int = 200
    fencing_counter_ttl_s: int = 600
    context_group_ttl_s: int = 300
    user_profile_ttl_s: int = 600
    platform_data_ttl_s: int = 180
    max_value_bytes: int = MIB
    compress_min_bytes: int = 1024
    metrics_port: int = 9101
    grpc: GrpcSecurity = GrpcSecurity()
    log_level: str = "INFO"
    uvloop: bool = True

    def __repr__(self) -> str:
        shown = {
            "bind_host": self.bind_host,
            "port": self.port,
            "redis_url": mask_url(self.redis_url) if self.redis_url else None,
            "redlock_urls": [mask_url(u) for u in self.redlock_urls],
            "tls_ca_cert": self.tls_ca_cert,
            "discovery_lock_ttl_ms": self.discovery_lock_ttl_ms,
            "lock_retry_count": self.lock_retry_count,
            "lock_retry_delay_ms": self.lock_retry_delay_ms,
            "fencing_counter_ttl_s": self.fencing_counter_ttl_s,
            "ttls_s": (self.context_group_ttl_s, self.user_profile_ttl_s, self.platform_data_ttl_s),
            "max_value_bytes": self.max_value_bytes,
            "compress_min_bytes": self.compress_min_bytes,
            "metrics_port": self.metrics_port,
            "grpc": self.grpc,
            "log_level": self.log_level,
            "uvloop": self.uvloop,
        }
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    @property
    def cluster_cache(self) -> bool:
        return self.redis_url is not None and _is_cluster(self.redis_url)

    @property
    def redis_enabled(self) -> bool:
        return self.redis_url is not None or bool(self.redlock_urls)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Config":
        redis_url = environ.get("REDIS_URL", "").strip() or None
        if redis_url is not None:
            _url(environ, "REDIS_URL", redis_url)
        raw_locks = environ.get("REDLOCK_URLS", "").strip()
        if raw_locks:
            # Sentinel URLs carry commas themselves; a lock master list is
            # split on commas that start a new scheme.
            redlock_urls = tuple(
                _url(environ, "REDLOCK_URLS", u) for u in split_url_list(raw_locks)
            )
            if any(_is_cluster(u) for u in redlock_urls):
                raise ConfigError(
                    "REDLOCK_URLS: a Redis Cluster cannot hold Redlock locks (a failover loses "
                    "them); name independent masters"
                )
        elif redis_url and not _is_cluster(redis_url):
            redlock_urls = (redis_url,)
        else:
            redlock_urls = ()  # a cluster holds the cache only
        ca = environ.get("REDIS_TLS_CA_CERT", "").strip() or None
        if ca is not None and not os.path.isfile(ca):
            raise ConfigError(f"REDIS_TLS_CA_CERT: no such file {ca!r}")
        return cls(
            bind_host=read_str(environ, "BIND_HOST", cls.bind_host),
            port=read_port(environ, "LOCKCACHE_PORT", cls.port),
            redis_url=redis_url,
            redlock_urls=redlock_urls,
            tls_ca_cert=ca,
            discovery_lock_ttl_ms=read_int(environ, "DISCOVERY_LOCK_TTL_MS", 15_000, minimum=10),
            lock_retry_count=read_int(environ, "LOCK_RETRY_COUNT", 3, minimum=0),
            lock_retry_delay_ms=read_int(environ, "LOCK_RETRY_DELAY_MS", 200, minimum=0),
            fencing_counter_ttl_s=read_int(environ, "FENCING_COUNTER_TTL_S", 600, minimum=60),
            context_group_ttl_s=read_int(environ, "CONTEXT_GROUP_CACHE_TTL", 300, minimum=1),
            user_profile_ttl_s=read_int(environ, "USER_PROFILE_CACHE_TTL", 600, minimum=1),
            platform_data_ttl_s=read_int(environ, "PLATFORM_DATA_CACHE_TTL", 180, minimum=1),
            max_value_bytes=read_int(environ, "CACHE_MAX_VALUE_BYTES", MIB, minimum=1),
            # 0 stores every value as given.
            compress_min_bytes=read_int(environ, "CACHE_COMPRESS_MIN_BYTES", 1024, minimum=0),
            metrics_port=read_port(environ, "METRICS_PORT", cls.metrics_port, allow_zero=True),
            grpc=read_grpc_security(environ),
            log_level=read_log_level(environ, "LOG_LEVEL"),
            uvloop=read_bool(environ, "LOCKCACHE_UVLOOP", cls.uvloop),
        )


def split_url_list(raw: str) -> list[str]:
    """Splits "redis://a:1,redis://b:2" while keeping Sentinel host lists whole."""
    parts: list[str] = []
    for piece in raw.split(","):
        piece = piece.strip()
        if not piece:
            continue
        if "://" in piece or not parts:
            parts.append(piece)
        else:
            parts[-1] += "," + piece
    return parts
