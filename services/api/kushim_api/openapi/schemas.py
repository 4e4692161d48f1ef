"""Component schemas of the OpenAPI description: the JSON shapes of the HTTP contract.

Request bodies and the resources' answers are derived from their declarations
(`kushim_api.bodies`, which the routes validate with; `kushim_api.answers`, which serialize
builds); the envelope and the operational answers (health, webhooks) are written here.
"""

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from kushim_api import answers, bodies

UUID = {"type": "string", "format": "uuid"}
FREE_OBJECT = {"type": "object", "additionalProperties": True}
REF_TEMPLATE = "#/components/schemas/{model}"


def ref(name: str) -> dict:
    return {"$ref": REF_TEMPLATE.format(model=name)}


class _Untitled(GenerateJsonSchema):
    """No "title" per property: the property's name says it."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def derived_schemas() -> dict:
    """The JSON Schema of each request body (bodies.py) and answer (answers.py), by name."""
    declared = [*bodies.SHAPES, *answers.ANSWERS]
    _, schemas = _Untitled(ref_template=REF_TEMPLATE).generate_definitions(
        [(shape, "validation", TypeAdapter(shape).core_schema) for shape in declared]
    )
    for schema in schemas.values():
        schema.pop("title", None)
        # a default is what an absent field reads as inside the gateway, not part of the contract
        for field in schema["properties"].values():
            field.pop("default", None)
    return schemas


def obj(properties: dict, required: list[str] | tuple[str, ...] = (), *,
        closed: bool = False) -> dict:
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


SCHEMAS = {
    **derived_schemas(),
    "Error": obj(
        {"error": obj(
            {"code": {"type": "string"}, "message": {"type": "string"}, "details": FREE_OBJECT},
            ["code", "message"],
        )},
        ["error"],
    ),
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
