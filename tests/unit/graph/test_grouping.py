import pytest
from kushim_graph.discovery.grouping import (
    FALLBACK_NAME,
    MAX_NAME_LENGTH,
    Plan,
    coherence,
    connected_components,
    group_name,
    plan_membership,
    should_split,
    topics,
)

# --- coherence ---


def test_coherence_single_member_is_one():
    assert coherence(["a"], []) == 1.0


def test_coherence_no_members_or_no_links_is_zero():
    assert coherence([], []) == 0.0
    assert coherence(["a", "b", "c"], []) == 0.0


def test_coherence_by_hand():
    # 3 members, 2 of 3 possible pairs linked, mean confidence 0.8: 2/3*0.7 + 0.8*0.3
    links = [("a", "b", 0.9), ("b", "c", 0.7)]
    assert coherence(["a", "b", "c"], links) == pytest.approx(2 / 3 * 0.7 + 0.8 * 0.3, abs=1e-4)


def test_coherence_complete_graph_at_full_confidence_is_one():
    links = [("a", "b", 1.0), ("a", "c", 1.0), ("b", "c", 1.0)]
    assert coherence({"a", "b", "c"}, links) == 1.0


def test_coherence_ignores_outside_links_self_links_and_duplicates():
    links = [
        ("a", "b", 0.8),
        ("b", "a", 0.6),  # same pair, other direction: counted once at its highest confidence
        ("a", "a", 1.0),
        ("a", "zzz", 1.0),
    ]
    assert coherence(["a", "b"], links) == pytest.approx(1.0 * 0.7 + 0.8 * 0.3)


def test_coherence_clamps_bad_confidences():
    assert coherence(["a", "b"], [("a", "b", 7.0)]) == 1.0
    assert coherence(["a", "b"], [("a", "b", float("nan"))]) == pytest.approx(0.7)


# --- connected components and splitting ---


def test_connected_components_order():
    members = ["e", "a", "b", "c", "d", "f", "g"]
    links = [("a", "b", 0.9), ("c", "d", 0.8), ("d", "e", 0.8), ("g", "f", 0.7), ("a", "x", 1.0)]
    assert connected_components(members, links) == [{"c", "d", "e"}, {"a", "b"}, {"f", "g"}]


def test_connected_components_singletons_and_empty():
    assert connected_components(["b", "a"], []) == [{"a"}, {"b"}]
    assert connected_components([], [("a", "b", 1.0)]) == []


def test_connected_components_long_chain():
    members = [f"r{i:05d}" for i in range(5000)]
    links = [(members[i], members[i + 1], 0.8) for i in range(4999)]
    assert connected_components(members, links) == [set(members)]


@pytest.mark.parametrize(
    ("size", "value", "split"),
    [(5, 0.39, True), (5, 0.4, False), (4, 0.1, False), (50, 0.0, True), (1, 0.0, False)],
)
def test_should_split(size, value, split):
    assert should_split(size, value) is split


def test_loose_group_splits_into_its_components():
    members = ["a", "b", "c", "d", "e", "f"]
    links = [("a", "b", 0.8), ("b", "c", 0.7), ("d", "e", 0.9)]
    value = coherence(members, links)
    assert value < 0.4
    assert should_split(len(members), value)
    assert connected_components(members, links) == [{"a", "b", "c"}, {"d", "e"}, {"f"}]


# --- membership plans ---


def test_plan_create_when_neither_grouped():
    assert plan_membership(None, 0, None, 0) == Plan("create", None, None)


def test_plan_join_when_one_grouped():
    assert plan_membership("g1", 3, None, 0) == Plan("join", "g1", None)
    assert plan_membership(None, 0, "g2", 8) == Plan("join", "g2", None)


def test_plan_none_when_same_group():
    assert plan_membership("g1", 3, "g1", 3) == Plan("none", "g1", None)


def test_plan_merge_smaller_into_larger():
    assert plan_membership("small", 2, "big", 9) == Plan("merge", "big", "small")
    assert plan_membership("big", 9, "small", 2) == Plan("merge", "big", "small")


def test_plan_merge_tie_is_deterministic():
    assert plan_membership("g2", 4, "g1", 4) == Plan("merge", "g1", "g2")
    assert plan_membership("g1", 4, "g2", 4) == Plan("merge", "g1", "g2")


# --- topics and names ---


def test_topics_rank_characteristic_terms():
    members = [{"safari": 2, "login": 1, "bug": 1}, {"safari": 1, "redirect": 1, "bug": 1}]
    df = {"safari": 2, "login": 3, "redirect": 2, "bug": 90}
    # summed tf: safari 3, bug 2, login 1, redirect 1; idf(n=100): safari/redirect ln(101/3)+1,
    # login ln(101/4)+1, bug ln(101/91)+1 -> safari 13.6, redirect 4.5, login 4.2, bug 2.2
    assert topics(members, df, 100, k=3) == ["safari", "redirect", "login"]
    assert topics([], df, 100) == []
    assert topics(members, df, 100, k=0) == []


def test_group_name_from_shared_words():
    titles = ["Login fails on Safari", "Fix Safari login redirect", "PROJ-7 login broken on Safari"]
    assert group_name(titles) == "Login, Safari"


def test_group_name_keeps_at_most_four_words_in_title_order():
    titles = ["cache redis lock timeout stampede", "redis cache stampede lock timeout"]
    assert group_name(titles) == "Cache, redis, lock, timeout"


def test_group_name_falls_back_to_first_title():
    assert group_name(["  Quarterly   planning\n doc ", "Unrelated thing"]) == (
        "Quarterly planning doc"
    )
    assert group_name(["", "\x00\u200b", "Second"]) == "Second"


def test_group_name_never_empty():
    assert group_name([]) == FALLBACK_NAME
    assert group_name(["", "   ", "\x00"]) == FALLBACK_NAME


def test_group_name_is_shortened_at_a_word():
    name = group_name(["word " * 40])
    assert len(name) <= MAX_NAME_LENGTH
    assert name.endswith("word…")
    unbroken = group_name(["x" * 500])
    assert len(unbroken) == MAX_NAME_LENGTH
    assert unbroken.endswith("…")
