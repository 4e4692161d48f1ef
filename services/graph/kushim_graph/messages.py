"""Database rows to graph.v1 messages."""

import json

from google.protobuf.timestamp_pb2 import Timestamp
from kushim.graph.v1 import graph_pb2


def timestamp(value) -> Timestamp:
    stamp = Timestamp()
    if value is not None:
        stamp.FromDatetime(value)
    return stamp


def _json(value) -> str:
    return json.dumps(value if value is not None else {}, ensure_ascii=False, sort_keys=True)


def _str(value) -> str:
    return "" if value is None else str(value)


def record(row) -> graph_pb2.Record:
    return graph_pb2.Record(
        id=str(row["id"]),
        external_id=row["external_id"],
        source_platform=row["source_platform"],
        artifact_type=row["artifact_type"],
        title=row["title"],
        body=row["body"],
        url=row["url"],
        author=row["author"],
        timestamp=timestamp(row["occurred_at"]),
        participants=list(row["participants"]),
        metadata_json=_json(row["metadata"]),
        data_source_id=_str(row["data_source_id"]),
        checksum=row["checksum"],
        created_at=timestamp(row["created_at"]),
        updated_at=timestamp(row["updated_at"]),
        discovery_state=row["discovery_state"],
    )


def link(row) -> graph_pb2.Link:
    return graph_pb2.Link(
        id=str(row["id"]),
        source_record_id=str(row["source_record_id"]),
        target_record_id=str(row["target_record_id"]),
        confidence=row["confidence"],
        link_type=row["link_type"],
        method=row["method"],
        signals=[
            graph_pb2.Signal(name=s["name"], weight=s["weight"], detail=s.get("detail", ""))
            for s in row["signals"]
        ],
        feedback=row["feedback"] or "",
        feedback_comment=row["feedback_comment"] or "",
        created_at=timestamp(row["created_at"]),
    )


def group(row) -> graph_pb2.ContextGroup:
    return graph_pb2.ContextGroup(
        id=str(row["id"]),
        name=row["name"],
        member_count=row["member_count"],
        topics=list(row["topics"]),
        coherence=row["coherence"],
        created_at=timestamp(row["created_at"]),
        updated_at=timestamp(row["updated_at"]),
    )


def user(row) -> graph_pb2.User:
    return graph_pb2.User(
        id=str(row["user_id"]),
        email=row["email"],
        display_name=row["display_name"],
        settings_json=_json(row["settings"]),
        created_at=timestamp(row["created_at"]),
        updated_at=timestamp(row["updated_at"]),
        token_version=row["token_version"],
    )


def data_source(row) -> graph_pb2.DataSource:
    return graph_pb2.DataSource(
        id=str(row["id"]),
        platform=row["platform"],
        name=row["name"],
        config_json=_json(row["config"]),
        has_webhook_secret=row["has_webhook_secret"],
        created_at=timestamp(row["created_at"]),
        updated_at=timestamp(row["updated_at"]),
    )
