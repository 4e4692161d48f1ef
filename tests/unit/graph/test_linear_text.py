"""Every text path of graph on a megabyte of repeated delimiters: reference and link extraction,
people, words, group names and input hygiene finish far inside the deadline."""

import contextlib

import pytest
from kushim_graph.discovery.derive import term_freqs
from kushim_graph.discovery.grouping import group_name
from kushim_graph.discovery.references import extract_references
from kushim_graph.discovery.signals import normalize_person
from kushim_graph.discovery.urls import cut_urls
from kushim_graph.errors import InvalidInput
from kushim_graph.validation import clean_text, parse_json_object

from tests.unit.deadline import finishes_in_time, megabyte_runs

# Near-misses of every pattern: keys, qualified and bare refs, SHAs, links, angle emails,
# JSON escapes, control characters and lone surrogates.
PIECES = ["<a@", "#1", "a/a#", "AB-1", "0a", "https://a", "(", "\\u0000", "\x01\u200b", "\ud800 "]


def _references(text: str) -> None:
    extract_references(text[:4096], text, text, {"branch": text, "commits": [text]})


def _metadata(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse_json_object("metadata", '{"k": "' + text + '"}', max_bytes=4 * 1024 * 1024)


@pytest.mark.parametrize("work", [
    _references, cut_urls, normalize_person, lambda text: term_freqs(text[:4096], text),
    lambda text: group_name([text, text]), clean_text, _metadata,
], ids=["references", "urls", "people", "words", "group-name", "clean-text", "metadata"])
def test_a_megabyte_of_delimiters_is_handled_in_linear_time(work):
    assert finishes_in_time(work, megabyte_runs(PIECES))
