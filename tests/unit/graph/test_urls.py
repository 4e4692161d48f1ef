"""Links: normalized so that two spellings meet, and cut out of free text."""

import pytest
from kushim_graph.discovery.urls import cut_urls, github_segments, normalize_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Example.COM/Path/", "https://example.com/Path"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com/a#frag", "https://example.com/a"),
        ("https://example.com/a?utm_source=x&id=3&UTM_Medium=y", "https://example.com/a?id=3"),
        ("https://example.com/a?utm_source=x", "https://example.com/a"),
        ("https://example.com/a?fbclid=1&gclid=2&q", "https://example.com/a?q"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://user:secret@example.com/a", "https://example.com/a"),
    ],
)
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ftp://example.com/x",
        "mailto:a@b.c",
        "https://",
        "https://[::1/x",
        "https://a b.com",
        7,
        None,
    ],
)
def test_normalize_url_rejects(raw):
    assert normalize_url(raw) is None


def test_cut_urls_trims_normalizes_and_blanks_every_link():
    too_long = "https://long.example.com/" + "x" * 2_100
    urls, rest = cut_urls(
        f"See https://Example.com/a/?utm_campaign=z. and <https://x.org/b|label>, not {too_long} "
    )
    assert urls == ["https://example.com/a", "https://x.org/b"]
    assert "http" not in rest and "Example" not in rest and "xxx" not in rest
    assert rest.startswith("See ") and " and <" in rest


def test_cut_urls_keeps_the_order_of_appearance_and_repeats():
    urls, _ = cut_urls("https://b.io/2 https://a.io/1 https://b.io/2")
    assert urls == ["https://b.io/2", "https://a.io/1", "https://b.io/2"]


def test_github_segments_only_for_github():
    assert github_segments("https://github.com/o/r/pull/7") == ["o", "r", "pull", "7"]
    assert github_segments("https://www.github.com/o/r") == ["o", "r"]
    assert github_segments("https://gitlab.com/o/r/pull/7") is None
