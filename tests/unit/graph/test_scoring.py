from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kushim_graph.discovery.scoring import (
    DEFAULT_THRESHOLD,
    Features,
    features_from,
    link_type,
    score,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FULL_SHA = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"


def record(
    record_id="r",
    *,
    platform="slack",
    kind="message",
    external_id="",
    body="",
    url="",
    author="",
    timestamp=T0,
    participants=(),
    metadata=None,
) -> Features:
    return features_from(
        record_id,
        platform,
        kind,
        external_id,
        "",
        body,
        url,
        author,
        timestamp,
        participants,
        metadata or {},
    )


def names(signals) -> list[str]:
    return [signal.name for signal in signals]


def test_nothing_in_common_scores_zero():
    far = T0 + timedelta(days=40)
    a, b = record("a", author="ann"), record("b", author="bob", timestamp=far)
    assert score(a, b, keyword_cosine=0.1) == (0.0, [])


def test_explicit_reference_alone_links():
    jira = record("j", platform="jira", kind="task", external_id="PROJ-7", timestamp=T0)
    slack = record("s", body="PROJ-7 is on fire", timestamp=T0 + timedelta(days=3))
    confidence, signals = score(slack, jira, keyword_cosine=0.0)
    assert confidence == 0.7 >= DEFAULT_THRESHOLD
    assert names(signals) == ["explicit_reference"]
    assert link_type(confidence) == "weak_contextual"


def test_weights_add_in_fixed_order_and_round():
    a = record("a", author="ann", metadata={"branch": "topic"})
    b = record("b", author="Ann", metadata={"branch": "topic"}, timestamp=T0 + timedelta(hours=1))
    confidence, signals = score(a, b, keyword_cosine=0.0)
    assert names(signals) == ["shared_metadata", "shared_people", "temporal_proximity"]
    assert confidence == 0.8
    # 0.7 + 0.2 + 0.1 is 0.9999999999999999 in floats: the result is exactly 1.0
    jira = record("j", platform="jira", kind="task", external_id="PROJ-7", author="ann")
    slack = record("s", body="PROJ-7", author="ann", timestamp=T0 + timedelta(hours=2))
    assert score(slack, jira, keyword_cosine=0.0)[0] == 1.0


def test_all_signals_cap_at_one():
    doc_url = "https://github.com/acme/w/pull/12"
    pr = record(
        "pr",
        platform="github",
        kind="pull_request",
        external_id="acme/w#12",
        url=doc_url,
        author="ann",
        metadata={"branch": "topic"},
    )
    msg = record("m", body=f"see {doc_url}", author="ann", metadata={"branch": "topic"})
    confidence, signals = score(msg, pr, keyword_cosine=0.9)
    assert confidence == 1.0
    assert names(signals) == [
        "explicit_reference",
        "url_reference",
        "shared_metadata",
        "keyword_similarity",
        "shared_people",
        "temporal_proximity",
    ]
    assert link_type(confidence) == "strong_contextual"


def test_keywords_people_and_time_alone_do_not_link():
    a, b = record("a", author="ann"), record("b", author="ann")
    confidence, _ = score(a, b, keyword_cosine=0.99)
    assert confidence == 0.6 < DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("confidence", "kind"),
    [(1.0, "strong_contextual"), (0.85, "strong_contextual"), (0.8499, "weak_contextual"),
     (0.7, "weak_contextual"), (0.0, "weak_contextual")],
)  # fmt: skip
def test_link_type(confidence, kind):
    assert link_type(confidence) == kind


# --- properties ---

_FRAGMENTS = [
    "PROJ-7",
    "proj-7",
    "#12",
    "acme/w#12",
    "GH-12",
    FULL_SHA[:7],
    FULL_SHA,
    "https://github.com/acme/w/pull/12",
    "https://docs.example.com/d/1",
    "UTF-8",
    "login safari crash",
]
_text = st.lists(st.sampled_from(_FRAGMENTS), max_size=4).map(" ".join)
_metadata = st.dictionaries(
    st.sampled_from(["branch", "ref", "commit", "ticketId", "repo", "number", "base_ref"]),
    st.sampled_from(["topic", "main", FULL_SHA, "PROJ-7", "acme/w", "12", 12, None]),
    max_size=4,
)


@st.composite
def features(draw, record_id: str) -> Features:
    platform, kind = draw(
        st.sampled_from(
            [("jira", "task"), ("github", "pull_request"), ("github", "issue"),
             ("github", "commit"), ("slack", "message"), ("google", "document")]
        )
    )  # fmt: skip
    return features_from(
        record_id,
        platform,
        kind,
        draw(st.sampled_from(["", "PROJ-7", "acme/w#12", FULL_SHA, "x"])),
        draw(_text),
        draw(_text),
        draw(
            st.sampled_from(
                ["", "https://github.com/acme/w/pull/12", "https://docs.example.com/d/1"]
            )
        ),
        draw(st.sampled_from(["", "ann", "@Ann", "bob", "ann@x.com"])),
        T0 + timedelta(hours=draw(st.integers(-72, 72))),
        draw(st.lists(st.sampled_from(["ann", "bob", "cy", "ANN@X.COM"]), max_size=3)),
        draw(_metadata),
    )


@settings(max_examples=300, deadline=None)
@given(features("a"), features("b"), st.floats(min_value=0.0, max_value=1.0))
def test_score_is_symmetric_and_bounded(a, b, keyword_cosine):
    forward = score(a, b, keyword_cosine=keyword_cosine)
    assert forward == score(b, a, keyword_cosine=keyword_cosine)
    assert 0.0 <= forward[0] <= 1.0
    assert forward[0] == round(min(sum(s.weight for s in forward[1]), 1.0), 4)


@settings(max_examples=100, deadline=None)
@given(features("a"), features("b"), st.floats(allow_nan=True, allow_infinity=True))
def test_score_bounded_for_any_cosine(a, b, keyword_cosine):
    confidence, _ = score(a, b, keyword_cosine=keyword_cosine)
    assert 0.0 <= confidence <= 1.0
