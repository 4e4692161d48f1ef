"""Context-group decisions: coherence, splitting, membership plans, topics and names.

Links come in as ``(source_id, target_id, confidence)`` tuples; a link is undirected and a pair
counted once (with its highest confidence). Links touching a non-member are ignored.
"""

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from kushim_graph.discovery.tfidf import STOPWORDS, top_terms

LinkTuple = tuple[str, str, float]

SPLIT_MAX_COHERENCE = 0.4  # split strictly below this ...
SPLIT_MIN_SIZE = 5  # ... and only groups at least this large
DENSITY_WEIGHT = 0.7
CONFIDENCE_WEIGHT = 0.3
MAX_NAME_LENGTH = 80
MAX_NAME_WORDS = 4
FALLBACK_NAME = "Untitled group"
# Stored titles are at most 4096 characters; a name is read from no more than that of any title.
MAX_TITLE_SCANNED = 4_096

_NAME_WORD_RE = re.compile(r"[^\W_][\w'-]*")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")


def _member_links(
    member_ids: Iterable[str], links: Iterable[LinkTuple]
) -> dict[frozenset[str], float]:
    members = set(member_ids)
    pairs: dict[frozenset[str], float] = {}
    for source, target, confidence in links:
        if source == target or source not in members or target not in members:
            continue
        value = float(confidence)
        value = min(max(value, 0.0), 1.0) if math.isfinite(value) else 0.0
        pair = frozenset((source, target))
        pairs[pair] = max(pairs.get(pair, 0.0), value)
    return pairs


def coherence(member_ids: Iterable[str], links: Iterable[LinkTuple]) -> float:
    """Link density x 0.7 + mean link confidence x 0.3, in [0, 1].

    One member is perfectly coherent (1.0); no members, or several with no link, score 0.0.
    """
    members = set(member_ids)
    n = len(members)
    if n == 1:
        return 1.0
    pairs = _member_links(members, links)
    if n == 0 or not pairs:
        return 0.0
    density = len(pairs) / (n * (n - 1) / 2)
    mean_confidence = sum(pairs.values()) / len(pairs)
    return round(density * DENSITY_WEIGHT + mean_confidence * CONFIDENCE_WEIGHT, 4)


def connected_components(member_ids: Iterable[str], links: Iterable[LinkTuple]) -> list[set[str]]:
    """The members split by the links among them: larger components first, then by smallest id."""
    members = set(member_ids)
    parent = {member: member for member in members}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving keeps the trees flat
            node = parent[node]
        return node

    for pair in _member_links(members, links):
        a, b = sorted(pair)
        parent[root(b)] = root(a)
    components: dict[str, set[str]] = {}
    for member in members:
        components.setdefault(root(member), set()).add(member)
    return sorted(components.values(), key=lambda c: (-len(c), min(c)))


def should_split(size: int, coherence: float) -> bool:
    return size >= SPLIT_MIN_SIZE and coherence < SPLIT_MAX_COHERENCE


@dataclass(frozen=True)
class Plan:
    """What to do with the groups of two newly linked records.

    ``create``: a new group for both. ``join``: the ungrouped record joins ``target_group``.
    ``merge``: move ``source_group``'s members into ``target_group`` and delete the source.
    ``none``: both are already in ``target_group``.
    """

    action: Literal["create", "join", "merge", "none"]
    target_group: str | None = None
    source_group: str | None = None


def plan_membership(group_a: str | None, size_a: int, group_b: str | None, size_b: int) -> Plan:
    """Plan the group change for a link between record A (in ``group_a`` of ``size_a`` members)
    and record B; the smaller group merges into the larger, ties into the smaller id."""
    if group_a is None and group_b is None:
        return Plan("create")
    if group_a is None or group_b is None:
        return Plan("join", target_group=group_a or group_b)
    if group_a == group_b:
        return Plan("none", target_group=group_a)
    (_, target), (_, source) = sorted([(-size_a, group_a), (-size_b, group_b)])
    return Plan("merge", target_group=target, source_group=source)


def topics(
    member_tfs: list[Mapping[str, int]], df: Mapping[str, int], n_docs: int, k: int = 5
) -> list[str]:
    """The group's most characteristic terms: top tf-idf of the members' summed frequencies."""
    total: Counter[str] = Counter()
    for tf in member_tfs:
        total.update({term: count for term, count in tf.items() if count > 0})
    return top_terms(total, df, n_docs, k)


def _clean(title: object) -> str:
    if not isinstance(title, str):
        return ""
    return " ".join(_CONTROL_RE.sub(" ", title[:MAX_TITLE_SCANNED]).split())


def _shorten(text: str) -> str:
    if len(text) <= MAX_NAME_LENGTH:
        return text
    cut = text[: MAX_NAME_LENGTH - 1]
    if " " in cut[MAX_NAME_LENGTH // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + "…"


def group_name(titles: list[str]) -> str:
    """A readable name of at most 80 characters, never empty.

    The words that most titles share (stopwords aside), in the order they first appear, e.g.
    "Login, Safari" for "Login fails on Safari" + "Fix Safari login redirect"; with fewer than
    two shared words, the first non-empty title.
    """
    cleaned = [title for title in map(_clean, titles) if title]
    if not cleaned:
        return FALLBACK_NAME
    spelling: dict[str, str] = {}
    title_counts: Counter[str] = Counter()
    for title in cleaned:
        in_title: dict[str, str] = {}
        for word in _NAME_WORD_RE.findall(title):
            key = word.lower()
            if len(key) >= 3 and key not in STOPWORDS and not key.isnumeric():
                in_title.setdefault(key, word)
        for key, word in in_title.items():
            spelling.setdefault(key, word)
            title_counts[key] += 1
    position = {key: index for index, key in enumerate(spelling)}
    shared = [key for key in spelling if title_counts[key] >= 2]
    if len(shared) >= 2:
        best = sorted(shared, key=lambda key: (-title_counts[key], position[key]))
        chosen = sorted(best[:MAX_NAME_WORDS], key=position.__getitem__)
        words = [spelling[key] for key in chosen]
        return _shorten(", ".join([words[0][:1].upper() + words[0][1:], *words[1:]]))
    return _shorten(cleaned[0])
