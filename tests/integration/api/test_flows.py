"""The HTTP contract end to end on real lockcache, graph, PostgreSQL, Redis and Neo4j."""

import uuid

from tests.integration.api.conftest import register
from tests.integration.api.support import eventually


async def outbox_drained(client) -> None:
    """Neo4j is a projection: reads that traverse it wait for the outbox to drain."""

    async def drained() -> bool:
        body = await (await client.get("/health/ready")).json()
        return body.get("outboxPending") == 0

    await eventually(drained)


def rec(external_id: str, **fields) -> dict:
    body = {
        "externalId": external_id, "sourcePlatform": "jira", "artifactType": "task",
        "title": f"{external_id}: checkout crashes on empty cart",
        "body": "Stack trace attached.", "author": "ada",
        "timestamp": "2024-05-01T12:00:00+02:00", "participants": ["ada"],
        "metadata": {"ticketId": external_id},
    }
    body.update(fields)
    return body


async def test_register_login_profile_cache(client, alice):
    user_id, headers = alice
    first = await client.get("/users/me", headers=headers)
    assert first.status == 200
    assert (await first.json())["id"] == user_id
    patched = await client.patch("/users/me", json={"displayName": "Ada"}, headers=headers)
    assert patched.status == 200
    again = await (await client.get("/users/me", headers=headers)).json()
    assert again["displayName"] == "Ada"


async def test_ingest_created_changed_unchanged_and_links(client, alice):
    _, headers = alice
    key = f"PAY-{uuid.uuid4().int % 10_000}"
    first = await client.post("/records", json=rec(key), headers=headers)
    assert first.status == 201, await first.text()
    created = await first.json()
    assert created["created"] is True
    same = await client.post("/records", json=rec(key), headers=headers)
    assert same.status == 200
    assert (await same.json())["changed"] is False
    changed = await client.post("/records", json=rec(key, body="new body"), headers=headers)
    assert changed.status == 200
    body = await changed.json()
    assert (body["created"], body["changed"]) == (False, True)

    commit = await client.post("/records", headers=headers, json=rec(
        "3f786850e387550fdab836ed7e6dc881de23001b", sourcePlatform="github",
        artifactType="commit", title=f"Fix {key}: guard empty cart",
        metadata={"commit": "3f786850e387550fdab836ed7e6dc881de23001b", "branch": "main"}))
    assert commit.status == 201
    links = (await commit.json())["links"]
    assert links, "discovery should link the commit to the ticket it names"
    record_id = created["record"]["id"]
    page = await (await client.get(f"/records/{record_id}/links", headers=headers)).json()
    assert page["total"] >= 1
    explanation = await client.get(f"/links/{page['items'][0]['id']}/explanation",
                                   headers=headers)
    assert explanation.status == 200
    await outbox_drained(client)
    context = await client.get(f"/records/{record_id}/context?depth=2", headers=headers)
    assert context.status == 200
    assert len((await context.json())["nodes"]) >= 2


async def test_not_found_everywhere_for_another_user(client, alice, bob):
    _, alice_headers = alice
    _, bob_headers = bob
    made = await (await client.post("/records", json=rec("ISO-1"), headers=alice_headers)).json()
    record_id = made["record"]["id"]
    for path in (f"/records/{record_id}", f"/records/{record_id}/links",
                 f"/records/{record_id}/context"):
        response = await client.get(path, headers=bob_headers)
        assert response.status == 404, path
    missing = str(uuid.uuid4())
    assert (await client.get(f"/records/{missing}", headers=alice_headers)).status == 404


async def test_login(client):
    email = f"x{uuid.uuid4().hex[:10]}@example.com"
    await register(client, email)
    good = await client.post("/auth/login", json={"email": email,
                                                  "password": "correct horse battery"})
    assert good.status == 200
    bad = await client.post("/auth/login", json={"email": email, "password": "wrong password"})
    assert bad.status == 401


async def test_login_limits_are_shared_by_replicas(aiohttp_client, config):
    import dataclasses

    from kushim_api.app import create_app

    limited = dataclasses.replace(config, login_rate_limit_per_account=3)
    first = await aiohttp_client(create_app(limited))
    second = await aiohttp_client(create_app(limited))
    email = f"x{uuid.uuid4().hex[:10]}@example.com"
    await register(first, email)
    bad = {"email": email, "password": "wrong password"}
    statuses = []
    for replica in (first, second, first, second):
        statuses.append((await replica.post("/auth/login", json=bad)).status)
    assert statuses == [401, 401, 401, 429]


async def test_profile_cache_hits_show_in_health_redis(client, alice):
    _, headers = alice

    async def hits() -> int:
        report = await (await client.get("/health/redis")).json()
        return report["cache"]["user_profile"]["hits"]

    before = await hits()
    await client.get("/users/me", headers=headers)
    await client.get("/users/me", headers=headers)
    assert await hits() >= before + 1


async def test_health_redis_info_is_the_guides_shape_as_redis_reports_it(client):
    report = await (await client.get("/health/redis")).json()
    info = report["info"]
    assert set(info) == {"total_commands_processed", "instantaneous_ops_per_sec",
                         "used_memory_human", "connected_clients"}
    assert all(isinstance(value, str) for value in info.values())
    assert int(info["total_commands_processed"]) > 0 and info["used_memory_human"][-1] in "BKMG"
    assert report["locks"]["enabled"] is True and "reason" not in report["locks"]
