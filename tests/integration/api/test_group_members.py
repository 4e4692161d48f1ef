"""GET /context-groups/{id}/members: every member a page at a time, like the other lists."""

import uuid


def item(external_id: str, minute: int) -> dict:
    return {"externalId": external_id, "sourcePlatform": "jira", "artifactType": "task",
            "title": external_id, "body": "", "author": "a",
            "timestamp": f"2024-03-01T10:{minute:02d}:00+00:00"}  # fmt: skip


async def test_members_are_paged_with_limit_and_offset(client, alice, bob):
    _, headers = alice
    batch = {"records": [item(f"GM-{n}", n) for n in range(3)]}
    stored = await (await client.post("/records", json=batch, headers=headers)).json()
    ids = [result["record"]["id"] for result in stored["results"]]
    made = await client.post(
        "/context-groups", json={"name": "Paged", "recordIds": ids}, headers=headers
    )
    assert made.status == 201, await made.text()
    group = (await made.json())["id"]
    url = f"/context-groups/{group}/members"

    first = await (await client.get(url, params={"limit": "2"}, headers=headers)).json()
    assert (first["total"], first["limit"], first["offset"]) == (3, 2, 0)
    assert [r["externalId"] for r in first["items"]] == ["GM-0", "GM-1"]
    second = await client.get(url, params={"limit": "2", "offset": "2"}, headers=headers)
    rest = await second.json()
    assert [r["externalId"] for r in rest["items"]] == ["GM-2"]

    too_many = await client.get(url, params={"limit": "101"}, headers=headers)
    assert too_many.status == 400
    assert (await too_many.json())["error"]["code"] == "validation_error"
    for other_url, who in ((url, bob[1]), (f"/context-groups/{uuid.uuid4()}/members", headers)):
        missing = await client.get(other_url, headers=who)
        assert missing.status == 404
        assert (await missing.json())["error"]["code"] == "not_found"
    bad = await client.get("/context-groups/not-a-uuid/members", headers=headers)
    assert bad.status == 400
