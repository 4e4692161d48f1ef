"""Combine the signals between two records into one confidence and a link type."""

import math

from kushim_graph.discovery.signals import (
    Features,
    Signal,
    explicit_reference,
    features_from,
    keyword_similarity,
    shared_metadata,
    shared_people,
    temporal_proximity,
    url_reference,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "STRONG_THRESHOLD",
    "Features",
    "Signal",
    "features_from",
    "link_type",
    "score",
]

DEFAULT_THRESHOLD = 0.7  # link at or above this confidence (DETERMINISTIC_THRESHOLD)
STRONG_THRESHOLD = 0.85
_PRECISION = 4  # 0.7 + 0.2 + 0.1 is 0.9999999999999999 in floats; rounding makes it 1.0


def score(
    new: Features, candidate: Features, *, keyword_cosine: float
) -> tuple[float, list[Signal]]:
    """The confidence that two records are related, in [0, 1], and the signals that fired.

    Weights add up and are capped at 1.0. Signals come in a fixed order (strongest first), and
    each is symmetric, so the result does not depend on which record is ``new``.
    """
    fired = [
        explicit_reference(new, candidate),
        url_reference(new, candidate),
        shared_metadata(new, candidate),
        keyword_similarity(keyword_cosine),
        shared_people(new, candidate),
        temporal_proximity(new, candidate),
    ]
    signals = [signal for signal in fired if signal is not None]
    confidence = min(math.fsum(signal.weight for signal in signals), 1.0)
    return round(confidence, _PRECISION), signals


def link_type(confidence: float) -> str:
    return "strong_contextual" if confidence >= STRONG_THRESHOLD else "weak_contextual"
