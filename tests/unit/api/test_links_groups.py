from tests.unit.api.records_data import record

MISSING = "00000000-0000-4000-8000-00000000abcd"


async def _two_records(client, headers) -> tuple[str, str]:
    a = await (await client.post("/records", json=record("A-1"), headers=headers)).json()
    b = await (await client.post("/records", json=record("B-1", title="other"),
                                 headers=headers)).json()
    return a["record"]["id"], b["record"]["id"]


async def test_manual_link_lifecycle(client, alice):
    _, headers = alice
    a, b = await _two_records(client, headers)
    response = await client.post("/links", json={"sourceRecordId": a, "targetRecordId": b},
                                 headers=headers)
    assert response.status == 201
    link = await response.json()
    assert (link["method"], link["confidence"], link["linkType"]) == ("manual", 1.0,
                                                                       "strong_contextual")
    again = await client.post("/links", json={"sourceRecordId": b, "targetRecordId": a},
                              headers=headers)
    assert again.status == 409

    between = await client.get(f"/links/between/{b}/{a}", headers=headers)
    assert (await between.json())["id"] == link["id"]
    explained = await (await client.get(f"/links/{link['id']}/explanation",
                                        headers=headers)).json()
    assert explained["score"] == 1.0 and explained["type"] == "strong_contextual"
    assert explained["signals"][0]["name"] == "manual"

    fb = await client.post(f"/links/{link['id']}/feedback", headers=headers,
                           json={"feedback": "negative", "comment": "unrelated"})
    assert (await fb.json())["feedback"] == "negative"
    stats = await (await client.get("/links/stats", headers=headers)).json()
    assert stats == {"total": 1, "byMethod": {"manual": 1}, "byFeedback": {"negative": 1},
                     "byType": {"strong_contextual": 1}}

    assert (await client.delete(f"/links/{link['id']}", headers=headers)).status == 204
    for method, path in (("get", f"/links/{link['id']}/explanation"),
                         ("delete", f"/links/{link['id']}"),
                         ("get", f"/links/between/{a}/{b}")):
        assert (await client.request(method, path, headers=headers)).status == 404


async def test_link_validation(client, alice):
    _, headers = alice
    a, _ = await _two_records(client, headers)
    for body in ({"sourceRecordId": a}, {"sourceRecordId": a, "targetRecordId": a},
                 {"sourceRecordId": a, "targetRecordId": "x"}):
        assert (await client.post("/links", json=body, headers=headers)).status == 400
    missing = await client.post("/links", json={"sourceRecordId": a, "targetRecordId": MISSING},
                                headers=headers)
    assert missing.status == 404
    bad = await client.post(f"/links/{MISSING}/feedback", json={"feedback": "meh"},
                            headers=headers)
    assert bad.status == 400
    gone = await client.post(f"/links/{MISSING}/feedback", json={"feedback": "positive"},
                             headers=headers)
    assert gone.status == 404


async def test_group_lifecycle(client, alice):
    _, headers = alice
    a, b = await _two_records(client, headers)
    created = await client.post("/context-groups", json={"name": " Login bug ", "recordIds": [a]},
                                headers=headers)
    assert created.status == 201
    group = await created.json()
    assert group["name"] == "Login bug" and group["memberCount"] == 1
    gid = group["id"]

    added = await client.post(f"/context-groups/{gid}/records", json={"recordId": b},
                              headers=headers)
    assert (await added.json())["memberCount"] == 2
    dup = await client.post(f"/context-groups/{gid}/records", json={"recordId": b},
                            headers=headers)
    assert dup.status == 409
    page = await (await client.get("/context-groups", headers=headers)).json()
    assert page["total"] == 1 and page["items"][0]["id"] == gid
    assert len((await (await client.get(f"/context-groups/{gid}", headers=headers)).json())
               ["members"]) == 2
    graph = await (await client.get(f"/context-groups/{gid}/graph", headers=headers)).json()
    assert len(graph["nodes"]) == 2
    renamed = await client.patch(f"/context-groups/{gid}", json={"name": "Auth"},
                                 headers=headers)
    assert (await renamed.json())["name"] == "Auth"
    removed = await client.delete(f"/context-groups/{gid}/records/{b}", headers=headers)
    assert (await removed.json())["memberCount"] == 1

    other = await (await client.post("/context-groups", json={"name": "Other", "recordIds": [b]},
                                     headers=headers)).json()
    merged = await client.post(f"/context-groups/{gid}/merge",
                               json={"sourceGroupId": other["id"]}, headers=headers)
    assert (await merged.json())["memberCount"] == 2
    assert (await client.get(f"/context-groups/{other['id']}", headers=headers)).status == 404

    split = await client.post(f"/context-groups/{gid}/split", headers=headers)
    assert split.status == 409
    assert (await split.json())["error"]["code"] == "conflict"

    whole = await (await client.get("/graph", headers=headers)).json()
    assert len(whole["nodes"]) == 2
    assert (await client.delete(f"/context-groups/{gid}", headers=headers)).status == 204
    assert (await client.get(f"/records/{a}", headers=headers)).status == 200


async def test_group_validation_and_not_found(client, alice):
    _, headers = alice
    for body in ({}, {"name": ""}, {"name": "   "}, {"name": "x" * 201},
                 {"name": "ok", "recordIds": ["nope"]}, {"name": "ok", "recordIds": "a"}):
        assert (await client.post("/context-groups", json=body, headers=headers)).status == 400
    unknown_member = await client.post("/context-groups", headers=headers,
                                       json={"name": "ok", "recordIds": [MISSING]})
    assert unknown_member.status == 404
    for method, path, body in (
        ("get", f"/context-groups/{MISSING}", None),
        ("get", f"/context-groups/{MISSING}/graph", None),
        ("patch", f"/context-groups/{MISSING}", {"name": "x"}),
        ("delete", f"/context-groups/{MISSING}", None),
        ("post", f"/context-groups/{MISSING}/records", {"recordId": MISSING}),
        ("delete", f"/context-groups/{MISSING}/records/{MISSING}", None),
        ("post", f"/context-groups/{MISSING}/split", None),
    ):
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status == 404, path
    self_merge = await client.post(f"/context-groups/{MISSING}/merge",
                                   json={"sourceGroupId": MISSING}, headers=headers)
    assert self_merge.status == 400


async def test_the_user_graph_is_paged_and_refuses_pages_past_its_cap(client, alice, backends):
    _, headers = alice
    default = await client.get("/graph", headers=headers)
    assert (await default.json())["limit"] == 500
    too_big = await client.get("/graph?limit=2001", headers=headers)
    assert too_big.status == 400
    assert "2000" in (await too_big.json())["error"]["message"]
    await client.get("/graph?limit=7&offset=3", headers=headers)
    sent = [request for name, request, _ in backends.graph.calls if name == "GetUserGraph"][-1]
    assert (sent.limit, sent.offset) == (7, 3)
