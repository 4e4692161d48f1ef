"""The JSON answers of the records, links, groups, users and data-sources routes, declared once:
`serialize.py` builds them (typed by these declarations) and /openapi.json describes them
(`openapi/schemas.py` derives their schemas from here).

TypedDicts rather than models: an answer is built as a plain dict and sent as it is, so a
thousand records in a page cost no model instances; the unit tests check what serialize builds
against these declarations.
"""

from typing import Annotated, Any, NotRequired

from kushim_common.record_limits import ARTIFACT_TYPES, PLATFORMS
from pydantic import Field, WithJsonSchema
from typing_extensions import TypedDict

from kushim_api.validate import MAX_LIMIT


def _schema(schema: dict) -> Any:
    return WithJsonSchema(schema)


Uuid = Annotated[str, _schema({"type": "string", "format": "uuid"})]
NullableUuid = Annotated[str | None, _schema({"type": ["string", "null"], "format": "uuid"})]
DateTime = Annotated[str | None, _schema({"type": ["string", "null"], "format": "date-time"})]
Count = Annotated[int, Field(ge=0)]
Platform = Annotated[str, _schema({"type": "string", "enum": list(PLATFORMS)})]
ArtifactType = Annotated[str, _schema({"type": "string", "enum": list(ARTIFACT_TYPES)})]
LinkType = Annotated[str, _schema({"type": "string",
                                   "enum": ["strong_contextual", "weak_contextual"]})]
DISCOVERY_STATE = (
    "done once relationship discovery ran for this version; pending while it is due (a "
    "batch's records the request's deadline left out, or one whose lock another instance held)"
)


class Record(TypedDict):
    id: Uuid
    externalId: str
    sourcePlatform: Platform
    artifactType: ArtifactType
    title: str
    body: str
    url: NotRequired[str | None]
    author: str
    timestamp: DateTime
    participants: list[str]
    metadata: dict[str, Any]
    dataSourceId: NotRequired[NullableUuid]
    checksum: str
    createdAt: NotRequired[DateTime]
    updatedAt: NotRequired[DateTime]
    discoveryState: NotRequired[Annotated[str | None, _schema({
        "type": ["string", "null"], "enum": ["pending", "done", None],
        "description": DISCOVERY_STATE,
    })]]


class Signal(TypedDict):
    name: str
    weight: float
    detail: str


class Link(TypedDict):
    id: Uuid
    sourceRecordId: Uuid
    targetRecordId: Uuid
    method: Annotated[str, _schema({"type": "string",
                                    "enum": ["deterministic", "manual", "semantic"]})]
    signals: list[Signal]
    confidence: Annotated[float, Field(ge=0, le=1)]
    linkType: LinkType
    feedback: NotRequired[Annotated[str | None, _schema({
        "type": ["string", "null"], "enum": ["positive", "negative", None]})]]
    feedbackComment: NotRequired[str | None]
    createdAt: NotRequired[DateTime]


class LinkExplanation(TypedDict):
    linkId: Uuid
    sourceRecordId: NotRequired[Uuid]
    targetRecordId: NotRequired[Uuid]
    method: str
    signals: list[Signal]
    score: float
    type: LinkType


class LinkStats(TypedDict):
    total: Count
    byMethod: dict[str, int]
    byFeedback: dict[str, int]
    byType: dict[str, int]


class ContextGroup(TypedDict):
    id: Uuid
    name: str
    memberCount: Count
    topics: list[str]
    coherence: float
    createdAt: NotRequired[DateTime]
    updatedAt: NotRequired[DateTime]


class ContextGroupWithMembers(ContextGroup):
    members: list[Record]


class Graph(TypedDict):
    nodes: list[Record]
    links: list[Link]


class Context(Graph):
    groups: list[ContextGroup]
    depth: Annotated[int, Field(ge=1, le=3)]
    cached: NotRequired[bool]


class User(TypedDict):
    id: Uuid
    email: str
    displayName: NotRequired[str | None]
    settings: dict[str, Any]
    createdAt: NotRequired[DateTime]
    updatedAt: NotRequired[DateTime]


class DataSource(TypedDict):
    id: Uuid
    platform: Platform
    name: str
    config: dict[str, Any]
    hasWebhookSecret: bool
    webhookPath: NotRequired[str | None]
    createdAt: NotRequired[DateTime]
    updatedAt: NotRequired[DateTime]


class IngestError(TypedDict):
    field: NotRequired[str | None]
    message: str


class IngestAnswer(TypedDict):
    created: bool
    changed: bool
    record: Record
    links: list[Link]


class IngestResult(TypedDict):
    index: Count
    status: Annotated[str, _schema({"type": "string",
                                    "enum": ["created", "updated", "unchanged", "rejected"]})]
    created: NotRequired[bool]
    changed: NotRequired[bool]
    record: NotRequired[Record]
    links: NotRequired[list[Link]]
    error: NotRequired[IngestError]


class IngestSummary(TypedDict):
    created: Count
    updated: Count
    unchanged: Count
    rejected: Count
    pendingDiscovery: NotRequired[Count]


class IngestBatchAnswer(TypedDict):
    results: list[IngestResult]
    summary: IngestSummary


class _Page(TypedDict):
    total: Count
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)]
    offset: Count


class RecordPage(_Page):
    items: list[Record]


class LinkPage(_Page):
    items: list[Link]


class ContextGroupPage(_Page):
    items: list[ContextGroup]


class DataSourcePage(_Page):
    items: list[DataSource]


# Every answer above, by the name /openapi.json gives it.
ANSWERS = (
    Record, Signal, Link, LinkExplanation, LinkStats, ContextGroup, ContextGroupWithMembers,
    Graph, Context, User, DataSource, IngestError, IngestAnswer, IngestResult, IngestSummary,
    IngestBatchAnswer, RecordPage, LinkPage, ContextGroupPage, DataSourcePage,
)
