"""The limits of the Kushim Standard Record, shared by the gateway and graph.

The gateway's request shapes (and so /openapi.json) and graph's `validation.py` read every
bound from here, so a record the HTTP contract accepts is one graph stores, and the reverse.
Where the two used to differ, the published HTTP contract won: it is what clients were held to,
and graph's wider bounds were reachable only by calling graph directly.
"""

from datetime import UTC, datetime

PLATFORMS = ("github", "jira", "slack", "google", "other")
ARTIFACT_TYPES = ("issue", "pull_request", "task", "message", "document", "email", "commit")

MAX_BATCH = 500
MAX_EXTERNAL_ID_CHARS = 512
MAX_TITLE_CHARS = 1_000
MAX_BODY_CHARS = 200_000
MAX_URL_CHARS = 2_048
# author and each participant: a name or an email address
MAX_PERSON_CHARS = 256
MAX_PARTICIPANTS = 200
# metadata, and a user's settings or a data source's config: compact JSON text in UTF-8
MAX_OBJECT_BYTES = 32 * 1024
MAX_OBJECT_DEPTH = 16
# a record's timestamp lies in [MIN_TIME, MAX_TIME)
MIN_TIME = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2200, 1, 1, tzinfo=UTC)


def nests_deeper_than(value: object, levels: int) -> bool:
    """Whether a decoded JSON value spans more than `levels` levels: a scalar or an empty
    container is one level, {"a": 1} two (graph's rule since it first cleaned metadata).
    Level by level and never past `levels`, so a deep value costs no recursion."""
    level, depth = [value], 1
    while level:
        if depth > levels:
            return True
        inner: list = []
        for item in level:
            if isinstance(item, dict):
                inner.extend(item.values())
            elif isinstance(item, list):
                inner.extend(item)
        level, depth = inner, depth + 1
    return False
