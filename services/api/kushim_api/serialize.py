"""Protobuf messages to the JSON answers of the HTTP contract, as declared in answers.py."""

import json
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from kushim.graph.v1 import graph_pb2

from kushim_api import answers

STRONG_THRESHOLD = 0.85


def timestamp(value: Timestamp) -> str | None:
    if not value.seconds and not value.nanos:
        return None
    return value.ToDatetime().isoformat(timespec="milliseconds") + "Z"


def _object(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _stamps(message: Any) -> dict[str, str | None]:
    return {"createdAt": timestamp(message.created_at), "updatedAt": timestamp(message.updated_at)}


def _ends(item: graph_pb2.Link) -> dict[str, Any]:
    """What a link and its explanation share: the records, the method and the signals."""
    return {
        "sourceRecordId": item.source_record_id,
        "targetRecordId": item.target_record_id,
        "method": item.method,
        "signals": [signal(s) for s in item.signals],
    }


def record(r: graph_pb2.Record) -> answers.Record:
    return {
        "id": r.id,
        "externalId": r.external_id,
        "sourcePlatform": r.source_platform,
        "artifactType": r.artifact_type,
        "title": r.title,
        "body": r.body,
        "url": r.url or None,
        "author": r.author,
        "timestamp": timestamp(r.timestamp),
        "participants": list(r.participants),
        "metadata": _object(r.metadata_json),
        "dataSourceId": r.data_source_id or None,
        "checksum": r.checksum,
        **_stamps(r),
        "discoveryState": r.discovery_state or None,
    }


def signal(s: graph_pb2.Signal) -> answers.Signal:
    return {"name": s.name, "weight": s.weight, "detail": s.detail}


def link_type(link: graph_pb2.Link) -> str:
    if link.link_type:
        return link.link_type
    return "strong_contextual" if link.confidence >= STRONG_THRESHOLD else "weak_contextual"


def link(item: graph_pb2.Link) -> answers.Link:
    return {
        "id": item.id,
        **_ends(item),
        "confidence": item.confidence,
        "linkType": link_type(item),
        "feedback": item.feedback or None,
        "feedbackComment": item.feedback_comment or None,
        "createdAt": timestamp(item.created_at),
    }


def explanation(item: graph_pb2.Link) -> answers.LinkExplanation:
    return {
        "linkId": item.id,
        **_ends(item),
        "score": item.confidence,
        "type": link_type(item),
    }


def link_stats(stats: graph_pb2.GetLinkStatsResponse) -> answers.LinkStats:
    return {
        "total": stats.total,
        "byMethod": dict(stats.by_method),
        "byFeedback": dict(stats.by_feedback),
        "byType": dict(stats.by_type),
    }


def group(g: graph_pb2.ContextGroup) -> answers.ContextGroup:
    return {
        "id": g.id,
        "name": g.name,
        "memberCount": g.member_count,
        "topics": list(g.topics),
        "coherence": g.coherence,
        **_stamps(g),
    }


def group_with_members(
    answer: graph_pb2.GroupResponse,
) -> answers.ContextGroupWithMembers:
    return {**group(answer.group), "members": [record(m) for m in answer.members]}


def graph(nodes: Any, links: Any) -> answers.Graph:
    return {"nodes": [record(n) for n in nodes], "links": [link(x) for x in links]}


def context(answer: graph_pb2.GetRecordContextResponse, depth: int) -> answers.Context:
    sub = answer.subgraph
    return {**graph(sub.nodes, sub.links), "groups": [group(g) for g in sub.groups],
            "depth": depth, "cached": answer.cached}


def user(u: graph_pb2.User) -> answers.User:
    return {
        "id": u.id,
        "email": u.email,
        "displayName": u.display_name or None,
        "settings": _object(u.settings_json),
        **_stamps(u),
    }


def data_source(ds: graph_pb2.DataSource) -> answers.DataSource:
    return {
        "id": ds.id,
        "platform": ds.platform,
        "name": ds.name,
        "config": _object(ds.config_json),
        "hasWebhookSecret": ds.has_webhook_secret,
        "webhookPath": f"/webhooks/{ds.platform}/{ds.id}"
        if ds.platform in ("github", "slack", "jira") else None,
        **_stamps(ds),
    }


def outcome(result: graph_pb2.IngestResult) -> str:
    if result.HasField("error"):
        return "rejected"
    if result.created:
        return "created"
    return "updated" if result.changed else "unchanged"


def ingest_result(result: graph_pb2.IngestResult) -> answers.IngestResult:
    answer: dict[str, Any] = {"index": result.index, "status": outcome(result)}
    if answer["status"] == "rejected":
        answer["error"] = {"field": result.error.field or None, "message": result.error.message}
        return answer
    return {
        **answer,
        "created": result.created,
        "changed": result.changed,
        "record": record(result.record),
        "links": [link(x) for x in result.links],
    }
