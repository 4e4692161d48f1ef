"""Operations of the OpenAPI description, one entry per route the gateway registers."""

from kushim_common.record_limits import ARTIFACT_TYPES, MAX_BATCH, PLATFORMS

from kushim_api.openapi.schemas import UUID, ref

ERRORS = {
    "400": "validation_error", "401": "unauthorized", "403": "forbidden", "404": "not_found",
    "409": "conflict",
    "413": "payload_too_large", "415": "unsupported_media_type", "429": "rate_limited",
    "503": "unavailable (Retry-After set)",
}


def _error(code: str) -> dict:
    response: dict = {
        "description": ERRORS[code],
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if code in ("429", "503"):
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": UUID}


def _query(name: str, schema: dict, description: str = "") -> dict:
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


PAGINATION = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
    _query("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0}),
]
NO_CONTENT = {"description": "done"}


def op(summary: str, ok: dict, *, status: str = "200", body: dict | None = None,
       params: tuple[str, ...] = (), query: list | None = None, public: bool = False,
       tag: str, errors: tuple[str, ...] = (), headers: list | None = None) -> dict:
    codes = {"400", "413", "415", "503", *errors}
    if not public:
        codes.update(("401", "404"))
    if params:
        codes.add("404")
    operation: dict = {
        "summary": summary,
        "tags": [tag],
        "parameters": [_path_param(p) for p in params] + (query or []) + (headers or []),
        "responses": {status: ok, **{c: _error(c) for c in sorted(codes)}},
    }
    if public:
        operation["security"] = []
    if body is not None:
        operation["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": body}},
        }
    return operation


INGEST_BEHAVIOUR = (
    "Every record is stored before the answer; relationship discovery then runs for the "
    "batch, in groups, for as long as the request's deadline (UPSTREAM_TIMEOUT_MS) allows. "
    "A record whose discovery did not fit is answered with `discoveryState: pending` and no "
    "`links`, and is discovered right after the answer (a batch never answers an error for "
    "records it stored); `summary.pendingDiscovery` counts them. Poll `GET /records/{id}` "
    "until `discoveryState` is `done` (`kushim ingest` does so by default)."
)


def _described(description: str, operation: dict) -> dict:
    operation["description"] = description
    return operation


def _with_responses(operation: dict, responses: dict) -> dict:
    operation["responses"] = {**responses, **operation["responses"]}
    return operation


def _webhook(platform: str, summary: str, headers: list) -> dict:
    return {"post": op(
        summary, _json(ref("WebhookAnswer")), params=("dataSourceId",), public=True,
        tag="webhooks", body={"type": "object"}, headers=headers, errors=("409",),
    )}


def _header(name: str, description: str) -> dict:
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string"},
            "description": description}


PATHS = {
    "/health": {"get": op("Liveness", _json({"type": "object"}), public=True, tag="operations")},
    "/health/ready": {"get": {
        **op("Readiness: 503 only when lockcache, graph or PostgreSQL is down",
             _json(ref("Readiness")), public=True, tag="operations"),
        "responses": {"200": _json(ref("Readiness")),
                      "503": _json(ref("Readiness"), "this instance cannot serve")},
    }},
    "/health/redis": {"get": op("Redis and cache statistics", _json(ref("RedisReport")),
                                public=True, tag="operations")},
    "/metrics": {"get": op(
        "Prometheus metrics",
        {"description": "Prometheus text format",
         "content": {"text/plain": {"schema": {"type": "string"}}}},
        public=True, tag="operations",
    )},
    "/openapi.json": {"get": op("This description", _json({"type": "object"}), public=True,
                                tag="operations")},
    "/auth/register": {"post": op(
        "Create a user", _json(ref("RegisterAnswer"), "created"), status="201",
        body=ref("RegisterInput"), public=True, tag="auth", errors=("409", "429"),
    )},
    "/auth/login": {"post": op(
        "Exchange email and password for a bearer token", _json(ref("LoginAnswer")),
        body=ref("LoginInput"), public=True, tag="auth", errors=("401", "429"),
    )},
    "/auth/logout": {"post": op(
        "Revoke every token of the caller (all sessions)", NO_CONTENT, status="204", tag="auth",
    )},
    "/auth/password": {"post": op(
        "Change the password; every earlier token is revoked and a fresh one answered",
        _json(ref("LoginAnswer")), body=ref("PasswordChange"), tag="auth",
        errors=("403", "429"),
    )},
    "/users/me": {
        "get": op("The caller's profile (cached 10 min)", _json(ref("User")), tag="users",
                  errors=("404",)),
        "patch": op("Update the caller's profile", _json(ref("User")), tag="users",
                    body=ref("UserPatch"), errors=("404",)),
    },
    "/records": {
        "post": _described(INGEST_BEHAVIOUR, _with_responses(
            op(f"Ingest one record, or a batch of up to {MAX_BATCH} with per-item results",
               _json(ref("IngestAnswer"), "a new record"), status="201", tag="records",
               body={"oneOf": [ref("RecordInput"), ref("RecordBatch")]},
               errors=("404", "409", "429")),
            {"200": _json({"anyOf": [ref("IngestAnswer"), ref("IngestBatchAnswer")]},
                          "a changed or unchanged record (see the flags), or a batch's results")},
        )),
        "get": op("Search and filter records", _json(ref("RecordPage")), tag="records", query=[
            _query("search", {"type": "string", "maxLength": 500}, "full text over title, body"),
            _query("source", {"type": "string", "enum": list(PLATFORMS)}),
            _query("type", {"type": "string", "enum": list(ARTIFACT_TYPES)}),
            *PAGINATION,
        ]),
    },
    "/records/{id}": {
        "get": op("One record", _json(ref("Record")), params=("id",), tag="records"),
        "delete": op("Delete a record with its links and memberships", NO_CONTENT,
                     status="204", params=("id",), tag="records"),
    },
    "/records/{id}/links": {"get": op(
        "A record's links, strongest first", _json(ref("LinkPage")), params=("id",),
        tag="records", query=PAGINATION,
    )},
    "/records/{id}/context": {"get": op(
        "The subgraph around a record", _json(ref("Context")), params=("id",), tag="records",
        query=[_query("depth", {"type": "integer", "minimum": 1, "maximum": 3, "default": 2})],
    )},
    "/links": {"post": op(
        "Link two records by hand (confidence 1.0, method manual)", _json(ref("Link"), "created"),
        status="201", tag="links", errors=("409",), body=ref("LinkInput"),
    )},
    "/links/stats": {"get": op("Link counts by method, feedback and type",
                               _json(ref("LinkStats")), tag="links")},
    "/links/between/{a}/{b}": {"get": op(
        "The link between two records, either direction", _json(ref("Link")),
        params=("a", "b"), tag="links",
    )},
    "/links/{id}/explanation": {"get": op(
        "Why a link exists: score, type, method and signals", _json(ref("LinkExplanation")),
        params=("id",), tag="links",
    )},
    "/links/{id}/feedback": {"post": op(
        "Record feedback on a link: negative removes it and keeps every discovery from linking "
        "the pair again (a manual link lifts that); positive keeps it when its records change",
        _json(ref("Link")), params=("id",), tag="links", body=ref("LinkFeedback"),
    )},
    "/links/{id}": {"delete": op("Delete a link", NO_CONTENT, status="204", params=("id",),
                                 tag="links")},
    "/context-groups": {
        "get": op("The caller's groups, most recently updated first",
                  _json(ref("ContextGroupPage")), tag="groups", query=PAGINATION),
        "post": op(
            "Create a group", _json(ref("ContextGroupWithMembers"), "created"), status="201",
            tag="groups", errors=("404",), body=ref("GroupInput"),
        ),
    },
    "/context-groups/{id}": {
        "get": op("A group with its members", _json(ref("ContextGroupWithMembers")),
                  params=("id",), tag="groups"),
        "patch": op("Rename a group", _json(ref("ContextGroupWithMembers")), params=("id",),
                    tag="groups", body=ref("GroupRename")),
        "delete": op("Delete a group (its records stay)", NO_CONTENT, status="204",
                     params=("id",), tag="groups"),
    },
    "/context-groups/{id}/members": {"get": op(
        "Every member of a group, a page at a time, oldest record first (a group answer shows "
        "the oldest 500; memberCount is the total)",
        _json(ref("RecordPage")), params=("id",), tag="groups", query=PAGINATION,
    )},
    "/context-groups/{id}/graph": {"get": op(
        "Nodes and links inside a group", _json(ref("Graph")), params=("id",), tag="groups",
    )},
    "/context-groups/{id}/records": {"post": op(
        "Add a record to a group", _json(ref("ContextGroupWithMembers")), params=("id",),
        tag="groups", errors=("409",), body=ref("GroupMember"),
    )},
    "/context-groups/{id}/records/{recordId}": {"delete": op(
        "Remove a record from a group", _json(ref("ContextGroupWithMembers")),
        params=("id", "recordId"), tag="groups",
    )},
    "/context-groups/{id}/merge": {"post": op(
        "Move another group's members in and delete it", _json(ref("ContextGroupWithMembers")),
        params=("id",), tag="groups", errors=("409",), body=ref("GroupMerge"),
    )},
    "/context-groups/{id}/split": {"post": op(
        "Split by connected components (coherence < 0.4, size >= 5); 409 when not warranted",
        _json({"type": "object", "required": ["groups"],
               "properties": {"groups": {"type": "array", "items": ref("ContextGroup")}}}),
        params=("id",), tag="groups", errors=("409",),
    )},
    "/graph": {"get": op(
        "A page of the caller's records (oldest first, bodies omitted) and the links among them",
        _json(ref("Graph")), tag="groups", query=[
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 2_000, "default": 500}),
            _query("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000,
                              "default": 0}),
        ])},
    "/data-sources": {
        "get": op("The caller's data sources", _json(ref("DataSourcePage")), tag="data-sources",
                  query=PAGINATION),
        "post": op("Connect a platform", _json(ref("DataSource"), "created"), status="201",
                   tag="data-sources", body=ref("DataSourceInput"), errors=("409",)),
    },
    "/data-sources/{id}": {
        "get": op("One data source", _json(ref("DataSource")), params=("id",),
                  tag="data-sources"),
        "patch": op("Update a data source", _json(ref("DataSource")), params=("id",),
                    tag="data-sources", body=ref("DataSourcePatch"), errors=("409",)),
        "delete": op("Disconnect a data source", NO_CONTENT, status="204", params=("id",),
                     tag="data-sources"),
    },
    "/data-sources/{id}/records": {"get": op(
        "A data source's records (cached 3 min, invalidated by new data)",
        _json(ref("RecordPage")), params=("id",), tag="data-sources", query=PAGINATION,
    )},
    "/webhooks/github/{dataSourceId}": _webhook("github", "GitHub webhook delivery", [
        _header("X-GitHub-Event", "issues, issue_comment, pull_request, pull_request_review, push"),
        _header("X-GitHub-Delivery", "delivery id; redeliveries are answered as duplicates"),
        _header("X-Hub-Signature-256", "sha256=<HMAC-SHA256 of the body with the secret>"),
    ]),
    "/webhooks/slack/{dataSourceId}": _webhook("slack", "Slack Events API request", [
        _header("X-Slack-Request-Timestamp", "seconds; refused beyond five minutes"),
        _header("X-Slack-Signature", "v0=<HMAC-SHA256 of v0:{timestamp}:{body}>"),
    ]),
    "/webhooks/jira/{dataSourceId}": _webhook("jira", "Jira webhook delivery", [
        _header("X-Hub-Signature", "sha256=<HMAC-SHA256 of the body with the secret>"),
        _header("X-Atlassian-Webhook-Identifier", "delivery id, the same on retries"),
    ]),
}

AUTH_SCHEMAS = {
    "RegisterAnswer": {"type": "object", "required": ["user", "token"],
                       "properties": {"user": ref("User"), "token": {"type": "string"}}},
    "LoginAnswer": {"type": "object", "required": ["token"], "properties": {
        "token": {"type": "string"}, "expiresIn": {"type": "integer"}, "userId": UUID}},
}
