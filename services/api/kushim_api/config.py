"""Gateway settings, read once from the environment in __main__."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from kushim_common.logs import parse_log_level

DEV_TOKEN_SECRET = "kushim-development-only-token-secret-do-not-use"  # noqa: S105
MIN_SECRET_BYTES = 32
PASSWORD_PROFILES = ("rfc9106_low_memory", "rfc9106_high_memory", "cheapest")


class ConfigError(ValueError):
    """A bad setting; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _addr(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{name} must be host:port, got {value!r}")
    return value


@dataclass(frozen=True)
class Config:
    bind_host: str = "0.0.0.0"  # noqa: S104 - a pod listens on all its interfaces
    port: int = 3001
    lockcache_addr: str = "127.0.0.1:50051"
    graph_addr: str = "127.0.0.1:50052"
    auth_token_secret: str = field(default=DEV_TOKEN_SECRET, repr=False)
    auth_token_ttl_seconds: int = 86_400
    environment: str = "production"
    upstream_timeout_ms: int = 3_000
    max_body_bytes: int = 5 * 1024 * 1024
    login_rate_limit_per_account: int = 10
    login_rate_limit_per_ip: int = 50
    login_rate_limit_window_seconds: int = 300
    register_rate_limit_per_ip: int = 20
    trust_forwarded_for: bool = False
    password_hash_profile: str = "rfc9106_low_memory"  # noqa: S105 - a profile name
    shutdown_grace_seconds: float = 20.0
    log_level: str = "INFO"

    def __repr__(self) -> str:
        shown = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name != "auth_token_secret"
        }
        shown["auth_token_secret"] = "***"  # noqa: S105 - the mask
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

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
        try:
            log_level = parse_log_level(env.get("LOG_LEVEL", "INFO"))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return cls(
            bind_host=env.get("BIND_HOST", "").strip() or cls.bind_host,
            port=_int(env, "PORT", cls.port, minimum=0, maximum=65535),
            lockcache_addr=_addr(env, "LOCKCACHE_ADDR", cls.lockcache_addr),
            graph_addr=_addr(env, "GRAPH_ADDR", cls.graph_addr),
            auth_token_secret=secret,
            auth_token_ttl_seconds=_int(
                env, "AUTH_TOKEN_TTL_SECONDS", cls.auth_token_ttl_seconds,
                minimum=60, maximum=30 * 86_400,
            ),
            environment=environment,
            upstream_timeout_ms=_int(
                env, "UPSTREAM_TIMEOUT_MS", cls.upstream_timeout_ms, minimum=50, maximum=120_000
            ),
            max_body_bytes=_int(
                env, "MAX_BODY_BYTES", cls.max_body_bytes, minimum=1024, maximum=256 * 1024 * 1024
            ),
            login_rate_limit_per_account=_int(
                env, "LOGIN_RATE_LIMIT_PER_ACCOUNT", cls.login_rate_limit_per_account,
                minimum=1, maximum=1_000_000,
            ),
            login_rate_limit_per_ip=_int(
                env, "LOGIN_RATE_LIMIT_PER_IP", cls.login_rate_limit_per_ip,
                minimum=1, maximum=1_000_000,
            ),
            login_rate_limit_window_seconds=_int(
                env, "LOGIN_RATE_LIMIT_WINDOW_SECONDS", cls.login_rate_limit_window_seconds,
                minimum=1, maximum=86_400,
            ),
            register_rate_limit_per_ip=_int(
                env, "REGISTER_RATE_LIMIT_PER_IP", cls.register_rate_limit_per_ip,
                minimum=1, maximum=1_000_000,
            ),
            trust_forwarded_for=_bool(env, "TRUST_FORWARDED_FOR", cls.trust_forwarded_for),
            password_hash_profile=profile,
            shutdown_grace_seconds=_float(
                env, "SHUTDOWN_GRACE_SECONDS", cls.shutdown_grace_seconds, minimum=0
            ),
            log_level=log_level,
        )
