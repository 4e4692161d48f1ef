"""The services' one configuration convention: typed readers for `Config.from_env`, secret
fields masked in `repr`, and one way a bad value stops a start.

Each reader takes the mapping and the variable's name, returns the default when the variable
is unset or blank, and raises `ConfigError` with one line naming the variable otherwise.
`load_or_exit` turns that error into the same stderr line and exit code in every service.
"""

import dataclasses
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
N = TypeVar("N", int, float)
C = TypeVar("C")
EXIT_BAD_CONFIG = 2  # the shell's "misuse" code: distinct from a crash (1)


class ConfigError(ValueError):
    """A bad setting; the message names the variable."""


def read_str(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def read_int(env: Mapping[str, str], name: str, default: int, *,
             minimum: int | None = None, maximum: int | None = None) -> int:
    return _read_number(env, name, default, int, "an integer", minimum, maximum)


def read_float(env: Mapping[str, str], name: str, default: float, *,
               minimum: float | None = None, maximum: float | None = None) -> float:
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


def load_or_exit(service: str, from_env: Callable[[Mapping[str, str]], C],
                 environ: Mapping[str, str]) -> C:
    """`from_env(environ)`; on a bad value, writes `<service>: configuration error: <message
    naming the variable>` to stderr and exits with EXIT_BAD_CONFIG (before logging is set up,
    so the line is plain text in every service)."""
    try:
        return from_env(environ)
    except ConfigError as exc:
        sys.stderr.write(f"{service}: configuration error: {exc}\n")
        raise SystemExit(EXIT_BAD_CONFIG) from None


def mask_secret(value: Any) -> Any:
    """"***" for a secret, one per item of a tuple of them."""
    return ("***",) * len(value) if isinstance(value, tuple) else "***"


def secret(default: Any = dataclasses.MISSING, *,
           mask: Callable[[Any], Any] = mask_secret) -> Any:
    """A Config field holding a secret: `config_repr` shows a set value through `mask`."""
    return dataclasses.field(default=default, repr=False, metadata={"mask": mask})


def config_repr(config: Any) -> str:
    """`Config(name=value, ...)` with every field, the secret ones masked; a Config assigns it
    as its `__repr__`, so the line a service logs at start never carries a secret."""
    shown = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        mask = f.metadata.get("mask")
        shown.append(f"{f.name}={mask(value) if mask and value else value!r}")
    return f"{type(config).__name__}({', '.join(shown)})"
