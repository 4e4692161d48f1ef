"""A realistic cached context entry: the serialized Subgraph graph stores under
context_group:{userId}:{recordId}:{depth} (see graph's contexts/reader.py).

Thirty records across the four platforms with titles, bodies of a few sentences, URLs,
participants and metadata; forty links with their signals; three groups. Deterministic
(seeded), so runs compare.
"""

import json
import random
import uuid

from google.protobuf.timestamp_pb2 import Timestamp

RECORDS = 30
LINKS = 40
GROUPS = 3

WORDS = (
    "deploy", "pipeline", "regression", "cache", "invalidation", "latency", "budget", "migration",
    "rollback", "customer", "escalation", "incident", "postmortem", "checkout", "service",
    "payment", "retry", "timeout", "feature", "flag", "experiment", "dashboard", "alert",
    "threshold", "database", "index", "query", "planner", "review", "approve", "merge",
    "branch", "release", "hotfix", "staging", "production", "monitoring", "on-call", "schema",
    "backfill", "worker", "queue", "consumer", "throughput", "memory", "leak", "profile",
    "trace", "span",
)
PLATFORMS = (
    ("github", "pull_request", "https://github.com/acme/shop/pull/{n}"),
    ("jira", "task", "https://acme.atlassian.net/browse/SHOP-{n}"),
    ("slack", "message", "https://acme.slack.com/archives/C024BE91L/p{n}"),
    ("google", "document", "https://docs.google.com/document/d/{n}/edit"),
)
SIGNALS = ("explicit_reference", "url_reference", "shared_metadata", "keyword_similarity",
           "shared_people", "temporal_proximity")  # fmt: skip


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    return " ".join(words).capitalize() + "."


def _stamp(seconds: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromSeconds(seconds)
    return stamp


def subgraph(seed: int = 7) -> bytes:
    """The serialized Subgraph (about 20 KB)."""
    from kushim.graph.v1 import graph_pb2 as pb

    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    people = [f"dev{i}@acme.example" for i in range(12)]
    nodes = []
    for i in range(RECORDS):
        platform, kind, url = PLATFORMS[i % len(PLATFORMS)]
        number = 1000 + i
        nodes.append(
            pb.Record(
                id=str(uuid.UUID(int=rng.getrandbits(128))),
                external_id=f"SHOP-{number}" if platform == "jira" else f"acme/shop#{number}",
                source_platform=platform,
                artifact_type=kind,
                title=_sentence(rng)[:90],
                body=" ".join(_sentence(rng) for _ in range(rng.randint(3, 8))),
                url=url.format(n=number),
                author=rng.choice(people),
                timestamp=_stamp(1_700_000_000 + i * 3600),
                participants=rng.sample(people, 3),
                metadata_json=json.dumps(
                    {
                        "branch": f"feature/shop-{number}",
                        "labels": ["backend"],
                        "status": rng.choice(["open", "merged", "done"]),
                    }
                ),
                data_source_id=str(uuid.UUID(int=rng.getrandbits(128))),
                checksum=f"{rng.getrandbits(256):064x}",
                created_at=_stamp(1_700_000_000 + i * 3600),
                updated_at=_stamp(1_700_100_000),
                discovery_state="done",
            )
        )
    links = []
    for _ in range(LINKS):
        a, b = rng.sample(nodes, 2)
        links.append(
            pb.Link(
                id=str(uuid.UUID(int=rng.getrandbits(128))),
                source_record_id=a.id,
                target_record_id=b.id,
                confidence=round(rng.uniform(0.5, 1.0), 3),
                link_type="strong_contextual",
                method="deterministic",
                signals=[
                    pb.Signal(
                        name=name,
                        weight=round(rng.uniform(0.05, 0.4), 3),
                        detail=f"mentions {b.external_id}",
                    )
                    for name in rng.sample(SIGNALS, 2)
                ],
                created_at=_stamp(1_700_200_000),
            )
        )
    groups = [
        pb.ContextGroup(
            id=str(uuid.UUID(int=rng.getrandbits(128))),
            name=f"{rng.choice(WORDS)} work",
            member_count=RECORDS // GROUPS,
            topics=rng.sample(WORDS, 4),
            coherence=round(rng.uniform(0.5, 0.9), 3),
            created_at=_stamp(1_700_000_000),
            updated_at=_stamp(1_700_300_000),
        )
        for _ in range(GROUPS)
    ]
    return pb.Subgraph(nodes=nodes, links=links, groups=groups).SerializeToString()
