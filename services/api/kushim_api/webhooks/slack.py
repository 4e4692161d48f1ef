"""Slack Events API: url_verification, and message events to records."""

import re
from datetime import UTC, datetime
from typing import Any

from kushim_api.webhooks import (
    BODY_MAX,
    PayloadError,
    clip,
    delivery_text,
    first_line,
    people,
    record,
)

# <https://x|label>, <https://x>, <@U123>, <@U123|name>, <#C123|general>, <!here>
# Slack escapes "<" and ">" in message text, so no markup contains either: every pattern stops
# at the next "<", which keeps each attempt within its own segment and the whole scan linear
# (a class that admitted "<" made "<http:" repeated quadratic).
_LINK = re.compile(r"<((?:https?|mailto):[^|<>]+)(?:\|([^<>]*))?>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|[^<>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^<>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\|[^<>]*)?>")
# Markup is read from at most this much raw text: the stored body is clipped to BODY_MAX anyway.
RAW_TEXT_MAX = 2 * BODY_MAX
IGNORED_SUBTYPES = {
    "message_deleted", "channel_join", "channel_leave", "channel_topic", "channel_purpose",
    "channel_name", "channel_archive", "channel_unarchive", "group_join", "group_leave",
    "pinned_item", "unpinned_item", "ekm_access_denied",
}


def plain_text(text: str) -> str:
    """Slack markup to readable text that keeps every URL and mention verbatim."""
    def link(match: re.Match) -> str:
        url, label = match.group(1), match.group(2)
        return f"{label} ({url})" if label and label != url else url

    text = _LINK.sub(link, text)
    text = _USER.sub(lambda m: f"@{m.group(1)}", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(1)}", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _ts_to_iso(ts: Any) -> str:
    try:
        return datetime.fromtimestamp(float(ts), UTC).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        # "1e20" parses as a float but names no date: out of range, not a server error.
        raise PayloadError("event ts is not a Slack timestamp") from None


def _original_ts(event: dict, message) -> Any:
    """The ts naming the message: an edit's `message.ts`, else (some real edits carry none)
    `previous_message.ts`, else the event's own `ts`; None when there is none at all."""
    if not isinstance(message, dict):
        return None
    previous = event.get("previous_message")
    for candidate in (message.get("ts"), isinstance(previous, dict) and previous.get("ts"),
                      event.get("ts")):
        if isinstance(candidate, str) and candidate.strip():
            return candidate
        if isinstance(candidate, int | float) and not isinstance(candidate, bool):
            return candidate
    return None


def challenge(payload: dict) -> str | None:
    """The url_verification challenge to echo, or None for other payloads."""
    if payload.get("type") == "url_verification":
        value = payload.get("challenge")
        if not isinstance(value, str) or not value:
            raise PayloadError("url_verification without a challenge")
        return value
    return None


def delivery_id(payload: dict) -> str:
    event_id = delivery_text(payload.get("event_id"))
    if not event_id:
        raise PayloadError("event_callback without event_id")
    return event_id


def event_type(payload: dict) -> str:
    """The callback's inner event type, else the payload's own type, whatever their shapes."""
    event = payload.get("event")
    if isinstance(event, dict) and "type" in event:
        return str(event["type"])
    return str(payload.get("type", ""))


def normalize(payload: dict) -> list[dict]:
    if payload.get("type") != "event_callback":
        return []
    event = payload["event"]
    if event.get("type") not in ("message", "app_mention"):
        return []
    subtype = event.get("subtype")
    if subtype in IGNORED_SUBTYPES:
        return []
    message = event.get("message") if subtype == "message_changed" else event
    ts = _original_ts(event, message)
    if ts is None:
        # Well formed but naming no message: Slack retries a 4xx and then disables the
        # subscription, so it is acknowledged with no record.
        return []
    channel, team = event["channel"], payload.get("team_id") or event.get("team") or ""
    raw = (message.get("text") or "")[:RAW_TEXT_MAX]
    text = plain_text(raw)
    author = message.get("user") or message.get("username") or message.get("bot_id") or ""
    mentioned = _USER.findall(raw)
    thread_ts = message.get("thread_ts")
    return [record({
        "externalId": f"{team}/{channel}/{ts}",
        "sourcePlatform": "slack",
        "artifactType": "message",
        "title": first_line(text) or f"Message in {channel}",
        "body": clip(text, BODY_MAX),
        "author": author,
        "timestamp": _ts_to_iso(ts),
        "participants": people(author, *mentioned),
        "metadata": {
            "team": team, "channel": channel, "channelType": event.get("channel_type"),
            "ts": ts, "threadTs": thread_ts if thread_ts != ts else None,
            "eventId": payload.get("event_id"), "subtype": subtype,
        },
    })]
