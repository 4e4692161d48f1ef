"""The migration files: numbered, unique, in order, every table scoped by user_id."""

import re

from kushim_graph.migrate import available


def test_migrations_are_numbered_in_order():
    found = available()
    versions = [version for version, _, _ in found]
    assert versions == sorted(versions) and versions[0] == 1
    assert len(set(versions)) == len(versions)


def test_every_table_has_user_id():
    sql = "\n".join(text for _, _, text in available())
    tables = re.findall(r"create table (\w+) \((.*?)\n\);", sql, flags=re.S)
    assert {name for name, _ in tables} >= {
        "users", "data_sources", "records", "record_keys", "record_features", "term_df",
        "links", "link_feedback", "context_groups", "group_members", "webhook_deliveries",
        "outbox",
    }
    for name, body in tables:
        assert re.search(r"^\s+user_id\s+uuid", body, flags=re.M), name
