"""Which version of a record is kept: the same content or a later timestamp keeps the stored one."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from kushim_graph.validation import CleanRecord
from kushim_graph.writes.store import kept_version

NOON = datetime(2024, 5, 2, 12, tzinfo=UTC)
INCOMING = CleanRecord(
    external_id="PROJ-9", source_platform="jira", artifact_type="task", title="t", body="b",
    url="", author="", occurred_at=NOON, participants=(), metadata={}, data_source_id=None,
    checksum="new",
)


def stored(checksum: str, occurred_at: datetime) -> dict:
    return {"checksum": checksum, "occurred_at": occurred_at}


def test_nothing_stored_is_written():
    assert kept_version(None, INCOMING) is None


def test_the_same_content_is_unchanged_whatever_its_time():
    for when in (NOON - timedelta(days=1), NOON, NOON + timedelta(days=1)):
        answer = kept_version(stored("new", when), replace(INCOMING, occurred_at=NOON))
        assert (answer.created, answer.changed, answer.stale) == (False, False, False)


def test_an_older_version_is_stale():
    answer = kept_version(stored("old", NOON + timedelta(microseconds=1)), INCOMING)
    assert (answer.changed, answer.stale) == (False, True)
    assert answer.row["checksum"] == "old"


def test_a_newer_version_or_one_of_the_same_time_is_written():
    assert kept_version(stored("old", NOON - timedelta(seconds=1)), INCOMING) is None
    assert kept_version(stored("old", NOON), INCOMING) is None  # equal timestamps: last writer wins
