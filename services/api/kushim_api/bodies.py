"""The JSON request bodies of the HTTP API, declared once: routes validate with them and
/openapi.json describes them (`openapi/schemas.py` derives its request schemas from here).

A field's order is the order its problem is reported in: a body with several faults is
answered with the first (an unknown field before all of them, as before the shapes existed).
"""

import re
from typing import Any, TypeVar

from aiohttp import web
from kushim_common import record_limits as limits
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as ShapeError

from kushim_api import validate
from kushim_api.errors import ValidationError
from kushim_api.fields import (
    Batch,
    Choice,
    Email,
    HttpUrl,
    JsonObject,
    Name,
    Secret,
    Text,
    TextList,
    Timestamp,
    Uuid,
    UuidList,
    problem,
)

Shape = TypeVar("Shape", bound="Body")

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{1,63}$")
EMAIL_MAX = 254
PASSWORD_MIN, PASSWORD_MAX = 8, 256
NAME_MAX = 200
SECRET_MIN, SECRET_MAX = 16, 256
COMMENT_MAX = 2_000
MAX_INITIAL_MEMBERS = 500
FEEDBACK = ("positive", "negative")


class Body(BaseModel):
    # A closed JSON object: an unknown field is refused. (No docstring on the shapes but where
    # it is written for clients: pydantic makes it the schema's description.)

    model_config = ConfigDict(extra="forbid", frozen=True)


class Patch(Body):
    # A partial update: at least one field; `model_fields_set` says which were sent.

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})


def parse(shape: type[Shape], value: Any, where: str = "body") -> Shape:
    """`value` checked against `shape`; ValidationError naming the first bad field."""
    if not isinstance(value, dict):
        raise ValidationError(f"{where} must be a JSON object")
    try:
        return shape.model_validate(value)
    except ShapeError as exc:
        raise _first_problem(exc) from None


def _first_problem(exc: ShapeError) -> ValidationError:
    errors = exc.errors(include_url=False, include_input=False)
    unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
    if unknown:
        return ValidationError(f"unknown field: {unknown[0]}", field=unknown[0])
    error = errors[0]
    field = str(error["loc"][0])
    if error["type"] == "missing":
        return ValidationError(f"{field} is required", field=field)
    if error["type"] != "kushim":  # a check that failed in a way of its own: still a 400
        return ValidationError(f"{field} is not valid: {error['msg']}", field=field)
    message, details = problem(error["ctx"], field)
    return ValidationError(message, field=field, **details)


async def read(request: web.Request, shape: type[Shape]) -> Shape:
    """The request's JSON body as `shape`: 415, or 400 naming the first bad field."""
    return parse(shape, await validate.json_body(request))


class RecordInput(Body):
    """The Kushim Standard Record as a client sends it."""

    externalId: Text(limits.MAX_EXTERNAL_ID_CHARS, min_len=1)
    sourcePlatform: Choice(limits.PLATFORMS)
    artifactType: Choice(limits.ARTIFACT_TYPES)
    title: Text(limits.MAX_TITLE_CHARS)
    body: Text(limits.MAX_BODY_CHARS, nullable=True) = ""
    url: HttpUrl(limits.MAX_URL_CHARS) = ""
    author: Text(limits.MAX_PERSON_CHARS)
    timestamp: Timestamp()
    participants: TextList(limits.MAX_PARTICIPANTS, limits.MAX_PERSON_CHARS) = []
    metadata: JsonObject(
        "e.g. branch, commit, ref, ticketId; at most "
        f"{limits.MAX_OBJECT_BYTES // 1024} KiB as JSON, {limits.MAX_OBJECT_DEPTH} levels deep"
    ) = None
    dataSourceId: Uuid(nullable=True) = ""


class RecordBatch(Body):
    """A batch: each record is checked on its own and answered with its own result."""

    records: Batch(RecordInput, limits.MAX_BATCH, "records")


class RegisterInput(Body):
    email: Email(EMAIL_MAX, EMAIL_RE)
    password: Text(PASSWORD_MAX, min_len=PASSWORD_MIN)
    displayName: Text(NAME_MAX, nullable=True) = ""


class LoginInput(Body):
    email: Text(EMAIL_MAX, min_len=1)
    password: Text(PASSWORD_MAX, min_len=1)


class PasswordChange(Body):
    currentPassword: Text(PASSWORD_MAX, min_len=1)
    newPassword: Text(PASSWORD_MAX, min_len=PASSWORD_MIN)


class UserPatch(Patch):
    displayName: Text(NAME_MAX, nullable=True) = ""
    settings: JsonObject() = None


class DataSourceInput(Body):
    platform: Choice(limits.PLATFORMS)
    name: Name(NAME_MAX)
    webhookSecret: Secret(SECRET_MIN, SECRET_MAX) = ""
    config: JsonObject() = None


class DataSourcePatch(Patch):
    name: Name(NAME_MAX) = ""
    webhookSecret: Secret(SECRET_MIN, SECRET_MAX) = ""
    config: JsonObject() = None


class LinkInput(Body):
    sourceRecordId: Uuid()
    targetRecordId: Uuid()


class LinkFeedback(Body):
    feedback: Choice(FEEDBACK)
    comment: Text(COMMENT_MAX, nullable=True) = ""


class GroupInput(Body):
    name: Name(NAME_MAX)
    recordIds: UuidList(MAX_INITIAL_MEMBERS) = []


class GroupRename(Body):
    name: Name(NAME_MAX)


class GroupMember(Body):
    recordId: Uuid()


class GroupMerge(Body):
    sourceGroupId: Uuid()


# Every body above, by the name /openapi.json gives it.
SHAPES: tuple[type[Body], ...] = (
    RecordInput, RecordBatch, RegisterInput, LoginInput, PasswordChange, UserPatch,
    DataSourceInput, DataSourcePatch, LinkInput, LinkFeedback, GroupInput, GroupRename,
    GroupMember, GroupMerge,
)
