"""Scoring of the semantic pass on hand-made unit vectors: conventions first, similarity only
across kinds of record, and no evidence from templated texts."""

import numpy as np
from kushim_graph.semantic.conventions import Text
from kushim_graph.semantic.scoring import RULE_CONFIDENCE, SIMILARITY_CONFIDENCE, UserCorpus


def unit(*values) -> np.ndarray:
    vector = np.zeros(8, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


def corpus(rows) -> UserCorpus:
    texts = [Text(id_, title, at, kind, quotes) for id_, title, at, kind, quotes, _ in rows]
    return UserCorpus(texts, np.stack([vector for *_, vector in rows]))


def test_a_ticket_and_the_pull_request_that_reads_like_it_are_linked_with_an_explanation():
    c = corpus([
        ("t", "Export the calendar as ICS", 1, "jira/task", (), unit(1, 0.1)),
        ("p", "Calendar export to ics files", 2, "github/pull_request", (), unit(1, 0.12)),
        ("x", "Upgrade the database driver", 3, "github/pull_request", (), unit(0, 1)),
    ])
    [proposal] = c.propose("p")
    assert (proposal.source, proposal.target) == ("t", "p")
    assert proposal.confidence == SIMILARITY_CONFIDENCE
    [signal] = proposal.signals
    assert signal["name"] == "semantic_similarity" and signal["weight"] == SIMILARITY_CONFIDENCE
    assert signal["detail"] == 'reads like "Export the calendar as ICS"; cosine 1.00'
    assert c.propose("x") == []


def test_two_records_of_one_kind_need_a_convention_not_only_resemblance():
    c = corpus([
        ("a", "Fix the flaky upload test", 1, "github/commit", (), unit(1, 0.1)),
        ("b", "Fix a flaky download test", 2, "github/commit", (), unit(1, 0.11)),
    ])
    assert c.propose("a") == [] and c.propose("b") == []


def test_a_text_near_identical_to_several_others_is_no_evidence():
    rows = [
        (f"r{i}", f"Prepare release version 1.{i}", i, "github/commit", (), unit(1, 0.01 * i))
        for i in range(4)
    ]
    rows.append(("j", "Release checklist", 9, "jira/task", (), unit(1, 0.02)))
    c = corpus(rows)
    assert c.propose("j") == []
    assert all(c.propose(f"r{i}") == [] for i in range(4))


def test_a_convention_wins_over_similarity_and_carries_its_rule_confidence():
    c = corpus([
        ("a", "Add retry to the uploader", 1, "github/commit", (), unit(1, 0)),
        ("b", 'Revert "Add retry to the uploader"', 2, "github/commit",
         (("revert", "add retry to the uploader"),), unit(0, 1)),
    ])
    [proposal] = c.propose("b")
    assert (proposal.source, proposal.target) == ("a", "b")
    assert proposal.confidence == RULE_CONFIDENCE["revert"]
    assert proposal.signals[0]["name"] == "revert"
    assert proposal.signals[0]["detail"] == 'reverts "add retry to the uploader"; cosine 0.00'
