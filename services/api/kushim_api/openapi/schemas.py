"""Component schemas of the OpenAPI description: the JSON shapes of the HTTP contract.

Request bodies are derived from their declarations in `kushim_api.bodies` (the same shapes the
routes validate with); the answers' shapes are written here.
"""

from kushim_common.record_limits import ARTIFACT_TYPES, PLATFORMS
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from kushim_api import bodies

UUID = {"type": "string", "format": "uuid"}
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
NULLABLE_STRING = {"type": ["string", "null"]}
FREE_OBJECT = {"type": "object", "additionalProperties": True}
PAGE_FIELDS = {
    "total": {"type": "integer", "minimum": 0},
    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
    "offset": {"type": "integer", "minimum": 0},
}


REF_TEMPLATE = "#/components/schemas/{model}"


def ref(name: str) -> dict:
    return {"$ref": REF_TEMPLATE.format(model=name)}


class _Untitled(GenerateJsonSchema):
    """No "title" per property: the property's name says it."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def request_schemas() -> dict:
    """Each body shape's JSON Schema, by its class name."""
    _, document = models_json_schema(
        [(shape, "validation") for shape in bodies.SHAPES], ref_template=REF_TEMPLATE,
        schema_generator=_Untitled,
    )
    shapes = document["$defs"]
    for schema in shapes.values():
        schema.pop("title", None)
        # a default is what an absent field reads as inside the gateway, not part of the contract
        for field in schema["properties"].values():
            field.pop("default", None)
    return shapes


def obj(properties: dict, required: list[str] | tuple[str, ...] = (), *,
        closed: bool = False) -> dict:
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def page(item: str) -> dict:
    return obj({"items": {"type": "array", "items": ref(item)}, **PAGE_FIELDS},
               ["items", "total", "limit", "offset"])


RECORD = obj(
    {
        "id": UUID,
        "externalId": {"type": "string"},
        "sourcePlatform": {"type": "string", "enum": list(PLATFORMS)},
        "artifactType": {"type": "string", "enum": list(ARTIFACT_TYPES)},
        "title": {"type": "string"},
        "body": {"type": "string"},
        "url": NULLABLE_STRING,
        "author": {"type": "string"},
        "timestamp": NULLABLE_DATE_TIME,
        "participants": {"type": "array", "items": {"type": "string"}},
        "metadata": FREE_OBJECT,
        "dataSourceId": {"type": ["string", "null"], "format": "uuid"},
        "checksum": {"type": "string"},
        "createdAt": NULLABLE_DATE_TIME,
        "updatedAt": NULLABLE_DATE_TIME,
        "discoveryState": {
            "type": ["string", "null"], "enum": ["pending", "done", None],
            "description": "done once relationship discovery ran for this version; pending "
                           "while it is due (a batch's records the request's deadline left "
                           "out, or one whose lock another instance held)",
        },
    },
    ["id", "externalId", "sourcePlatform", "artifactType", "title", "body", "author",
     "timestamp", "participants", "metadata", "checksum"],
)

SIGNAL = obj({"name": {"type": "string"}, "weight": {"type": "number"},
              "detail": {"type": "string"}}, ["name", "weight", "detail"])
LINK_TYPE = {"type": "string", "enum": ["strong_contextual", "weak_contextual"]}

LINK = obj(
    {
        "id": UUID,
        "sourceRecordId": UUID,
        "targetRecordId": UUID,
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "linkType": LINK_TYPE,
        "method": {"type": "string", "enum": ["deterministic", "manual", "semantic"]},
        "signals": {"type": "array", "items": ref("Signal")},
        "feedback": {"type": ["string", "null"], "enum": ["positive", "negative", None]},
        "feedbackComment": NULLABLE_STRING,
        "createdAt": NULLABLE_DATE_TIME,
    },
    ["id", "sourceRecordId", "targetRecordId", "confidence", "linkType", "method", "signals"],
)

GROUP = obj(
    {
        "id": UUID,
        "name": {"type": "string"},
        "memberCount": {"type": "integer", "minimum": 0},
        "topics": {"type": "array", "items": {"type": "string"}},
        "coherence": {"type": "number"},
        "createdAt": NULLABLE_DATE_TIME,
        "updatedAt": NULLABLE_DATE_TIME,
    },
    ["id", "name", "memberCount", "topics", "coherence"],
)

GRAPH_FIELDS = {
    "nodes": {"type": "array", "items": ref("Record")},
    "links": {"type": "array", "items": ref("Link")},
}

USER = obj(
    {
        "id": UUID,
        "email": {"type": "string"},
        "displayName": NULLABLE_STRING,
        "settings": FREE_OBJECT,
        "createdAt": NULLABLE_DATE_TIME,
        "updatedAt": NULLABLE_DATE_TIME,
    },
    ["id", "email", "settings"],
)

DATA_SOURCE = obj(
    {
        "id": UUID,
        "platform": {"type": "string", "enum": list(PLATFORMS)},
        "name": {"type": "string"},
        "config": FREE_OBJECT,
        "hasWebhookSecret": {"type": "boolean"},
        "webhookPath": NULLABLE_STRING,
        "createdAt": NULLABLE_DATE_TIME,
        "updatedAt": NULLABLE_DATE_TIME,
    },
    ["id", "platform", "name", "config", "hasWebhookSecret"],
)

INGEST_RESULT = obj(
    {
        "index": {"type": "integer", "minimum": 0},
        "status": {"type": "string", "enum": ["created", "updated", "unchanged", "rejected"]},
        "created": {"type": "boolean"},
        "changed": {"type": "boolean"},
        "record": ref("Record"),
        "links": {"type": "array", "items": ref("Link")},
        "error": obj({"field": NULLABLE_STRING, "message": {"type": "string"}}, ["message"]),
    },
    ["index", "status"],
)

SCHEMAS = {
    **request_schemas(),
    "Error": obj(
        {"error": obj(
            {"code": {"type": "string"}, "message": {"type": "string"}, "details": FREE_OBJECT},
            ["code", "message"],
        )},
        ["error"],
    ),
    "Record": RECORD,
    "RecordPage": page("Record"),
    "IngestAnswer": obj(
        {"created": {"type": "boolean"}, "changed": {"type": "boolean"},
         "record": ref("Record"), "links": {"type": "array", "items": ref("Link")}},
        ["created", "changed", "record", "links"],
    ),
    "IngestResult": INGEST_RESULT,
    "IngestBatchAnswer": obj(
        {
            "results": {"type": "array", "items": ref("IngestResult")},
            "summary": obj({k: {"type": "integer", "minimum": 0} for k in
                            ("created", "updated", "unchanged", "rejected",
                             "pendingDiscovery")},
                           ["created", "updated", "unchanged", "rejected"]),
        },
        ["results", "summary"],
    ),
    "Signal": SIGNAL,
    "Link": LINK,
    "LinkPage": page("Link"),
    "LinkExplanation": obj(
        {"linkId": UUID, "sourceRecordId": UUID, "targetRecordId": UUID,
         "score": {"type": "number"}, "type": LINK_TYPE, "method": {"type": "string"},
         "signals": {"type": "array", "items": ref("Signal")}},
        ["linkId", "score", "type", "method", "signals"],
    ),
    "LinkStats": obj(
        {"total": {"type": "integer", "minimum": 0},
         **{k: {"type": "object", "additionalProperties": {"type": "integer"}}
            for k in ("byMethod", "byFeedback", "byType")}},
        ["total", "byMethod", "byFeedback", "byType"],
    ),
    "ContextGroup": GROUP,
    "ContextGroupPage": page("ContextGroup"),
    "ContextGroupWithMembers": {
        "allOf": [ref("ContextGroup"), obj(
            {"members": {"type": "array", "items": ref("Record")}}, ["members"]
        )],
    },
    "Graph": obj(GRAPH_FIELDS, ["nodes", "links"]),
    "Context": obj(
        {**GRAPH_FIELDS, "groups": {"type": "array", "items": ref("ContextGroup")},
         "depth": {"type": "integer", "minimum": 1, "maximum": 3},
         "cached": {"type": "boolean"}},
        ["nodes", "links", "groups", "depth"],
    ),
    "User": USER,
    "DataSource": DATA_SOURCE,
    "DataSourcePage": page("DataSource"),
    "WebhookAnswer": obj(
        {
            "event": {"type": "string"},
            "duplicate": {"type": "boolean"},
            "records": {"type": "array", "items": obj(
                {"index": {"type": "integer"}, "status": {"type": "string"},
                 "id": {"type": ["string", "null"]}},
                ["index", "status"],
            )},
            "challenge": {"type": "string"},
        },
    ),
    "Readiness": obj(
        {
            "status": {"type": "string", "enum": ["ok", "degraded", "down"]},
            "dependencies": {"type": "object", "additionalProperties": {"type": "string"}},
            "outboxPending": {"type": "integer"},
        },
        ["status", "dependencies"],
    ),
    "RedisReport": obj(
        {
            "enabled": {"type": "boolean"},
            "connected": {"type": "boolean"},
            # As Redis reports them (text); empty while Redis is down.
            "info": obj({
                "total_commands_processed": {"type": "string"},
                "instantaneous_ops_per_sec": {"type": "string"},
                "used_memory_human": {"type": "string"},
                "connected_clients": {"type": "string"},
            }, []),
            "cache": {"type": "object", "properties": {"hit_rate": {"type": "number"}},
                      "additionalProperties": obj(
                          {"hits": {"type": "integer"}, "misses": {"type": "integer"},
                           "hit_rate": {"type": "number"}}, ["hits", "misses"])},
            "locks": obj({
                "enabled": {"type": "boolean"},
                "reason": {"type": "string"},
                "acquired": {"type": "integer"},
                "contended": {"type": "integer"},
                "unavailable": {"type": "integer"},
            }, ["enabled", "acquired", "contended", "unavailable"]),
        },
        ["enabled"],
    ),
}
