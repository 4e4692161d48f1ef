"""Webhooks and tenant isolation on the real graph."""

import uuid

from kushim_api.webhooks.signatures import sign_hub, sign_slack

from tests.integration.api.support import eventually
from tests.unit.api.payloads import raw
from tests.unit.api.test_tenant_isolation import _alice_objects, _walk

SECRET = "integration-webhook-secret"  # noqa: S105


async def _source(client, headers, platform: str) -> str:
    answer = await client.post("/data-sources", headers=headers, json={
        "platform": platform, "name": f"{platform} source", "webhookSecret": SECRET})
    assert answer.status == 201, await answer.text()
    return (await answer.json())["id"]


async def test_github_push_and_issue_are_linked_by_their_references(client, alice):
    _, headers = alice
    ds = await _source(client, headers, "github")
    for event, name in (("issues", "github_issues_opened"), ("push", "github_push")):
        body = raw(name)
        response = await client.post(f"/webhooks/github/{ds}", data=body, headers={
            "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign_hub(SECRET, body), "Content-Type": "application/json"})
        assert response.status == 200, await response.text()
        assert not (await response.json())["duplicate"]
    page = await (await client.get(f"/data-sources/{ds}/records", headers=headers)).json()
    assert page["total"] == 3
    issue = next(r for r in page["items"] if r["artifactType"] == "issue")
    links = await (await client.get(f"/records/{issue['id']}/links", headers=headers)).json()
    assert links["total"] >= 1, "the commit naming #12 should link to issue #12"


async def test_a_github_review_comment_is_a_record_linked_to_its_pull_request(client, alice):
    _, headers = alice
    ds = await _source(client, headers, "github")
    for event, name in (("pull_request", "github_pull_request_opened"),
                        ("pull_request_review_comment",
                         "github_pull_request_review_comment_created")):
        body = raw(name)
        response = await client.post(f"/webhooks/github/{ds}", data=body, headers={
            "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign_hub(SECRET, body), "Content-Type": "application/json"})
        assert response.status == 200, await response.text()
        assert [r["status"] for r in (await response.json())["records"]] == ["created"]
    page = await (await client.get(f"/data-sources/{ds}/records", headers=headers)).json()
    by_type = {r["artifactType"]: r for r in page["items"]}
    links = await (await client.get(f"/records/{by_type['message']['id']}/links",
                                    headers=headers)).json()
    ends = {end for link in links["items"]
            for end in (link["sourceRecordId"], link["targetRecordId"])}
    assert by_type["pull_request"]["id"] in ends


async def test_redelivery_is_a_duplicate_and_bad_signature_stores_nothing(client, alice):
    _, headers = alice
    ds = await _source(client, headers, "slack")
    body = raw("slack_message")
    import time

    now = int(time.time())
    sent = {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature":
            sign_slack(SECRET, body, now), "Content-Type": "application/json"}
    first = await (await client.post(f"/webhooks/slack/{ds}", data=body, headers=sent)).json()
    second = await (await client.post(f"/webhooks/slack/{ds}", data=body, headers=sent)).json()
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    forged = await client.post(f"/webhooks/slack/{ds}", data=body.replace(b"broke", b"fixed"),
                               headers=sent)
    assert forged.status == 401
    page = await (await client.get(f"/data-sources/{ds}/records", headers=headers)).json()
    assert page["total"] == 1 and "broke PROJ-7" in page["items"][0]["body"]


async def test_jira_webhook_and_platform_cache_invalidation(client, alice):
    _, headers = alice
    ds = await _source(client, headers, "jira")
    path = f"/data-sources/{ds}/records"
    assert (await (await client.get(path, headers=headers)).json())["total"] == 0
    body = raw("jira_issue_created")
    response = await client.post(f"/webhooks/jira/{ds}", data=body, headers={
        "X-Hub-Signature": sign_hub(SECRET, body), "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": str(uuid.uuid4())})
    assert response.status == 200
    page = await (await client.get(path, headers=headers)).json()
    assert page["total"] == 1 and page["items"][0]["title"] == "PROJ-7: Login fails on Safari"


async def test_every_route_is_404_for_another_user(client, alice, bob):
    _, alice_headers = alice
    _, bob_headers = bob
    ids = await _alice_objects(client, alice_headers)
    for method, path, body in _walk(ids):
        response = await client.request(method, path, json=body, headers=bob_headers)
        assert response.status == 404, (method, path, response.status, await response.text())
        assert (await response.json())["error"]["code"] == "not_found"
    for path in ("/records", "/context-groups", "/data-sources"):
        page = await (await client.get(path, headers=bob_headers)).json()
        assert page["total"] == 0

    async def still_there() -> bool:
        response = await client.get(f"/records/{ids['record']}", headers=alice_headers)
        return response.status == 200

    assert await eventually(still_there)
