"""The database itself refuses rows that join two users' data (composite foreign keys)."""

import uuid

import asyncpg
import pytest

from tests.integration.graph.support import record


async def two_users_records(graph):
    alice, bob = await graph.new_user(), await graph.new_user()
    (mine,) = await graph.ingest(alice, record("TEN-1", title="alice's"))
    (theirs,) = await graph.ingest(bob, record("TEN-2", title="bob's"))
    return alice, uuid.UUID(mine.record.id), uuid.UUID(theirs.record.id)


async def test_a_link_to_another_users_record_is_refused(graph, db):
    alice, mine, theirs = await two_users_records(graph)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="links_target_fkey"):
        await db.execute(
            """insert into links (user_id, source_record_id, target_record_id, confidence,
                                  link_type, method, signals)
               values ($1, $2, $3, 1.0, 'strong_contextual', 'manual', '[]')""",
            uuid.UUID(alice), mine, theirs,
        )


async def test_a_membership_of_another_users_record_is_refused(graph, db):
    alice, mine, theirs = await two_users_records(graph)
    group_id = await db.fetchval(
        "select group_id from group_members where user_id = $1 limit 1", uuid.UUID(alice)
    ) or await db.fetchval(
        "insert into context_groups (user_id, name) values ($1, 'g') returning id",
        uuid.UUID(alice),
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="group_members_record_fkey"):
        await db.execute(
            "insert into group_members (user_id, group_id, record_id) values ($1, $2, $3)",
            uuid.UUID(alice), group_id, theirs,
        )


async def test_a_record_keyed_under_another_user_is_refused(graph, db):
    alice, _, theirs = await two_users_records(graph)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="record_keys_record_fkey"):
        await db.execute(
            """insert into record_keys (user_id, key, kind, record_id)
               values ($1, 'k', 'mention', $2)""",
            uuid.UUID(alice), theirs,
        )


async def test_deleting_a_data_source_keeps_its_records_and_unsets_the_source(graph, db):
    alice = await graph.new_user()
    source = await db.fetchval(
        """insert into data_sources (user_id, platform, name) values ($1, 'github', 's')
           returning id""",
        uuid.UUID(alice),
    )
    (mine,) = await graph.ingest(alice, record("TEN-3"))
    await db.execute(
        "update records set data_source_id = $2 where id = $1", uuid.UUID(mine.record.id), source
    )
    await db.execute("delete from data_sources where id = $1", source)
    row = await db.fetchrow(
        "select user_id, data_source_id from records where id = $1", uuid.UUID(mine.record.id)
    )
    assert row["user_id"] == uuid.UUID(alice) and row["data_source_id"] is None


async def test_an_embedding_filed_under_another_user_is_refused(graph, db):
    alice, _, theirs = await two_users_records(graph)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="record_embeddings_record_fkey"):
        await db.execute(
            """insert into record_embeddings (record_id, user_id, checksum, vector)
               values ($1, $2, 'c', '\\x00'::bytea)""",
            theirs, uuid.UUID(alice),
        )


async def test_a_suppression_naming_another_users_record_is_refused(graph, db):
    alice, mine, theirs = await two_users_records(graph)
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="link_suppressions_(low|high)_fkey"):
        await db.execute(
            """insert into link_suppressions (user_id, low, high)
               values ($1, least($2::uuid, $3::uuid), greatest($2::uuid, $3::uuid))""",
            uuid.UUID(alice), mine, theirs,
        )


async def test_deleting_a_record_drops_its_suppressions(graph, db):
    alice = await graph.new_user()
    first, second = await graph.ingest(alice, record("TEN-4"), record("TEN-5"))
    a, b = sorted([uuid.UUID(first.record.id), uuid.UUID(second.record.id)])
    await db.execute(
        "insert into link_suppressions (user_id, low, high) values ($1, $2, $3)",
        uuid.UUID(alice), a, b,
    )
    await db.execute("delete from records where id = $1", b)
    assert await db.fetchval("select count(*) from link_suppressions where low = $1", a) == 0
