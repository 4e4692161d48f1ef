import json

import pytest
from kushim_api.webhooks.signatures import sign_hub, sign_slack

from tests.unit.api.payloads import raw

SECRET = "webhook-secret-0123456789"  # noqa: S105


async def _source(client, headers, platform, secret=SECRET):
    body = {"platform": platform, "name": platform}
    if secret:
        body["webhookSecret"] = secret
    return (await (await client.post("/data-sources", json=body, headers=headers)).json())["id"]


def _github_headers(body: bytes, event: str, delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                    secret: str = SECRET) -> dict:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign_hub(secret, body), "Content-Type": "application/json"}


async def test_github_push_stores_one_record_per_commit_for_the_owner(client, alice, backends):
    user_id, headers = alice
    ds = await _source(client, headers, "github")
    body = raw("github_push")
    response = await client.post(f"/webhooks/github/{ds}", data=body,
                                 headers=_github_headers(body, "push"))
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["duplicate"] is False
    assert [r["status"] for r in answer["records"]] == ["created", "created"]
    page = await (await client.get(f"/data-sources/{ds}/records", headers=headers)).json()
    assert page["total"] == 2
    assert {r["dataSourceId"] for r in page["items"]} == {ds}
    sent = next(c[1] for c in backends.graph.calls if c[0] == "IngestRecords")
    assert (sent.user_id, sent.data_source_id) == (user_id, ds)
    assert sent.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"


async def test_github_redelivery_is_answered_as_a_duplicate(client, alice, backends):
    _, headers = alice
    ds = await _source(client, headers, "github")
    body = raw("github_issues_opened")
    for expected in (False, True):
        response = await client.post(f"/webhooks/github/{ds}", data=body,
                                     headers=_github_headers(body, "issues"))
        assert (await response.json())["duplicate"] is expected
    page = await (await client.get(f"/data-sources/{ds}/records", headers=headers)).json()
    assert page["total"] == 1


@pytest.mark.parametrize("tamper", ["wrong_secret", "missing", "body_changed", "sha1"])
async def test_github_bad_signature_is_401_and_stores_nothing(client, alice, backends, tamper):
    _, headers = alice
    ds = await _source(client, headers, "github")
    body = raw("github_issues_opened")
    sent_headers = _github_headers(body, "issues")
    if tamper == "wrong_secret":
        sent_headers = _github_headers(body, "issues", secret="another-secret-1234")  # noqa: S106
    elif tamper == "missing":
        del sent_headers["X-Hub-Signature-256"]
    elif tamper == "body_changed":
        body = body.replace(b"Spelling", b"Spelunking")
    else:
        sent_headers["X-Hub-Signature-256"] = "sha1=" + "0" * 40
    response = await client.post(f"/webhooks/github/{ds}", data=body, headers=sent_headers)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"
    assert not [c for c in backends.graph.calls if c[0] == "IngestRecords"]


async def test_github_ping_and_unhandled_events_store_nothing(client, alice, backends):
    _, headers = alice
    ds = await _source(client, headers, "github")
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    for event in ("ping", "star"):
        response = await client.post(f"/webhooks/github/{ds}", data=body,
                                     headers=_github_headers(body, event))
        assert response.status == 200
        assert (await response.json())["records"] == []
    assert not [c for c in backends.graph.calls if c[0] == "IngestRecords"]


async def test_github_form_encoded_delivery(client, alice):
    _, headers = alice
    ds = await _source(client, headers, "github")
    from urllib.parse import urlencode
    body = urlencode({"payload": raw("github_issues_opened").decode()}).encode()
    sent = _github_headers(body, "issues")
    sent["Content-Type"] = "application/x-www-form-urlencoded"
    response = await client.post(f"/webhooks/github/{ds}", data=body, headers=sent)
    assert [r["status"] for r in (await response.json())["records"]] == ["created"]


async def test_webhook_errors(client, alice):
    _, headers = alice
    missing = "00000000-0000-4000-8000-000000000009"
    body = raw("github_issues_opened")
    assert (await client.post(f"/webhooks/github/{missing}", data=body,
                              headers=_github_headers(body, "issues"))).status == 404
    assert (await client.post("/webhooks/github/nope", data=body,
                              headers=_github_headers(body, "issues"))).status == 400
    slack_ds = await _source(client, headers, "slack")
    wrong_platform = await client.post(f"/webhooks/github/{slack_ds}", data=body,
                                       headers=_github_headers(body, "issues"))
    assert wrong_platform.status == 404
    no_secret = await _source(client, headers, "github", secret=None)
    assert (await client.post(f"/webhooks/github/{no_secret}", data=body,
                              headers=_github_headers(body, "issues"))).status == 401
    ds = await _source(client, headers, "github")
    garbage = b"{not json"
    assert (await client.post(f"/webhooks/github/{ds}", data=garbage,
                              headers=_github_headers(garbage, "issues"))).status == 400
    wrong_shape = json.dumps({"action": "opened", "issue": {}}).encode()
    response = await client.post(f"/webhooks/github/{ds}", data=wrong_shape,
                                 headers=_github_headers(wrong_shape, "issues"))
    assert response.status == 400


def _slack_headers(body: bytes, ts: int, secret: str = SECRET) -> dict:
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign_slack(secret, body, ts),
            "Content-Type": "application/json"}


async def test_slack_url_verification_answers_the_challenge(client, alice, clock):
    _, headers = alice
    ds = await _source(client, headers, "slack")
    body = raw("slack_url_verification")
    response = await client.post(f"/webhooks/slack/{ds}", data=body,
                                 headers=_slack_headers(body, int(clock.now)))
    assert response.status == 200
    assert (await response.json())["challenge"] == (
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")


async def test_slack_message_is_stored_once_per_event_id(client, alice, clock, backends):
    _, headers = alice
    ds = await _source(client, headers, "slack")
    body = raw("slack_message")
    first = await client.post(f"/webhooks/slack/{ds}", data=body,
                              headers=_slack_headers(body, int(clock.now) - 10))
    assert [r["status"] for r in (await first.json())["records"]] == ["created"]
    retry = await client.post(f"/webhooks/slack/{ds}", data=body,
                              headers={**_slack_headers(body, int(clock.now)),
                                       "X-Slack-Retry-Num": "1"})
    assert (await retry.json())["duplicate"] is True
    sent = next(c[1] for c in backends.graph.calls if c[0] == "IngestRecords")
    assert sent.delivery_id == "Ev123ABC456"


@pytest.mark.parametrize("skew, secret, status", [
    (-301, SECRET, 401), (301, SECRET, 401), (-299, SECRET, 200), (0, "wrong-secret-1234567", 401),
])
async def test_slack_replay_window_and_signature(client, alice, clock, skew, secret, status):
    _, headers = alice
    ds = await _source(client, headers, "slack")
    body = raw("slack_message")
    response = await client.post(f"/webhooks/slack/{ds}", data=body,
                                 headers=_slack_headers(body, int(clock.now) + skew, secret))
    assert response.status == status


async def test_slack_missing_headers_is_401(client, alice):
    _, headers = alice
    ds = await _source(client, headers, "slack")
    response = await client.post(f"/webhooks/slack/{ds}", data=raw("slack_message"))
    assert response.status == 401


async def test_jira_issue_and_comment_with_hub_signature(client, alice, backends):
    _, headers = alice
    ds = await _source(client, headers, "jira")
    body = raw("jira_issue_updated")
    sent = {"X-Hub-Signature": sign_hub(SECRET, body), "Content-Type": "application/json",
            "X-Atlassian-Webhook-Identifier": "jira-delivery-1"}
    response = await client.post(f"/webhooks/jira/{ds}", data=body, headers=sent)
    assert response.status == 200
    answer = await response.json()
    assert answer["event"] == "jira:issue_updated"
    assert [r["status"] for r in answer["records"]] == ["created", "created"]
    again = await client.post(f"/webhooks/jira/{ds}", data=body, headers=sent)
    assert (await again.json())["duplicate"] is True
    bad = await client.post(f"/webhooks/jira/{ds}", data=body, headers={
        **sent, "X-Hub-Signature": sign_hub("another-secret-12345", body)})
    assert bad.status == 401


async def test_jira_without_delivery_header_dedupes_by_body(client, alice):
    _, headers = alice
    ds = await _source(client, headers, "jira")
    body = raw("jira_comment_created")
    sent = {"X-Hub-Signature": sign_hub(SECRET, body), "Content-Type": "application/json"}
    first = await (await client.post(f"/webhooks/jira/{ds}", data=body, headers=sent)).json()
    second = await (await client.post(f"/webhooks/jira/{ds}", data=body, headers=sent)).json()
    assert (first["duplicate"], second["duplicate"]) == (False, True)


async def test_slack_edit_naming_no_message_is_acknowledged_with_no_record(client, alice, clock):
    _, headers = alice
    ds = await _source(client, headers, "slack")
    payload = json.loads(raw("slack_message_changed"))
    del payload["event"]["message"]
    body = json.dumps(payload).encode()
    response = await client.post(f"/webhooks/slack/{ds}", data=body,
                                 headers=_slack_headers(body, int(clock.now)))
    assert response.status == 200
    assert (await response.json())["records"] == []


async def test_slack_timestamps_of_thousands_of_digits_are_refused_not_a_server_error(
        client, alice, clock):
    _, headers = alice
    ds = await _source(client, headers, "slack")
    body = raw("slack_message")
    giant = "1" * 5_000
    in_header = await client.post(f"/webhooks/slack/{ds}", data=body, headers={
        "X-Slack-Request-Timestamp": giant, "X-Slack-Signature": "v0=" + "0" * 64})
    assert in_header.status == 401
    payload = json.loads(body)
    for ts in (giant, "1700000000." + "0" * 5_000):
        payload["event"]["ts"] = ts
        signed = json.dumps(payload).encode()
        in_event = await client.post(f"/webhooks/slack/{ds}", data=signed,
                                     headers=_slack_headers(signed, int(clock.now)))
        assert in_event.status == 400
        assert (await in_event.json())["error"]["code"] == "validation_error"
