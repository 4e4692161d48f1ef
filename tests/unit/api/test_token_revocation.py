"""Logout and password change revoke tokens (a per-user version); key ids let the signing
secret rotate without logging anyone out."""

import jwt
from kushim_api.auth import Tokens

from tests.unit.api.conftest import SECRET, login, register

OLD_SECRET = "the-previous-token-secret-0123456789abc"  # noqa: S105


async def test_logout_revokes_every_token_of_the_user(client):
    _, headers = await register(client)
    second = await client.post("/auth/login", json={"email": "ada@example.com",
                                                    "password": "correct horse"})
    other_session = {"Authorization": f"Bearer {(await second.json())['token']}"}
    assert (await client.get("/users/me", headers=headers)).status == 200
    assert (await client.post("/auth/logout", headers=headers)).status == 204
    for session in (headers, other_session):
        refused = await client.get("/users/me", headers=session)
        assert refused.status == 401
        assert (await refused.json())["error"]["message"] == "token revoked"
    again = await client.post("/auth/login", json={"email": "ada@example.com",
                                                   "password": "correct horse"})
    fresh = {"Authorization": f"Bearer {(await again.json())['token']}"}
    assert (await client.get("/users/me", headers=fresh)).status == 200


async def test_logout_needs_a_token(client):
    assert (await client.post("/auth/logout")).status == 401


async def test_password_change_revokes_old_tokens_and_answers_a_new_one(client):
    _, headers = await register(client)
    wrong = await client.post("/auth/password", headers=headers, json={
        "currentPassword": "not it at all", "newPassword": "a new password"})
    assert wrong.status == 403
    short = await client.post("/auth/password", headers=headers, json={
        "currentPassword": "correct horse", "newPassword": "short"})
    assert short.status == 400
    changed = await client.post("/auth/password", headers=headers, json={
        "currentPassword": "correct horse", "newPassword": "a new password"})
    assert changed.status == 200
    new_headers = {"Authorization": f"Bearer {(await changed.json())['token']}"}
    assert (await client.get("/users/me", headers=headers)).status == 401
    assert (await client.get("/users/me", headers=new_headers)).status == 200
    assert await login(client, "correct horse") == 401
    assert await login(client, "a new password") == 200


async def test_a_token_of_a_previous_secret_verifies_after_rotation(make_client):
    client = await make_client(auth_token_previous_secrets=(OLD_SECRET,))
    user_id, _ = await register(client)
    before_rotation = Tokens(OLD_SECRET, 600).issue(user_id)
    ok = await client.get("/users/me", headers={"Authorization": f"Bearer {before_rotation}"})
    assert ok.status == 200
    header = jwt.get_unverified_header(before_rotation)
    assert header["kid"] and header["kid"] != jwt.get_unverified_header(
        Tokens(SECRET, 600).issue(user_id))["kid"]


async def test_tokens_of_retired_or_unknown_keys_are_refused(client):
    user_id, _ = await register(client)
    retired = Tokens(OLD_SECRET, 600).issue(user_id)
    refused = await client.get("/users/me", headers={"Authorization": f"Bearer {retired}"})
    assert refused.status == 401
    # Without a key id only the current secret is tried.
    unnamed = jwt.encode({"sub": user_id, "iat": 1, "exp": 2**40, "iss": "kushim"}, OLD_SECRET,
                         algorithm="HS256")
    assert (await client.get("/users/me", headers={
        "Authorization": f"Bearer {unnamed}"})).status == 401
    current_unnamed = jwt.encode({"sub": user_id, "iat": 1, "exp": 2**40, "iss": "kushim"},
                                 SECRET, algorithm="HS256")
    assert (await client.get("/users/me", headers={
        "Authorization": f"Bearer {current_unnamed}"})).status == 200


async def test_a_token_of_an_unknown_user_is_refused(client):
    stranger = Tokens(SECRET, 600).issue("7b0d4f3e-2a51-4c47-9d4e-0e6f1c2b3a4d")
    refused = await client.get("/records", headers={"Authorization": f"Bearer {stranger}"})
    assert refused.status == 401


async def test_the_last_known_version_is_used_while_graph_cannot_answer(make_client, backends):
    client = await make_client(token_version_cache_ms=0)
    _, headers = await register(client)
    assert (await client.get("/users/me", headers=headers)).status == 200
    backends.graph.down = True
    # The profile comes from lockcache's cache; the version check must not turn it into a 401.
    assert (await client.get("/users/me", headers=headers)).status == 200
