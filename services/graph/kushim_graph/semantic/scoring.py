"""Which records a record is semantically linked to, with a confidence and an explanation.

Two kinds of evidence, pure functions of the user's texts and embeddings:

* the textual conventions of `conventions.py` (a revert, a quoted subject, the same change);
* embedding similarity: two records of different kinds (a ticket and a pull request, a
  thread) that are each other's nearest neighbour and whose cosine reaches SIMILAR, and only
  when neither record is a template. A text that is
  near-identical (cosine >= TEMPLATE) to several other records of the same user ("Prepare
  release 1.2.3", "Bump x from 1 to 2", "Add changelog entry for #n") says nothing about any
  one of them; this needs no list of template phrases and adapts to each user's own habits.

Confidences are the precision each kind of evidence had on the development part of the
commit evaluation set (bench/semantic.py), rounded down; the held-out part is never used to set
them.
"""

from dataclasses import dataclass

import numpy as np

from kushim_graph.semantic.conventions import MAX_COPIES, Match, Text, TitleIndex

# chosen on the development part of the cross-tool set (bench/data/crosstool.json), a round
# value below its true pairs (0.81-0.92 but one) and well above its distractors (<= 0.63)
SIMILAR = 0.75
TEMPLATE = 0.90
SIMILARITY = "semantic_similarity"
DETAIL = {
    "revert": "reverts", "quoted_subject": "quotes", "same_change": "same change as",
    "key_reference": "names",
}
RULE_CONFIDENCE = {
    "revert": 0.95, "quoted_subject": 0.95, "same_change": 0.9,
    # an exact key, as an explicit reference is (not in the commit set: no value measured)
    "key_reference": 0.9,
}
# below the conventions': 7 of 7 right on a small development set is weaker evidence
SIMILARITY_CONFIDENCE = 0.8


@dataclass(frozen=True)
class Proposal:
    source: str  # the older record
    target: str  # the newer record
    confidence: float
    signals: list  # [{"name", "weight", "detail"}], as discovery explains its links


def _order(a: Text, b: Text) -> tuple[Text, Text]:
    return (a, b) if a.occurred_at <= b.occurred_at else (b, a)


class UserCorpus:
    """One user's texts and unit embeddings (row i of `vectors` belongs to `texts[i]`)."""

    def __init__(self, texts: list[Text], vectors: np.ndarray) -> None:
        self.texts = texts
        self.vectors = vectors
        self.row = {t.id: i for i, t in enumerate(texts)}
        self.kinds = np.array([t.kind for t in texts])
        self.index = TitleIndex(texts)

    def similarities(self, record_id: str) -> np.ndarray:
        return self.vectors @ self.vectors[self.row[record_id]]

    def is_template(self, sims: np.ndarray) -> bool:
        # the record itself is one of them
        return int((sims >= TEMPLATE).sum()) - 1 >= MAX_COPIES

    def _nearest_of_another_kind(self, text: Text, sims: np.ndarray) -> tuple[Text, float] | None:
        others = np.flatnonzero(self.kinds != text.kind)
        if others.size == 0:
            return None
        row = others[int(np.argmax(sims[others]))]
        return self.texts[row], float(sims[row])

    def _mutual_neighbour(self, text: Text, sims: np.ndarray) -> tuple[Text, float] | None:
        """The record of another kind that is this one's nearest and has this one as its
        nearest, when they read alike (SIMILAR) and neither is a template.

        Between two records of one kind (two commits), resemblance without a convention was
        right 1 time in 19 on the development part of the commit set: only across kinds (a
        ticket and the pull request or thread about it) is it evidence."""
        if self.is_template(sims):
            return None
        nearest = self._nearest_of_another_kind(text, sims)
        if nearest is None or nearest[1] < SIMILAR:
            return None
        other_sims = self.similarities(nearest[0].id)
        if self.is_template(other_sims):
            return None
        back = self._nearest_of_another_kind(nearest[0], other_sims)
        return nearest if back is not None and back[0].id == text.id else None

    def propose(self, record_id: str) -> list[Proposal]:
        """Semantic links of one record, to records of the corpus."""
        text = self.texts[self.row[record_id]]
        sims = self.similarities(record_id)
        found: dict[str, Proposal] = {}
        for match in self.index.matches(text):
            other = match.older if match.newer == text.id else match.newer
            found[other] = _from_rule(self, match, float(sims[self.row[other]]))
        match = self._mutual_neighbour(text, sims)
        if match is not None and match[0].id not in found:
            other, similarity = match
            older, newer = _order(text, other)
            found[other.id] = Proposal(
                older.id, newer.id, SIMILARITY_CONFIDENCE,
                [_signal(SIMILARITY, SIMILARITY_CONFIDENCE,
                         f'reads like "{other.title[:200]}"', similarity)],
            )
        return list(found.values())


def _from_rule(corpus: UserCorpus, match: Match, similarity: float) -> Proposal:
    newer = corpus.texts[corpus.row[match.newer]]
    older = corpus.texts[corpus.row[match.older]]
    source, target = _order(older, newer)
    confidence = RULE_CONFIDENCE[match.rule]
    return Proposal(
        source.id, target.id, confidence,
        [_signal(match.rule, confidence, f'{DETAIL[match.rule]} "{match.phrase[:200]}"',
                 similarity)],
    )


def _signal(name: str, weight: float, detail: str, similarity: float) -> dict:
    """The explanation of a semantic link, in the shape of discovery's signals."""
    return {"name": name, "weight": weight, "detail": f"{detail}; cosine {similarity:.2f}"}
