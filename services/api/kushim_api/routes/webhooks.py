"""POST /webhooks/{github,slack,jira}/{dataSourceId}: verify, normalize, store a delivery once."""

import hashlib
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from kushim.graph.v1 import graph_pb2

from kushim_api import keys, record_input, validate
from kushim_api.errors import NotFound, Unauthorized, ValidationError
from kushim_api.routes.records import ingest
from kushim_api.serialize import outcome
from kushim_api.webhooks import (
    MALFORMED,
    PayloadError,
    delivery_text,
    github,
    jira,
    signatures,
    slack,
)

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

DELIVERY_ID_MAX = 200


async def _source(request: web.Request, platform: str) -> graph_pb2.GetWebhookSecretResponse:
    data_source_id = validate.path_uuid(request, "dataSourceId")
    answer = await request.app[keys.UPSTREAM].data_sources.GetWebhookSecret(
        graph_pb2.GetWebhookSecretRequest(data_source_id=data_source_id)
    )
    if answer.platform != platform:
        raise NotFound("no such data source")
    return answer


def _refuse(request: web.Request, platform: str, why: str) -> Unauthorized:
    request.app[keys.METRICS].webhooks.labels(platform, "bad_signature").inc()
    log.warning("Refused %s webhook delivery: %s", platform, why)
    return Unauthorized("webhook signature check failed")


def _payload(raw: bytes, form_encoded: bool = False) -> dict:
    try:
        if form_encoded:
            raw = (parse_qs(raw.decode()).get("payload") or [""])[0].encode()
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValidationError("delivery body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ValidationError("delivery body must be a JSON object")
    return payload


def _normalized(platform: str, build: Any) -> list[graph_pb2.RecordInput]:
    try:
        items = build()
    except MALFORMED as exc:
        raise ValidationError(
            f"payload does not match the {platform} event: {exc!s:.200}"
        ) from None
    return [record_input.parse(item) for item in items]


async def _store(request: web.Request, platform: str, source: graph_pb2.GetWebhookSecretResponse,
                 delivery_id: str, event: str, records: list[graph_pb2.RecordInput]
                 ) -> web.Response:
    metrics = request.app[keys.METRICS].webhooks
    if not records:
        metrics.labels(platform, "ignored").inc()
        return web.json_response({"event": event, "duplicate": False, "records": []})
    # Graph claims the delivery in the transaction that stores its records: a delivery that
    # failed is stored when the sender tries again, a stored one is answered as a duplicate.
    results = await ingest(
        request, source.user_id, records,
        data_source_id=request.match_info["dataSourceId"].lower(),
        delivery_id=delivery_id[:DELIVERY_ID_MAX],
    )
    if results is None:
        metrics.labels(platform, "duplicate").inc()
        return web.json_response({"event": event, "duplicate": True, "records": []})
    metrics.labels(platform, "stored").inc()
    return web.json_response({
        "event": event,
        "duplicate": False,
        "records": [
            {"index": r.index, "status": outcome(r), "id": r.record.id or None} for r in results
        ],
    })


def _delivery_id(header: str | None, raw: bytes) -> str:
    """The platform's delivery id as storable text, or a hash of the body without one."""
    return delivery_text(header) or "sha256:" + hashlib.sha256(raw).hexdigest()


@routes.post("/webhooks/github/{dataSourceId}")
async def github_webhook(request: web.Request) -> web.Response:
    source = await _source(request, "github")
    raw = await request.read()
    if not signatures.hub_signature_valid(
        source.webhook_secret, raw, request.headers.get("X-Hub-Signature-256")
    ):
        raise _refuse(request, "github", "bad or missing X-Hub-Signature-256")
    event = request.headers.get("X-GitHub-Event", "")
    payload = _payload(raw, request.content_type == "application/x-www-form-urlencoded")
    if event == "ping":
        return web.json_response({"event": "ping", "duplicate": False, "records": []})
    records = _normalized("github", lambda: github.normalize(event, payload))
    delivery = _delivery_id(request.headers.get("X-GitHub-Delivery"), raw)
    return await _store(request, "github", source, delivery, event, records)


@routes.post("/webhooks/slack/{dataSourceId}")
async def slack_webhook(request: web.Request) -> web.Response:
    source = await _source(request, "slack")
    raw = await request.read()
    if not signatures.slack_signature_valid(
        source.webhook_secret, raw, request.headers.get("X-Slack-Request-Timestamp"),
        request.headers.get("X-Slack-Signature"), request.app[keys.CLOCK](),
    ):
        raise _refuse(request, "slack", "bad, missing or stale X-Slack-Signature")
    payload = _payload(raw)
    try:
        answer = slack.challenge(payload)
    except PayloadError as exc:
        raise ValidationError(str(exc)) from None
    if answer is not None:
        return web.json_response({"challenge": answer})
    records = _normalized("slack", lambda: slack.normalize(payload))
    delivery = _normalized_delivery(lambda: slack.delivery_id(payload)) if records else ""
    event = slack.event_type(payload)
    return await _store(request, "slack", source, delivery, event, records)


def _normalized_delivery(build: Any) -> str:
    try:
        return build()
    except PayloadError as exc:
        raise ValidationError(str(exc)) from None


@routes.post("/webhooks/jira/{dataSourceId}")
async def jira_webhook(request: web.Request) -> web.Response:
    source = await _source(request, "jira")
    raw = await request.read()
    if not signatures.hub_signature_valid(
        source.webhook_secret, raw, request.headers.get("X-Hub-Signature")
    ):
        raise _refuse(request, "jira", "bad or missing X-Hub-Signature")
    payload = _payload(raw)
    records = _normalized("jira", lambda: jira.normalize(payload))
    delivery = _delivery_id(request.headers.get("X-Atlassian-Webhook-Identifier"), raw)
    return await _store(request, "jira", source, delivery, str(payload.get("webhookEvent", "")),
                        records)
