"""Gateway settings, read once from the environment in __main__."""

from collections.abc import Mapping
from dataclasses import dataclass

from kushim_common.envconfig import (
    ConfigError,
    config_repr,
    read_addr,
    read_bool,
    read_float,
    read_int,
    read_log_level,
    read_port,
    read_str,
    secret,
)
from kushim_common.grpctls import GrpcTls, read_grpc_security

from kushim_api.clientaddr import Network, parse_networks

DEV_TOKEN_SECRET = "kushim-development-only-token-secret-do-not-use"  # noqa: S105
MIN_SECRET_BYTES = 32
PASSWORD_PROFILES = ("rfc9106_low_memory", "rfc9106_high_memory", "cheapest")


@dataclass(frozen=True)
class Config:
    bind_host: str = "0.0.0.0"  # noqa: S104 - a pod listens on all its interfaces
    port: int = 3001
    lockcache_addr: str = "127.0.0.1:50051"
    graph_addr: str = "127.0.0.1:50052"
    auth_token_secret: str = secret(DEV_TOKEN_SECRET)
    auth_token_ttl_seconds: int = 86_400
    auth_token_previous_secrets: tuple[str, ...] = secret(())
    token_version_cache_ms: int = 5_000
    environment: str = "production"
    upstream_timeout_ms: int = 3_000
    max_body_bytes: int = 5 * 1024 * 1024
    login_rate_limit_per_account: int = 10
    login_rate_limit_per_ip: int = 50
    login_rate_limit_window_seconds: int = 300
    register_rate_limit_per_ip: int = 20
    ingest_rate_limit_per_user: int = 6_000
    ingest_rate_limit_window_seconds: int = 60
    search_offset_max: int = 10_000
    trusted_proxy_hops: int = 0
    trusted_proxy_networks: tuple[Network, ...] = ()
    password_hash_profile: str = "rfc9106_low_memory"  # noqa: S105 - a profile name
    password_hash_concurrency: int = 2
    password_hash_queue: int = 8
    shutdown_grace_seconds: float = 20.0
    readiness_cache_ms: int = 1_000
    # Profiles and platform data kept in process memory (0 turns the near cache off).
    near_cache_max_entries: int = 10_000
    near_cache_max_bytes: int = 64 * 1024 * 1024
    metrics_port: int = 0
    log_level: str = "INFO"
    grpc_tls: GrpcTls | None = None  # mutual TLS to graph and lockcache

    __repr__ = config_repr

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def upstream_timeout(self) -> float:
        return self.upstream_timeout_ms / 1000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Config":
        environment = env.get("KUSHIM_ENV", "").strip().lower() or "production"
        if environment not in ("production", "development"):
            raise ConfigError(f"KUSHIM_ENV must be production or development, got {environment!r}")
        secret = env.get("AUTH_TOKEN_SECRET", "")
        if not secret:
            if environment != "development":
                raise ConfigError("AUTH_TOKEN_SECRET is required outside KUSHIM_ENV=development")
            secret = DEV_TOKEN_SECRET  # noqa: S105 - development only, logged at start
        elif len(secret.encode()) < MIN_SECRET_BYTES and environment != "development":
            raise ConfigError(f"AUTH_TOKEN_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        profile = env.get("PASSWORD_HASH_PROFILE", "").strip().lower() or cls.password_hash_profile
        if profile not in PASSWORD_PROFILES:
            choices = ", ".join(PASSWORD_PROFILES)
            raise ConfigError(f"PASSWORD_HASH_PROFILE must be one of {choices}")
        if profile == "cheapest" and environment != "development":
            raise ConfigError("PASSWORD_HASH_PROFILE=cheapest is only allowed in development")
        return cls(
            bind_host=read_str(env, "BIND_HOST", cls.bind_host),
            port=read_port(env, "PORT", cls.port, allow_zero=True),
            lockcache_addr=read_addr(env, "LOCKCACHE_ADDR", cls.lockcache_addr),
            graph_addr=read_addr(env, "GRAPH_ADDR", cls.graph_addr),
            auth_token_secret=secret,
            auth_token_ttl_seconds=read_int(
                env, "AUTH_TOKEN_TTL_SECONDS", cls.auth_token_ttl_seconds,
                minimum=60, maximum=30 * 86_400,
            ),
            auth_token_previous_secrets=_previous_secrets(env),
            near_cache_max_entries=read_int(
                env, "NEAR_CACHE_MAX_ENTRIES", cls.near_cache_max_entries, minimum=0,
                maximum=10_000_000,
            ),
            near_cache_max_bytes=read_int(
                env, "NEAR_CACHE_MAX_BYTES", cls.near_cache_max_bytes, minimum=1024
            ),
            token_version_cache_ms=read_int(
                env, "TOKEN_VERSION_CACHE_MS", cls.token_version_cache_ms,
                minimum=0, maximum=300_000,
            ),
            environment=environment,
            upstream_timeout_ms=read_int(
                env, "UPSTREAM_TIMEOUT_MS", cls.upstream_timeout_ms, minimum=50, maximum=120_000
            ),
            max_body_bytes=read_int(
                env, "MAX_BODY_BYTES", cls.max_body_bytes, minimum=1024, maximum=256 * 1024 * 1024
            ),
            login_rate_limit_per_account=read_int(
                env, "LOGIN_RATE_LIMIT_PER_ACCOUNT", cls.login_rate_limit_per_account,
                minimum=1, maximum=1_000_000,
            ),
            login_rate_limit_per_ip=read_int(
                env, "LOGIN_RATE_LIMIT_PER_IP", cls.login_rate_limit_per_ip,
                minimum=1, maximum=1_000_000,
            ),
            login_rate_limit_window_seconds=read_int(
                env, "LOGIN_RATE_LIMIT_WINDOW_SECONDS", cls.login_rate_limit_window_seconds,
                minimum=1, maximum=86_400,
            ),
            register_rate_limit_per_ip=read_int(
                env, "REGISTER_RATE_LIMIT_PER_IP", cls.register_rate_limit_per_ip,
                minimum=1, maximum=1_000_000,
            ),
            ingest_rate_limit_per_user=read_int(
                env, "INGEST_RATE_LIMIT_PER_USER", cls.ingest_rate_limit_per_user,
                minimum=1, maximum=1_000_000,
            ),
            ingest_rate_limit_window_seconds=read_int(
                env, "INGEST_RATE_LIMIT_WINDOW_SECONDS", cls.ingest_rate_limit_window_seconds,
                minimum=1, maximum=86_400,
            ),
            search_offset_max=read_int(
                env, "SEARCH_OFFSET_MAX", cls.search_offset_max, minimum=0, maximum=1_000_000
            ),
            trusted_proxy_hops=_proxy_hops(env),
            trusted_proxy_networks=_proxy_networks(env),
            password_hash_profile=profile,
            password_hash_concurrency=read_int(
                env, "PASSWORD_HASH_CONCURRENCY", cls.password_hash_concurrency,
                minimum=1, maximum=64,
            ),
            password_hash_queue=read_int(
                env, "PASSWORD_HASH_QUEUE", cls.password_hash_queue, minimum=0, maximum=10_000
            ),
            shutdown_grace_seconds=read_float(
                env, "SHUTDOWN_GRACE_SECONDS", cls.shutdown_grace_seconds, minimum=0
            ),
            readiness_cache_ms=read_int(
                env, "READINESS_CACHE_MS", cls.readiness_cache_ms, minimum=0, maximum=10_000
            ),
            metrics_port=read_port(env, "METRICS_PORT", cls.metrics_port, allow_zero=True),
            log_level=read_log_level(env, "LOG_LEVEL"),
            grpc_tls=read_grpc_security(env).tls,
        )


def _proxy_hops(env: Mapping[str, str]) -> int:
    """TRUSTED_PROXY_HOPS; the older TRUST_FORWARDED_FOR=true means one proxy in front."""
    legacy = 1 if read_bool(env, "TRUST_FORWARDED_FOR", False) else 0
    return read_int(env, "TRUSTED_PROXY_HOPS", legacy, minimum=0, maximum=16)


def _proxy_networks(env: Mapping[str, str]) -> tuple[Network, ...]:
    try:
        return parse_networks(env.get("TRUSTED_PROXY_CIDRS", ""))
    except ValueError as exc:
        raise ConfigError(f"TRUSTED_PROXY_CIDRS: {exc}") from None


def _previous_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """AUTH_TOKEN_PREVIOUS_SECRETS: comma-separated retired keys that still verify tokens."""
    secrets = tuple(s.strip() for s in env.get("AUTH_TOKEN_PREVIOUS_SECRETS", "").split(","))
    secrets = tuple(s for s in secrets if s)
    if any(len(s.encode()) < MIN_SECRET_BYTES for s in secrets):
        raise ConfigError(
            f"AUTH_TOKEN_PREVIOUS_SECRETS entries must be at least {MIN_SECRET_BYTES} bytes"
        )
    return secrets
