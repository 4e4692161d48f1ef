"""Record input hygiene: limits, control characters, JSON metadata, checksums."""

import json
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from kushim.graph.v1 import graph_pb2 as pb
from kushim_common import record_limits as limits
from kushim_graph.errors import InvalidInput
from kushim_graph.validation import clean_record, parse_json_object


def item(**fields) -> pb.RecordInput:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2024, 1, 1, tzinfo=UTC))
    base = dict(external_id="PROJ-1", source_platform="jira", artifact_type="task",
                title="t", body="b", timestamp=stamp)
    return pb.RecordInput(**(base | fields))


def field_of(message) -> str:
    with pytest.raises(InvalidInput) as caught:
        clean_record(message)
    return caught.value.field


def test_clean_record_normalizes():
    clean = clean_record(item(
        source_platform=" GitHub ", artifact_type="Pull_Request", external_id=" o/r#1 ",
        title="a\x00b\x1bc", body="line\r\n\ttab\x00", participants=["bob", " ann ", "", "bob"],
        metadata_json='{"k\\u0000": "v\\u0000", "n": [1, 2.5, true, null]}',
    ))
    assert (clean.source_platform, clean.artifact_type) == ("github", "pull_request")
    assert clean.external_id == "o/r#1" and clean.title == "abc"
    assert clean.body == "line\r\n\ttab"
    assert clean.participants == ("ann", "bob")
    assert clean.metadata == {"k": "v", "n": [1, 2.5, True, None]}
    assert clean.occurred_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert clean.data_source_id is None


def test_checksum_changes_with_content_only():
    one = clean_record(item())
    assert clean_record(item()).checksum == one.checksum
    assert clean_record(item(body="other")).checksum != one.checksum
    assert clean_record(item(participants=["b", "a"])).checksum == clean_record(
        item(participants=["a", "b", "a"])
    ).checksum


def test_any_unicode_is_kept():
    text = "Ünïcødé 漢字 🚀 \u200b رسالة"
    assert clean_record(item(title=text, body=text)).body == text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"source_platform": "myspace"}, "source_platform"),
        ({"artifact_type": "meme"}, "artifact_type"),
        ({"external_id": "  "}, "external_id"),
        ({"external_id": "x" * (limits.MAX_EXTERNAL_ID_CHARS + 1)}, "external_id"),
        ({"title": "x" * (limits.MAX_TITLE_CHARS + 1)}, "title"),
        ({"body": "x" * (limits.MAX_BODY_CHARS + 1)}, "body"),
        ({"body": "é" * (limits.MAX_BODY_CHARS + 1)}, "body"),
        ({"url": "ftp://host/file"}, "url"),
        ({"url": "https://h/" + "x" * limits.MAX_URL_CHARS}, "url"),
        ({"author": "x" * (limits.MAX_PERSON_CHARS + 1)}, "author"),
        ({"participants": [f"p{i}" for i in range(limits.MAX_PARTICIPANTS + 1)]},
         "participants"),
        ({"participants": ["x" * (limits.MAX_PERSON_CHARS + 1)]}, "participants"),
        ({"metadata_json": "[]"}, "metadata_json"),
        ({"metadata_json": "{bad"}, "metadata_json"),
        ({"metadata_json": '{"a": Infinity}'}, "metadata_json"),
        ({"metadata_json": json.dumps({"a": "x" * limits.MAX_OBJECT_BYTES})}, "metadata_json"),
        ({"metadata_json": "[" * 5000 + "]" * 5000}, "metadata_json"),
        ({"data_source_id": "not-a-uuid"}, "data_source_id"),
    ],
)
def test_rejections_name_the_field(fields, field):
    assert field_of(item(**fields)) == field


def test_timestamp_is_required_and_sane():
    message = item()
    message.ClearField("timestamp")
    assert field_of(message) == "timestamp"
    message.timestamp.FromDatetime(datetime(1800, 1, 1, tzinfo=UTC))
    assert field_of(message) == "timestamp"


def test_body_at_the_limit_is_accepted():
    body = "é" * limits.MAX_BODY_CHARS
    assert clean_record(item(body=body)).body == body


def test_deep_metadata_is_rejected_not_crashing():
    deep = {}
    node = deep
    for _ in range(17):
        node["d"] = {}
        node = node["d"]
    with pytest.raises(InvalidInput) as caught:
        parse_json_object("metadata_json", json.dumps(deep))
    assert "deeper" in caught.value.message
    assert parse_json_object("metadata_json", "") == {}
