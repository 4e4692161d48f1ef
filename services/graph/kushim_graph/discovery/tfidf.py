"""TF-IDF over record text: tokens, term frequencies, cosine similarity and top terms.

Document frequencies are kept per user by the storage layer and passed in; nothing here holds
state. Weights are raw term frequency times the smoothed idf ``ln((1 + n) / (1 + df)) + 1``
(scikit-learn's ``smooth_idf``), so a term seen in every document still counts a little and an
unseen one never divides by zero.
"""

import math
import re
from collections import Counter
from collections.abc import Mapping

MAX_TOKEN_LENGTH = 40  # longer "words" are hashes, base64 or minified code: noise
MAX_TOKENS = 20_000  # a 1 MiB body still tokenizes in bounded time

# Letters and digits, Unicode-aware; underscores split identifiers like ``retry_count``.
_WORD_RE = re.compile(r"[^\W_]+")

STOPWORDS = frozenset(
    """
    about above after again against all also and any are aren because been before being below
    between both but can cannot could did does doing don down during each few for from further
    had has have having her here hers herself him himself his how into its itself just let
    more most much must myself nor not now off once only other ought our ours ourselves out over
    own same she should some such than that the their theirs them themselves then there these they
    this those through too under until upon very was were what when where which while who whom
    why will with within without would yet you your yours yourself yourselves
    """.split()  # noqa: SIM905 - a word list reads better as one block
)


def tokenize(text: str) -> list[str]:
    """Lower-cased words of at least 3 characters, without stopwords or pure numbers."""
    if not isinstance(text, str):
        return []
    tokens: list[str] = []
    for match in _WORD_RE.finditer(text):
        token = match[0].lower()
        if len(token) < 3 or len(token) > MAX_TOKEN_LENGTH:
            continue
        if token.isnumeric() or token in STOPWORDS:
            continue
        tokens.append(token)
        if len(tokens) >= MAX_TOKENS:
            break
    return tokens


def term_frequencies(text: str) -> dict[str, int]:
    return dict(Counter(tokenize(text)))


def idf(term: str, df: Mapping[str, int], n_docs: int) -> float:
    """Smoothed inverse document frequency; ``df`` is clamped to ``[0, n_docs]``."""
    n = max(n_docs, 0)
    frequency = min(max(df.get(term, 0), 0), n)
    return math.log((1 + n) / (1 + frequency)) + 1.0


def _weights(tf: Mapping[str, int], df: Mapping[str, int], n_docs: int) -> dict[str, float]:
    return {term: count * idf(term, df, n_docs) for term, count in tf.items() if count > 0}


def _norm(weights: Mapping[str, float]) -> float:
    return math.sqrt(math.fsum(w * w for w in weights.values()))


def cosine(
    tf_a: Mapping[str, int], tf_b: Mapping[str, int], df: Mapping[str, int], n_docs: int
) -> float:
    """Cosine of the tf-idf vectors, in [0, 1]; 0.0 when either vector is empty.

    Exactly symmetric: the dot product runs over the shared terms in sorted order.
    """
    weights_a = _weights(tf_a, df, n_docs)
    weights_b = _weights(tf_b, df, n_docs)
    norm_a, norm_b = _norm(weights_a), _norm(weights_b)
    if norm_a == 0.0 or norm_b == 0.0:
        return 0.0
    shared = sorted(weights_a.keys() & weights_b.keys())
    dot = math.fsum(weights_a[term] * weights_b[term] for term in shared)
    return min(max(dot / (norm_a * norm_b), 0.0), 1.0)


def top_terms(tf: Mapping[str, int], df: Mapping[str, int], n_docs: int, k: int) -> list[str]:
    """The ``k`` terms with the highest tf-idf weight; ties go to the alphabetically first."""
    if k <= 0:
        return []
    weights = _weights(tf, df, n_docs)
    return sorted(weights, key=lambda term: (-weights[term], term))[:k]
