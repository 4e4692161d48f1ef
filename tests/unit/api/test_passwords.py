"""Bounded password hashing: a dedicated pool, a capped queue, 503 + Retry-After beyond it,
and no hash spent on an email that is already taken."""

import asyncio
import threading

from kushim_api import keys
from kushim_api.errors import Unavailable
from kushim_api.passwords import HashingBusy, Passwords

from tests.unit.api.conftest import register


class _Hasher:
    """The real hasher behind a gate and a call log."""

    def __init__(self, real) -> None:
        self.real, self.calls = real, []
        self.entered, self.release = threading.Event(), threading.Event()
        self.release.set()

    def hash(self, password: str) -> str:
        self.calls.append(password)
        self.entered.set()
        self.release.wait(10)
        return self.real.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        self.entered.set()
        self.release.wait(10)
        return self.real.verify(stored_hash, password)


def _gated(passwords: Passwords) -> tuple[threading.Event, threading.Event]:
    """Makes every hash wait for `release`; `entered` is set once one is running."""
    hasher = passwords._hasher = _Hasher(passwords._hasher)
    hasher.release.clear()
    return hasher.entered, hasher.release


async def test_hashes_beyond_the_pool_and_its_queue_are_refused_at_once():
    passwords = Passwords("cheapest", concurrency=1, queue=1)
    entered, release = _gated(passwords)
    try:
        running = asyncio.create_task(passwords.hash("first password"))
        await asyncio.to_thread(entered.wait, 10)
        queued = asyncio.create_task(passwords.hash("second password"))
        await asyncio.sleep(0)
        refused = None
        try:
            await passwords.hash("third password")
        except HashingBusy as exc:
            refused = exc
        assert isinstance(refused, Unavailable)
        release.set()
        assert (await running).startswith("$argon2id$")
        assert (await queued).startswith("$argon2id$")
        # Capacity comes back once the hashes are done.
        assert await passwords.verify(await passwords.hash("fourth password"), "fourth password")
    finally:
        release.set()
        passwords.close()


async def test_a_login_past_the_hashing_capacity_answers_503_with_retry_after(make_client):
    client = await make_client(password_hash_concurrency=1, password_hash_queue=0)
    await register(client, "ada@example.com")
    entered, release = _gated(client.app[keys.PASSWORDS])
    try:
        first = asyncio.create_task(client.post("/auth/register", json={
            "email": "bea@example.com", "password": "correct horse"}))
        await asyncio.to_thread(entered.wait, 10)
        busy = await client.post("/auth/login", json={
            "email": "ada@example.com", "password": "correct horse"})
        assert busy.status == 503
        assert busy.headers["Retry-After"] == "1"
        assert (await busy.json())["error"]["code"] == "unavailable"
        release.set()
        assert (await first).status == 201
    finally:
        release.set()


async def test_register_with_a_taken_email_spends_no_hash(client):
    await register(client, "ada@example.com")
    passwords = client.app[keys.PASSWORDS]
    hasher = passwords._hasher = _Hasher(passwords._hasher)
    response = await client.post("/auth/register", json={
        "email": "ADA@example.com", "password": "another password"})
    assert response.status == 409
    assert hasher.calls == []
