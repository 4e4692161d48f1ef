"""Request validation: JSON bodies, path and query parameters, field types and sizes."""

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from google.protobuf.timestamp_pb2 import Timestamp

from kushim_api.errors import UnsupportedMediaType, ValidationError

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_OFFSET = 1_000_000
MAX_OBJECT_BYTES = 32 * 1024
_MISSING = object()
# A NUL in JSON text: "\u0000" after an even run of backslashes (an odd run makes it the
# literal text \u0000, which is storable).
_JSON_NUL_RE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


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


async def json_object(request: web.Request, allowed: Iterable[str]) -> dict[str, Any]:
    body = await json_body(request)
    return object_fields(body, allowed)


def object_fields(body: Any, allowed: Iterable[str], where: str = "body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError(f"{where} must be a JSON object")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ValidationError(f"unknown field: {unknown[0]}", field=unknown[0])
    return body


def text(value: str, field: str) -> str:
    """Rejects what PostgreSQL text and protobuf strings cannot carry."""
    if "\x00" in value:
        raise ValidationError(f"{field} must not contain NUL characters", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{field} must be valid Unicode text", field=field) from None
    return value


def string(body: Mapping[str, Any], field: str, *, max_len: int, required: bool = True,
           min_len: int = 0, default: str = "", nullable: bool = False) -> str:
    value = body.get(field, _MISSING)
    if value is _MISSING or (nullable and value is None):
        if required:
            raise ValidationError(f"{field} is required", field=field)
        return default
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string", field=field)
    if not min_len <= len(value) <= max_len:
        raise ValidationError(
            f"{field} must be {min_len} to {max_len} characters long", field=field
        )
    return text(value, field)


def enum(body: Mapping[str, Any], field: str, allowed: Iterable[str], *,
         required: bool = True) -> str:
    allowed = tuple(allowed)
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise ValidationError(f"{field} is required", field=field)
        return ""
    if value not in allowed:
        raise ValidationError(
            f"{field} must be one of {', '.join(allowed)}", field=field, allowed=list(allowed)
        )
    return value


def uuid_value(value: Any, field: str) -> str:
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise ValidationError(f"{field} must be a UUID", field=field)
    return value.lower()


def uuid_field(body: Mapping[str, Any], field: str, *, required: bool = True) -> str:
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise ValidationError(f"{field} is required", field=field)
        return ""
    return uuid_value(value, field)


def uuid_list(body: Mapping[str, Any], field: str, *, max_items: int) -> list[str]:
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise ValidationError(f"{field} must be a list of at most {max_items} UUIDs", field=field)
    return [uuid_value(item, field) for item in value]


def string_list(body: Mapping[str, Any], field: str, *, max_items: int, max_len: int) -> list[str]:
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise ValidationError(f"{field} must be a list of at most {max_items} strings",
                              field=field)
    for item in value:
        if not isinstance(item, str) or not 1 <= len(item) <= max_len:
            raise ValidationError(
                f"{field} items must be strings of 1 to {max_len} characters", field=field
            )
        text(item, field)
    return list(value)


def json_object_text(body: Mapping[str, Any], field: str) -> str | None:
    """A free-form object as JSON text (None when absent), within MAX_OBJECT_BYTES."""
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be a JSON object", field=field)
    try:
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        size = len(encoded.encode("utf-8"))
    except (UnicodeEncodeError, ValueError, RecursionError):
        raise ValidationError(
            f"{field} must hold finite numbers and valid Unicode text", field=field
        ) from None
    if size > MAX_OBJECT_BYTES:
        raise ValidationError(f"{field} must be at most {MAX_OBJECT_BYTES} bytes as JSON",
                              field=field)
    if _JSON_NUL_RE.search(encoded):
        raise ValidationError(f"{field} must not contain NUL characters", field=field)
    return encoded


def timestamp(body: Mapping[str, Any], field: str) -> Timestamp:
    value = body.get(field, _MISSING)
    if value is _MISSING or value is None:
        raise ValidationError(f"{field} is required", field=field)
    return parse_timestamp(value, field)


def parse_timestamp(value: Any, field: str) -> Timestamp:
    message = f"{field} must be an ISO 8601 timestamp with an offset, e.g. 2024-05-01T12:00:00Z"
    # fromisoformat stops reading at a NUL: "...Z\x00garbage" would pass as a timestamp.
    if not isinstance(value, str) or len(value) > 64 or "\x00" in value:
        raise ValidationError(message, field=field)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(message, field=field) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValidationError(message, field=field)
    stamp = Timestamp()
    try:
        stamp.FromDatetime(parsed)
    except (ValueError, OverflowError):
        raise ValidationError(f"{field} is out of range", field=field) from None
    return stamp


def path_uuid(request: web.Request, name: str) -> str:
    return uuid_value(request.match_info[name], name)


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
    return text(raw, name)


def pagination(request: web.Request) -> tuple[int, int]:
    limit = query_int(request, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    offset = query_int(request, "offset", 0, minimum=0, maximum=MAX_OFFSET)
    return limit, offset


def page(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}
