"""Reference extraction on hostile text: long runs built to make a backtracking regex explode
finish with a bounded answer, and a reference planted anywhere in noise is still found."""

import os

from hypothesis import given, settings
from hypothesis import strategies as st
from kushim_graph.discovery.references import (
    MAX_REFERENCES_PER_KIND,
    extract_references,
    lookup_keys,
)

# Each piece repeated ~100k times: near-misses of every pattern the extractor runs.
_ADVERSARIAL = [
    "A" * 100_000 + "-",
    "AB-" * 50_000,
    "AB-1" * 30_000 + "x",
    "#" * 100_000 + "1x",
    "a/" * 50_000 + "#1x",
    "a-" * 50_000 + "/b#1",
    "f" * 100_000,
    "0a" * 50_000 + "g",
    "https://" + "a" * 100_000,
    "https://" * 20_000,
    "http://x/" + "(" * 100_000,
    "https://github.com/" + "o/" * 40_000,
    "https://x.io/browse/" + "A-1/" * 25_000,
    "GH-" * 40_000 + "1",
    "-" * 100_000 + "1",
    "\x00" * 100_000,
    "\ud800" * 50_000,
    "'; DROP TABLE records; -- " * 4_000 + "MATCH (n) DETACH DELETE n " * 4_000,
]


def _bounded(found) -> None:
    for kind in (found.issue_keys, found.issue_refs, found.shas, found.urls, found.branches):
        assert len(kind) <= MAX_REFERENCES_PER_KIND
    assert len(lookup_keys(found)) <= 5 * MAX_REFERENCES_PER_KIND


def test_adversarial_runs_complete_with_bounded_output():
    for text in _ADVERSARIAL:
        found = extract_references(text, text, text, {"branch": text, "commits": [text] * 10})
        _bounded(found)
        assert found == extract_references(text, text, text,
                                           {"branch": text, "commits": [text] * 10})


def test_many_distinct_references_are_capped():
    text = " ".join(f"PROJ-{n} #{n} o/r#{n} {n:07x}a https://x.io/{n}" for n in range(1, 3_000))
    found = extract_references("", text, "", {})
    _bounded(found)
    assert len(found.issue_keys) == MAX_REFERENCES_PER_KIND


_noise = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
# The planted reference, and the key under which a record that mentions it is looked up.
_PLANTS = [
    ("PROJ-7", "key:PROJ-7"),
    ("octo/hello#12", "gh:octo/hello#12"),
    ("https://github.com/octo/hello/pull/3", "gh:octo/hello#3"),
    ("https://acme.atlassian.net/browse/OPS-42", "key:OPS-42"),
    ("6dcb09b5b57875f334f61aebed695e2e4193db5e", "sha:6dcb09b"),
]


@settings(max_examples=300 * int(os.environ.get("FUZZ_EXAMPLES", "1")), deadline=None,
          database=None)
@given(st.sampled_from(_PLANTS), _noise, _noise, st.booleans())
def test_a_reference_planted_in_noise_is_found(plant, before, after, in_title):
    token, key = plant
    # Whitespace on both sides is what separates a word in any text; noise is anything else.
    text = f"{before} {token} {after}"
    found = extract_references(text if in_title else "", "" if in_title else text, "", {})
    assert key in lookup_keys(found)
