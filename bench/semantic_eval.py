"""Precision and recall of semantic links on linkset-dev with every commit id removed, and on
the hand-written cross-tool set bench/data/crosstool.json (tickets, pull requests, issues and
Slack threads about the same work in other words, 3 distractors per true pair).

python -m bench.semantic_eval [--part dev|heldout|both] [--model DIR] [--data DIR]

The set is split by a hash of the newer commit's sha: 60 % development, 40 % held out. A found
pair counts in the part of its newer record. A pair is right when it is a labelled link, neither
right nor wrong when it is in ignore_pairs.jsonl or both ends lie in one connected part of the
truth graph (two backports of one change, the ends of a revert chain), wrong otherwise.
Embeddings are cached beside the data's hash in var/, so a second run only scores.
"""

import argparse
import hashlib
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from kushim_graph.semantic.conventions import Text, quoted_titles
from kushim_graph.semantic.model import Embedder
from kushim_graph.semantic.scoring import UserCorpus
from kushim_graph.semantic.text import embedding_text

from devstack.paths import REPO_ROOT, var_dir

DATA = REPO_ROOT.parent / "shared" / "data" / "linkset-dev"
CROSSTOOL = Path(__file__).resolve().parent / "data" / "crosstool.json"
HEX_RE = re.compile(r"\b[0-9a-fA-F]{7,40}\b")


def part_of(sha: str) -> str:
    return "heldout" if int(hashlib.sha1(sha.encode()).hexdigest(), 16) % 10 < 4 else "dev"  # noqa: S324


def load(data: Path) -> tuple[list[Text], list[str], list[dict]]:
    texts, bodies = [], []
    for line in (data / "records.jsonl").read_text().splitlines():
        r = json.loads(line)
        title, body = HEX_RE.sub("", r["title"]), HEX_RE.sub("", r.get("body", ""))
        texts.append(Text(
            r["externalId"], title, datetime.fromisoformat(r["timestamp"]).timestamp(),
            f"{r['sourcePlatform']}/{r['artifactType']}", tuple(quoted_titles(title, body)),
        ))
        bodies.append(body)
    truth = (data / "truth.jsonl").read_text().splitlines()
    return texts, bodies, [json.loads(line) for line in truth]


def embeddings(texts: list[Text], bodies: list[str], model_dir: Path) -> tuple[np.ndarray, float]:
    payload = [embedding_text(t.title, body) for t, body in zip(texts, bodies, strict=True)]
    digest = hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]
    cache = var_dir() / f"semantic-eval-{digest}.npy"
    if cache.exists():
        return np.load(cache), 0.0
    embedder = Embedder(model_dir)
    started = time.perf_counter()
    vectors = np.concatenate(
        [embedder.embed(payload[i:i + 64]) for i in range(0, len(payload), 64)]
    )
    rate = len(payload) / (time.perf_counter() - started)
    np.save(cache, vectors)
    return vectors, rate


def components(truth: list[dict]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in truth:
        parent[find(t["a"])] = find(t["b"])
    return {x: find(x) for x in parent}


def evaluate(data: Path, model_dir: Path) -> dict:
    texts, bodies, truth = load(data)
    vectors, rate = embeddings(texts, bodies, model_dir)
    corpus = UserCorpus(texts, vectors)
    started = time.perf_counter()
    found: dict[frozenset, tuple] = {}
    for text in texts:
        for p in corpus.propose(text.id):
            found.setdefault(frozenset((p.source, p.target)), (p.target, p.signals[0]["name"]))
    score_rate = len(texts) / (time.perf_counter() - started)
    true_pairs = {frozenset((t["a"], t["b"])): t for t in truth}
    ignore = {
        frozenset((i["a"], i["b"]))
        for line in (data / "ignore_pairs.jsonl").read_text().splitlines()
        for i in [json.loads(line)]
    }
    comp = components(truth)
    result: dict = {"embed_per_s": round(rate, 1), "score_per_s": round(score_rate, 1)}
    for part in ("dev", "heldout"):
        labelled = {k: t for k, t in true_pairs.items() if part_of(t["a"]) == part}
        right = wrong = neutral = 0
        by_rule: dict[str, list[int]] = {}
        for pair, (newer, rule) in found.items():
            if part_of(newer) != part:
                continue
            a, b = tuple(pair)
            counts = by_rule.setdefault(rule, [0, 0])
            if pair in true_pairs:
                right += 1
                counts[0] += 1
            elif pair in ignore or (a in comp and comp.get(b) == comp[a]):
                neutral += 1
            else:
                wrong += 1
                counts[1] += 1
        hit = sum(1 for k in labelled if k in found)
        result[part] = {
            "labelled": len(labelled), "found_right": right, "found_wrong": wrong,
            "neutral": neutral, "precision": round(right / max(right + wrong, 1), 3),
            "recall": round(hit / max(len(labelled), 1), 3),
            "by_rule": {r: {"right": c[0], "wrong": c[1]} for r, c in sorted(by_rule.items())},
            "recall_by_kind": {
                kind: round(
                    sum(1 for k, t in labelled.items() if t["kind"] == kind and k in found)
                    / max(sum(1 for t in labelled.values() if t["kind"] == kind), 1), 3)
                for kind in ("cherry-pick", "revert", "fixes")
            },
        }
    return result


def evaluate_crosstool(model_dir: Path) -> dict:
    """Same split rule (a hash of the first id of a true pair; a found pair by its ids)."""
    data = json.loads(CROSSTOOL.read_text())
    records = data["records"]
    texts = [
        Text(r["id"], r["t"], float(i), r["p"], tuple(quoted_titles(r["t"], r["b"])))
        for i, r in enumerate(records)
    ]
    vectors = Embedder(model_dir).embed([embedding_text(r["t"], r["b"]) for r in records])
    corpus = UserCorpus(texts, vectors)
    found = {frozenset((p.source, p.target)) for t in texts for p in corpus.propose(t.id)}
    truth = {frozenset(pair): pair for pair in data["links"]}
    result = {}
    for part in ("dev", "heldout"):
        labelled = [k for k, pair in truth.items() if part_of(min(pair)) == part]
        mine = [k for k in found if part_of(min(k)) == part]
        right = sum(1 for k in mine if k in truth)
        result[part] = {
            "labelled": len(labelled), "found_right": right, "found_wrong": len(mine) - right,
            "precision": round(right / max(len(mine), 1), 3),
            "recall": round(sum(1 for k in labelled if k in found) / max(len(labelled), 1), 3),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", type=Path, default=var_dir() / "embedding-model")
    parser.add_argument("--part", choices=("dev", "heldout", "both"), default="dev")
    args = parser.parse_args()
    result = {
        "linkset": evaluate(args.data, args.model),
        "crosstool": evaluate_crosstool(args.model),
    }
    if args.part != "both":
        for part in result.values():
            part.pop("heldout" if args.part == "dev" else "dev")
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
