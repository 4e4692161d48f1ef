"""Properties of reference extraction: total over any input, deterministic, well-formed output."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from kushim_graph.discovery.references import (
    References,
    extract_references,
    identity_keys,
    lookup_keys,
    metadata_keys,
    normalize_url,
)

# Text biased towards the shapes the extractor looks for, mixed with anything at all.
_PIECES = st.sampled_from(
    [
        "PROJ-",
        "-",
        "#",
        "/",
        "a/b",
        "1",
        "0",
        "abc",
        "f",
        "https://",
        "http://github.com/o/r/pull/",
        "/browse/",
        "?utm_source=",
        ".",
        " ",
        "\x00",
        "\ud800",
        "\U0001f600",
        "İ",
        "\n",
        "GH-",
        "UTF-8",
    ]
)
_text = st.one_of(st.text(), st.lists(st.one_of(_PIECES, st.text(max_size=3))).map("".join))
_keys = st.one_of(
    st.sampled_from(
        ["branch", "ref", "commit", "commits", "sha", "ticketId", "repo", "base", "id"]
    ),
    st.text(max_size=8),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=40,
)
_metadata = st.dictionaries(_keys, _json, max_size=6)

_KEY = re.compile(r"[A-Z][A-Z0-9]{1,9}-[1-9][0-9]*")
_REF = re.compile(r"([a-z0-9][a-z0-9-]*/[a-z0-9._-]+)?#[1-9][0-9]*")
_SHA = re.compile(r"[0-9a-f]{7,40}")


@settings(max_examples=400, deadline=None)
@given(_text, _text, _text, _metadata)
def test_extract_references_is_total_deterministic_and_well_formed(title, body, url, metadata):
    found = extract_references(title, body, url, metadata)
    assert found == extract_references(title, body, url, metadata)
    assert all(_KEY.fullmatch(key) for key in found.issue_keys)
    assert all(_REF.fullmatch(ref) for ref in found.issue_refs)
    assert all(_SHA.fullmatch(sha) for sha in found.shas)
    assert all(normalize_url(u) == u for u in found.urls)
    assert all(b == b.lower() and b.strip() for b in found.branches)
    assert all(
        key.startswith(("key:", "gh:", "sha:", "url:", "branch:")) for key in lookup_keys(found)
    )


@settings(max_examples=200, deadline=None)
@given(_text, _text, _text, _text, _metadata)
def test_identity_and_metadata_keys_are_total(platform, kind, external_id, url, metadata):
    keys = identity_keys(platform, kind, external_id, url, metadata)
    assert keys == identity_keys(platform, kind, external_id, url, metadata)
    metadata_keys(metadata)


@settings(max_examples=200, deadline=None)
@given(_text)
def test_normalize_url_is_idempotent(raw):
    once = normalize_url(raw)
    if once is not None:
        assert normalize_url(once) == once


@given(st.sampled_from(["PROJ-7", "#12", "o/r#3", "abc1234", "https://x.io/a"]), _text, _text)
def test_surrounding_text_never_creates_exceptions(token, before, after):
    extract_references("", f"{before} {token} {after}", "", {})


def test_deeply_nested_metadata():
    deep: dict = {}
    inner = deep
    for _ in range(50_000):
        inner["branch"] = "x"
        inner["n"] = {}
        inner = inner["n"]
    wide_list: list = []
    cursor = wide_list
    for _ in range(50_000):
        cursor.append([])
        cursor = cursor[0]
    found = extract_references("", "", "", {"deep": deep, "commits": wide_list, "ref": "topic"})
    assert isinstance(found, References)
    assert "topic" in found.branches


def test_self_referencing_metadata():
    cyclic: dict = {"branch": "topic"}
    cyclic["self"] = cyclic
    cyclic["list"] = [cyclic]
    assert extract_references("", "", "", cyclic).branches == {"topic"}
