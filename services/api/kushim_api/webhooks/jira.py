"""Jira webhooks (jira:issue_created, jira:issue_updated, comment_created,
comment_updated) to records: one for the issue, one per comment."""

from typing import Any
from urllib.parse import urlsplit

from kushim_api.webhooks import BODY_MAX, TITLE_MAX, PayloadError, clip, people, record

ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated")
COMMENT_EVENTS = ("comment_created", "comment_updated")
EVENTS = ISSUE_EVENTS + COMMENT_EVENTS
ADF_DEPTH_MAX = 64


def adf_text(value: Any) -> str:
    """Plain text of a description: wiki-markup strings as they are, ADF documents flattened.
    Walked with an explicit stack to ADF_DEPTH_MAX levels, so no nesting can exhaust recursion."""
    parts: list[str] = []
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            parts.append(node)
        elif depth >= ADF_DEPTH_MAX:
            continue
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in reversed(node))
        elif isinstance(node, dict):
            if node.get("type") == "text":
                parts.append(str(node.get("text", "")))
            elif node.get("type") in ("inlineCard", "blockCard"):
                parts.append(str((node.get("attrs") or {}).get("url", "")))
            else:
                if node.get("type") in ("paragraph", "heading", "listItem", "codeBlock"):
                    stack.append(("\n", depth))
                stack.extend((child, depth + 1) for child in reversed(node.get("content") or ()))
    return "".join(parts)


def _name(user: Any) -> str:
    if not isinstance(user, dict):
        return ""
    return user.get("displayName") or user.get("accountId") or user.get("name") or ""


def _site(issue: dict) -> str:
    site = urlsplit(issue.get("self") or "").netloc
    if not site:
        raise PayloadError("issue.self is missing")
    return site


def _jira_time(value: Any) -> str:
    """Jira writes offsets as +0000; ISO 8601 readers want +00:00."""
    if not isinstance(value, str) or len(value) < 5:
        raise PayloadError("timestamp missing")
    if value[-5] in "+-" and value[-4:].isdigit():
        return value[:-2] + ":" + value[-2:]
    return value


def _issue(payload: dict) -> dict:
    issue = payload["issue"]
    fields, key, site = issue["fields"], issue["key"], _site(issue)
    summary = fields.get("summary") or ""
    return {
        "externalId": f"{site}/issue/{issue['id']}",
        "sourcePlatform": "jira",
        "artifactType": "task",
        "title": clip(f"{key}: {summary}", TITLE_MAX),
        "body": clip(adf_text(fields.get("description")), BODY_MAX),
        "url": f"https://{site}/browse/{key}",
        "author": _name(fields.get("reporter")) or _name(fields.get("creator")),
        "timestamp": _jira_time(fields.get("updated") or fields.get("created")),
        "participants": people(
            _name(fields.get("reporter")), _name(fields.get("assignee")),
            _name(fields.get("creator")), _name(payload.get("user")),
        ),
        "metadata": {
            "ticketId": key, "issueId": issue["id"],
            "project": (fields.get("project") or {}).get("key"),
            "issueType": (fields.get("issuetype") or {}).get("name"),
            "status": (fields.get("status") or {}).get("name"),
            "priority": (fields.get("priority") or {}).get("name"),
            "labels": list(fields.get("labels") or ())[:50],
            "event": payload.get("webhookEvent"),
        },
    }


def _comment(payload: dict) -> dict:
    issue, comment = payload["issue"], payload["comment"]
    key, site = issue["key"], _site(issue)
    summary = (issue.get("fields") or {}).get("summary") or ""
    return {
        "externalId": f"{site}/issue/{issue['id']}/comment/{comment['id']}",
        "sourcePlatform": "jira",
        "artifactType": "message",
        "title": clip(f"Comment on {key}: {summary}", TITLE_MAX),
        "body": clip(adf_text(comment.get("body")), BODY_MAX),
        "url": f"https://{site}/browse/{key}?focusedCommentId={comment['id']}",
        "author": _name(comment.get("author")),
        "timestamp": _jira_time(comment.get("updated") or comment.get("created")),
        "participants": people(_name(comment.get("author")), _name(comment.get("updateAuthor"))),
        "metadata": {
            "ticketId": key, "issueId": issue["id"], "commentId": comment["id"],
            "event": payload.get("webhookEvent"),
        },
    }


def normalize(payload: dict) -> list[dict]:
    event = payload.get("webhookEvent")
    if event in ISSUE_EVENTS:
        records = [record(_issue(payload))]
        if isinstance(payload.get("comment"), dict):
            records.append(record(_comment(payload)))
        return records
    if event in COMMENT_EVENTS:
        return [record(_comment(payload))]
    return []
