from tests.unit.api.records_data import record


async def test_profile_is_cached_and_the_gateway_invalidates_nothing(client, alice, backends):
    user_id, headers = alice
    def reads() -> int:
        return len([c for c in backends.graph.calls if c[0] == "GetUser"])

    first = await (await client.get("/users/me", headers=headers)).json()
    after_first = reads()
    second = await (await client.get("/users/me", headers=headers)).json()
    assert first == second and first["id"] == user_id
    assert reads() == after_first  # the second profile and the token version: both cached
    lookups = [c[1].key for c in backends.cache.calls if c[0] == "GetOrLease"]
    assert lookups[0].namespace == 2 and lookups[0].user_id == user_id

    patched = await client.patch("/users/me", json={"displayName": "Ada L.",
                                                    "settings": {"theme": "dark"}},
                                 headers=headers)
    assert patched.status == 200
    assert (await patched.json())["displayName"] == "Ada L."
    # graph invalidates the profile with the update (tests/integration/api), not the gateway
    assert [c for c in backends.cache.calls if c[0] == "Invalidate"] == []


async def test_profile_served_uncached_when_lockcache_is_down(client, alice, backends):
    _, headers = alice
    backends.cache.down = True
    response = await client.get("/users/me", headers=headers)
    assert response.status == 200
    patched = await client.patch("/users/me", json={"displayName": "x"}, headers=headers)
    assert patched.status == 200


async def test_patch_me_validation(client, alice):
    _, headers = alice
    for body in ({}, {"displayName": 5}, {"settings": [1]}, {"email": "x@y.z"}):
        assert (await client.patch("/users/me", json=body, headers=headers)).status == 400


async def test_data_source_lifecycle_and_write_only_secret(client, alice):
    _, headers = alice
    created = await client.post("/data-sources", headers=headers, json={
        "platform": "github", "name": "acme/api", "webhookSecret": "s" * 20,
        "config": {"repo": "acme/api"}})
    assert created.status == 201
    ds = await created.json()
    assert ds["hasWebhookSecret"] is True and "webhookSecret" not in ds
    assert ds["webhookPath"] == f"/webhooks/github/{ds['id']}"
    page = await (await client.get("/data-sources", headers=headers)).json()
    assert page["total"] == 1
    patched = await client.patch(f"/data-sources/{ds['id']}", json={"name": "renamed"},
                                 headers=headers)
    assert (await patched.json())["name"] == "renamed"
    assert (await client.get(f"/data-sources/{ds['id']}", headers=headers)).status == 200
    assert (await client.delete(f"/data-sources/{ds['id']}", headers=headers)).status == 204
    for method, path, body in (("get", f"/data-sources/{ds['id']}", None),
                               ("patch", f"/data-sources/{ds['id']}", {"name": "x"}),
                               ("delete", f"/data-sources/{ds['id']}", None),
                               ("get", f"/data-sources/{ds['id']}/records", None)):
        assert (await client.request(method, path, json=body, headers=headers)).status == 404


async def test_data_source_validation(client, alice):
    _, headers = alice
    for body in ({"platform": "myspace", "name": "x"}, {"platform": "github"},
                 {"platform": "github", "name": "x", "webhookSecret": "short"},
                 {"platform": "github", "name": "x", "config": "yes"}):
        assert (await client.post("/data-sources", json=body, headers=headers)).status == 400


async def test_platform_records_are_cached(client, alice, backends):
    user_id, headers = alice
    ds = await (await client.post("/data-sources", headers=headers,
                                  json={"platform": "jira", "name": "PROJ"})).json()
    await client.post("/records", json=record("PROJ-1", dataSourceId=ds["id"]), headers=headers)
    path = f"/data-sources/{ds['id']}/records"
    first = await (await client.get(path, headers=headers)).json()
    assert first["total"] == 1
    await client.get(path + "?limit=1", headers=headers)
    lists = [c for c in backends.graph.calls if c[0] == "ListRecords"]
    assert len(lists) == 1
    key = next(c[1].key for c in backends.cache.calls if c[0] == "GetOrLease")
    assert (key.namespace, key.platform, key.user_id, key.data_source_id) == (
        3, "jira", user_id, ds["id"])

    await client.post("/records", json=record("PROJ-2", dataSourceId=ds["id"]), headers=headers)
    # graph invalidates the platform data it changes (tests/integration/api), not the gateway
    assert [c for c in backends.cache.calls if c[0] == "Invalidate"] == []
    deep = await (await client.get(path + "?offset=100", headers=headers)).json()
    assert deep["items"] == [] and deep["total"] == 2
