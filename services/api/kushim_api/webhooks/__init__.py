"""Webhook deliveries from GitHub, Slack and Jira, normalized to Kushim Standard Records.

The normalizers are pure functions from a platform's documented payload to
record dicts in the HTTP contract's shape; references (`#12`, `PROJ-7`, commit
SHAs, URLs) are kept verbatim in title, body or metadata so discovery sees them.
"""

import json
import math
from typing import Any

TITLE_MAX = 1_000
BODY_MAX = 200_000
AUTHOR_MAX = 256
DELIVERY_ID_MAX = 200
PARTICIPANTS_MAX = 200
# The record contract allows 32 KiB of metadata as JSON; what a platform sends is fitted into
# half of that, so escapes and the gateway's own fields never push a delivery over.
METADATA_BYTES_MAX = 16 * 1024
METADATA_TEXT_MAX = 512
METADATA_LIST_MAX = 50
METADATA_DEPTH_MAX = 4


class PayloadError(ValueError):
    """The payload lacks what its event type promises."""


# What a normalizer raises on a payload of the wrong shape (missing keys, wrong types): the
# route answers all of these with a 400. Anything else escaping a normalizer is a bug.
MALFORMED = (PayloadError, LookupError, TypeError, AttributeError, ValueError)


def clip(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    # NULs and lone surrogates (a JSON "\ud800" escape) cannot be stored as text.
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def delivery_text(value: Any) -> str:
    """A platform's delivery id as storable text: header bytes that are not UTF-8 replaced,
    NULs dropped, clipped; "" when there is none."""
    return clip(value, DELIVERY_ID_MAX).strip() if isinstance(value, str) else ""


def first_line(text: str, limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return clip(line, limit)


def people(*names: Any) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        if isinstance(name, str) and name.strip():
            seen.setdefault(clip(name.strip(), 256), None)
    return list(seen)[:PARTICIPANTS_MAX]


def _fitted(value: Any, text_max: int, list_max: int, depth: int) -> Any:
    if isinstance(value, str):
        return clip(value, text_max)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= METADATA_DEPTH_MAX:
        return None
    if isinstance(value, list | tuple):
        return [_fitted(v, text_max, list_max, depth + 1) for v in value[:list_max]]
    if isinstance(value, dict):
        items = list(value.items())[:list_max]
        return {clip(k, text_max): _fitted(v, text_max, list_max, depth + 1) for k, v in items}
    return clip(value, text_max)


def record(item: dict) -> dict:
    """A normalized record within the contract's limits, whatever the platform sent: the author
    clipped, metadata strings clipped and lists cut until the metadata fits its budget."""
    author = item.get("author")
    item["author"] = clip(author, AUTHOR_MAX) if isinstance(author, str) else ""
    text_max, list_max = METADATA_TEXT_MAX, METADATA_LIST_MAX
    while True:
        metadata = _fitted(item.get("metadata") or {}, text_max, list_max, 0)
        size = len(json.dumps(metadata, ensure_ascii=False).encode("utf-8"))
        if size <= METADATA_BYTES_MAX or text_max <= 8:
            item["metadata"] = metadata
            return item
        text_max, list_max = text_max // 2, max(1, list_max // 2)
