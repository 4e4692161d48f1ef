"""The Redis guide's multi-instance test, automated: two gateways on the same lockcache,
graph and Redis get the same batch of related records at once, many times. No duplicate
links, every link a single-instance run makes is there, and graph logs `Lock acquired:` for
the discovery resources. Then the same with Redis stopped: still no duplicate links."""

import asyncio
import itertools

import aiohttp
import pytest

from devstack.redis import RedisServer
from tests.integration.api.support import (
    LogBuffer,
    eventually,
    free_port,
    start_gateway,
    start_graph,
    start_lockcache,
    unique_email,
)

ROUNDS_WITH_REDIS = 3
ROUNDS_WITHOUT_REDIS = 2
SENDS_PER_GATEWAY = 2


def related_batch() -> list[dict]:
    """Tickets, the commits and pull requests that fix them, and the chat about them."""
    records = []
    for n in range(1, 5):
        key, sha = f"SHOP-{n}", f"{n:x}" * 40
        records += [
            {"externalId": key, "sourcePlatform": "jira", "artifactType": "task",
             "title": f"{key}: cart total wrong for coupon {n}", "author": "ada",
             "body": f"Coupon {n} double-applies at checkout.",
             "timestamp": f"2024-06-0{n}T09:00:00+00:00", "participants": ["ada", "bob"],
             "metadata": {"ticketId": key}},
            {"externalId": f"acme/shop/commit/{sha[:40]}", "sourcePlatform": "github",
             "artifactType": "commit", "title": f"Fix {key}: apply coupon {n} once",
             "author": "bob", "body": f"Fix {key}: apply coupon {n} once",
             "timestamp": f"2024-06-0{n}T11:00:00+00:00", "participants": ["bob"],
             "metadata": {"commit": sha[:40], "branch": f"fix/{key}"}},
            {"externalId": f"acme/shop/pull/{100 + n}", "sourcePlatform": "github",
             "artifactType": "pull_request", "title": f"{key}: coupon fix",
             "author": "bob", "body": f"Fixes {key}. Includes {sha[:40]}",
             "url": f"https://github.com/acme/shop/pull/{100 + n}",
             "timestamp": f"2024-06-0{n}T12:00:00+00:00", "participants": ["bob", "ada"],
             "metadata": {"branch": f"fix/{key}", "commit": sha[:40]}},
            {"externalId": f"T1/C1/{1717200000 + n}.000100", "sourcePlatform": "slack",
             "artifactType": "message", "title": f"is {key} deployed?", "author": "carol",
             "body": f"is {key} deployed? https://github.com/acme/shop/pull/{100 + n}",
             "timestamp": f"2024-06-0{n}T15:00:00+00:00", "participants": ["carol", "ada"],
             "metadata": {"channel": "C1"}},
        ]
    return records


class Deployment:
    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.redis = RedisServer(tmp_path / "redis", free_port(), name="redis-multi")
        self.log = LogBuffer()
        self.processes = []
        self.urls: list[str] = []

    def start(self) -> "Deployment":
        self.redis.start()
        lockcache, lockcache_addr = start_lockcache(
            self.log, redis_url=self.redis.url, redlock_urls=self.redis.url,
            name="lockcache-multi")
        self.processes.append(lockcache)
        graph, graph_addr = start_graph(self.log, lockcache_addr, name="graph-multi",
                                        DISCOVERY_SWEEP_INTERVAL_S="0.2")
        self.processes.append(graph)
        for name in ("api-3001", "api-3002"):
            gateway, port = start_gateway(self.log, graph_addr, lockcache_addr, name=name)
            self.processes.append(gateway)
            self.urls.append(f"http://127.0.0.1:{port}")
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.redis.stop()


@pytest.fixture
def deployment(backends, tmp_path):
    running = Deployment(tmp_path)
    try:
        yield running.start()
    finally:
        running.stop()


async def _user(session, url) -> dict:
    async with session.post(f"{url}/auth/register", json={
            "email": unique_email(), "password": "correct horse battery"}) as answer:
        assert answer.status == 201
        return {"Authorization": f"Bearer {(await answer.json())['token']}"}


async def _send(session, url, headers, batch) -> dict:
    async with session.post(f"{url}/records", json={"records": batch}, headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        body = await answer.json()
    assert body["summary"]["rejected"] == 0, body
    return body


async def _settled_links(session, url, headers) -> tuple[dict, list]:
    """Once discovery is done for every record: {id: externalId} and every link row."""

    async def all_done():
        async with session.get(f"{url}/records?limit=100", headers=headers) as answer:
            page = await answer.json()
        states = {r["discoveryState"] for r in page["items"]}
        return page if states <= {"done", None} else None

    page = await eventually(all_done, within=60)
    names = {r["id"]: r["externalId"] for r in page["items"]}
    links = {}
    for record_id in names:
        async with session.get(f"{url}/records/{record_id}/links?limit=100",
                               headers=headers) as answer:
            for link in (await answer.json())["items"]:
                links[link["id"]] = link
    return names, list(links.values())


def _pairs(names: dict, links: list) -> list[frozenset]:
    return [frozenset((names[x["sourceRecordId"]], names[x["targetRecordId"]])) for x in links]


async def _race(session, urls, batch) -> tuple[dict, list]:
    headers = await _user(session, urls[0])
    sends = [_send(session, url, headers, batch)
             for url, _ in itertools.product(urls, range(SENDS_PER_GATEWAY))]
    answers = await asyncio.gather(*sends)
    assert all(len(a["results"]) == len(batch) for a in answers)
    return await _settled_links(session, urls[0], headers)


async def test_two_gateways_make_no_duplicate_links_with_and_without_redis(deployment):
    batch = related_batch()
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        solo_headers = await _user(session, deployment.urls[0])
        await _send(session, deployment.urls[0], solo_headers, batch)
        names, links = await _settled_links(session, deployment.urls[0], solo_headers)
        expected = set(_pairs(names, links))
        assert len(expected) >= len(batch) // 2, "the batch should be richly related"

        for round_no in range(ROUNDS_WITH_REDIS + ROUNDS_WITHOUT_REDIS):
            if round_no == ROUNDS_WITH_REDIS:
                await asyncio.to_thread(deployment.redis.stop)
                async with session.get(f"{deployment.urls[1]}/health/ready") as answer:
                    ready = await answer.json()
                assert (answer.status, ready["dependencies"]["redis"]) == (200, "down")
            names, links = await _race(session, deployment.urls, batch)
            pairs = _pairs(names, links)
            assert len(pairs) == len(set(pairs)), f"duplicate links in round {round_no}"
            assert expected <= set(pairs), (
                f"round {round_no} lacks links: {sorted(map(sorted, expected - set(pairs)))}")
            if round_no < ROUNDS_WITH_REDIS:
                log = "\n".join(deployment.log.lines())
                for record_id in names:
                    assert f"Lock acquired: relationship_discovery:{record_id}" in log, record_id
