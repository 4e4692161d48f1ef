"""The record limits are one contract: a record at each bound passes the gateway's shape and
graph's validation, one step past it is refused by both, and /openapi.json publishes the bound.
A limit changed on one side only fails here."""

import json

import pytest
from kushim_api import record_input
from kushim_api.errors import ValidationError
from kushim_api.openapi import spec
from kushim_common import record_limits as limits
from kushim_graph.errors import InvalidInput
from kushim_graph.validation import clean_record

RECORD = {"externalId": "E-1", "sourcePlatform": "jira", "artifactType": "task", "title": "t",
          "author": "a", "timestamp": "2024-05-01T12:00:00Z"}
URL = "https://example.com/"
# metadata {"k": "..."} whose compact JSON text is exactly MAX_OBJECT_BYTES long
METADATA_AT_LIMIT = {"k": "x" * (limits.MAX_OBJECT_BYTES - len('{"k":""}'))}


def _nested(levels: int) -> dict:
    """A dict spanning `levels` levels ({} is 1)."""
    value: dict = {}
    for _ in range(levels - 1):
        value = {"d": value}
    return value


# (HTTP field, graph field, value at the bound, value one step past it)
BOUNDS = [
    ("externalId", "external_id", "x" * limits.MAX_EXTERNAL_ID_CHARS,
     "x" * (limits.MAX_EXTERNAL_ID_CHARS + 1)),
    ("title", "title", "x" * limits.MAX_TITLE_CHARS, "x" * (limits.MAX_TITLE_CHARS + 1)),
    ("body", "body", "é" * limits.MAX_BODY_CHARS, "é" * (limits.MAX_BODY_CHARS + 1)),
    ("url", "url", URL + "x" * (limits.MAX_URL_CHARS - len(URL)),
     URL + "x" * (limits.MAX_URL_CHARS - len(URL) + 1)),
    ("author", "author", "x" * limits.MAX_PERSON_CHARS, "x" * (limits.MAX_PERSON_CHARS + 1)),
    ("participants", "participants", [f"p{i}" for i in range(limits.MAX_PARTICIPANTS)],
     [f"p{i}" for i in range(limits.MAX_PARTICIPANTS + 1)]),
    ("participants", "participants", ["x" * limits.MAX_PERSON_CHARS],
     ["x" * (limits.MAX_PERSON_CHARS + 1)]),
    ("metadata", "metadata_json", METADATA_AT_LIMIT, {"k": METADATA_AT_LIMIT["k"] + "x"}),
    ("metadata", "metadata_json", _nested(limits.MAX_OBJECT_DEPTH),
     _nested(limits.MAX_OBJECT_DEPTH + 1)),
    ("timestamp", "timestamp", "1900-01-01T00:00:00Z", "1899-12-31T23:59:59Z"),
    ("timestamp", "timestamp", "2199-12-31T23:59:59Z", "2200-01-01T00:00:00Z"),
]
IDS = [f"{b[0]}-{i}" for i, b in enumerate(BOUNDS)]


def _graph_field(message) -> str:
    with pytest.raises(InvalidInput) as refused:
        clean_record(message)
    return refused.value.field


@pytest.mark.parametrize(("field", "graph_field", "at_limit", "past"), BOUNDS, ids=IDS)
def test_a_record_at_the_limit_passes_both_and_one_past_it_neither(
    field, graph_field, at_limit, past
):
    accepted = record_input.parse({**RECORD, field: at_limit})
    clean_record(accepted)  # graph stores what the gateway accepts
    with pytest.raises(ValidationError) as refused:
        record_input.parse({**RECORD, field: past})
    assert refused.value.details["field"] == field
    beyond = _past_the_gateway(accepted, graph_field, past)
    assert _graph_field(beyond) == graph_field


def _past_the_gateway(message, graph_field: str, value):
    """The valid message with one field set past the limit, as a direct gRPC caller could."""
    beyond = type(message)()
    beyond.CopyFrom(message)
    if graph_field == "participants":
        del beyond.participants[:]
        beyond.participants.extend(value)
    elif graph_field == "metadata_json":
        beyond.metadata_json = json.dumps(value, separators=(",", ":"))
    elif graph_field == "timestamp":
        beyond.timestamp.FromJsonString(value)
    else:
        setattr(beyond, graph_field, value)
    return beyond


def test_openapi_publishes_the_same_limits():
    record = spec()["components"]["schemas"]["RecordInput"]["properties"]
    assert record["externalId"]["maxLength"] == limits.MAX_EXTERNAL_ID_CHARS
    assert record["title"]["maxLength"] == limits.MAX_TITLE_CHARS
    assert record["body"]["maxLength"] == limits.MAX_BODY_CHARS
    assert record["url"]["maxLength"] == limits.MAX_URL_CHARS
    assert record["author"]["maxLength"] == limits.MAX_PERSON_CHARS
    assert record["participants"]["maxItems"] == limits.MAX_PARTICIPANTS
    assert record["participants"]["items"]["maxLength"] == limits.MAX_PERSON_CHARS
    assert record["sourcePlatform"]["enum"] == list(limits.PLATFORMS)
    assert record["artifactType"]["enum"] == list(limits.ARTIFACT_TYPES)
    batch = spec()["components"]["schemas"]["RecordBatch"]["properties"]["records"]
    assert batch["maxItems"] == limits.MAX_BATCH


@pytest.mark.parametrize("platform", limits.PLATFORMS)
def test_every_platform_the_gateway_accepts_graph_stores(platform):
    assert clean_record(record_input.parse({**RECORD, "sourcePlatform": platform}))


@pytest.mark.parametrize("artifact", limits.ARTIFACT_TYPES)
def test_every_artifact_type_the_gateway_accepts_graph_stores(artifact):
    assert clean_record(record_input.parse({**RECORD, "artifactType": artifact}))


@pytest.mark.parametrize(("value", "depth"), [
    (1, 1), ("x", 1), ({}, 1), ([], 1), ({"a": 1}, 2), ({"a": [1, {"b": {}}]}, 4),
    ([[[]], 1], 3), ({"a": 1, "b": {"c": [2]}}, 4),
])
def test_a_value_nests_as_deep_as_its_deepest_level(value, depth):
    assert limits.nests_deeper_than(value, depth - 1)
    assert not limits.nests_deeper_than(value, depth)
