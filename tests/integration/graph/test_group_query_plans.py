"""A group's members in record-time order cost the group, not the user's records, even for a
user the planner's statistics do not know yet (a new user's import into a database analyzed
before it). Measured in buffers PostgreSQL touched, on a database of the test's own."""

import json
import uuid

from kushim_graph.db import groups

RECORDS = 4000
MEMBERS = 8
SAMPLE = 20
# A plan driven from the group touches a few blocks per member; walking the user's records by
# time touches the user's memberships again for every record (hundreds of thousands).
MAX_BLOCKS = 600

USER = "insert into users (email, password_hash) values ($1, 'x') returning user_id"
RECORDS_SQL = """
insert into records (user_id, source_platform, external_id, artifact_type, title, body,
                     occurred_at, checksum)
select $1, 'jira', 'K-' || i, 'task', 'Record ' || i, '',
       timestamptz '2024-01-01' + i * interval '1 minute', 'c' || i
  from generate_series(1, $2) as i
returning id, occurred_at
"""
GROUP = "insert into context_groups (user_id, name) values ($1, 'g') returning id"
SINGLE_GROUPS = """
insert into context_groups (id, user_id, name) select id, $1, 'g' from unnest($2::uuid[]) as id
"""
SINGLE_MEMBERS = """
insert into group_members (user_id, group_id, record_id)
select $1, g, r from unnest($2::uuid[], $3::uuid[]) as x(g, r)
"""


async def blocks_touched(conn, sql: str, *args) -> int:
    [row] = await conn.fetch(f"explain (analyze, buffers, format json) {sql}", *args)
    plan = json.loads(row[0])[0]["Plan"]
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]


async def test_a_groups_newest_members_cost_the_group_for_a_user_statistics_do_not_know(own_db):
    known = await own_db.fetchval(USER, f"known-{uuid.uuid4().hex}@example.com")
    await own_db.fetch(RECORDS_SQL, known, 1)
    await own_db.execute("analyze")  # statistics now say: one user, one record
    user = await own_db.fetchval(USER, f"new-{uuid.uuid4().hex}@example.com")
    stored = await own_db.fetch(RECORDS_SQL, user, RECORDS)
    # Every record in a group of its own but the group's: the user's memberships are many.
    group = await own_db.fetchval(GROUP, user)
    members = stored[:: RECORDS // MEMBERS]
    await groups.add_members(own_db, user, group, [r["id"] for r in members])
    others = [r["id"] for r in stored if r not in members]
    singles = [uuid.uuid4() for _ in others]
    await own_db.execute(SINGLE_GROUPS, user, singles)
    await own_db.execute(SINGLE_MEMBERS, user, singles, others)
    newest_first = [r["id"] for r in sorted(members, key=lambda r: r["occurred_at"], reverse=True)]

    text = await groups.member_text(own_db, user, group, SAMPLE)
    assert [row["id"] for row in text] == newest_first
    assert await groups.first_members(own_db, user, group, 3, 2) == newest_first[::-1][2:5]
    assert await blocks_touched(own_db, groups.MEMBER_TEXT, user, group, SAMPLE) < MAX_BLOCKS
    assert await blocks_touched(own_db, groups.FIRST_MEMBERS, user, group, 3, 2) < MAX_BLOCKS
