"""Logout and password change on the real graph: the version is stored in PostgreSQL, so a
second gateway replica refuses the revoked token too."""

import dataclasses

from kushim_api.app import create_app

from tests.integration.api.conftest import register
from tests.integration.api.support import unique_email


async def test_logout_on_one_replica_revokes_on_another(aiohttp_client, config):
    # No version cache on the second replica: it reads graph on every request.
    first = await aiohttp_client(create_app(config))
    second = await aiohttp_client(create_app(dataclasses.replace(config,
                                                                 token_version_cache_ms=0)))
    _, headers = await register(first)
    assert (await second.get("/users/me", headers=headers)).status == 200
    assert (await first.post("/auth/logout", headers=headers)).status == 204
    assert (await first.get("/users/me", headers=headers)).status == 401
    assert (await second.get("/users/me", headers=headers)).status == 401


async def test_password_change_stores_the_new_hash_and_revokes(client):
    email = unique_email()
    _, headers = await register(client, email)
    changed = await client.post("/auth/password", headers=headers, json={
        "currentPassword": "correct horse battery", "newPassword": "another horse battery"})
    assert changed.status == 200, await changed.text()
    assert (await client.get("/users/me", headers=headers)).status == 401
    fresh = {"Authorization": f"Bearer {(await changed.json())['token']}"}
    assert (await client.get("/users/me", headers=fresh)).status == 200
    login = await client.post("/auth/login", json={"email": email,
                                                   "password": "another horse battery"})
    assert login.status == 200
    old = await client.post("/auth/login", json={"email": email,
                                                 "password": "correct horse battery"})
    assert old.status == 401
