"""The fuzz's world on a live gateway: a victim whose data must survive, an attacker who owns
one object of each kind (so routes with a real id reach their body validation) and sends
every input, and the valid signatures that let a webhook body reach its normalizer."""

import hashlib
import hmac
import time
import uuid
from typing import Any

import requests

from tests.integration.api import fuzz_corpus as corpus
from tests.integration.api.fuzz_tally import SETUP, Tally
from tests.integration.api.support import unique_email

SECRET = "fuzz-webhook-secret-0123456789"  # noqa: S105 - a test secret
TIMEOUT = 60


def record(external_id: str, **fields: Any) -> dict:
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
        answer = self.send(SETUP, method, path, body=body, allowed=(200, 201, 204))
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
            answer = self.victim.ok("POST", "/records", record(
                f"victim-{n}-{text[:100]}", title=text[:1000], body=f"{text} PROJ-{n + 1}",
                author=text[:256], participants=[text[:256]],
                metadata={"note": text, "ticketId": f"PROJ-{n + 1}"}))
            self.victim_records.append(answer["record"]["id"])
        victim_group = self.victim.ok("POST", "/context-groups", {
            "name": corpus.INJECTIONS[0], "recordIds": self.victim_records[:3]})
        self.victim_group = victim_group["id"]
        self.victim.ok("POST", "/data-sources", {"platform": "github", "name": "victim"})
        self.victim_snapshot = self.snapshot_victim()

        records = [self.attacker.ok("POST", "/records", record(f"attacker-{n}"))["record"]["id"]
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

    def fill(self, value: Any) -> Any:
        """A body template with the attacker's ids in place of {id}, {recordId}, {group}."""
        if isinstance(value, str):
            return self.path(value, group=self.other_group)
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value

    def send(self, category: str, method: str, template: str, body: Any = None,
             raw: bytes | None = None, headers: dict | None = None,
             allowed: tuple[int, ...] | None = None) -> requests.Response:
        """The attacker sends one input to a route; what it was answered 2xx for is kept."""
        answer = self.attacker.send(category, method, self.path(template), body=body, raw=raw,
                                    headers=headers, allowed=allowed)
        self._track(method, template, answer)
        return answer

    def _track(self, method: str, template: str, answer: requests.Response) -> None:
        """Remember what the fuzz was allowed to store, to account for every row it added."""
        if answer.status_code >= 300 or not answer.content:
            return
        body = answer.json()
        if (method, template) == ("POST", "/records"):
            for item in body.get("results", [body]):
                record = item.get("record") or {}
                if record.get("id"):
                    self.accepted_records.add(record["id"])
        if template.startswith("/webhooks/"):
            self.accepted_records.update(r["id"] for r in body.get("records", []) if r.get("id"))
        if (method, template) == ("POST", "/auth/register"):
            self.users_created.add(body["user"]["id"])


def signed(template: str, raw: bytes) -> dict:
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
