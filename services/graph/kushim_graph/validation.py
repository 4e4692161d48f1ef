"""Input hygiene for records: limits, Unicode clean-up, JSON metadata checks.

Every problem becomes an `InvalidInput(field, message)`; nothing here can crash on input.
"""

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from kushim_common import record_limits

from kushim_graph.errors import InvalidInput

PLATFORMS = frozenset(record_limits.PLATFORMS)
ARTIFACT_TYPES = frozenset(record_limits.ARTIFACT_TYPES)
MAX_METADATA_DEPTH = record_limits.MAX_OBJECT_DEPTH
MIN_TIME, MAX_TIME = record_limits.MIN_TIME, record_limits.MAX_TIME

# C0 controls but tab, newline and carriage return; DEL; C1 controls. PostgreSQL refuses NUL
# in text and jsonb, the others only make trouble downstream.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class CleanRecord:
    external_id: str
    source_platform: str
    artifact_type: str
    title: str
    body: str
    url: str
    author: str
    occurred_at: datetime
    participants: tuple[str, ...]
    metadata: dict
    data_source_id: str | None
    checksum: str


def clean_text(value: str) -> str:
    """Drops control characters (NUL included) but tab and line breaks."""
    return _CONTROL.sub("", value)


def _one_line(field: str, value: str, limit: int, *, required: bool = False) -> str:
    value = _ANY_CONTROL.sub("", value).strip()
    if required and not value:
        raise InvalidInput(field, f"{field} is required")
    if len(value) > limit:
        raise InvalidInput(field, f"{field} is {len(value)} characters; the limit is {limit}")
    return value


def parse_uuid(field: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput(field, f"{field} must be a UUID, got {value[:64]!r}") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _clean_json(value, depth: int, field: str):
    if depth > MAX_METADATA_DEPTH:
        raise InvalidInput(field, f"{field} nests deeper than {MAX_METADATA_DEPTH} levels")
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, dict):
        return {
            _CONTROL.sub("", key): _clean_json(item, depth + 1, field)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_clean_json(item, depth + 1, field) for item in value]
    return value


def parse_json_object(field: str, text: str, *,
                      max_bytes: int = record_limits.MAX_OBJECT_BYTES) -> dict:
    """A JSON object with NULs and control characters removed from its strings."""
    if not text.strip():
        return {}
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise InvalidInput(field, f"{field} is {size} bytes; the limit is {max_bytes}")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidInput(
            field, f"{field} nests deeper than {MAX_METADATA_DEPTH} levels"
        ) from None
    except ValueError as exc:
        raise InvalidInput(field, f"{field} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput(field, f"{field} must be a JSON object")
    try:
        return _clean_json(value, 1, field)
    except RecursionError:
        raise InvalidInput(
            field, f"{field} nests deeper than {MAX_METADATA_DEPTH} levels"
        ) from None


def _participants(values) -> tuple[str, ...]:
    limit = record_limits.MAX_PARTICIPANTS
    if len(values) > limit:
        raise InvalidInput(
            "participants", f"participants has {len(values)} entries; the limit is {limit}"
        )
    people = set()
    for value in values:
        person = _one_line("participants", value, record_limits.MAX_PERSON_CHARS)
        if person:
            people.add(person)
    return tuple(sorted(people))


def _timestamp(message) -> datetime:
    if not message.HasField("timestamp"):
        raise InvalidInput("timestamp", "timestamp is required")
    seconds = message.timestamp.seconds
    if not MIN_TIME.timestamp() <= seconds < MAX_TIME.timestamp():
        raise InvalidInput("timestamp", "timestamp must be between 1900 and 2200")
    return message.timestamp.ToDatetime(tzinfo=UTC)


def checksum_of(fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def clean_record(message) -> CleanRecord:
    """Validates one RecordInput; raises InvalidInput naming the first bad field."""
    platform = message.source_platform.strip().lower()
    if platform not in PLATFORMS:
        raise InvalidInput(
            "source_platform", f"source_platform must be one of {', '.join(sorted(PLATFORMS))}"
        )
    artifact = message.artifact_type.strip().lower()
    if artifact not in ARTIFACT_TYPES:
        raise InvalidInput(
            "artifact_type", f"artifact_type must be one of {', '.join(sorted(ARTIFACT_TYPES))}"
        )
    external_id = _one_line(
        "external_id", message.external_id, record_limits.MAX_EXTERNAL_ID_CHARS, required=True
    )
    title = _one_line("title", clean_text(message.title), record_limits.MAX_TITLE_CHARS)
    body = clean_text(message.body)
    if len(body) > record_limits.MAX_BODY_CHARS:
        raise InvalidInput(
            "body", f"body is {len(body)} characters; the limit is {record_limits.MAX_BODY_CHARS}"
        )
    url = _one_line("url", message.url, record_limits.MAX_URL_CHARS)
    if url and not url.lower().startswith(("http://", "https://")):
        raise InvalidInput("url", "url must start with http:// or https://")
    author = _one_line("author", message.author, record_limits.MAX_PERSON_CHARS)
    occurred_at = _timestamp(message)
    participants = _participants(message.participants)
    metadata = parse_json_object("metadata_json", message.metadata_json)
    source = message.data_source_id.strip()
    data_source_id = parse_uuid("data_source_id", source) if source else None
    fields = {
        "external_id": external_id,
        "source_platform": platform,
        "artifact_type": artifact,
        "title": title,
        "body": body,
        "url": url,
        "author": author,
        "timestamp": occurred_at.isoformat(),
        "participants": list(participants),
        "metadata": metadata,
        "data_source_id": data_source_id,
    }
    return CleanRecord(
        external_id=external_id,
        source_platform=platform,
        artifact_type=artifact,
        title=title,
        body=body,
        url=url,
        author=author,
        occurred_at=occurred_at,
        participants=participants,
        metadata=metadata,
        data_source_id=data_source_id,
        checksum=checksum_of(fields),
    )
