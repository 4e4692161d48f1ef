"""The OpenAPI 3.1 description served at /openapi.json."""

import copy
import functools

from kushim_api.openapi.paths import AUTH_SCHEMAS, PATHS
from kushim_api.openapi.schemas import SCHEMAS


@functools.cache
def _spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kushim HTTP API",
            "version": "1.0.0",
            "description": "Records from GitHub, Jira, Slack and Google, the links between "
                           "them, and context groups. Errors share one envelope.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
            "schemas": {**SCHEMAS, **AUTH_SCHEMAS},
        },
    }


def spec() -> dict:
    return copy.deepcopy(_spec())
