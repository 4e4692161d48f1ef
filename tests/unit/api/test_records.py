import pytest

from tests.unit.api.conftest import register
from tests.unit.api.records_data import record


async def test_single_record_created_then_changed_then_unchanged(client, alice):
    _, headers = alice
    first = await client.post("/records", json=record(), headers=headers)
    assert first.status == 201
    created = await first.json()
    assert created["created"] is True and created["changed"] is True
    rec = created["record"]
    assert rec["externalId"] == "PROJ-7" and rec["sourcePlatform"] == "jira"
    assert rec["timestamp"] == "2024-05-01T10:00:00.000Z"
    assert rec["metadata"] == {"ticketId": "PROJ-7"} and rec["url"] is None

    changed = await client.post("/records", json=record(title="PROJ-7: new title"),
                                headers=headers)
    assert changed.status == 200
    body = await changed.json()
    assert (body["created"], body["changed"]) == (False, True)
    assert body["record"]["id"] == rec["id"]

    same = await client.post("/records", json=record(title="PROJ-7: new title"),
                             headers=headers)
    assert same.status == 200
    body = await same.json()
    assert (body["created"], body["changed"], body["links"]) == (False, False, [])


async def test_ingest_answers_the_links_discovery_made(client, alice):
    _, headers = alice
    await client.post("/records", json=record(), headers=headers)
    answer = await client.post("/records", headers=headers, json=record(
        "abc123", sourcePlatform="github", artifactType="commit", title="Fix PROJ-7 login"))
    links = (await answer.json())["links"]
    assert len(links) == 1 and links[0]["linkType"] == "strong_contextual"
    assert links[0]["signals"][0]["name"] == "explicit_reference"


async def test_batch_returns_per_item_results_in_order(client, alice):
    _, headers = alice
    await client.post("/records", json=record("PROJ-1"), headers=headers)
    batch = {"records": [
        record("PROJ-1"),
        {"externalId": "x"},
        record("PROJ-2"),
        record("PROJ-3", timestamp="2024-05-01T12:00:00"),
        record("PROJ-4", sourcePlatform="myspace"),
        record("PROJ-1", title="changed"),
    ]}
    response = await client.post("/records", json=batch, headers=headers)
    assert response.status == 200
    body = await response.json()
    statuses = [(r["index"], r["status"]) for r in body["results"]]
    assert statuses == [(0, "unchanged"), (1, "rejected"), (2, "created"), (3, "rejected"),
                        (4, "rejected"), (5, "updated")]
    assert body["results"][3]["error"]["field"] == "timestamp"
    assert body["results"][4]["error"]["field"] == "sourcePlatform"
    assert body["summary"] == {"created": 1, "updated": 1, "unchanged": 1, "rejected": 3,
                               "pendingDiscovery": 0}


async def test_a_batch_over_500_is_refused(client, alice):
    _, headers = alice
    response = await client.post("/records", json={"records": [record()] * 501}, headers=headers)
    assert response.status == 400
    assert (await response.json())["error"]["details"]["field"] == "records"


@pytest.mark.parametrize("change, field", [
    ({"externalId": ""}, "externalId"),
    ({"externalId": 7}, "externalId"),
    ({"artifactType": "tweet"}, "artifactType"),
    ({"title": "x" * 1001}, "title"),
    ({"timestamp": "yesterday"}, "timestamp"),
    ({"timestamp": "2024-05-01"}, "timestamp"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"participants": "ada"}, "participants"),
    ({"participants": [""]}, "participants"),
    ({"metadata": [1, 2]}, "metadata"),
    ({"metadata": {"big": "x" * 40_000}}, "metadata"),
    ({"dataSourceId": "not-a-uuid"}, "dataSourceId"),
    ({"url": "http://[::1"}, "url"),
    ({"timestamp": "1899-12-31T23:59:59Z"}, "timestamp"),
    ({"metadata": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": {
        "m": {"n": {"o": {"p": 1}}}}}}}}}}}}}}}}}, "metadata"),
    ({"body": "nul\x00byte"}, "body"),
    ({"title": "\ud800"}, "title"),
    ({"extra": 1}, "extra"),
])
async def test_invalid_record_fields_are_named(client, alice, change, field):
    _, headers = alice
    response = await client.post("/records", json=record(**change), headers=headers)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "validation_error" and error["details"]["field"] == field


async def test_unknown_data_source_in_a_single_record_is_400(client, alice):
    _, headers = alice
    response = await client.post("/records", headers=headers, json=record(
        dataSourceId="00000000-0000-4000-8000-000000000000"))
    assert response.status == 400
    assert (await response.json())["error"]["details"]["field"] == "dataSourceId"


async def test_list_get_delete_and_not_found(client, alice):
    _, headers = alice
    created = await (await client.post("/records", json=record(), headers=headers)).json()
    record_id = created["record"]["id"]
    await client.post("/records", headers=headers, json=record(
        "1", sourcePlatform="slack", artifactType="message", title="lunch?"))

    page = await (await client.get("/records?search=safari&limit=5", headers=headers)).json()
    assert page["total"] == 1 and page["limit"] == 5 and page["offset"] == 0
    assert [r["id"] for r in page["items"]] == [record_id]
    page = await (await client.get("/records?source=slack&type=message", headers=headers)).json()
    assert [r["title"] for r in page["items"]] == ["lunch?"]

    assert (await client.get(f"/records/{record_id}", headers=headers)).status == 200
    assert (await client.delete(f"/records/{record_id}", headers=headers)).status == 204
    for method in ("get", "delete"):
        response = await client.request(method, f"/records/{record_id}", headers=headers)
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"),
    ("offset=-1", "offset"), ("source=myspace", "source"), ("type=tweet", "type"),
    ("search=" + "x" * 501, "search"),
])
async def test_list_query_validation(client, alice, query, field):
    _, headers = alice
    response = await client.get(f"/records?{query}", headers=headers)
    assert response.status == 400
    assert (await response.json())["error"]["details"]["field"] == field


async def test_ids_must_be_uuids(client, alice):
    _, headers = alice
    for path in ("/records/123", "/records/123/links", "/records/123/context",
                 "/links/x/explanation", "/context-groups/nope", "/data-sources/1"):
        response = await client.get(path, headers=headers)
        assert response.status == 400, path


async def test_links_and_context_of_a_record(client, alice):
    _, headers = alice
    first = await (await client.post("/records", json=record(), headers=headers)).json()
    await client.post("/records", headers=headers, json=record(
        "abc", sourcePlatform="github", artifactType="commit", title="Fix PROJ-7"))
    record_id = first["record"]["id"]
    links = await (await client.get(f"/records/{record_id}/links", headers=headers)).json()
    assert links["total"] == 1 and links["limit"] == 20
    context = await client.get(f"/records/{record_id}/context?depth=3", headers=headers)
    body = await context.json()
    assert len(body["nodes"]) == 2 and len(body["links"]) == 1
    assert body["groups"] == [] and body["depth"] == 3
    for depth in ("0", "4", "two"):
        response = await client.get(f"/records/{record_id}/context?depth={depth}",
                                    headers=headers)
        assert response.status == 400
    missing = "00000000-0000-4000-8000-000000000001"
    for suffix in ("links", "context"):
        assert (await client.get(f"/records/{missing}/{suffix}", headers=headers)).status == 404


async def test_ingest_rate_is_limited_per_user_with_retry_after(make_client):
    client = await make_client(ingest_rate_limit_per_user=2)
    _, ada = await register(client, "ada@example.com")
    _, bob = await register(client, "bob@example.com")
    statuses = [(await client.post("/records", json=record(f"A-{n}"), headers=ada)).status
                for n in range(3)]
    assert statuses == [201, 201, 429]
    refused = await client.post("/records", json=record("A-9"), headers=ada)
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await refused.json())["error"]["code"] == "rate_limited"
    assert (await client.post("/records", json=record("B-1"), headers=bob)).status == 201


async def test_search_pages_stop_at_the_search_offset_cap(make_client):
    client = await make_client(search_offset_max=100)
    _, headers = await register(client)
    assert (await client.get("/records?search=x&offset=100", headers=headers)).status == 200
    deep = await client.get("/records?search=x&offset=101", headers=headers)
    assert deep.status == 400
    assert (await deep.json())["error"]["details"] == {"field": "offset", "maxOffset": 100}
    assert (await client.get("/records?offset=5000", headers=headers)).status == 200
