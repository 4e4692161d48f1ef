"""Ingestion, rediscovery and record reads on real PostgreSQL, Neo4j and lockcache."""

import json
import uuid

import grpc
from kushim.graph.v1 import graph_pb2 as pb
from kushim_common import record_limits as limits

from tests.integration.graph.support import record, rpc_error

TICKET = dict(platform="jira", kind="task", title="Checkout times out for EU users",
              body="Payment provider latency spikes", author="ann")


async def test_ingest_links_related_records_with_explanation(graph):
    user = await graph.new_user()
    ticket, pr = await graph.ingest(
        user,
        record("PAY-101", **TICKET),
        record("acme/shop#7", platform="github", kind="pull_request",
               title="Raise provider timeout", body="Fixes PAY-101 by retrying",
               author="bob", participants=["ann"], when="2024-03-01T16:00:00+00:00"),
    )
    assert ticket.created and ticket.changed and pr.created
    assert pr.record.discovery_state == "done"
    assert len(pr.links) == 1
    link = pr.links[0]
    assert link.source_record_id == ticket.record.id  # the earlier record
    assert link.target_record_id == pr.record.id
    assert link.method == "deterministic"
    names = [signal.name for signal in link.signals]
    assert names[0] == "explicit_reference"
    assert "shared_people" in names and "temporal_proximity" in names
    assert link.confidence == 1.0 and link.link_type == "strong_contextual"
    assert "PAY-101" in link.signals[0].detail
    explained = await graph.links.GetLink(pb.GetLinkRequest(user_id=user, link_id=link.id))
    assert [s.name for s in explained.link.signals] == names


async def test_unrelated_records_stay_unlinked(graph):
    user = await graph.new_user()
    first, second = await graph.ingest(
        user,
        record("PAY-1", title="Invoice PDF layout", author="ann"),
        record("OPS-9", title="Rotate TLS certificates", author="carl",
               when="2024-09-01T10:00:00+00:00"),
    )
    assert not first.links and not second.links
    assert await graph.links_of(user, second.record.id) == []


async def test_unchanged_reingest_does_nothing(graph, db):
    user = await graph.new_user()
    item = record("PAY-7", **TICKET)
    (first,) = await graph.ingest(user, item)
    before = await db.fetchrow(
        "select updated_at, fencing_token from records where user_id = $1 and id = $2",
        uuid.UUID(user), uuid.UUID(first.record.id),
    )
    (again,) = await graph.ingest(user, item)
    assert not again.created and not again.changed
    assert again.record.id == first.record.id
    assert again.record.checksum == first.record.checksum
    after = await db.fetchrow(
        "select updated_at, fencing_token from records where user_id = $1 and id = $2",
        uuid.UUID(user), uuid.UUID(first.record.id),
    )
    assert after == before  # no write, no discovery run (the fencing token did not move)


async def test_changed_reingest_rediscovers(graph):
    user = await graph.new_user()
    (ticket,) = await graph.ingest(user, record("PAY-5", **TICKET))
    pr = dict(platform="github", kind="pull_request", author="bob",
              when="2024-05-20T10:00:00+00:00", title="Tune retries")
    (first,) = await graph.ingest(user, record("acme/shop#9", body="no reference yet", **pr))
    assert first.links == []
    (changed,) = await graph.ingest(user, record("acme/shop#9", body="Closes PAY-5", **pr))
    assert not changed.created and changed.changed
    assert [link.source_record_id for link in changed.links] == [ticket.record.id]
    assert changed.links[0].signals[0].name == "explicit_reference"
    # The reference removed again: the link no longer holds and goes.
    (reverted,) = await graph.ingest(user, record("acme/shop#9", body="unrelated now", **pr))
    assert reverted.changed and reverted.links == []
    assert await graph.links_of(user, ticket.record.id) == []


async def test_historical_import_links_around_its_own_timestamp(graph):
    user = await graph.new_user()
    old = dict(author="dora", participants=["eve"])
    results = await graph.ingest(
        user,
        record("LEGACY-1", title="Migrate billing cron", when="2015-06-01T09:00:00+00:00", **old),
        record("legacy/app#3", platform="github", kind="pull_request",
               title="Cron migration", body="Implements LEGACY-1",
               when="2015-06-03T09:00:00+00:00", **old),
        record("ab12cd34ef56", platform="github", kind="commit", title="cron: move to k8s",
               body="part of legacy/app#3", when="2015-06-02T12:00:00+00:00", **old),
    )
    ticket, pr, commit = (r.record.id for r in results)
    linked = {
        (link.source_record_id, link.target_record_id) for link in await graph.links_of(user, pr)
    }
    assert (ticket, pr) in linked
    assert (commit, pr) in linked  # the commit is earlier than the PR: it is the source


async def test_reference_by_sha_both_directions(graph):
    user = await graph.new_user()
    sha = "9fceb02d0ae598e95dc970b74767f19372d61af8"
    (mention,) = await graph.ingest(
        user, record("T-1", platform="slack", kind="message", title="deploy broke",
                     body="reverting 9fceb02 now", when="2024-01-02T10:00:00+00:00"),
    )
    # The commit arrives later; the earlier message mentioning it is found by its SHA.
    (commit,) = await graph.ingest(
        user, record(sha, platform="github", kind="commit", title="Bump dependency",
                     when="2024-01-01T10:00:00+00:00"),
    )
    assert [link.target_record_id for link in commit.links] == [mention.record.id]
    assert commit.links[0].source_record_id == commit.record.id


async def test_input_hygiene_rejects_items_not_the_batch(graph):
    user = await graph.new_user()
    deep = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    items = [
        record("OK-1", title="fine \x00title\x07", body="nul\x00byte and \U0001f680 emoji"),
        record("BIG-1", body="x" * (limits.MAX_BODY_CHARS + 1)),
        record("PPL-1", participants=[f"p{i}" for i in range(limits.MAX_PARTICIPANTS + 1)]),
        record("DEEP-1", metadata=deep),
        pb.RecordInput(external_id="JSON-1", source_platform="jira", artifact_type="task",
                       timestamp=record("x").timestamp, metadata_json="[1, 2]"),
        pb.RecordInput(external_id="TIME-1", source_platform="jira", artifact_type="task"),
        record("", title="no id"),
        record("KIND-1", kind="meme"),
        record("URL-1", url="javascript:alert(1)"),
        record("DS-1", data_source_id=str(uuid.uuid4())),
        record("NAN-1", metadata=None),
    ]
    items[-1].metadata_json = '{"a": NaN}'
    results = await graph.ingest(user, *items)
    assert [r.index for r in results] == list(range(len(items)))
    ok = results[0]
    assert not ok.HasField("error")
    assert ok.record.title == "fine title" and ok.record.body == "nulbyte and \U0001f680 emoji"
    errors = {r.record.external_id or items[r.index].external_id: r.error for r in results[1:]}
    assert errors["BIG-1"].field == "body" and "characters" in errors["BIG-1"].message
    assert errors["PPL-1"].field == "participants"
    assert errors["DEEP-1"].field == "metadata_json" and "deeper" in errors["DEEP-1"].message
    assert errors["JSON-1"].field == "metadata_json"
    assert errors["TIME-1"].field == "timestamp"
    assert errors[""].field == "external_id"
    assert errors["KIND-1"].field == "artifact_type"
    assert errors["URL-1"].field == "url"
    assert errors["DS-1"].field == "data_source_id"
    assert errors["NAN-1"].field == "metadata_json"
    listed = await graph.records.ListRecords(pb.ListRecordsRequest(user_id=user))
    assert listed.total == 1


async def test_nul_in_metadata_is_stripped(graph):
    user = await graph.new_user()
    (result,) = await graph.ingest(
        user, record("META-1", metadata={"branch": "fix/a\u0000b", "k\u0000": ["\u0000"]})
    )
    assert json.loads(result.record.metadata_json) == {"branch": "fix/ab", "k": [""]}


async def test_batch_over_500_is_invalid(graph):
    user = await graph.new_user()
    error = await rpc_error(graph.records.IngestRecords(pb.IngestRecordsRequest(
        user_id=user, records=[record(f"N-{i}") for i in range(501)]
    )))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "500" in error.details()


async def test_ingest_for_unknown_user_is_not_found(graph):
    error = await rpc_error(graph.records.IngestRecords(
        pb.IngestRecordsRequest(user_id=str(uuid.uuid4()), records=[record("X-1")])
    ))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(graph.records.IngestRecords(
        pb.IngestRecordsRequest(user_id="not-a-uuid", records=[record("X-1")])
    ))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "user_id" in error.details()


async def test_search_and_filters(graph):
    user = await graph.new_user()
    source = await graph.sources.CreateDataSource(
        pb.CreateDataSourceRequest(user_id=user, platform="github", name="acme")
    )
    await graph.ingest(
        user,
        record("S-1", title="Kafka consumer lag", body="partitions rebalancing"),
        record("acme/x#1", platform="github", kind="issue", title="Consumer crashes",
               body="kafka client panics", data_source_id=source.data_source.id),
        record("S-3", title="Quarterly planning", body="roadmap"),
    )
    found = await graph.records.ListRecords(pb.ListRecordsRequest(user_id=user, search="kafka"))
    assert found.total == 2
    assert {r.external_id for r in found.records} == {"S-1", "acme/x#1"}
    only_github = await graph.records.ListRecords(
        pb.ListRecordsRequest(user_id=user, search="kafka", source_platform="github")
    )
    assert [r.external_id for r in only_github.records] == ["acme/x#1"]
    by_source = await graph.records.ListRecords(
        pb.ListRecordsRequest(user_id=user, data_source_id=source.data_source.id)
    )
    assert [r.external_id for r in by_source.records] == ["acme/x#1"]
    by_type = await graph.records.ListRecords(
        pb.ListRecordsRequest(user_id=user, artifact_type="task")
    )
    assert by_type.total == 2
    paged = await graph.records.ListRecords(pb.ListRecordsRequest(user_id=user, limit=1, offset=1))
    assert paged.total == 3 and len(paged.records) == 1
    odd = await graph.records.ListRecords(
        pb.ListRecordsRequest(user_id=user, search='"unterminated & | ! (')
    )
    assert odd.total == 0


async def test_get_and_delete_record(graph, db):
    user = await graph.new_user()
    ticket, pr = await graph.ingest(
        user, record("PAY-3", **TICKET),
        record("acme/shop#3", platform="github", kind="pull_request", body="for PAY-3"),
    )
    got = await graph.records.GetRecord(pb.GetRecordRequest(user_id=user, record_id=pr.record.id))
    assert got.record == pr.record
    assert len(await graph.groups_of(user)) == 1
    await graph.records.DeleteRecord(pb.DeleteRecordRequest(user_id=user, record_id=pr.record.id))
    error = await rpc_error(
        graph.records.GetRecord(pb.GetRecordRequest(user_id=user, record_id=pr.record.id))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert await graph.links_of(user, ticket.record.id) == []
    members = await db.fetchval(
        "select count(*) from group_members where user_id = $1", uuid.UUID(user)
    )
    assert members == 1
    error = await rpc_error(
        graph.records.DeleteRecord(pb.DeleteRecordRequest(user_id=user, record_id=pr.record.id))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(graph.records.ListRecordLinks(
        pb.ListRecordLinksRequest(user_id=user, record_id=pr.record.id)
    ))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(
        graph.records.GetRecord(pb.GetRecordRequest(user_id=user, record_id="nope"))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_document_frequencies_follow_changes(graph, db):
    user = await graph.new_user()
    await graph.ingest(user, record("DF-1", title="zebra", body="zebra giraffe"))
    await graph.ingest(user, record("DF-2", title="zebra"))

    async def df(term):
        return await db.fetchval(
            "select df from term_df where user_id = $1 and term = $2", uuid.UUID(user), term
        )

    assert (await df(""), await df("zebra"), await df("giraffe")) == (2, 2, 1)
    await graph.ingest(user, record("DF-1", title="lion"))
    assert (await df(""), await df("zebra"), await df("giraffe"), await df("lion")) == (2, 1, 0, 1)


async def test_records_close_in_time_link_when_the_threshold_allows(graph_factory):
    graph = await graph_factory(DETERMINISTIC_THRESHOLD="0.5")
    user = await graph.new_user()
    text = dict(title="Kubernetes ingress certificate renewal failing",
                body="cert-manager cannot renew the ingress certificate for staging clusters",
                author="ops@example.com")
    first, near, far = await graph.ingest(
        user,
        record("ND-1", when="2024-07-01T09:00:00+00:00", **text),
        record("C7.1", platform="slack", kind="message", when="2024-07-01T15:00:00+00:00",
               **text),
        # Outside the ±30 days window: never a candidate, however similar.
        record("ND-2", when="2024-09-15T09:00:00+00:00", **text),
    )
    assert [link.source_record_id for link in near.links] == [first.record.id]
    names = {signal.name for signal in near.links[0].signals}
    assert names == {"keyword_similarity", "shared_people", "temporal_proximity"}
    assert far.links == []


async def test_same_record_twice_in_one_batch(graph):
    user = await graph.new_user()
    (ticket,) = await graph.ingest(user, record("DUP-1", title="dup"))
    pr = dict(platform="github", kind="pull_request", when="2024-03-05T10:00:00+00:00")
    first, second = await graph.ingest(
        user, record("x/dup#1", body="draft", **pr), record("x/dup#1", body="fixes DUP-1", **pr)
    )
    assert first.created and second.changed and not second.created
    assert second.record.discovery_state == "done"
    assert [link.source_record_id for link in second.links] == [ticket.record.id]
