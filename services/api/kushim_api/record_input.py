"""The Kushim Standard Record as a client sends it, checked and turned into RecordInput."""

from typing import Any
from urllib.parse import urlsplit

from kushim.graph.v1 import graph_pb2

from kushim_api import validate
from kushim_api.errors import ValidationError

PLATFORMS = ("github", "jira", "slack", "google", "other")
ARTIFACT_TYPES = ("issue", "pull_request", "task", "message", "document", "email", "commit")
MAX_BATCH = 500
FIELDS = (
    "externalId", "sourcePlatform", "artifactType", "title", "body", "url", "author",
    "timestamp", "participants", "metadata", "dataSourceId",
)
LIMITS = {
    "externalId": 512,
    "title": 1_000,
    "body": 200_000,
    "url": 2_048,
    "author": 256,
    "participants": 200,
    "participant": 256,
}


def parse(item: Any) -> graph_pb2.RecordInput:
    body = validate.object_fields(item, FIELDS, where="record")
    url = validate.string(body, "url", max_len=LIMITS["url"], required=False, nullable=True)
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError("url must be an absolute http(s) URL", field="url")
    return graph_pb2.RecordInput(
        external_id=validate.string(body, "externalId", max_len=LIMITS["externalId"], min_len=1),
        source_platform=validate.enum(body, "sourcePlatform", PLATFORMS),
        artifact_type=validate.enum(body, "artifactType", ARTIFACT_TYPES),
        title=validate.string(body, "title", max_len=LIMITS["title"]),
        body=validate.string(body, "body", max_len=LIMITS["body"], required=False,
                             nullable=True),
        url=url,
        author=validate.string(body, "author", max_len=LIMITS["author"]),
        timestamp=validate.timestamp(body, "timestamp"),
        participants=validate.string_list(
            body, "participants", max_items=LIMITS["participants"],
            max_len=LIMITS["participant"],
        ),
        metadata_json=validate.json_object_text(body, "metadata") or "",
        data_source_id=validate.uuid_field(body, "dataSourceId", required=False),
    )


def parse_batch(payload: Any) -> tuple[bool, list[graph_pb2.RecordInput | ValidationError]]:
    """(is_batch, items): a batch keeps per-item errors, a single record raises its own."""
    if isinstance(payload, dict) and "records" in payload:
        validate.object_fields(payload, ("records",))
        items = payload["records"]
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise ValidationError(
                f"records must be a list of 1 to {MAX_BATCH} records", field="records"
            )
        parsed: list[graph_pb2.RecordInput | ValidationError] = []
        for item in items:
            try:
                parsed.append(parse(item))
            except ValidationError as exc:
                parsed.append(exc)
        return True, parsed
    return False, [parse(payload)]
