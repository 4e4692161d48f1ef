"""The request shapes: the first problem of a body is answered with the message clients have
always read, and every bound /openapi.json publishes is the bound validation enforces."""

from typing import Annotated

import pytest
from kushim_api import bodies
from kushim_api.errors import ValidationError
from kushim_api.openapi.schemas import derived_schemas
from pydantic import PlainValidator

UUID = "0b6f2c1e-8d7a-4e53-9f1b-2a3c4d5e6f70"
RECORD = {"externalId": "E-1", "sourcePlatform": "jira", "artifactType": "task", "title": "t",
          "author": "a", "timestamp": "2024-05-01T12:00:00Z"}
# a valid body of each shape, to vary one field at a time
VALID = {
    bodies.RecordInput: RECORD,
    bodies.RecordBatch: {"records": [RECORD]},
    bodies.RegisterInput: {"email": "ada@example.com", "password": "correct horse"},
    bodies.LoginInput: {"email": "ada@example.com", "password": "x"},
    bodies.PasswordChange: {"currentPassword": "x", "newPassword": "correct horse"},
    bodies.UserPatch: {"displayName": "Ada"},
    bodies.DataSourceInput: {"platform": "github", "name": "repos"},
    bodies.DataSourcePatch: {"name": "repos"},
    bodies.LinkInput: {"sourceRecordId": UUID, "targetRecordId": UUID},
    bodies.LinkFeedback: {"feedback": "positive"},
    bodies.GroupInput: {"name": "launch"},
    bodies.GroupRename: {"name": "launch"},
    bodies.GroupMember: {"recordId": UUID},
    bodies.GroupMerge: {"sourceGroupId": UUID},
}


def _refusal(shape, body) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        bodies.parse(shape, body)
    return refused.value


def test_every_shape_has_a_valid_example_and_accepts_it():
    assert set(VALID) == set(bodies.SHAPES)
    for shape, body in VALID.items():
        assert bodies.parse(shape, body)


@pytest.mark.parametrize(("shape", "change", "message", "details"), [
    (bodies.RecordInput, {"title": None}, "title must be a string", {}),
    (bodies.RecordInput, {"title": "x" * 1001}, "title must be 0 to 1000 characters long", {}),
    (bodies.RecordInput, {"externalId": ""}, "externalId must be 1 to 512 characters long", {}),
    (bodies.RecordInput, {"sourcePlatform": "myspace"},
     "sourcePlatform must be one of github, jira, slack, google, other",
     {"allowed": ["github", "jira", "slack", "google", "other"]}),
    (bodies.RecordInput, {"sourcePlatform": None}, "sourcePlatform is required", {}),
    (bodies.RecordInput, {"url": "ftp://x/y"}, "url must be an absolute http(s) URL", {}),
    (bodies.RecordInput, {"url": "https:///path"}, "url must be an absolute http(s) URL", {}),
    # urlsplit raised ValueError here, which answered 500
    (bodies.RecordInput, {"url": "http://[::1"}, "url must be an absolute http(s) URL", {}),
    (bodies.RecordInput, {"timestamp": "2024-05-01T12:00:00"},
     "timestamp must be an ISO 8601 timestamp with an offset, e.g. 2024-05-01T12:00:00Z", {}),
    (bodies.RecordInput, {"timestamp": "0001-01-01T00:00:00+23:59"},
     "timestamp must be between 1900 and 2200", {}),
    (bodies.RecordInput, {"participants": "ada"},
     "participants must be a list of at most 200 strings", {}),
    (bodies.RecordInput, {"participants": [""]},
     "participants items must be strings of 1 to 256 characters", {}),
    (bodies.RecordInput, {"metadata": []}, "metadata must be a JSON object", {}),
    (bodies.RecordInput, {"metadata": {"n": float("nan")}},
     "metadata must hold finite numbers and valid Unicode text", {}),
    (bodies.RecordInput, {"dataSourceId": "nope"}, "dataSourceId must be a UUID", {}),
    (bodies.RecordInput, {"title": "a\x00b"}, "title must not contain NUL characters", {}),
    (bodies.RecordInput, {"title": "\ud800"}, "title must be valid Unicode text", {}),
    (bodies.RecordBatch, {"records": []}, "records must be a list of 1 to 500 records", {}),
    (bodies.RegisterInput, {"email": "not-an-address"}, "email must be an email address", {}),
    (bodies.RegisterInput, {"password": "short"}, "password must be 8 to 256 characters long",
     {}),
    (bodies.DataSourceInput, {"webhookSecret": "too short"},
     "webhookSecret must be at least 16 characters", {}),
    (bodies.DataSourceInput, {"name": "   "}, "name must not be blank", {}),
    (bodies.GroupInput, {"recordIds": ["nope"]}, "recordIds must be a UUID", {}),
    (bodies.GroupInput, {"recordIds": [UUID] * 501},
     "recordIds must be a list of at most 500 UUIDs", {}),
    (bodies.LinkFeedback, {"comment": "x" * 2001}, "comment must be 0 to 2000 characters long",
     {}),
])
def test_a_bad_field_is_answered_with_its_message(shape, change, message, details):
    refused = _refusal(shape, {**VALID[shape], **change})
    assert refused.message == message
    assert refused.details == {"field": next(iter(change)), **details}


@pytest.mark.parametrize("url", ["http://example.com", "HTTPS://example.com/a?b#c",
                                 "http://[::1]:8080/x"])
def test_an_absolute_http_url_is_accepted(url):
    assert bodies.parse(bodies.RecordInput, {**RECORD, "url": url}).url == url


def test_a_check_failing_in_a_way_of_its_own_is_still_a_400():
    class Odd(bodies.Body):
        value: Annotated[str, PlainValidator(int)]

    refused = _refusal(Odd, {"value": "x"})
    assert refused.details == {"field": "value"} and refused.message.startswith("value is not")


def test_a_missing_field_is_required():
    body = dict(RECORD)
    del body["author"]
    assert _refusal(bodies.RecordInput, body).message == "author is required"


def test_unknown_fields_are_reported_first_in_name_order():
    refused = _refusal(bodies.RecordInput, {**RECORD, "title": 5, "zeta": 1, "alpha": 2})
    assert (refused.message, refused.details) == ("unknown field: alpha", {"field": "alpha"})


def test_the_first_bad_field_in_declaration_order_is_reported():
    refused = _refusal(bodies.RecordInput, {**RECORD, "title": 5, "author": 5})
    assert refused.details == {"field": "title"}


@pytest.mark.parametrize("value", [[], "x", 1, None])
def test_a_body_that_is_no_object_is_refused(value):
    assert _refusal(bodies.GroupRename, value).message == "body must be a JSON object"


def test_a_patch_knows_which_fields_were_sent():
    patch = bodies.parse(bodies.UserPatch, {"settings": None})
    assert patch.model_fields_set == {"settings"} and patch.settings is None


def _bounds():
    """(shape, field, schema) for every bounded or enumerated property of every shape."""
    schemas = derived_schemas()
    for shape in bodies.SHAPES:
        for field, schema in schemas[shape.__name__]["properties"].items():
            if {"maxLength", "maxItems", "enum"} & set(schema):
                yield pytest.param(shape, field, schema, id=f"{shape.__name__}.{field}")


def _items(schema: dict, count: int) -> list:
    return [UUID if schema["items"].get("format") == "uuid" else
            VALID[bodies.RecordInput] if "$ref" in schema["items"] else f"p{i}"
            for i in range(count)]


@pytest.mark.parametrize(("shape", "field", "schema"), list(_bounds()))
def test_the_published_bound_is_the_enforced_bound(shape, field, schema):
    def accepts(value) -> bool:
        try:
            bodies.parse(shape, {**VALID[shape], field: value})
        except ValidationError as exc:
            assert exc.details["field"] == field
            return False
        return True

    if "enum" in schema:
        assert all(accepts(value) for value in schema["enum"])
        assert not accepts("not-" + schema["enum"][0])
    if "maxItems" in schema:
        assert accepts(_items(schema, schema["maxItems"]))
        assert not accepts(_items(schema, schema["maxItems"] + 1))
    if "maxLength" in schema and "format" not in schema:
        assert accepts("x" * schema["maxLength"])
        assert not accepts("x" * (schema["maxLength"] + 1))
        low = schema.get("minLength", 0)
        assert accepts("x" * max(low, 1))
        if low > 1:
            assert not accepts("x" * (low - 1))


def test_every_shape_is_published_closed_with_its_required_fields():
    schemas = derived_schemas()
    for shape in bodies.SHAPES:
        schema = schemas[shape.__name__]
        assert schema["additionalProperties"] is False
        required = {name for name, info in shape.model_fields.items() if info.is_required()}
        assert set(schema.get("required", [])) == required
        assert set(schema["properties"]) == set(shape.model_fields)
