"""Scoring a batch's records against their candidates: features computed once per record,
the TF-IDF cosine fetched in two queries for every pair of the batch that needs it."""

import asyncio

from kushim_graph.db import candidates, records
from kushim_graph.discovery.derive import features
from kushim_graph.discovery.scoring import link_type, score
from kushim_graph.discovery.signals import KEYWORD_SIMILARITY_WEIGHT
from kushim_graph.discovery.tfidf import cosine

# Records scored between two yields to the event loop.
YIELD_EVERY = 16


async def score_batch(conn, user_id: str, rows: dict, found: dict, others: dict,
                      threshold: float) -> dict:
    """record id -> (links to write, ids of candidates below the threshold).

    The TF-IDF cosine is the costly signal; it is computed only for candidates whose
    other signals leave it able to decide, or to explain, a link.
    """
    theirs_of = {other_id: features(row) for other_id, row in others.items()}
    first_pass = {}
    needed = set()
    for n, (record_id, row) in enumerate(rows.items()):
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)  # CPU work: let the other requests of the process move on
        mine = features(row)
        entries = []
        for other_id in found[record_id][0]:
            if other_id not in others:
                continue  # deleted since it was found
            confidence, signals = score(mine, theirs_of[other_id], keyword_cosine=0.0)
            needs_cosine = confidence + KEYWORD_SIMILARITY_WEIGHT >= threshold
            if needs_cosine:
                needed.add(other_id)
            entries.append((others[other_id], needs_cosine, confidence, signals))
        first_pass[record_id] = (mine, entries)
    similarity = await _similarity(conn, user_id, rows, first_pass, needed)
    answer = {}
    for record_id, (mine, entries) in first_pass.items():
        row = rows[record_id]
        linked, below = [], []
        for other, needs_cosine, confidence, signals in entries:
            if needs_cosine:
                confidence, signals = score(
                    mine, theirs_of[other["id"]],
                    keyword_cosine=similarity.get((record_id, other["id"]), 0.0),
                )
            if confidence < threshold:
                below.append(other["id"])
                continue
            first, second = sorted(
                (row, other), key=lambda r: (r["occurred_at"], str(r["id"]))
            )
            explanation = [
                {"name": s.name, "weight": s.weight, "detail": s.detail} for s in signals
            ]
            linked.append(
                (first["id"], second["id"], confidence, link_type(confidence), explanation)
            )
        answer[record_id] = (linked, below)
    return answer

async def _similarity(conn, user_id: str, rows: dict, first_pass: dict, needed: set) -> dict:
    """(record id, candidate id) -> keyword cosine, for the pairs that need it."""
    if not needed:
        return {}
    tfs = await candidates.term_freqs(conn, user_id, needed)
    terms = set()
    for tf in tfs.values():
        terms.update(tf)
    for record_id, (_, entries) in first_pass.items():
        if any(needs for _, needs, *_ in entries):
            terms.update(rows[record_id]["term_freqs"])
    df, n_docs = await records.document_frequencies(conn, user_id, sorted(terms))
    similarity = {}
    for record_id, (_, entries) in first_pass.items():
        for other, needs, *_ in entries:
            if needs and other["id"] in tfs:
                similarity[(record_id, other["id"])] = cosine(
                    rows[record_id]["term_freqs"], tfs[other["id"]], df, n_docs
                )
    return similarity

