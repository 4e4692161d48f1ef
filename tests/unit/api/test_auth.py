import time

import jwt
from kushim_api.clientaddr import client_address, parse_networks

from tests.unit.api.conftest import SECRET, login, register


async def test_register_then_login_gives_a_token_for_the_same_user(client):
    user_id, headers = await register(client, "Carol@Example.com")
    response = await client.post("/auth/login", json={"email": "carol@example.com",
                                                      "password": "correct horse"})
    assert response.status == 200
    token = (await response.json())["token"]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == user_id and claims["exp"] > claims["iat"]
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert (await me.json())["email"] == "carol@example.com"


async def test_password_is_stored_as_argon2id_never_plain(client, backends):
    user_id, _ = await register(client)
    stored = backends.graph.users[user_id][1]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


async def test_register_twice_is_409(client):
    await register(client)
    response = await client.post("/auth/register", json={"email": "ADA@example.com",
                                                         "password": "another one"})
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "conflict"


async def test_register_validates_email_and_password(client):
    for body in ({"email": "not-an-email", "password": "long enough"},
                 {"email": "a@b.io", "password": "short"},
                 {"email": "a@b.io"},
                 {"email": "a@b.io", "password": "long enough", "admin": True}):
        response = await client.post("/auth/register", json=body)
        assert response.status == 400, body
        assert (await response.json())["error"]["code"] == "validation_error"


async def test_login_with_a_wrong_password_or_unknown_email_is_401(client):
    await register(client)
    for email, password in (("ada@example.com", "wrong password"),
                            ("nobody@example.com", "correct horse")):
        response = await client.post("/auth/login", json={"email": email, "password": password})
        assert response.status == 401
        body = await response.json()
        assert body == {"error": {"code": "unauthorized", "message": "invalid email or password"}}


async def test_protected_routes_need_a_valid_unexpired_token(client, alice):
    user_id, _ = alice
    now = int(time.time())
    expired = jwt.encode({"sub": user_id, "iat": now - 100, "exp": now - 10, "iss": "kushim"},
                         SECRET, algorithm="HS256")
    forged = jwt.encode({"sub": user_id, "iat": now, "exp": now + 60, "iss": "kushim"},
                        "another-secret-another-secret-0123", algorithm="HS256")
    none_alg = jwt.encode({"sub": user_id, "iat": now, "exp": now + 60, "iss": "kushim"},
                          None, algorithm="none")
    for header in (None, "Bearer", "Basic abc", f"Bearer {expired}", f"Bearer {forged}",
                   f"Bearer {none_alg}", "Bearer not.a.jwt"):
        headers = {"Authorization": header} if header else {}
        response = await client.get("/records", headers=headers)
        assert response.status == 401, header
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await response.json())["error"]["code"] == "unauthorized"


async def test_login_is_rate_limited_per_account(make_client, backends):
    client = await make_client(login_rate_limit_per_account=3)
    await register(client)
    statuses = []
    for _ in range(5):
        response = await client.post("/auth/login", json={"email": "ada@example.com",
                                                          "password": "wrong password"})
        statuses.append(response.status)
    assert statuses == [401, 401, 401, 429, 429]
    assert int(response.headers["Retry-After"]) >= 1
    assert (await response.json())["error"]["code"] == "rate_limited"
    subjects = {c[1].key.subject for c in backends.cache.calls if c[0] == "Increment"}
    assert any(s.startswith("login:account:") for s in subjects)
    assert "login:ip:127.0.0.1" in subjects


async def test_login_is_rate_limited_per_ip(make_client):
    client = await make_client(login_rate_limit_per_ip=2)
    statuses = []
    for n in range(3):
        response = await client.post("/auth/login", json={"email": f"u{n}@example.com",
                                                          "password": "whatever pw"})
        statuses.append(response.status)
    assert statuses == [401, 401, 429]


async def test_successful_login_resets_the_account_counter(make_client):
    client = await make_client(login_rate_limit_per_account=2)
    await register(client)
    good = {"email": "ada@example.com", "password": "correct horse"}
    bad = {"email": "ada@example.com", "password": "wrong password"}
    assert (await client.post("/auth/login", json=bad)).status == 401
    assert (await client.post("/auth/login", json=good)).status == 200
    assert (await client.post("/auth/login", json=bad)).status == 401
    assert (await client.post("/auth/login", json=bad)).status == 401
    assert (await client.post("/auth/login", json=bad)).status == 429


async def test_rate_limit_falls_back_to_the_process_when_lockcache_is_down(make_client, backends):
    client = await make_client(login_rate_limit_per_account=2)
    await register(client)
    backends.cache.down = True
    bad = {"email": "ada@example.com", "password": "wrong password"}
    statuses = [(await client.post("/auth/login", json=bad)).status for _ in range(3)]
    assert statuses == [401, 401, 429]
    metrics = await (await client.get("/metrics")).text()
    assert "kushim_rate_limit_local_fallback_total 6.0" in metrics


async def test_rate_limit_falls_back_when_redis_is_down(make_client, backends):
    client = await make_client(login_rate_limit_per_account=1)
    await register(client)
    backends.cache.redis_up = False
    bad = {"email": "ada@example.com", "password": "wrong password"}
    statuses = [(await client.post("/auth/login", json=bad)).status for _ in range(2)]
    assert statuses == [401, 429]


async def test_registration_is_rate_limited_per_ip(make_client):
    client = await make_client(register_rate_limit_per_ip=2)
    statuses = [
        (await client.post("/auth/register", json={"email": f"r{n}@example.com",
                                                   "password": "long enough"})).status
        for n in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_client_address_is_read_from_the_right_past_trusted_proxies():
    spoofed = ["1.1.1.1, 203.0.113.9, 10.0.0.5"]
    assert client_address("10.0.0.2", spoofed, hops=0, networks=()) == "10.0.0.2"
    assert client_address("10.0.0.2", spoofed, hops=1, networks=()) == "10.0.0.5"
    assert client_address("10.0.0.2", spoofed, hops=2, networks=()) == "203.0.113.9"
    assert client_address("10.0.0.2", spoofed, hops=9, networks=()) == "1.1.1.1"
    private = parse_networks("10.0.0.0/8, fd00::/8")
    assert client_address("10.0.0.2", spoofed, hops=0, networks=private) == "203.0.113.9"
    assert client_address("10.0.0.2", [], hops=0, networks=private) == "10.0.0.2"
    assert client_address(None, ["a" * 500], hops=1, networks=()) == "a" * 64


async def test_a_client_cannot_escape_the_ip_limit_by_forging_forwarded_for(make_client):
    client = await make_client(login_rate_limit_per_ip=2, trusted_proxy_hops=1)
    statuses = []
    for n in range(4):
        response = await client.post("/auth/login", json={
            "email": f"nobody{n}@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}, 192.0.2.7"})
        statuses.append(response.status)
    assert statuses == [401, 401, 429, 429]


async def test_a_successful_login_resets_the_account_counter(make_client):
    client = await make_client(login_rate_limit_per_account=3)
    await register(client)
    assert [await login(client, "wrong password") for _ in range(2)] == [401, 401]
    assert await login(client, "correct horse") == 200
    assert [await login(client, "wrong password") for _ in range(3)] == [401, 401, 401]
