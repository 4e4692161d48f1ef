"""Bad input over the whole HTTP API of a live gateway process on the real services: malformed
JSON, invalid UTF-8, NULs, wrong types, bodies over the limit, deep nesting, injection strings in
every text field, query string, path id and header. Every answer is a 2xx (the input was valid
and is stored verbatim) or a 4xx in the error envelope, never a 5xx; afterwards a victim's data,
PostgreSQL's rows and Neo4j's nodes are as they were, but for what the fuzz was answered 2xx for.

FUZZ_EXAMPLES (default 1) multiplies the seeded random inputs of each category; `make fuzz`
raises it and writes the summary to bench/results/fuzz-<UTC>.json."""

import json
import os
import re
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.integration.api import fuzz_corpus as corpus
from tests.integration.api.fuzz_state import stored_state
from tests.integration.api.fuzz_tally import Tally
from tests.integration.api.fuzz_world import TIMEOUT, World, record, signed
from tests.integration.api.support import LogBuffer, start_gateway, unique_email
from tests.unit.api import payloads

BUDGET = max(1, int(os.environ.get("FUZZ_EXAMPLES", "1")))


# Fields of each JSON body route and a valid body to vary one field of at a time.
BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/auth/register"): {"email": "x@example.com", "password": "correct horse battery",
                                 "displayName": "x"},
    ("POST", "/auth/login"): {"email": "nobody@example.com", "password": "correct horse"},
    ("PATCH", "/users/me"): {"displayName": "x", "settings": {"theme": "dark"}},
    ("POST", "/records"): record("fuzz-base", url="https://example.com/a",
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
        world.before = stored_state(world)
        yield world
    finally:
        process.stop()
    assert process.returncode == 0
    assert not [line for line in log.lines() if "Traceback" in line or "Unexpected" in line]


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
    webhook = [("POST", "/webhooks/github/{dataSourceId}"),
               ("POST", "/webhooks/jira/{dataSourceId}")]
    for method, template in [*BODIES, *webhook]:
        for raw in raws:
            category = "invalid_utf8" if _not_utf8(raw) else "malformed_json"
            headers = signed(template, raw)
            world.send(category, method, template, raw=raw, headers=headers,
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


def test_wrong_types_in_every_field(world):
    generator = corpus.Generator(seed=2)
    for (method, template), base in BODIES.items():
        base = world.fill(base)
        values = corpus.WRONG_TYPES + [generator.value() for _ in range(4 * BUDGET)]
        for field in base:
            for n, body in enumerate(_variants(base, field, values)):
                world.send("wrong_types", method, template, body=_unique(body, n))
        for value in values[:8]:
            world.send("wrong_types", method, template, body=value)
    batch = [record(f"typed-{n}", title=v) for n, v in enumerate(corpus.WRONG_TYPES)]
    world.send("wrong_types", "POST", "/records", body={"records": batch},
               allowed=(200, 201))


def test_nul_and_surrogates_in_every_text_field_are_refused(world):
    for (method, template), base in BODIES.items():
        base = world.fill(base)
        for field, value in base.items():
            if not isinstance(value, str) or (method, template) in DESTRUCTIVE:
                continue
            for n, bad in enumerate(corpus.UNSTORABLE):
                body = _unique({**base, field: value + bad}, n)
                world.send("null_bytes", method, template, body=body, allowed=(400,))
    for bad in corpus.UNSTORABLE:
        for field in ("metadata", "settings"):
            base = BODIES[("POST", "/records")] if field == "metadata" else BODIES[
                ("PATCH", "/users/me")]
            method, template = ("POST", "/records") if field == "metadata" else (
                "PATCH", "/users/me")
            for body in ({**base, field: {"k": bad}}, {**base, field: {bad: "v"}}):
                world.send("null_bytes", method, template, body=_unique(body, 0),
                           allowed=(400,))
    # A raw NUL byte inside a JSON string is a control character: not JSON.
    world.send("null_bytes", "POST", "/records", allowed=(400,),
               raw=corpus.dumps(record("raw-nul")).replace(b'"fuzz"', b'"fu\x00zz"', 1))


def test_injection_strings_are_stored_verbatim_or_refused(world):
    generator = corpus.Generator(seed=3)
    texts = corpus.INJECTIONS + [generator.storable_text() for _ in range(4 * BUDGET)]
    # Every field of every route gets half of the corpus in make test, all of it in make fuzz.
    for (method, template), base in BODIES.items():
        base = world.fill(base)
        if (method, template) in DESTRUCTIVE:
            continue
        for field, value in base.items():
            if not isinstance(value, str):
                continue
            for n, text in enumerate(texts if BUDGET > 1 else texts[::2]):
                world.send("injection", method, template,
                           body=_unique({**base, field: text}, n))
    # Records accept any storable text in every text field: it must come back byte for byte.
    for n, text in enumerate(texts):
        sent = record(f"inj-{n}-{text}"[:512], title=text[:1000], body=text, author=text[:256],
                       participants=[text[:256]], metadata={text[:100]: text, "v": [text]})
        answer = world.send("injection", "POST", "/records", body=sent,
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
        body = corpus.dumps(world.fill(BODIES[(method, template)]))
        for media in MEDIA_TYPES:
            world.send("media_types", method, template, raw=body,
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
        world.send("huge", method, template, raw=big, allowed=(413,))
        # Without a Content-Length the limit applies while reading.
        chunks = (big[i:i + 65_536] for i in range(0, len(big), 65_536))
        world.send("huge", method, template, raw=chunks, allowed=(413,))
    under = corpus.dumps(record("huge-ok", body="y" * 200_000))
    world.send("huge", "POST", "/records", raw=under, allowed=(200, 201))
    over = corpus.dumps(record("huge-no", body="y" * 200_001))
    world.send("huge", "POST", "/records", raw=over, allowed=(400,))


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
                world.send("deep_nesting", method, template, raw=raw,
                           headers=signed(template, raw), allowed=allowed)
        # Nesting inside a field that takes any object: metadata, settings, config, and a
        # Jira description (ADF, which the normalizer walks).
        deep = corpus.nested(depth, "object")
        jira = {"webhookEvent": "jira:issue_created", "issue": {
            "id": str(depth), "key": "PROJ-1", "self": "https://x.atlassian.net/rest/api/2/i/1",
            "fields": {"summary": "deep", "created": "2024-05-01T12:00:00.000+0000",
                       "description": {"type": "doc", "content": [DEEP]}}}}
        for method, template, body in [
            ("POST", "/records", record(f"deep-{depth}", metadata={"deep": DEEP})),
            ("PATCH", "/users/me", {"settings": {"deep": DEEP}}),
            ("PATCH", "/data-sources/{id}", {"config": {"deep": DEEP}}),
            ("POST", "/webhooks/jira/{dataSourceId}", jira),
        ]:
            raw = corpus.dumps(body).replace(corpus.dumps(DEEP), deep)
            world.send("deep_nesting", method, template, raw=raw,
                       headers=signed(template, raw))


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
            headers = signed(template, raw)
            if platform == "github":
                headers["X-GitHub-Event"] = events[n % len(events)]
            world.send("webhooks", "POST", template, raw=raw, headers=headers)
    # Garbage in the headers that are not the signature, on a validly signed delivery.
    issue = payloads.raw("github_issues_opened")
    for n, value in enumerate(_header_values()):
        headers = signed("/webhooks/github", issue)
        headers["X-GitHub-Delivery"] = value if n % 2 else headers["X-GitHub-Delivery"]
        headers["X-GitHub-Event"] = headers["X-GitHub-Event"] if n % 2 else value
        world.send("headers", "POST", "/webhooks/github/{dataSourceId}", raw=issue,
                   headers=headers)
        jira = payloads.raw("jira_issue_created")
        world.send("headers", "POST", "/webhooks/jira/{dataSourceId}", raw=jira,
                   headers={**signed("/webhooks/jira", jira),
                            "X-Atlassian-Webhook-Identifier": value})
        slack = payloads.raw("slack_message")
        world.send("headers", "POST", "/webhooks/slack/{dataSourceId}", raw=slack,
                   headers={"X-Slack-Request-Timestamp": value, "X-Slack-Signature": "v0=0"},
                   allowed=(401,))
    for ts in ("1e20", "-1e20", "inf", "nan", "1" * 400):
        payload = {"type": "event_callback", "event_id": f"Ev{ts[:20]}", "team_id": "T1",
                   "event": {"type": "message", "channel": "C1", "user": "U1", "text": "x",
                             "ts": ts}}
        raw = corpus.dumps(payload)
        world.send("webhooks", "POST", "/webhooks/slack/{dataSourceId}", raw=raw,
                   headers=signed("/webhooks/slack", raw), allowed=(400,))


def test_data_stays_intact(world):
    assert world.snapshot_victim() == world.victim_snapshot
    after = stored_state(world)
    before = world.before
    assert after["victim_rows"] == before["victim_rows"]
    assert after["users"] - before["users"] == len(world.users_created) - 2
    assert after["attacker_records"] == world.accepted_records
    assert after["victim_nodes"] == before["victim_nodes"]
    assert after["other_nodes"] == before["other_nodes"]
    assert after["attacker_artifacts"] == after["attacker_records"]
    assert not world.tally.problems, "\n".join(world.tally.problems[:50])
