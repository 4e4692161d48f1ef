"""Every route with an id, walked as another user: always 404, never a leak."""

from kushim_api.webhooks.signatures import sign_hub

from tests.unit.api.records_data import record


async def _alice_objects(client, headers):
    a = (await (await client.post("/records", json=record("ALPHA-1"), headers=headers)).json())
    b = (await (await client.post("/records", json=record("BETA-1", title="mentions ALPHA-1"),
                                  headers=headers)).json())
    link = b["links"][0] if b["links"] else await (await client.post("/links", json={
        "sourceRecordId": a["record"]["id"], "targetRecordId": b["record"]["id"]},
        headers=headers)).json()
    lone = (await (await client.post("/records", headers=headers, json=record(
        "GAMMA-9", title="quarterly offsite menu", body="", metadata={},
        sourcePlatform="google", artifactType="document"))).json())
    group_answer = await client.post("/context-groups", headers=headers, json={
        "name": "g", "recordIds": [lone["record"]["id"]]})
    group = await group_answer.json()
    assert group_answer.status == 201, group
    other_group = await (await client.post("/context-groups", headers=headers,
                                           json={"name": "g2"})).json()
    ds = await (await client.post("/data-sources", headers=headers, json={
        "platform": "github", "name": "repo", "webhookSecret": "w" * 20})).json()
    return {"record": a["record"]["id"], "record2": b["record"]["id"], "link": link["id"],
            "group": group["id"], "group2": other_group["id"], "ds": ds["id"]}


def _walk(ids):
    r, r2, link, g, g2, ds = (ids[k] for k in ("record", "record2", "link", "group", "group2",
                                                "ds"))
    return [
        ("get", f"/records/{r}", None),
        ("delete", f"/records/{r}", None),
        ("get", f"/records/{r}/links", None),
        ("get", f"/records/{r}/context", None),
        ("post", "/links", {"sourceRecordId": r, "targetRecordId": r2}),
        ("get", f"/links/{link}/explanation", None),
        ("get", f"/links/between/{r}/{r2}", None),
        ("post", f"/links/{link}/feedback", {"feedback": "positive"}),
        ("delete", f"/links/{link}", None),
        ("post", "/context-groups", {"name": "steal", "recordIds": [r]}),
        ("get", f"/context-groups/{g}", None),
        ("get", f"/context-groups/{g}/graph", None),
        ("patch", f"/context-groups/{g}", {"name": "x"}),
        ("delete", f"/context-groups/{g}", None),
        ("post", f"/context-groups/{g}/records", {"recordId": r2}),
        ("delete", f"/context-groups/{g}/records/{r}", None),
        ("post", f"/context-groups/{g}/merge", {"sourceGroupId": g2}),
        ("post", f"/context-groups/{g}/split", None),
        ("get", f"/data-sources/{ds}", None),
        ("patch", f"/data-sources/{ds}", {"name": "x"}),
        ("delete", f"/data-sources/{ds}", None),
        ("get", f"/data-sources/{ds}/records", None),
    ]


async def test_another_users_objects_are_404_like_missing_ones(client, alice, bob):
    _, alice_headers = alice
    bob_id, bob_headers = bob
    ids = await _alice_objects(client, alice_headers)
    await client.post("/records", json=record("BOB-1"), headers=bob_headers)
    bob_group = await (await client.post("/context-groups", json={"name": "mine"},
                                         headers=bob_headers)).json()
    for method, path, body in _walk(ids):
        response = await client.request(method, path, json=body, headers=bob_headers)
        assert response.status == 404, (method, path, response.status)
        error = (await response.json())["error"]
        assert error["code"] == "not_found"
        for value in ids.values():
            assert value not in error["message"]
    adding = await client.post(f"/context-groups/{bob_group['id']}/records",
                               json={"recordId": ids["record"]}, headers=bob_headers)
    assert adding.status == 404
    merging = await client.post(f"/context-groups/{bob_group['id']}/merge",
                                json={"sourceGroupId": ids["group"]}, headers=bob_headers)
    assert merging.status == 404

    for path in ("/records", "/context-groups", "/data-sources"):
        page = await (await client.get(path, headers=bob_headers)).json()
        assert all(item["id"] not in ids.values() for item in page["items"])
    graph = await (await client.get("/graph", headers=bob_headers)).json()
    assert {n["externalId"] for n in graph["nodes"]} == {"BOB-1"}
    stats = await (await client.get("/links/stats", headers=bob_headers)).json()
    assert stats["total"] == 0
    search = await (await client.get("/records?search=ALPHA", headers=bob_headers)).json()
    assert search["total"] == 0

    for method, path, _ in _walk(ids)[:4] + [("get", f"/context-groups/{ids['group']}", None)]:
        if method == "get":
            assert (await client.get(path, headers=alice_headers)).status == 200, path


async def test_records_pinned_to_another_users_data_source_are_rejected(client, alice, bob):
    _, alice_headers = alice
    _, bob_headers = bob
    ids = await _alice_objects(client, alice_headers)
    response = await client.post("/records", json=record("X", dataSourceId=ids["ds"]),
                                 headers=bob_headers)
    assert response.status == 400


async def test_webhook_for_alices_source_is_stored_for_alice_only(client, alice, bob):
    _, alice_headers = alice
    _, bob_headers = bob
    ids = await _alice_objects(client, alice_headers)
    from tests.unit.api.payloads import raw
    body = raw("github_issues_opened")
    await client.post(f"/webhooks/github/{ids['ds']}", data=body, headers={
        "X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": sign_hub("w" * 20, body), "Content-Type": "application/json"})
    mine = await (await client.get("/records?source=github", headers=alice_headers)).json()
    theirs = await (await client.get("/records?source=github", headers=bob_headers)).json()
    assert (mine["total"], theirs["total"]) == (1, 0)
