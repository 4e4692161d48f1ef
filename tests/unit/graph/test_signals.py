from datetime import UTC, datetime, timedelta, timezone

import pytest
from kushim_graph.discovery.references import References
from kushim_graph.discovery.signals import (
    Features,
    Signal,
    explicit_reference,
    features_from,
    keyword_similarity,
    normalize_person,
    shared_metadata,
    shared_people,
    temporal_proximity,
    url_reference,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FULL_SHA = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"


def record(
    record_id: str = "r",
    *,
    platform: str = "slack",
    kind: str = "message",
    external_id: str = "",
    title: str = "",
    body: str = "",
    url: str = "",
    author: str = "",
    timestamp: datetime = T0,
    participants: tuple[str, ...] = (),
    metadata: dict | None = None,
) -> Features:
    return features_from(
        record_id,
        platform,
        kind,
        external_id,
        title,
        body,
        url,
        author,
        timestamp,
        participants,
        metadata or {},
    )


def both_ways(signal, a: Features, b: Features) -> Signal | None:
    forward, backward = signal(a, b), signal(b, a)
    assert forward == backward
    return forward


JIRA = dict(platform="jira", kind="task", external_id="PROJ-7")
PR = dict(
    platform="github",
    kind="pull_request",
    external_id="acme/widget#12",
    url="https://github.com/acme/widget/pull/12",
    metadata={"repo": "acme/widget", "number": 12, "head_ref": "feature/login"},
)
COMMIT = dict(platform="github", kind="commit", external_id=FULL_SHA)


# --- explicit reference ---


@pytest.mark.parametrize(
    ("mention", "target"),
    [
        ("Fixes PROJ-7", JIRA),
        ("fixes proj-7 in prose is not a key", None),
        ("see acme/widget#12", PR),
        ("see Acme/Widget#12", PR),
        ("see #12", PR),
        ("see other/repo#12", None),
        ("see #13", None),
        (f"in {FULL_SHA[:7]}", COMMIT),
        (f"in {FULL_SHA[:12].upper()}", COMMIT),
        (f"in {FULL_SHA}", COMMIT),
        ("in 0a1b2c4", None),
        ("https://github.com/acme/widget/pull/12/files", PR),
        ("https://acme.atlassian.net/browse/PROJ-7", JIRA),
        ("UTF-8 SHA-256", None),
    ],
)
def test_explicit_reference(mention, target):
    a = record("a", body=mention)
    b = record("b", **(target or JIRA))
    signal = both_ways(explicit_reference, a, b)
    if target is None:
        assert signal is None
    else:
        assert signal is not None
        assert signal.name == "explicit_reference"
        assert signal.weight == 0.7


def test_explicit_reference_from_labelled_metadata():
    commit_msg = record("a", platform="github", kind="commit", metadata={"ticketId": "PROJ-7"})
    jira = record("b", **JIRA)
    signal = both_ways(explicit_reference, commit_msg, jira)
    assert signal == Signal("explicit_reference", 0.7, "references key:PROJ-7")


def test_explicit_reference_pr_lists_commit():
    pr = record("a", **{**PR, "metadata": {**PR["metadata"], "commits": [FULL_SHA]}})
    commit = record("b", **COMMIT)
    assert both_ways(explicit_reference, pr, commit) is not None


def test_explicit_reference_qualified_bare_ref_needs_same_repo():
    other_repo_issue = record("a", body="fixes #12", metadata={"repo": "other/thing"})
    assert both_ways(explicit_reference, other_repo_issue, record("b", **PR)) is None
    same_repo_issue = record("a", body="fixes #12", metadata={"repo": "acme/widget"})
    assert both_ways(explicit_reference, same_repo_issue, record("b", **PR)) is not None


def test_explicit_reference_ignores_url_and_branch_hits():
    slack = record("a", body="https://acme.slack.com/archives/C1/p9", metadata={"branch": "x"})
    target = record(
        "b",
        platform="slack",
        url="https://acme.slack.com/archives/C1/p9",
        metadata={"branch": "x"},
    )
    assert both_ways(explicit_reference, slack, target) is None


def test_explicit_reference_detail_is_bounded():
    a = record("a", body=" ".join(f"PROJ-{n}" for n in range(1, 10)))
    epic = Features(
        record_id="b",
        timestamp=T0,
        author="",
        participants=frozenset(),
        refs=References(),
        identity=frozenset(f"key:PROJ-{n}" for n in range(1, 10)),
        metadata_keys=frozenset(),
    )
    signal = both_ways(explicit_reference, a, epic)
    assert signal is not None
    assert signal.detail == "references key:PROJ-1, key:PROJ-2, key:PROJ-3 (+6 more)"


# --- URL reference ---


@pytest.mark.parametrize(
    ("mention", "fires"),
    [
        ("notes: https://docs.google.com/document/d/abc/", True),
        ("notes: HTTPS://DOCS.GOOGLE.COM/document/d/abc#heading=h.1", True),
        ("notes: https://docs.google.com/document/d/abc?utm_source=slack", True),
        ("notes: https://docs.google.com/document/d/abcd", False),
        ("notes: https://docs.google.com/document/d/ABC", False),
        ("no link", False),
    ],
)
def test_url_reference(mention, fires):
    doc = record(
        "doc", platform="google", kind="document", url="https://docs.google.com/document/d/abc"
    )
    signal = both_ways(url_reference, record("msg", body=mention), doc)
    assert (signal is not None) == fires
    if fires:
        assert signal == Signal(
            "url_reference", 0.6, "links to https://docs.google.com/document/d/abc"
        )


# --- shared metadata ---


@pytest.mark.parametrize(
    ("meta_a", "meta_b", "fires"),
    [
        ({"branch": "feature/login"}, {"ref": "refs/heads/Feature/Login"}, True),
        ({"branch": "main"}, {"branch": "main"}, False),
        ({"branch": "master"}, {"ref": "refs/heads/master"}, False),
        ({"base_ref": "release/2"}, {"base_ref": "release/2"}, False),
        ({"commit": FULL_SHA}, {"sha": FULL_SHA[:7]}, True),
        ({"commits": [FULL_SHA]}, {"commit": FULL_SHA.upper()}, True),
        ({"ticketId": "PROJ-7"}, {"ticketId": "proj-7"}, True),
        ({"ticketId": "PROJ-7"}, {"ticketId": "PROJ-8"}, False),
        ({"branch": "feature/a"}, {"branch": "feature/b"}, False),
        ({"title": "PROJ-7"}, {"title": "PROJ-7"}, False),
        ({}, {}, False),
    ],
)
def test_shared_metadata(meta_a, meta_b, fires):
    signal = both_ways(shared_metadata, record("a", metadata=meta_a), record("b", metadata=meta_b))
    assert (signal is not None) == fires
    if fires:
        assert signal.weight == 0.5


def test_shared_metadata_not_from_text():
    a = record("a", body="on branch feature/x, PROJ-7", metadata={})
    b = record("b", body="on branch feature/x, PROJ-7", metadata={})
    assert both_ways(shared_metadata, a, b) is None


# --- keyword similarity ---


@pytest.mark.parametrize(
    ("value", "fires"), [(0.51, True), (0.5, False), (0.0, False), (1.0, True)]
)
def test_keyword_similarity(value, fires):
    signal = keyword_similarity(value)
    assert (signal is not None) == fires
    if fires:
        assert signal.weight == 0.3


def test_keyword_similarity_nan_does_not_fire():
    assert keyword_similarity(float("nan")) is None


# --- shared people ---


@pytest.mark.parametrize(
    ("a", "b", "fires"),
    [
        (dict(author="Ann"), dict(author="ann"), True),
        (dict(author="@ann"), dict(participants=("ANN",)), True),
        (dict(author="Ann <Ann+jira@Example.com>"), dict(author="mailto:ann@example.com"), True),
        (dict(author="12345+octocat@users.noreply.github.com"), dict(author="OctoCat"), True),
        (dict(participants=("bob", "cy")), dict(participants=("dee", "cy")), True),
        (dict(author="ann"), dict(author="bob"), False),
        (dict(author="dependabot[bot]"), dict(author="dependabot[bot]"), False),
        (dict(author=""), dict(author=" "), False),
        (dict(author="ann@a.com"), dict(author="ann@b.com"), False),
    ],
)
def test_shared_people(a, b, fires):
    signal = both_ways(shared_people, record("a", **a), record("b", **b))
    assert (signal is not None) == fires
    if fires:
        assert signal.weight == 0.2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ann  ", "ann"),
        ("@Ann", "ann"),
        ("Ann <ann@x.com>", "ann@x.com"),
        ("ann+tag@X.com", "ann@x.com"),
        ("1+me@users.noreply.github.com", "me"),
        ("renovate[bot]", ""),
        ("@", ""),
        (None, ""),
    ],
)
def test_normalize_person(raw, expected):
    assert normalize_person(raw) == expected


# --- temporal proximity ---


@pytest.mark.parametrize(
    ("delta", "fires"),
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59), True),
        (timedelta(hours=24), True),
        (timedelta(hours=24, seconds=1), False),
        (timedelta(days=-30), False),
    ],
)
def test_temporal_proximity(delta, fires):
    signal = both_ways(temporal_proximity, record("a"), record("b", timestamp=T0 + delta))
    assert (signal is not None) == fires
    if fires:
        assert signal.weight == 0.1


def test_temporal_proximity_across_timezones_and_naive():
    paris = timezone(timedelta(hours=2))
    a = record("a", timestamp=datetime(2024, 5, 1, 14, 0, tzinfo=paris))  # 12:00 UTC
    b = record("b", timestamp=datetime(2024, 5, 2, 12, 0))  # naive, taken as UTC: 24 h later
    signal = both_ways(temporal_proximity, a, b)
    assert signal is not None
    assert signal.detail == "24.0 h apart"


# --- features_from ---


def test_features_from_normalizes():
    features = record(
        "x",
        author="@Ann",
        participants=("Bob", "", "dependabot[bot]"),
        metadata={"branch": "topic", "ticketId": "p2-1"},
        timestamp=datetime(2024, 1, 1),
    )
    assert features.author == "ann"
    assert features.participants == {"bob"}
    assert features.people == {"ann", "bob"}
    assert features.metadata_keys == {"branch:topic", "key:P2-1"}
    assert features.timestamp.tzinfo is UTC


def test_features_from_accepts_iso_timestamp_and_string_participant():
    features = features_from(
        "x", "slack", "message", "", "", "", "", "a", "2024-01-01T00:00:00+00:00", "bob", {}
    )
    assert features.timestamp == datetime(2024, 1, 1, tzinfo=UTC)
    assert features.participants == {"bob"}


def test_features_from_rejects_non_timestamp():
    with pytest.raises(TypeError):
        features_from("x", "slack", "message", "", "", "", "", "a", 12, (), {})
