"""Webhook deliveries on real processes: a delivery cut off by a graph crash is stored when the
sender tries again, and an older delivery arriving late leaves the newer version."""

import asyncio
import dataclasses
import json
import uuid

import asyncpg
from kushim_api.app import create_app
from kushim_api.webhooks.signatures import sign_hub

from tests.integration.api.conftest import register
from tests.integration.api.support import LogBuffer, eventually, required_env, start_graph
from tests.integration.api.test_webhooks_isolation import SECRET, _source
from tests.unit.api.payloads import raw


def _issue_delivery(title: str, updated_at: str) -> tuple[bytes, dict]:
    payload = json.loads(raw("github_issues_opened"))
    payload["issue"].update(title=title, updated_at=updated_at)
    body = json.dumps(payload).encode()
    return body, {"X-GitHub-Event": "issues", "X-GitHub-Delivery": str(uuid.uuid4()),
                  "X-Hub-Signature-256": sign_hub(SECRET, body),
                  "Content-Type": "application/json"}


async def _stored(db, user: str, source: str) -> tuple[int, int]:
    """(the user's records, the source's delivery claims)."""
    return (
        await db.fetchval("select count(*) from records where user_id = $1", uuid.UUID(user)),
        await db.fetchval("select count(*) from webhook_deliveries where data_source_id = $1",
                          uuid.UUID(source)),
    )


async def test_a_delivery_cut_off_by_a_graph_crash_is_stored_when_it_comes_again(
        aiohttp_client, config, backends):
    log = LogBuffer()
    doomed, doomed_addr = await asyncio.to_thread(
        start_graph, log, backends.lockcache_addr, "graph-doomed"
    )
    after = None
    db = await asyncpg.connect(required_env("DATABASE_URL"))
    holder = await asyncpg.connect(required_env("DATABASE_URL"))
    try:
        client = await aiohttp_client(create_app(dataclasses.replace(
            config, graph_addr=doomed_addr, upstream_timeout_ms=8000
        )))
        user, headers = await register(client)
        source = await _source(client, headers, "github")
        body, sent = _issue_delivery("Spelling error in the README file", "2019-05-15T15:20:18Z")

        # Holding the user's document-count row stops graph inside the delivery's transaction,
        # after it wrote the claim and the record, at the document-frequency update.
        held = holder.transaction()
        await held.start()
        await holder.execute(
            "insert into term_df (user_id, term, df) values ($1, '', 0)", uuid.UUID(user)
        )
        sending = asyncio.create_task(
            client.post(f"/webhooks/github/{source}", data=body, headers=sent)
        )
        waiting = await eventually(lambda: db.fetchval(
            "select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))",
            holder.get_server_pid(),
        ))
        doomed.kill()
        assert (await sending).status == 503
        await held.rollback()
        # The dead graph's backend rolls back once it finds its client gone.
        await eventually(lambda: db.fetchval(
            "select count(*) = 0 from pg_stat_activity where pid = $1", waiting
        ))
        assert await _stored(db, user, source) == (0, 0)

        after, after_addr = await asyncio.to_thread(
            start_graph, log, backends.lockcache_addr, "graph-after"
        )
        client = await aiohttp_client(create_app(dataclasses.replace(
            config, graph_addr=after_addr
        )))
        again = await client.post(f"/webhooks/github/{source}", data=body, headers=sent)
        assert again.status == 200, await again.text()
        answer = await again.json()
        assert not answer["duplicate"] and [r["status"] for r in answer["records"]] == ["created"]
        once_more = await client.post(f"/webhooks/github/{source}", data=body, headers=sent)
        assert (await once_more.json())["duplicate"] is True
        assert await _stored(db, user, source) == (1, 1)
    finally:
        await holder.close()
        await db.close()
        for process in (doomed, after):
            if process is not None:
                await asyncio.to_thread(process.stop)


async def test_an_older_delivery_after_a_newer_one_leaves_the_newer_version(client, alice):
    _, headers = alice
    source = await _source(client, headers, "github")
    newer = _issue_delivery("Spelling error, patch attached", "2019-05-16T09:00:00Z")
    older = _issue_delivery("Spelling error in the README file", "2019-05-15T15:20:18Z")
    statuses = []
    for body, sent in (newer, older):
        response = await client.post(f"/webhooks/github/{source}", data=body, headers=sent)
        assert response.status == 200, await response.text()
        statuses += [r["status"] for r in (await response.json())["records"]]
    assert statuses == ["created", "unchanged"]
    page = await (await client.get(f"/data-sources/{source}/records", headers=headers)).json()
    assert page["total"] == 1
    assert "patch attached" in page["items"][0]["title"]
    assert page["items"][0]["timestamp"].startswith("2019-05-16T09:00:00")
