"""Steady ingest and read load through the gateways' Service: each worker registers its own
user, posts records that mention each other's ticket keys (so discovery links them), reads
each one back and reads the context around it (so the context cache matters).

Every answer is classified: the expected status; a 503 while a dependency is really down
(`outage` set) or within `grace_s` after it came back; anything else is a failure, and a
500 is also counted on its own."""

import asyncio
import itertools
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PASSWORD = "correct horse battery"  # noqa: S105 - every load user's, on a throwaway stack


@dataclass(frozen=True)
class Acked:
    """A record the gateway acknowledged, and what it must read back as."""

    user_id: str
    token: str
    title: str
    body: str


def record_for(n: int, i: int) -> dict:
    """The i-th record of worker n: a ticket, then a pull request and a chat message that name
    it (by metadata and in their titles), round and round."""
    ticket = f"PROJ-{i // 3 + 1}"
    kind = i % 3
    common = {
        "author": f"dev{n}",
        "timestamp": f"2024-05-01T12:{i % 60:02d}:00+00:00",
        "participants": [f"dev{n}", "ada"],
    }
    if kind == 0:
        return common | {
            "externalId": ticket, "sourcePlatform": "jira", "artifactType": "task",
            "title": f"{ticket}: checkout fails during deploy",
            "body": f"worker {n} step {i}: seen in staging", "metadata": {"ticketId": ticket},
        }  # fmt: skip
    if kind == 1:
        return common | {
            "externalId": f"acme/shop#{i}", "sourcePlatform": "github",
            "artifactType": "pull_request", "title": f"Fix checkout crash ({ticket})",
            "body": f"Fixes {ticket}; worker {n} step {i}",
            "metadata": {"ticketId": ticket, "branch": f"fix/{ticket.lower()}"},
        }  # fmt: skip
    return common | {
        "externalId": f"C042/{n}.{i}", "sourcePlatform": "slack", "artifactType": "message",
        "title": f"Deploy blocked by {ticket}", "body": f"{ticket} again, worker {n} step {i}",
        "metadata": {},
    }  # fmt: skip


@dataclass
class Load:
    base_url: str
    workers: int = 4
    pace_s: float = 0.02  # between one worker's iterations: steady load, not saturation
    context_reads: bool = True
    grace_s: float = 15.0  # 503s still allowed this long after an outage ends
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    unavailable: int = 0  # 503s while allowed
    last_unavailable: float = 0.0  # monotonic time of the latest allowed 503
    slowest: dict[str, float] = field(default_factory=dict)  # route -> longest answer (s)
    acked_at: list[float] = field(default_factory=list)  # monotonic time of each acknowledgement
    outage: str | None = None
    outage_ended: float = float("-inf")
    # record id -> what it must read back as, for every record the gateway acknowledged
    acknowledged: dict[str, Acked] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # user id -> token
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = 0.0
    stopped: float = 0.0

    def begin_outage(self, name: str) -> None:
        self.outage = name

    def end_outage(self) -> None:
        self.outage = None
        self.outage_ended = time.monotonic()

    def _allows_503(self) -> bool:
        return self.outage is not None or time.monotonic() - self.outage_ended < self.grace_s

    async def _call(self, session, method: str, path: str, expect: tuple[int, ...], **kwargs):
        self.requests += 1
        started = time.monotonic()
        route = f"{method} {UUID.sub('{id}', path.split('?')[0])}"
        try:
            return await self._answer(session, method, path, expect, **kwargs)
        finally:
            elapsed = time.monotonic() - started
            self.slowest[route] = max(self.slowest.get(route, 0.0), elapsed)

    async def _answer(self, session, method: str, path: str, expect: tuple[int, ...], **kwargs):
        try:
            async with session.request(method, self.base_url + path, **kwargs) as response:
                self.statuses[response.status] += 1
                body = await response.json(content_type=None)
                if response.status in expect:
                    return body
                line = f"{method} {path}: {response.status} {body}"
                if response.status == 503 and self._allows_503():
                    self.unavailable += 1
                    self.last_unavailable = time.monotonic()
                    return None
                if response.status >= 500:
                    self.server_errors.append(line)
                self.failures.append(line)
                return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.statuses["error"] += 1
            self.failures.append(f"{method} {path}: {type(exc).__name__}: {exc}")
            return None

    async def register(self, session) -> tuple[str, str] | None:
        """A new user through the gateway: (user id, token), or None if it failed."""
        while not self.stop.is_set():
            email = f"chaos-{uuid.uuid4().hex[:12]}@example.com"
            body = {"email": email, "password": PASSWORD}
            made = await self._call(session, "POST", "/auth/register", (201,), json=body)
            if made is not None:
                self.users[made["user"]["id"]] = made["token"]
                return made["user"]["id"], made["token"]
            await asyncio.sleep(self.pace_s)  # an allowed 503: try again, paced
        return None

    async def worker(self, session: aiohttp.ClientSession, n: int) -> None:
        user = await self.register(session)
        if user is None:
            return
        user_id, token = user
        headers = {"Authorization": f"Bearer {token}"}
        for i in itertools.count():
            if self.stop.is_set():
                return
            record = record_for(n, i)
            made = await self._call(
                session, "POST", "/records", (200, 201), json=record, headers=headers
            )
            if made is not None:
                record_id = made["record"]["id"]
                self.acked_at.append(time.monotonic())
                self.acknowledged[record_id] = Acked(
                    user_id, token, record["title"], record["body"]
                )
                await self._call(session, "GET", f"/records/{record_id}", (200,), headers=headers)
                if self.context_reads:
                    path = f"/records/{record_id}/context?depth=2"
                    await self._call(session, "GET", path, (200,), headers=headers)
            await asyncio.sleep(self.pace_s)

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Run the workers until `stop` is set."""
        self.started = time.monotonic()
        await asyncio.gather(*(self.worker(session, n) for n in range(self.workers)))
        self.stopped = time.monotonic()

    def recovered_after(self, moment: float) -> float | None:
        """Seconds from `moment` (a fault's end) until the load is back: its first record
        acknowledged after it, and its last 503; None if no record was acknowledged since."""
        first = next((t for t in self.acked_at if t >= moment), None)
        if first is None:
            return None
        return max(first, self.last_unavailable) - moment

    def rate(self) -> float:
        elapsed = (self.stopped or time.monotonic()) - self.started
        return self.requests / elapsed if elapsed > 0 else 0.0


def client_session() -> aiohttp.ClientSession:
    """Every request opens its own connection, as behind an ingress: which gateway serves it
    is the Service's choice, made per connection."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=60),
    )
