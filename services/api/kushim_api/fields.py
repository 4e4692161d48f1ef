"""Field types of the request shapes: each declares its bounds once and derives from them both
its JSON Schema (for /openapi.json) and its check (with the message a client reads).

The checks are plain validators rather than pydantic's own constraints because the messages are
part of the contract ("title must be 0 to 1000 characters long", "sourcePlatform must be one of
github, ..."): pydantic's wording would change them, and mapping its error types back is a second
copy of every bound. A check raises `invalid(...)`; `bodies.parse` turns the first one into the
error envelope's ValidationError, naming the field.
"""

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from kushim_common import record_limits
from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
UUID_SCHEMA = {"type": "string", "format": "uuid"}
# A NUL in JSON text: "\u0000" after an even run of backslashes (an odd run makes it the
# literal text \u0000, which is storable).
_JSON_NUL_RE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def invalid(template: str, **details: Any) -> PydanticCustomError:
    """What a check raises; pydantic collects it per field, in declaration order. The template
    names the field as {field}: a check does not know it (nor need it when the value is good)."""
    return PydanticCustomError("kushim", "{template}", {"template": template, **details})


def problem(context: dict[str, Any], field: str) -> tuple[str, dict[str, Any]]:
    """The message and further details of what a check raised, for `field`."""
    details = dict(context)
    return details.pop("template").replace("{field}", field), details


def _field(schema: dict, check: Callable[[Any], Any], python_type: Any = str) -> Any:
    return Annotated[python_type, PlainValidator(check), WithJsonSchema(schema)]


def _nullable(schema: dict, nullable: bool) -> dict:
    return {**schema, "type": [schema["type"], "null"]} if nullable else schema


def text_value(value: str) -> str:
    """Refuses what PostgreSQL text and protobuf strings cannot carry."""
    if "\x00" in value:
        raise invalid("{field} must not contain NUL characters")
    if not value.isascii():  # only text beyond ASCII can hold a lone surrogate
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid("{field} must be valid Unicode text") from None
    return value


def _string(value: Any, min_len: int, max_len: int) -> str:
    if not isinstance(value, str):
        raise invalid("{field} must be a string")
    if not min_len <= len(value) <= max_len:
        raise invalid(f"{{field}} must be {min_len} to {max_len} characters long")
    return text_value(value)


def Text(max_len: int, *, min_len: int = 0, nullable: bool = False) -> Any:  # noqa: N802
    """A string of min_len..max_len characters; null reads as "" where nullable."""
    schema = _nullable({"type": "string", "maxLength": max_len}, nullable)
    if min_len:
        schema["minLength"] = min_len

    def check(value: Any) -> str:
        if nullable and value is None:
            return ""
        return _string(value, min_len, max_len)

    return _field(schema, check, str | None if nullable else str)


def Name(max_len: int) -> Any:  # noqa: N802 - a type
    """A required display name, stripped; blank is refused."""
    def check(value: Any) -> str:
        name = _string(value, 1, max_len)
        if not name.strip():
            raise invalid("{field} must not be blank")
        return name.strip()

    return _field({"type": "string", "minLength": 1, "maxLength": max_len, "pattern": r"\S"},
                  check)


def Secret(min_len: int, max_len: int) -> Any:  # noqa: N802 - a type
    """A write-only secret; null or "" clears it."""
    def check(value: Any) -> str:
        if value is None:
            return ""
        secret = _string(value, 0, max_len)
        if secret and len(secret) < min_len:
            raise invalid(f"{{field}} must be at least {min_len} characters")
        return secret

    schema = {"type": ["string", "null"], "minLength": min_len, "maxLength": max_len,
              "writeOnly": True}
    return _field(schema, check, str | None)


def Email(max_len: int, pattern: re.Pattern) -> Any:  # noqa: N802 - a type
    """An email address to register, stripped and lower-cased."""
    def check(value: Any) -> str:
        email = _string(value, 3, max_len)
        if not pattern.match(email):
            raise invalid("{field} must be an email address")
        return email.strip().lower()

    return _field({"type": "string", "format": "email", "maxLength": max_len}, check)


def HttpUrl(max_len: int) -> Any:  # noqa: N802 - a type
    """An absolute http(s) URL, or null / "" for none."""
    def check(value: Any) -> str:
        if value is None:
            return ""
        url = _string(value, 0, max_len)
        if url:
            try:
                parts = urlsplit(url)
            except ValueError:  # e.g. "http://[::1": an unclosed IPv6 host (once a 500)
                parts = None
            if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
                raise invalid("{field} must be an absolute http(s) URL")
        return url

    schema = {"type": ["string", "null"], "format": "uri", "maxLength": max_len,
              "description": "absolute http(s) URL"}
    return _field(schema, check, str | None)


def _required(value: Any) -> None:
    if value is None:
        raise invalid("{field} is required")


def Choice(allowed: tuple[str, ...]) -> Any:  # noqa: N802 - a type
    """One of a fixed set of strings."""
    def check(value: Any) -> str:
        _required(value)
        if value not in allowed:
            raise invalid(f"{{field}} must be one of {', '.join(allowed)}", allowed=list(allowed))
        return value

    return _field({"type": "string", "enum": list(allowed)}, check)


def uuid_value(value: Any) -> str:
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise invalid("{field} must be a UUID")
    return value.lower()


def Uuid(*, nullable: bool = False) -> Any:  # noqa: N802 - a type
    """A UUID, lower-cased; null reads as "" where nullable."""
    def check(value: Any) -> str:
        if nullable and value is None:
            return ""
        _required(value)
        return uuid_value(value)

    return _field(_nullable(dict(UUID_SCHEMA), nullable), check, str | None if nullable else str)


def UuidList(max_items: int) -> Any:  # noqa: N802 - a type
    def check(value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > max_items:
            raise invalid(f"{{field}} must be a list of at most {max_items} UUIDs")
        return [uuid_value(item) for item in value]

    schema = {"type": ["array", "null"], "maxItems": max_items, "items": UUID_SCHEMA}
    return _field(schema, check, list[str] | None)


def TextList(max_items: int, max_len: int) -> Any:  # noqa: N802 - a type
    """A list of non-empty strings (participants)."""
    def check(value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > max_items:
            raise invalid(f"{{field}} must be a list of at most {max_items} strings")
        for item in value:
            if not isinstance(item, str) or not 1 <= len(item) <= max_len:
                raise invalid(f"{{field}} items must be strings of 1 to {max_len} characters")
            text_value(item)
        return value

    schema = {"type": ["array", "null"], "maxItems": max_items,
              "items": {"type": "string", "minLength": 1, "maxLength": max_len}}
    return _field(schema, check, list[str] | None)


def Batch(item: type, max_items: int, noun: str) -> Any:  # noqa: N802 - a type
    """A list of 1..max_items `item`s, each checked by the caller (so each keeps its error)."""
    def check(value: Any) -> list:
        if not isinstance(value, list) or not 1 <= len(value) <= max_items:
            raise invalid(f"{{field}} must be a list of 1 to {max_items} {noun}")
        return value

    # described from the item's own declaration (a $ref to it), not a copy of its schema
    described = Annotated[list[item], Field(min_length=1, max_length=max_items)]
    return Annotated[list, PlainValidator(check, json_schema_input_type=described)]


def json_object_text(value: Any) -> str | None:
    """A free-form object as compact JSON text (None for null), within the record limits."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("{field} must be a JSON object")
    depth = record_limits.MAX_OBJECT_DEPTH
    too_deep = invalid(f"{{field}} must not nest deeper than {depth} levels")
    try:
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        size = len(encoded) if encoded.isascii() else len(encoded.encode("utf-8"))
    except RecursionError:
        raise too_deep from None
    except (UnicodeEncodeError, ValueError):
        raise invalid("{field} must hold finite numbers and valid Unicode text") from None
    limit = record_limits.MAX_OBJECT_BYTES
    if size > limit:
        raise invalid(f"{{field}} must be at most {limit} bytes as JSON")
    # Nesting past `depth` levels takes at least `depth` brackets; counting them in the text
    # (strings' brackets included, which only errs towards walking) spares most objects the walk.
    brackets = encoded.count("{") + encoded.count("[")
    if brackets >= depth and record_limits.nests_deeper_than(value, depth):
        raise too_deep
    if _JSON_NUL_RE.search(encoded):
        raise invalid("{field} must not contain NUL characters")
    return encoded


def JsonObject(description: str = "") -> Any:  # noqa: N802 - a type
    """A free-form object, carried on as compact JSON text (None when absent or null)."""
    schema: dict = {"type": ["object", "null"], "additionalProperties": True}
    if description:
        schema["description"] = description
    return _field(schema, json_object_text, str | None)


def timestamp_value(value: Any) -> datetime:
    message = "{field} must be an ISO 8601 timestamp with an offset, e.g. 2024-05-01T12:00:00Z"
    _required(value)
    # fromisoformat stops reading at a NUL: "...Z\x00garbage" would pass as a timestamp.
    if not isinstance(value, str) or len(value) > 64 or "\x00" in value:
        raise invalid(message)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(message) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise invalid(message)
    try:
        in_range = record_limits.MIN_TIME <= parsed < record_limits.MAX_TIME
    except OverflowError:
        in_range = False
    if not in_range:
        low, high = record_limits.MIN_TIME.year, record_limits.MAX_TIME.year
        raise invalid(f"{{field}} must be between {low} and {high}")
    return parsed


def Timestamp() -> Any:  # noqa: N802 - a type
    low, high = record_limits.MIN_TIME.year, record_limits.MAX_TIME.year
    schema = {"type": "string", "format": "date-time",
              "description": f"ISO 8601 with offset, from {low} until {high}"}
    return _field(schema, timestamp_value, datetime)
