"""What discovery needs of a record, computed once at ingestion and stored with it."""

from collections import Counter
from dataclasses import asdict, dataclass

from kushim_graph.discovery.references import (
    References,
    extract_references,
    identity_keys,
    lookup_keys,
    metadata_keys,
)
from kushim_graph.discovery.signals import MAX_PARTICIPANTS, Features, normalize_person
from kushim_graph.discovery.tfidf import tokenize, top_terms

# Bounds that keep a 1 MiB body from costing more than a normal record downstream.
MAX_TOKENIZED_CHARS = 200_000
MAX_TERMS = 100
KEYWORDS_PER_RECORD = 8


@dataclass(frozen=True)
class Derived:
    refs: References
    identity: frozenset[str]
    mentions: frozenset[str]
    metadata_keys: frozenset[str]
    term_freqs: dict[str, int]
    people: frozenset[str]

    @property
    def refs_json(self) -> dict[str, list[str]]:
        return {name: sorted(values) for name, values in asdict(self.refs).items()}


def refs_from_json(value: dict) -> References:
    known = References.__dataclass_fields__
    return References(**{k: frozenset(v) for k, v in (value or {}).items() if k in known})


def people_of(author: str, participants) -> frozenset[str]:
    people = (normalize_person(p) for p in (author, *list(participants)[:MAX_PARTICIPANTS]))
    return frozenset(p for p in people if p)


def features(row) -> Features:
    """Scoring features of a stored record (a row with the derived columns)."""
    people = (normalize_person(p) for p in list(row["participants"])[:MAX_PARTICIPANTS])
    return Features(
        record_id=str(row["id"]),
        timestamp=row["occurred_at"],
        author=normalize_person(row["author"]),
        participants=frozenset(p for p in people if p),
        refs=refs_from_json(row["refs"]),
        identity=frozenset(row["identity_keys"]),
        metadata_keys=frozenset(row["metadata_keys"]),
    )


def term_freqs(title: str, body: str) -> dict[str, int]:
    counts = Counter(tokenize(f"{title}\n{body[:MAX_TOKENIZED_CHARS]}"))
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_TERMS]
    return dict(top)


def derive(clean) -> Derived:
    refs = extract_references(clean.title, clean.body, clean.url, clean.metadata)
    identity = identity_keys(
        clean.source_platform, clean.artifact_type, clean.external_id, clean.url, clean.metadata
    )
    return Derived(
        refs=refs,
        identity=identity,
        mentions=lookup_keys(refs),
        metadata_keys=metadata_keys(clean.metadata),
        term_freqs=term_freqs(clean.title, clean.body),
        people=people_of(clean.author, clean.participants),
    )


def keywords(tf: dict[str, int], df: dict[str, int], n_docs: int) -> list[str]:
    """The record's most characteristic terms, indexed to find candidates sharing them."""
    return top_terms(tf, df, n_docs, KEYWORDS_PER_RECORD)


def df_delta(old: dict[str, int] | None, new: dict[str, int] | None) -> dict[str, int]:
    """Change of the user's document frequencies when a record's terms change ('' = doc count)."""
    delta: dict[str, int] = {}
    for term in old or {}:
        delta[term] = delta.get(term, 0) - 1
    for term in new or {}:
        delta[term] = delta.get(term, 0) + 1
    if old is None:
        delta[""] = 1
    if new is None:
        delta[""] = -1
    return {term: n for term, n in delta.items() if n}
