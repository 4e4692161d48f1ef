"""Bad input over the whole HTTP API of a live gateway process on the real services: malformed
JSON, invalid UTF-8, NULs, wrong types, bodies over the limit, deep nesting, injection strings in
every text field, query string, path id and header. Every answer is a 2xx (the input was valid
and is stored verbatim) or a 4xx in the error envelope, never a 5xx; afterwards a victim's data,
PostgreSQL's rows and Neo4j's nodes are as they were, but for what the fuzz was answered 2xx for.

FUZZ_EXAMPLES (default 1) multiplies the seeded random inputs of each category; `make fuzz`
raises it and writes the summary to bench/results/fuzz-<UTC>.json."""

import asyncio
import hashlib
import hmac
import json
import os
import re
import time
import uuid
from typing import Any
from urllib.parse import quote

import asyncpg
import neo4j
import pytest
import requests

from tests.integration.api import fuzz_corpus as corpus
from tests.integration.api.fuzz_tally import Tally
from tests.integration.api.support import (
    LogBuffer,
    required_env,
    start_gateway,
    unique_email,
    wait_for,
)
from tests.unit.api import payloads

BUDGET = max(1, int(os.environ.get("FUZZ_EXAMPLES", "1")))
SECRET = "fuzz-webhook-secret-0123456789"  # noqa: S105 - a test secret
TIMEOUT = 60


def _record(external_id: str, **fields: Any) -> dict:
    return {
        "externalId": external_id, "sourcePlatform": "other", "artifactType": "document",
        "title": "fuzz", "body": "", "author": "fuzz", "timestamp": "2024-05-01T12:00:00Z",
        **fields,
    }


def _wire(value: str | bytes) -> str | bytes:
    """http.client sends str headers as latin-1: anything else goes as its UTF-8 bytes."""
    try:
        return value.encode("latin-1").decode("latin-1") if isinstance(value, str) else value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


class Client:
    """One user's session on the gateway, every answer counted in the tally."""

    def __init__(self, url: str, tally: Tally, token: str = "") -> None:
        self.url, self.tally = url, tally
        self.session = requests.Session()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def send(self, category: str, method: str, path: str, *, raw: bytes | None = None,
             body: Any = None, headers: dict | None = None,
             allowed: tuple[int, ...] | None = None) -> requests.Response:
        sent = {name: _wire(value) for name, value in {**self.headers, **(headers or {})}.items()}
        if body is not None:
            raw = corpus.dumps(body)
        if raw is not None:
            sent.setdefault("Content-Type", "application/json")
        answer = self.session.request(method, self.url + path, data=raw, headers=sent,
                                      timeout=TIMEOUT)
        shown = raw[:80] if isinstance(raw, bytes) else b"<streamed>" if raw else b""
        label = f"{method} {path[:120]} {shown!r}"
        return self.tally.check(category, label, answer, allowed)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.send("setup", method, path, body=body, allowed=(200, 201, 204))
        assert answer.ok, f"{method} {path}: {answer.status_code} {answer.text[:300]}"
        return answer.json() if answer.content else None


class World:
    """The gateway, a victim whose data must survive, and the attacker sending the fuzz."""

    def __init__(self, url: str, tally: Tally) -> None:
        self.url, self.tally = url, tally
        self.victim, self.victim_id = self._register()
        self.attacker, self.attacker_id = self._register()
        self.users_created: set[str] = {self.victim_id, self.attacker_id}
        self.accepted_records: set[str] = set()

    def _register(self) -> tuple[Client, str]:
        anonymous = Client(self.url, self.tally)
        answer = anonymous.ok("POST", "/auth/register",
                              {"email": unique_email(), "password": "correct horse battery"})
        return Client(self.url, self.tally, answer["token"]), answer["user"]["id"]

    def seed(self) -> None:
        """The victim's records carry injection strings; the attacker owns one of each object
        so that routes with a real id reach their body validation."""
        self.victim_records = []
        for n, text in enumerate(corpus.INJECTIONS):
            answer = self.victim.ok("POST", "/records", _record(
                f"victim-{n}-{text[:100]}", title=text[:1000], body=f"{text} PROJ-{n + 1}",
                author=text[:256], participants=[text[:256]],
                metadata={"note": text, "ticketId": f"PROJ-{n + 1}"}))
            self.victim_records.append(answer["record"]["id"])
        victim_group = self.victim.ok("POST", "/context-groups", {
            "name": corpus.INJECTIONS[0], "recordIds": self.victim_records[:3]})
        self.victim_group = victim_group["id"]
        self.victim.ok("POST", "/data-sources", {"platform": "github", "name": "victim"})
        self.victim_snapshot = self.snapshot_victim()

        records = [self.attacker.ok("POST", "/records", _record(f"attacker-{n}"))["record"]["id"]
                   for n in range(2)]
        self.accepted_records.update(records)
        self.record, self.other_record = records
        self.link = self.attacker.ok("POST", "/links", {
            "sourceRecordId": self.record, "targetRecordId": self.other_record})["id"]
        self.group = self.attacker.ok("POST", "/context-groups",
                                      {"name": "fuzz"})["id"]
        self.other_group = self.attacker.ok("POST", "/context-groups", {"name": "other"})["id"]
        self.sources = {
            platform: self.attacker.ok("POST", "/data-sources", {
                "platform": platform, "name": platform, "webhookSecret": SECRET})["id"]
            for platform in ("github", "slack", "jira")
        }

    def snapshot_victim(self) -> dict:
        def get(path: str) -> Any:
            return self.victim.ok("GET", path)
        return {
            "me": get("/users/me"),
            "records": {rid: get(f"/records/{rid}") for rid in self.victim_records},
            "list": get("/records?limit=100"),
            "group": get(f"/context-groups/{self.victim_group}"),
            "sources": get("/data-sources"),
            "graph": get("/graph"),
        }

    def ids(self) -> dict[str, str]:
        return {"id": self.record, "recordId": self.other_record, "a": self.record,
                "b": self.other_record}

    def path(self, template: str, **override: str) -> str:
        """A route's path with the attacker's real ids (a link id for /links/{id}/...)."""
        values = {**self.ids(), "dataSourceId": self.sources["github"]}
        if template.startswith("/links/{id}"):
            values["id"] = self.link
        elif template.startswith("/context-groups/{id}"):
            values["id"] = self.group
        elif template.startswith("/data-sources/{id}"):
            values["id"] = self.sources["github"]
        elif template.startswith("/webhooks/"):
            values["dataSourceId"] = self.sources[template.split("/")[2]]
        values.update(override)
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template


# Fields of each JSON body route and a valid body to vary one field of at a time.
BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/auth/register"): {"email": "x@example.com", "password": "correct horse battery",
                                 "displayName": "x"},
    ("POST", "/auth/login"): {"email": "nobody@example.com", "password": "correct horse"},
    ("PATCH", "/users/me"): {"displayName": "x", "settings": {"theme": "dark"}},
    ("POST", "/records"): _record("fuzz-base", url="https://example.com/a",
                                  participants=["a"], metadata={"branch": "x"}),
    ("POST", "/links"): {"sourceRecordId": "{id}", "targetRecordId": "{recordId}"},
    ("POST", "/links/{id}/feedback"): {"feedback": "positive", "comment": "x"},
    ("POST", "/context-groups"): {"name": "x", "recordIds": ["{id}"]},
    ("PATCH", "/context-groups/{id}"): {"name": "x"},
    ("POST", "/context-groups/{id}/records"): {"recordId": "{recordId}"},
    ("POST", "/context-groups/{id}/merge"): {"sourceGroupId": "{group}"},
    ("POST", "/data-sources"): {"platform": "other", "name": "x", "webhookSecret": None,
                                "config": {}},
    ("PATCH", "/data-sources/{id}"): {"name": "x", "config": {}},
}
DEEP = "<deep>"
# Writes that would destroy the objects the other inputs aim at; they get bad ids only.
DESTRUCTIVE = {("POST", "/context-groups/{id}/merge")}


@pytest.fixture(scope="module")
def tally(request):
    counted = Tally(BUDGET)
    yield counted
    summary = counted.summary()
    written = counted.write(summary)
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin(
        "capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # teardown output is otherwise dropped
            reporter.write_line(counted.line(summary) + (f" -> {written}" if written else ""))


@pytest.fixture(scope="module")
def world(backends, tally):
    log = LogBuffer()
    process, port = start_gateway(log, backends.graph_addr, backends.lockcache_addr,
                                  name="api-badinput")
    try:
        world = World(f"http://127.0.0.1:{port}", tally)
        world.seed()
        world.before = _stored_state(world)
        yield world
    finally:
        process.stop()
    assert process.returncode == 0
    assert not [line for line in log.lines() if "Traceback" in line or "Unexpected" in line]


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, str):
        return world.path(value, group=world.other_group)
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def _track(world: World, method: str, template: str, answer: requests.Response) -> None:
    """Remember what the fuzz was allowed to store, to account for every row it added."""
    if answer.status_code >= 300 or not answer.content:
        return
    body = answer.json()
    if (method, template) == ("POST", "/records"):
        for item in body.get("results", [body]):
            record = item.get("record") or {}
            if record.get("id"):
                world.accepted_records.add(record["id"])
    if template.startswith("/webhooks/"):
        world.accepted_records.update(r["id"] for r in body.get("records", []) if r.get("id"))
    if (method, template) == ("POST", "/auth/register"):
        world.users_created.add(body["user"]["id"])


def _send_body(world: World, category: str, method: str, template: str, body: Any = None,
               raw: bytes | None = None, headers: dict | None = None,
               allowed: tuple[int, ...] | None = None) -> requests.Response:
    answer = world.attacker.send(category, method, world.path(template), body=body, raw=raw,
                                 headers=headers, allowed=allowed)
    _track(world, method, template, answer)
    return answer


def _variants(base: dict, field: str, values: list[Any]) -> list[dict]:
    return [{**base, field: value} for value in values]


def _unique(body: dict, n: int) -> dict:
    """Valid writes must not collide: each gets its own identity (email, externalId)."""
    if "externalId" in body and isinstance(body["externalId"], str):
        body["externalId"] = f"{body['externalId']}-{n}"[-512:]
    if "email" in body and body.get("email") == "x@example.com":
        body["email"] = unique_email()
    return body


def test_malformed_json_and_invalid_utf8_bodies(world):
    generator = corpus.Generator(seed=1)
    raws = corpus.MALFORMED_JSON + [b'{"title": "' + bad + b'"}' for bad in corpus.INVALID_UTF8]
    raws += [generator.raw_body() for _ in range(20 * BUDGET)]
    webhook = [(m, t) for m, t in [("POST", "/webhooks/github/{dataSourceId}"),
                                   ("POST", "/webhooks/jira/{dataSourceId}")]]
    for method, template in [*BODIES, *webhook]:
        for raw in raws:
            category = "invalid_utf8" if _not_utf8(raw) else "malformed_json"
            headers = _signed(template, raw)
            _send_body(world, category, method, template, raw=raw, headers=headers,
                       allowed=_refused_unless_json(raw))


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return True
    return False


def _refused_unless_json(raw: bytes) -> tuple[int, ...] | None:
    """A body that is no JSON value must be refused; one that is may be anything but 5xx."""
    try:
        json.loads(raw)
    except ValueError:
        return (400, 413, 415)
    return None


def _signed(template: str, raw: bytes) -> dict:
    """Valid signatures, so a webhook's body reaches the parser and the normalizer."""
    if template.startswith("/webhooks/github"):
        return {"X-Hub-Signature-256": "sha256=" + _hmac(raw), "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": uuid.uuid4().hex}
    if template.startswith("/webhooks/jira"):
        return {"X-Hub-Signature": "sha256=" + _hmac(raw)}
    if template.startswith("/webhooks/slack"):
        stamp = str(int(time.time()))
        return {"X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": "v0=" + _hmac(b"v0:" + stamp.encode() + b":" + raw)}
    return {}


def _hmac(message: bytes) -> str:
    return hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()


def test_wrong_types_in_every_field(world):
    generator = corpus.Generator(seed=2)
    for (method, template), base in BODIES.items():
        base = _fill(base, world)
        values = corpus.WRONG_TYPES + [generator.value() for _ in range(4 * BUDGET)]
        for field in base:
            for n, body in enumerate(_variants(base, field, values)):
                _send_body(world, "wrong_types", method, template, body=_unique(body, n))
        for value in values[:8]:
            _send_body(world, "wrong_types", method, template, body=value)
    batch = [_record(f"typed-{n}", title=v) for n, v in enumerate(corpus.WRONG_TYPES)]
    _send_body(world, "wrong_types", "POST", "/records", body={"records": batch},
               allowed=(200, 201))


def test_nul_and_surrogates_in_every_text_field_are_refused(world):
    for (method, template), base in BODIES.items():
        base = _fill(base, world)
        for field, value in base.items():
            if not isinstance(value, str) or (method, template) in DESTRUCTIVE:
                continue
            for n, bad in enumerate(corpus.UNSTORABLE):
                body = _unique({**base, field: value + bad}, n)
                _send_body(world, "null_bytes", method, template, body=body, allowed=(400,))
    for bad in corpus.UNSTORABLE:
        for field in ("metadata", "settings"):
            base = BODIES[("POST", "/records")] if field == "metadata" else BODIES[
                ("PATCH", "/users/me")]
            method, template = ("POST", "/records") if field == "metadata" else (
                "PATCH", "/users/me")
            for body in ({**base, field: {"k": bad}}, {**base, field: {bad: "v"}}):
                _send_body(world, "null_bytes", method, template, body=_unique(body, 0),
                           allowed=(400,))
    # A raw NUL byte inside a JSON string is a control character: not JSON.
    _send_body(world, "null_bytes", "POST", "/records", allowed=(400,),
               raw=corpus.dumps(_record("raw-nul")).replace(b'"fuzz"', b'"fu\x00zz"', 1))


def test_injection_strings_are_stored_verbatim_or_refused(world):
    generator = corpus.Generator(seed=3)
    texts = corpus.INJECTIONS + [generator.storable_text() for _ in range(4 * BUDGET)]
    # Every field of every route gets half of the corpus in make test, all of it in make fuzz.
    for (method, template), base in BODIES.items():
        base = _fill(base, world)
        if (method, template) in DESTRUCTIVE:
            continue
        for field, value in base.items():
            if not isinstance(value, str):
                continue
            for n, text in enumerate(texts if BUDGET > 1 else texts[::2]):
                _send_body(world, "injection", method, template,
                           body=_unique({**base, field: text}, n))
    # Records accept any storable text in every text field: it must come back byte for byte.
    for n, text in enumerate(texts):
        sent = _record(f"inj-{n}-{text}"[:512], title=text[:1000], body=text, author=text[:256],
                       participants=[text[:256]], metadata={text[:100]: text, "v": [text]})
        answer = _send_body(world, "injection", "POST", "/records", body=sent,
                            allowed=(200, 201))
        stored = world.attacker.send("injection", "GET",
                                     f"/records/{answer.json()['record']['id']}",
                                     allowed=(200,)).json()
        for field in ("body", "metadata"):
            assert stored[field] == sent[field], field
        # One-line fields lose control characters and surrounding space, as documented.
        for field in ("externalId", "title", "author"):
            assert stored[field] == _one_line(sent[field]), field
        assert stored["participants"] == [_one_line(sent["author"])]
        found = world.attacker.send("injection", "GET", "/records?search=" + quote(text[:200]),
                                    allowed=(200,))
        assert found.json()["total"] >= 0


def _one_line(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "", text).strip()


def test_query_strings_path_ids_and_headers(world):
    document = requests.get(world.url + "/openapi.json", timeout=TIMEOUT).json()
    values = [quote(s, safe="") for s in corpus.INJECTIONS + corpus.UNSTORABLE[:2]]
    values += ["%ff", "%00", "%", "%zz", "-1", "99999999999999999999", "1e3", "١٢", "²", "0x10"]
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            method = method.upper()
            if (method, template) in DESTRUCTIVE or method == "DELETE" and "{" not in template:
                continue
            params = operation.get("parameters", [])
            for param in (p for p in params if p["in"] == "query"):
                for value in values:
                    path = f"{world.path(template)}?{param['name']}={value}"
                    world.attacker.send("query", method, path, raw=None)
            for param in (p for p in params if p["in"] == "path"):
                for bad in corpus.BAD_IDS + [quote(s, safe="") for s in corpus.INJECTIONS[:8]]:
                    path = world.path(template, **{param["name"]: bad})
                    world.attacker.send("path_ids", method, path, raw=b"{}" if method in (
                        "POST", "PATCH") else None, allowed=(400, 401, 404, 405))
            for param in (p for p in params if p["in"] == "header"):
                for value in _header_values():
                    world.attacker.send("headers", method, world.path(template), raw=b"{}",
                                        headers={param["name"]: value}, allowed=(400, 401))
    for authorization in corpus.BAD_AUTHORIZATION + _header_values():
        world.attacker.send("headers", "GET", "/records", headers={
            "Authorization": authorization}, allowed=(401,))
        world.attacker.send("headers", "POST", "/records", raw=b"{}", headers={
            "Authorization": authorization}, allowed=(401,))


def _header_values() -> list:
    """Garbage a header can carry: injections, non-ASCII and bytes that are not UTF-8."""
    return ["", "sha256=", "sha256=" + "0" * 64, "v0=" + "z" * 64, "²", "١٢٣٤٥",
            "9" * 40, "-1", *corpus.INJECTIONS[:10], "é".encode(), b"\xff\xfe",
            b"sha256=\xed\xa0\x80", "\u00e9t\u00e9".encode("latin-1")]


MEDIA_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
               "multipart/form-data; boundary=", "application/xml", "application/json; x=\"",
               "application/json; charset=latin-1", "application/vnd.x+json", "*/*", "",
               "application/json\t; charset=utf-8", "'; DROP TABLE records; --"]


def test_other_media_types_and_methods(world):
    for method, template in BODIES:
        body = corpus.dumps(_fill(BODIES[(method, template)], world))
        for media in MEDIA_TYPES:
            _send_body(world, "media_types", method, template, raw=body,
                       headers={"Content-Type": media})
    document = requests.get(world.url + "/openapi.json", timeout=TIMEOUT).json()
    for template, operations in document["paths"].items():
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - {m.upper() for m in operations}:
            # DELETE /links/stats is DELETE /links/{id} with a bad id: 400.
            world.attacker.send("methods", method, world.path(template), raw=b"{}",
                                allowed=(400, 401, 404, 405))
    for path in ("/records/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/records/",
                 "/records//links", "/" + "x" * 4_000, "/webhooks/github/", "/graph/x"):
        world.attacker.send("methods", "GET", path, allowed=(400, 401, 404, 405))


def test_bodies_over_the_limit_are_413(world):
    limit = 5 * 1024 * 1024
    big = b'{"title": "' + b"x" * limit + b'"}'
    for method, template in [("POST", "/records"), ("POST", "/auth/register"),
                             ("POST", "/webhooks/github/{dataSourceId}")]:
        _send_body(world, "huge", method, template, raw=big, allowed=(413,))
        # Without a Content-Length the limit applies while reading.
        chunks = (big[i:i + 65_536] for i in range(0, len(big), 65_536))
        _send_body(world, "huge", method, template, raw=chunks, allowed=(413,))
    under = corpus.dumps(_record("huge-ok", body="y" * 200_000))
    _send_body(world, "huge", "POST", "/records", raw=under, allowed=(200, 201))
    over = corpus.dumps(_record("huge-no", body="y" * 200_001))
    _send_body(world, "huge", "POST", "/records", raw=over, allowed=(400,))


def test_deeply_nested_json(world):
    targets = [*BODIES, ("POST", "/webhooks/github/{dataSourceId}"),
               ("POST", "/webhooks/jira/{dataSourceId}"),
               ("POST", "/webhooks/slack/{dataSourceId}")]
    for depth in corpus.NESTING_DEPTHS:
        for kind in ("list", "object"):
            raw = corpus.nested(depth, kind)
            for method, template in targets:
                # A signed delivery of an object without an event is ignored, not refused.
                allowed = (200, 400) if template.startswith("/webhooks/") else (400,)
                _send_body(world, "deep_nesting", method, template, raw=raw,
                           headers=_signed(template, raw), allowed=allowed)
        # Nesting inside a field that takes any object: metadata, settings, config, and a
        # Jira description (ADF, which the normalizer walks).
        deep = corpus.nested(depth, "object")
        jira = {"webhookEvent": "jira:issue_created", "issue": {
            "id": str(depth), "key": "PROJ-1", "self": "https://x.atlassian.net/rest/api/2/i/1",
            "fields": {"summary": "deep", "created": "2024-05-01T12:00:00.000+0000",
                       "description": {"type": "doc", "content": [DEEP]}}}}
        for method, template, body in [
            ("POST", "/records", _record(f"deep-{depth}", metadata={"deep": DEEP})),
            ("PATCH", "/users/me", {"settings": {"deep": DEEP}}),
            ("PATCH", "/data-sources/{id}", {"config": {"deep": DEEP}}),
            ("POST", "/webhooks/jira/{dataSourceId}", jira),
        ]:
            raw = corpus.dumps(body).replace(corpus.dumps(DEEP), deep)
            _send_body(world, "deep_nesting", method, template, raw=raw,
                       headers=_signed(template, raw))


def test_signed_webhook_deliveries_of_any_shape(world):
    generator = corpus.Generator(seed=4)
    events = ["issues", "issue_comment", "pull_request", "pull_request_review", "push", "ping",
              "", "x" * 300]
    for n in range(30 * BUDGET):
        payload = {"action": generator.value(), "issue": generator.value(),
                   "repository": generator.rng.choice([{"full_name": generator.text()},
                                                       generator.value()]),
                   "event": generator.value(), "type": generator.rng.choice(
                       ["event_callback", "url_verification", generator.text()]),
                   "webhookEvent": generator.rng.choice(["jira:issue_created", "x"]),
                   "challenge": generator.value(), "event_id": generator.value()}
        raw = corpus.dumps(payload)
        for platform in ("github", "slack", "jira"):
            template = f"/webhooks/{platform}/{{dataSourceId}}"
            headers = _signed(template, raw)
            if platform == "github":
                headers["X-GitHub-Event"] = events[n % len(events)]
            _send_body(world, "webhooks", "POST", template, raw=raw, headers=headers)
    # Garbage in the headers that are not the signature, on a validly signed delivery.
    issue = payloads.raw("github_issues_opened")
    for n, value in enumerate(_header_values()):
        headers = _signed("/webhooks/github", issue)
        headers["X-GitHub-Delivery"] = value if n % 2 else headers["X-GitHub-Delivery"]
        headers["X-GitHub-Event"] = headers["X-GitHub-Event"] if n % 2 else value
        _send_body(world, "headers", "POST", "/webhooks/github/{dataSourceId}", raw=issue,
                   headers=headers)
        jira = payloads.raw("jira_issue_created")
        _send_body(world, "headers", "POST", "/webhooks/jira/{dataSourceId}", raw=jira,
                   headers={**_signed("/webhooks/jira", jira),
                            "X-Atlassian-Webhook-Identifier": value})
        slack = payloads.raw("slack_message")
        _send_body(world, "headers", "POST", "/webhooks/slack/{dataSourceId}", raw=slack,
                   headers={"X-Slack-Request-Timestamp": value, "X-Slack-Signature": "v0=0"},
                   allowed=(401,))
    for ts in ("1e20", "-1e20", "inf", "nan", "1" * 400):
        payload = {"type": "event_callback", "event_id": f"Ev{ts[:20]}", "team_id": "T1",
                   "event": {"type": "message", "channel": "C1", "user": "U1", "text": "x",
                             "ts": ts}}
        raw = corpus.dumps(payload)
        _send_body(world, "webhooks", "POST", "/webhooks/slack/{dataSourceId}", raw=raw,
                   headers=_signed("/webhooks/slack", raw), allowed=(400,))


def test_data_stays_intact(world):
    assert world.snapshot_victim() == world.victim_snapshot
    after = _stored_state(world)
    before = world.before
    assert after["victim_rows"] == before["victim_rows"]
    assert after["users"] - before["users"] == len(world.users_created) - 2
    assert after["attacker_records"] == world.accepted_records
    assert after["victim_nodes"] == before["victim_nodes"]
    assert after["other_nodes"] == before["other_nodes"]
    assert after["attacker_artifacts"] == after["attacker_records"]
    assert not world.tally.problems, "\n".join(world.tally.problems[:50])


def _stored_state(world: World) -> dict:
    """Row counts and node sets once the outbox has projected everything to Neo4j."""
    wait_for(lambda: world.victim.send("setup", "GET", "/health/ready").json().get(
        "outboxPending", 0) == 0, within=120)
    return {**asyncio.run(_postgres_state(world)), **_neo4j_state(world)}


async def _postgres_state(world: World) -> dict:
    db = await asyncpg.connect(required_env("DATABASE_URL"))
    try:
        tables = [r["table_name"] for r in await db.fetch(
            "select table_name from information_schema.columns where column_name = 'user_id'"
            " and table_schema = 'public' and table_name not in ('outbox', 'webhook_deliveries')"
            " order by table_name")]
        victim = uuid.UUID(world.victim_id)
        rows = {t: await db.fetchval(f"select count(*) from {t} where user_id = $1",  # noqa: S608
                                     victim) for t in tables}
        attacker = await db.fetch("select id from records where user_id = $1",
                                  uuid.UUID(world.attacker_id))
        return {"victim_rows": rows, "users": await db.fetchval("select count(*) from users"),
                "attacker_records": {str(r["id"]) for r in attacker}}
    finally:
        await db.close()


def _neo4j_state(world: World) -> dict:
    auth = (required_env("NEO4J_USER"), required_env("NEO4J_PASSWORD"))
    with neo4j.GraphDatabase.driver(required_env("NEO4J_URI"), auth=auth) as driver:
        def nodes(query: str, **params: Any) -> set:
            records, _, _ = driver.execute_query(query, **params)
            return {tuple(map(str, r.values())) for r in records}
        fuzzed = sorted(world.users_created)
        return {
            "victim_nodes": nodes("MATCH (n {user_id: $u}) RETURN n.id, labels(n), "
                                  "coalesce(n.title, n.name)", u=world.victim_id),
            "other_nodes": len(nodes("MATCH (n) WHERE NOT n.user_id IN $users RETURN n.id",
                                     users=fuzzed)),
            "attacker_artifacts": {r[0] for r in nodes(
                "MATCH (n:Artifact {user_id: $u}) RETURN n.id", u=world.attacker_id)},
        }
