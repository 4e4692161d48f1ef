"""What ingestion derives for discovery: references, terms, people, DF deltas."""

from datetime import UTC, datetime

from kushim_graph.discovery.derive import (
    KEYWORDS_PER_RECORD,
    MAX_TERMS,
    derive,
    df_delta,
    features,
    keywords,
    refs_from_json,
)
from kushim_graph.validation import CleanRecord


def clean(**fields) -> CleanRecord:
    base = dict(
        external_id="acme/shop#7", source_platform="github", artifact_type="pull_request",
        title="Fix checkout", body="Fixes PAY-1, see 9fceb02 and https://x.io/a?utm_source=z",
        url="https://github.com/acme/shop/pull/7", author="Ann <ann@x.com>",
        occurred_at=datetime(2024, 1, 1, tzinfo=UTC), participants=("@bob", "dependabot[bot]"),
        metadata={"branch": "fix/checkout"}, data_source_id=None, checksum="c",
    )
    return CleanRecord(**(base | fields))


def test_derive_collects_keys_terms_and_people():
    derived = derive(clean())
    assert "key:PAY-1" in derived.mentions and "sha:9fceb02" in derived.mentions
    assert "url:https://x.io/a" in derived.mentions
    assert "gh:acme/shop#7" in derived.identity
    assert "branch:fix/checkout" in derived.metadata_keys
    assert derived.people == {"ann@x.com", "bob"}
    assert derived.term_freqs["checkout"] == 1


def test_term_freqs_are_bounded():
    body = " ".join(f"word{i:05d}x" for i in range(5000))
    assert len(derive(clean(body=body)).term_freqs) == MAX_TERMS


def test_refs_round_trip_through_json():
    derived = derive(clean())
    assert refs_from_json(derived.refs_json) == derived.refs
    assert refs_from_json({"unknown": ["x"]}) == refs_from_json({})


def test_features_of_a_stored_row():
    derived = derive(clean())
    row = {
        "id": "r1", "occurred_at": datetime(2024, 1, 1, tzinfo=UTC), "author": "Ann <ann@x.com>",
        "participants": ["@bob"], "refs": derived.refs_json,
        "identity_keys": sorted(derived.identity), "metadata_keys": sorted(derived.metadata_keys),
    }
    made = features(row)
    assert made.record_id == "r1" and made.author == "ann@x.com"
    assert made.participants == {"bob"} and made.refs == derived.refs


def test_keywords_prefer_rare_terms():
    tf = {"common": 5, "rare": 2, "other": 1}
    df = {"common": 100, "rare": 1, "other": 50}
    chosen = keywords(tf, df, 100)
    assert chosen[0] == "rare" and len(chosen) <= KEYWORDS_PER_RECORD


def test_df_delta():
    assert df_delta(None, {"a": 2, "b": 1}) == {"a": 1, "b": 1, "": 1}
    assert df_delta({"a": 2, "b": 1}, {"b": 3, "c": 1}) == {"a": -1, "c": 1}
    assert df_delta({"a": 1}, None) == {"a": -1, "": -1}
    assert df_delta({"a": 1}, {"a": 4}) == {}
