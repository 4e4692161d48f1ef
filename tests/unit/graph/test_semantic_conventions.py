"""The textual conventions of the semantic pass: reverts, quoted subjects, the same change on
several branches, standard-like keys naming a record with exactly that key."""

from kushim_graph.discovery.references import standard_like_keys
from kushim_graph.semantic.conventions import (
    KEY_REFERENCE,
    Text,
    TitleIndex,
    base_title,
    quoted_titles,
)


def text(id_, title, body="", at=0.0, kind="github/commit", identity=()):
    named = quoted_titles(title, body) + [(KEY_REFERENCE, k) for k in standard_like_keys(body)]
    return Text(id_, title, at, kind, tuple(named), tuple(identity))


def pairs(texts, of):
    index = TitleIndex(texts)
    subject = next(t for t in texts if t.id == of)
    return sorted((m.newer, m.older, m.rule) for m in index.matches(subject))


def test_a_revert_names_the_record_whose_title_it_quotes():
    texts = [
        text("a", "Add retry to the uploader", at=1),
        text("b", 'Revert "Add retry to the uploader"', at=2),
    ]
    assert pairs(texts, "b") == [("b", "a", "revert")]


def test_a_revert_line_in_a_squashed_body_counts_too():
    texts = [
        text("a", "Remove unused code related to nose (#13528)", at=1),
        text("b", "Restore skipping tests",
             'Revert "Remove unused code related to nose (#13528)"\n\nFixes #1', at=2),
    ]
    assert pairs(texts, "b") == [("b", "a", "revert")]


def test_a_quoted_subject_in_either_quotes_names_its_record_in_either_arrival_order():
    older = text("a", "verbs: Introduce a new post send API", at=1)
    double = text("b", "man: fix a field", 'Fixes: ("verbs: Introduce a new post send API")', at=2)
    single = text(
        "c", "man: fix another field", "Fixes: ('verbs: introduce a new post send api')", at=3
    )
    texts = [older, double, single]
    assert pairs(texts, "b") == [("b", "a", "quoted_subject")]
    assert pairs(texts, "c") == [("c", "a", "quoted_subject")]
    # the quoted record arriving last finds the records that quote it
    assert pairs(texts, "a") == [("b", "a", "quoted_subject"), ("c", "a", "quoted_subject")]


def test_a_backport_title_with_its_own_pull_request_number_is_the_same_change():
    backport = base_title("Fix crash with times output (#13573) (#13579)")
    assert backport == "fix crash with times output"
    texts = [
        text("a", "Fix crash with times output (#13573)", at=1),
        text("b", "Fix crash with times output (#13573) (#13579)", at=2),
        text("c", "Something else entirely here", at=3),
    ]
    assert pairs(texts, "a") == [("b", "a", "same_change")]


def test_a_title_shared_by_more_than_three_records_is_a_template_not_a_change():
    texts = [text(str(i), "Prepare release version 1.2", at=i) for i in range(4)]
    assert pairs(texts, "0") == []
    assert pairs(texts[:3], "0") == [("1", "0", "same_change"), ("2", "0", "same_change")]


def test_short_titles_identify_nothing():
    texts = [
        text("a", "Fix typo", at=1), text("b", "Fix typo", at=2), text("c", 'Revert "wip"', at=3)
    ]
    assert pairs(texts, "a") == [] and pairs(texts, "c") == []


def test_of_several_copies_a_quote_names_the_latest_one_before_it():
    texts = [
        text("a", "Add the frobnicator option", at=1),
        text("b", "Add the frobnicator option (#12)", at=5),
        text("c", 'Revert "Add the frobnicator option"', at=3),
    ]
    assert ("c", "a", "revert") in pairs(texts, "c")


def test_a_standard_like_key_names_the_record_with_exactly_that_key_in_either_order():
    ticket = text("t", "Calendar export", kind="jira/task", at=1, identity=("key:ISO-1",))
    commit = text("c", "Export dates", "Implements ISO-1 and writes UTF-8", at=2)
    assert pairs([ticket, commit], "c") == [("c", "t", KEY_REFERENCE)]
    assert pairs([ticket, commit], "t") == [("c", "t", KEY_REFERENCE)]
    # without a record holding the key, a standard name stays a standard name
    assert pairs([commit], "c") == []


def test_standard_like_keys_are_the_ones_reference_extraction_leaves_out():
    assert standard_like_keys("ISO-8601 dates, UTF-8, PROJ-7 and https://x.org/ISO-9") == [
        "ISO-8601", "UTF-8",
    ]
    assert quoted_titles("plain", 'no "quotes" in parentheses') == []
