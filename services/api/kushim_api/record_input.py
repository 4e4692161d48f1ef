"""The Kushim Standard Record as a client sends it, checked and turned into RecordInput."""

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from kushim.graph.v1 import graph_pb2

from kushim_api import bodies
from kushim_api.errors import ValidationError


def parse(item: Any) -> graph_pb2.RecordInput:
    record = bodies.parse(bodies.RecordInput, item, where="record")
    stamp = Timestamp()
    stamp.FromDatetime(record.timestamp)
    return graph_pb2.RecordInput(
        external_id=record.externalId, source_platform=record.sourcePlatform,
        artifact_type=record.artifactType, title=record.title, body=record.body, url=record.url,
        author=record.author, timestamp=stamp, participants=record.participants,
        metadata_json=record.metadata or "", data_source_id=record.dataSourceId,
    )


def parse_batch(payload: Any) -> tuple[bool, list[graph_pb2.RecordInput | ValidationError]]:
    """(is_batch, items): a batch keeps per-item errors, a single record raises its own."""
    if isinstance(payload, dict) and "records" in payload:
        batch = bodies.parse(bodies.RecordBatch, payload)
        parsed: list[graph_pb2.RecordInput | ValidationError] = []
        for item in batch.records:
            try:
                parsed.append(parse(item))
            except ValidationError as exc:
                parsed.append(exc)
        return True, parsed
    return False, [parse(payload)]
