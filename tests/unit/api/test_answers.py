"""What serialize builds is what answers.py declares and /openapi.json publishes: each answer,
from a full and from a bare protobuf message, validates against its published schema and
carries no field the declaration lacks."""

import jsonschema
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from kushim.graph.v1 import graph_pb2 as pb
from kushim_api import answers, serialize
from kushim_api.openapi import spec

UUID = "0b6f2c1e-8d7a-4e53-9f1b-2a3c4d5e6f70"
STAMP = Timestamp(seconds=1_714_564_800)


def _record() -> pb.Record:
    return pb.Record(
        id=UUID, external_id="E-1", source_platform="jira", artifact_type="task", title="t",
        body="b", url="https://example.com/E-1", author="a", timestamp=STAMP,
        participants=["a", "b"], metadata_json='{"ticketId": "E-1"}', data_source_id=UUID,
        checksum="c", created_at=STAMP, updated_at=STAMP, discovery_state="done",
    )


def _link() -> pb.Link:
    return pb.Link(
        id=UUID, source_record_id=UUID, target_record_id=UUID, confidence=0.9,
        link_type="strong_contextual", method="deterministic", feedback="positive",
        feedback_comment="yes", created_at=STAMP,
        signals=[pb.Signal(name="reference", weight=0.5, detail="E-1")],
    )


def _bare_record() -> pb.Record:
    """Only what graph always sets: no url, data source, stamps or discovery state."""
    return pb.Record(id=UUID, source_platform="other", artifact_type="document")


def _bare_link() -> pb.Link:
    return pb.Link(id=UUID, method="manual")


def _group() -> pb.ContextGroup:
    return pb.ContextGroup(id=UUID, name="g", member_count=2, topics=["login"], coherence=0.5,
                           created_at=STAMP, updated_at=STAMP)


def _context(full: bool) -> pb.GetRecordContextResponse:
    if not full:
        return pb.GetRecordContextResponse()
    return pb.GetRecordContextResponse(cached=True, subgraph=pb.Subgraph(
        nodes=[_record()], links=[_link()], groups=[_group()]))


def _stats() -> pb.GetLinkStatsResponse:
    stats = pb.GetLinkStatsResponse(total=3)
    stats.by_method["manual"] = 3
    stats.by_type["strong_contextual"] = 3
    return stats


# (declaration, what serialize builds from a full message, and from a bare one)
CASES = [
    (answers.Record, serialize.record(_record()), serialize.record(_bare_record())),
    (answers.Link, serialize.link(_link()), serialize.link(_bare_link())),
    (answers.LinkExplanation, serialize.explanation(_link()),
     serialize.explanation(_bare_link())),
    (answers.LinkStats, serialize.link_stats(_stats()),
     serialize.link_stats(pb.GetLinkStatsResponse())),
    (answers.ContextGroup, serialize.group(_group()), serialize.group(pb.ContextGroup())),
    (answers.ContextGroupWithMembers,
     serialize.group_with_members(pb.GroupResponse(group=_group(), members=[_bare_record()])),
     serialize.group_with_members(pb.GroupResponse())),
    (answers.Graph, serialize.graph([_record()], [_link()]), serialize.graph([], [])),
    (answers.Context, serialize.context(_context(True), 2), serialize.context(_context(False), 1)),
    (answers.User, serialize.user(pb.User(id=UUID, email="a@example.com", display_name="A",
                                          settings_json='{"theme": "dark"}', created_at=STAMP)),
     serialize.user(pb.User())),
    (answers.DataSource,
     serialize.data_source(pb.DataSource(id=UUID, platform="github", name="n",
                                         config_json="{}", has_webhook_secret=True)),
     serialize.data_source(pb.DataSource(platform="other"))),
    (answers.IngestResult,
     serialize.ingest_result(pb.IngestResult(index=0, created=True, changed=True,
                                             record=_record(), links=[_link()])),
     serialize.ingest_result(pb.IngestResult(index=1, error=pb.IngestError(
         field="title", message="title is required")))),
]


def _declared_keys(declaration) -> set[str]:
    return set(declaration.__annotations__)


@pytest.mark.parametrize(("declaration", "full", "empty"), CASES,
                         ids=[c[0].__name__ for c in CASES])
def test_serialize_builds_the_published_answer(declaration, full, empty):
    document = spec()
    schema = {**document, "$ref": f"#/components/schemas/{declaration.__name__}"}
    for built in (full, empty):
        jsonschema.validate(built, schema, cls=jsonschema.Draft202012Validator)
        assert set(built) <= _declared_keys(declaration)
    assert set(full) == _declared_keys(declaration) - {"error"}


def test_a_published_answer_refuses_what_serialize_must_not_build():
    """The control: the published schemas are strict enough to catch a wrong answer."""
    schema = {**spec(), "$ref": "#/components/schemas/Link"}
    wrong = {**serialize.link(_link()), "confidence": 1.5}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema, cls=jsonschema.Draft202012Validator)
