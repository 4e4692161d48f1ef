"""lockcache settings, read once from the environment in __main__."""

import os.path
from collections.abc import Mapping
from dataclasses import dataclass

from kushim_common.envconfig import (
    ConfigError,
    config_repr,
    read_bool,
    read_int,
    read_log_level,
    read_port,
    read_str,
    secret,
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


def _file(environ: Mapping[str, str], name: str) -> str | None:
    path = environ.get(name, "").strip() or None
    if path is not None and not os.path.isfile(path):
        raise ConfigError(f"{name}: no such file {path!r}")
    return path


def _is_cluster(url: str) -> bool:
    return parse_redis_url(url).cluster


@dataclass(frozen=True)
class Config:
    bind_host: str = "0.0.0.0"  # noqa: S104 - a pod listens on all its interfaces
    port: int = 50051
    # Secrets live in these URLs: repr shows them masked.
    redis_url: str | None = secret(None, mask=mask_url)
    redlock_urls: tuple[str, ...] = secret((), mask=lambda urls: [mask_url(u) for u in urls])
    tls_ca_cert: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    sentinel_password: str | None = secret(None)
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

    __repr__ = config_repr

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
        ca = _file(environ, "REDIS_TLS_CA_CERT")
        cert, key = _file(environ, "REDIS_TLS_CERT"), _file(environ, "REDIS_TLS_KEY")
        if (cert is None) != (key is None):
            raise ConfigError("REDIS_TLS_CERT and REDIS_TLS_KEY: set both or neither")
        return cls(
            bind_host=read_str(environ, "BIND_HOST", cls.bind_host),
            port=read_port(environ, "LOCKCACHE_PORT", cls.port),
            redis_url=redis_url,
            redlock_urls=redlock_urls,
            tls_ca_cert=ca,
            tls_cert=cert,
            tls_key=key,
            sentinel_password=environ.get("REDIS_SENTINEL_PASSWORD") or None,
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
