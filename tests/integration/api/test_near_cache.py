"""The gateway's near cache on the real stack: hits from memory, own writes seen at once."""

from kushim_api import keys

from tests.integration.polling import eventually


async def test_a_profile_is_served_from_the_near_cache_and_a_patch_is_seen_at_once(
    client, alice
):
    _, headers = alice
    app = client.server.app
    near = app[keys.CACHES].near
    metrics = app[keys.METRICS].registry
    assert (await client.get("/users/me", headers=headers)).status == 200  # opens the stream
    await eventually(lambda: near.usable)

    async def read_into_near() -> bool:
        await client.get("/users/me", headers=headers)
        return len(near) > 0

    await eventually(read_into_near)
    hits = near.stats.hits
    counted = metrics.get_sample_value("kushim_near_cache_total", {"outcome": "hit"}) or 0
    assert (await client.get("/users/me", headers=headers)).status == 200
    assert near.stats.hits == hits + 1
    assert metrics.get_sample_value("kushim_near_cache_total", {"outcome": "hit"}) == counted + 1
    patched = await client.patch("/users/me", json={"displayName": "Near"}, headers=headers)
    assert patched.status == 200
    again = await (await client.get("/users/me", headers=headers)).json()
    assert again["displayName"] == "Near"


async def test_without_entries_the_gateway_has_no_near_cache(aiohttp_client, config):
    from dataclasses import replace

    from kushim_api.app import create_app

    client = await aiohttp_client(create_app(replace(config, near_cache_max_entries=0)))
    assert client.server.app[keys.CACHES].near is None
