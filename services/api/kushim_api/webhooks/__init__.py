"""Webhook deliveries from GitHub, Slack and Jira, normalized to Kushim Standard Records.

The normalizers are pure functions from a platform's documented payload to
record dicts in the HTTP contract's shape; references (`#12`, `PROJ-7`, commit
SHAs, URLs) are kept verbatim in title, body or metadata so discovery sees them.
"""

from typing import Any

TITLE_MAX = 1_000
BODY_MAX = 200_000
PARTICIPANTS_MAX = 200


class PayloadError(ValueError):
    """The payload lacks what its event type promises."""


def clip(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    text = text.replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_line(text: str, limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return clip(line, limit)


def people(*names: Any) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        if isinstance(name, str) and name.strip():
            seen.setdefault(clip(name.strip(), 256), None)
    return list(seen)[:PARTICIPANTS_MAX]
