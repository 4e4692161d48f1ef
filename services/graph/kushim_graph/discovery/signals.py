"""The signals that relate two records, one function each.

Every signal is symmetric: it looks at both directions (does A mention B, or B mention A) and its
detail names what matched without saying who mentioned whom, so ``score(a, b) == score(b, a)``.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from kushim_graph.discovery.references import (
    References,
    extract_references,
    identity_keys,
    lookup_keys,
    metadata_keys,
)

EXPLICIT_REFERENCE_WEIGHT = 0.7
URL_REFERENCE_WEIGHT = 0.6
SHARED_METADATA_WEIGHT = 0.5
KEYWORD_SIMILARITY_WEIGHT = 0.3
SHARED_PEOPLE_WEIGHT = 0.2
TEMPORAL_PROXIMITY_WEIGHT = 0.1

KEYWORD_COSINE_MIN = 0.5  # the signal fires strictly above this
TEMPORAL_WINDOW = timedelta(hours=24)  # the signal fires at or within this distance
MAX_PARTICIPANTS = 1_000
_MAX_DETAIL_ITEMS = 3

_ID_PREFIXES = ("key:", "gh:", "sha:")
_ANGLE_EMAIL_RE = re.compile(r"<([^<>\s@]+@[^<>\s]+)>")
_GITHUB_NOREPLY = "users.noreply.github.com"


@dataclass(frozen=True)
class Signal:
    name: str
    weight: float
    detail: str


@dataclass(frozen=True)
class Features:
    """What the signals need from one record, computed once per record."""

    record_id: str
    timestamp: datetime
    author: str
    participants: frozenset[str]
    refs: References
    identity: frozenset[str]
    metadata_keys: frozenset[str]

    @cached_property
    def lookup(self) -> frozenset[str]:
        return lookup_keys(self.refs)

    @cached_property
    def people(self) -> frozenset[str]:
        people = {normalize_person(p) for p in (self.author, *self.participants)}
        return frozenset(p for p in people if p)


def normalize_person(value: Any) -> str:
    """A comparable form of an author or participant: lower-cased handle or email.

    ``"Ann <Ann+work@X.com>"``, ``"mailto:ann@x.com"`` and ``"ann@x.com"`` all become
    ``ann@x.com``; ``"@Ann"`` becomes ``ann``; a GitHub noreply address becomes the login.
    Bots (``name[bot]``) and empty values become ``""``: they are shared by everything.
    """
    if not isinstance(value, str):
        return ""
    value = value.strip()[:320]
    match = _ANGLE_EMAIL_RE.search(value)
    if match:
        value = match[1]
    value = value.lower().removeprefix("mailto:").strip().lstrip("@")
    if "@" in value:
        local, _, domain = value.rpartition("@")
        if domain == _GITHUB_NOREPLY:
            value = local.rpartition("+")[2]
        else:
            value = f"{local.partition('+')[0]}@{domain}"
    if value.endswith("[bot]") or not value.strip("@"):
        return ""
    return value


def _utc(timestamp: Any) -> datetime:
    if isinstance(timestamp, str):
        timestamp = datetime.fromisoformat(timestamp)
    if not isinstance(timestamp, datetime):
        raise TypeError(f"timestamp must be a datetime, not {type(timestamp).__name__}")
    if timestamp.tzinfo is None:
        return timestamp.replace(tzinfo=UTC)  # naive timestamps are taken as UTC
    return timestamp.astimezone(UTC)


def features_from(
    record_id: str,
    source_platform: str,
    artifact_type: str,
    external_id: str,
    title: str,
    body: str,
    url: str,
    author: str,
    timestamp: datetime,
    participants: Iterable[str],
    metadata: Mapping[str, Any],
) -> Features:
    if isinstance(participants, str):
        participants = [participants]
    people = (normalize_person(p) for p in list(participants or ())[:MAX_PARTICIPANTS])
    return Features(
        record_id=record_id,
        timestamp=_utc(timestamp),
        author=normalize_person(author),
        participants=frozenset(p for p in people if p),
        refs=extract_references(title, body, url, metadata),
        identity=identity_keys(source_platform, artifact_type, external_id, url, metadata),
        metadata_keys=metadata_keys(metadata),
    )


def _describe(prefix: str, values: Iterable[str]) -> str:
    values = sorted(values)
    shown = ", ".join(values[:_MAX_DETAIL_ITEMS])
    more = len(values) - _MAX_DETAIL_ITEMS
    return f"{prefix} {shown}" + (f" (+{more} more)" if more > 0 else "")


def _mentions(a: Features, b: Features, prefixes: tuple[str, ...]) -> list[str]:
    hits = (a.lookup & b.identity) | (b.lookup & a.identity)
    return [hit for hit in hits if hit.startswith(prefixes)]


def explicit_reference(a: Features, b: Features) -> Signal | None:
    """One record names the other by issue key, GitHub issue/PR reference or commit SHA."""
    hits = _mentions(a, b, _ID_PREFIXES)
    if not hits:
        return None
    return Signal("explicit_reference", EXPLICIT_REFERENCE_WEIGHT, _describe("references", hits))


def url_reference(a: Features, b: Features) -> Signal | None:
    """One record links to the other's URL."""
    hits = [hit.removeprefix("url:") for hit in _mentions(a, b, ("url:",))]
    if not hits:
        return None
    return Signal("url_reference", URL_REFERENCE_WEIGHT, _describe("links to", hits))


def shared_metadata(a: Features, b: Features) -> Signal | None:
    """Both carry the same head branch, commit or ticket in their metadata."""
    common = a.metadata_keys & b.metadata_keys
    if not common:
        return None
    return Signal("shared_metadata", SHARED_METADATA_WEIGHT, _describe("both have", common))


def keyword_similarity(keyword_cosine: float) -> Signal | None:
    """The TF-IDF cosine of the two texts is above ``KEYWORD_COSINE_MIN``."""
    if not keyword_cosine > KEYWORD_COSINE_MIN:  # also false for NaN
        return None
    detail = f"text similarity {keyword_cosine:.2f}"
    return Signal("keyword_similarity", KEYWORD_SIMILARITY_WEIGHT, detail)


def shared_people(a: Features, b: Features) -> Signal | None:
    """An author or participant in common."""
    common = a.people & b.people
    if not common:
        return None
    return Signal("shared_people", SHARED_PEOPLE_WEIGHT, _describe("both involve", common))


def temporal_proximity(a: Features, b: Features) -> Signal | None:
    """Created within ``TEMPORAL_WINDOW`` of each other."""
    distance = abs(_utc(a.timestamp) - _utc(b.timestamp))
    if distance > TEMPORAL_WINDOW:
        return None
    detail = f"{distance.total_seconds() / 3600:.1f} h apart"
    return Signal("temporal_proximity", TEMPORAL_PROXIMITY_WEIGHT, detail)
