"""Request validation around the body shapes (kushim_api.bodies): the body's media type and
JSON syntax, path and query parameters, and the page envelope of list answers."""

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web
from pydantic_core import PydanticCustomError

from kushim_api import fields
from kushim_api.errors import UnsupportedMediaType, ValidationError

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_OFFSET = 1_000_000


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_loads(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise ValidationError("request body is not valid JSON") from None


async def json_body(request: web.Request) -> Any:
    """The parsed JSON body; 415 for another media type, 400 when it does not parse."""
    media = request.content_type
    if media not in ("application/json", "application/octet-stream") and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise UnsupportedMediaType("send the body as application/json")
    raw = await request.read()
    if not raw.strip():
        raise ValidationError("request body is empty: a JSON value is required")
    return _json_loads(raw)


def _checked(check: Callable[[Any], Any], value: Any, name: str) -> Any:
    """A field type's check (kushim_api.fields) applied to a path or query parameter."""
    try:
        return check(value)
    except PydanticCustomError as exc:
        message, details = fields.problem(exc.context or {}, name)
        raise ValidationError(message, field=name, **details) from None


def path_uuid(request: web.Request, name: str) -> str:
    return _checked(fields.uuid_value, request.match_info[name], name)


def query_int(request: web.Request, name: str, default: int, *, minimum: int,
              maximum: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[+-]?\d{1,12}", raw.strip()):
        raise ValidationError(f"{name} must be an integer", field=name)
    value = int(raw)
    if not minimum <= value <= maximum:
        raise ValidationError(f"{name} must be between {minimum} and {maximum}", field=name)
    return value


def query_enum(request: web.Request, name: str, allowed: Iterable[str]) -> str:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return ""
    allowed = tuple(allowed)
    if raw not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}", field=name,
                              allowed=list(allowed))
    return raw


def query_text(request: web.Request, name: str, *, max_len: int) -> str:
    raw = request.query.get(name, "")
    if len(raw) > max_len:
        raise ValidationError(f"{name} must be at most {max_len} characters", field=name)
    return _checked(fields.text_value, raw, name)


def pagination(request: web.Request) -> tuple[int, int]:
    limit = query_int(request, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    offset = query_int(request, "offset", 0, minimum=0, maximum=MAX_OFFSET)
    return limit, offset


def page(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}
