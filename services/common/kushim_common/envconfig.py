"""Typed readers of environment settings for the services' `Config.from_env`.

Each reader takes the mapping and the variable's name, returns the default when the variable
is unset or blank, and raises `ConfigError` with one line naming the variable otherwise.
"""

from collections.abc import Callable, Mapping
from typing import TypeVar

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
N = TypeVar("N", int, float)


class ConfigError(ValueError):
    """A bad setting; the message names the variable."""


def read_str(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def read_int(
    env: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    return _read_number(env, name, default, int, "an integer", minimum, maximum)


def read_float(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    return _read_number(env, name, default, float, "a number", minimum, maximum)


def _read_number(
    env: Mapping[str, str],
    name: str,
    default: N,
    parse: Callable[[str], N],
    kind: str,
    minimum: N | None,
    maximum: N | None,
) -> N:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None
    _check_range(name, value, minimum, maximum)
    return value


def _check_range(name: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and maximum is not None:
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    elif minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    elif maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be <= {maximum}, got {value}")


def read_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def read_port(env: Mapping[str, str], name: str, default: int, *, allow_zero: bool = False) -> int:
    """A TCP port to listen on; 0 (pick any, or off) only where the caller allows it."""
    value = read_int(env, name, default, minimum=0)
    if value > 65535 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be a TCP port, got {value}")
    return value


def read_addr(env: Mapping[str, str], name: str, default: str) -> str:
    """A `host:port` to dial."""
    value = read_str(env, name, default)
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{name} must be host:port, got {value!r}")
    return value


def read_log_level(env: Mapping[str, str], name: str) -> str:
    level = (env.get(name) or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{name} must be one of {', '.join(LOG_LEVELS)}")
    return level
