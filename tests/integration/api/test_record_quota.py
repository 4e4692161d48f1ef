"""The stored-records quota at the gateway: past MAX_RECORDS_PER_USER (graph) `POST /records`
answers 409 `conflict` in the error envelope, naming the limit; waiting does not free room, so
there is no Retry-After (deleting records does)."""

import dataclasses

import pytest
from kushim_api.app import create_app

from tests.integration.api.conftest import register
from tests.integration.api.support import LogBuffer, start_graph


@pytest.fixture(scope="module")
def small_graph(backends):
    """A graph process of its own whose users may store 2 records."""
    process, addr = start_graph(
        LogBuffer(), backends.lockcache_addr, "graph-quota", MAX_RECORDS_PER_USER="2"
    )
    yield addr
    process.stop()


def item(external_id: str) -> dict:
    return {"externalId": external_id, "sourcePlatform": "jira", "artifactType": "task",
            "title": external_id, "body": "", "author": "a",
            "timestamp": "2024-03-01T10:00:00+00:00"}  # fmt: skip


async def test_past_the_quota_ingest_answers_409_naming_the_limit(
    aiohttp_client, config, small_graph
):
    client = await aiohttp_client(create_app(dataclasses.replace(config, graph_addr=small_graph)))
    _, headers = await register(client)
    first = await client.post("/records", json=item("QT-1"), headers=headers)
    assert first.status == 201, await first.text()
    refused = await client.post(
        "/records", json={"records": [item("QT-2"), item("QT-3")]}, headers=headers
    )
    assert refused.status == 409
    body = await refused.json()
    assert body["error"]["code"] == "conflict"
    assert "the limit is 2 records per user" in body["error"]["message"]
    listed = await (await client.get("/records", headers=headers)).json()
    assert listed["total"] == 1
    second = await client.post("/records", json=item("QT-2"), headers=headers)
    assert second.status == 201, await second.text()
