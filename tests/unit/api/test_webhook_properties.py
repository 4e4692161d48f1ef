"""Properties of the webhook normalizers on arbitrary deliveries: a payload of the wrong shape
is refused with the one error family the route turns into a 400, anything returned is a record
the gateway accepts, and a documented payload whose text is replaced by any text still is."""

import contextlib
import copy
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kushim_api import record_input
from kushim_api.errors import ValidationError
from kushim_api.webhooks import MALFORMED, delivery_text, github, jira, signatures, slack

from tests.unit.api.payloads import load

# FUZZ_EXAMPLES (make fuzz) multiplies the examples; make test runs 100 of each.
_SETTINGS = settings(max_examples=100 * int(os.environ.get("FUZZ_EXAMPLES", "1")),
                     deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Text a delivery can carry after json.loads: NULs, lone surrogates (from "\ud800" escapes),
# injection strings, huge values.
_NASTY = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\ud800", "\udfff", "\U0001f600", "İ", "'; DROP TABLE records; --",
    "MATCH (n) DETACH DELETE n", "\" OR 1=1 --", "${jndi:ldap://x/a}", "../../etc/passwd",
    "refs/heads/", "refs/tags/v1", "+0000", "1e400", "nan", "-1", "9" * 40, "x" * 70_000,
])
_text = st.one_of(st.text(max_size=40), _NASTY)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _text)
_json = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)

GITHUB = {
    "issues": "github_issues_opened",
    "issue_comment": "github_issue_comment_created",
    "pull_request": "github_pull_request_opened",
    "pull_request_review": "github_pull_request_review_submitted",
    "pull_request_review_comment": "github_pull_request_review_comment_created",
    "push": "github_push",
}
JIRA = ("jira_issue_created", "jira_issue_updated", "jira_comment_created")
SLACK = ("slack_message", "slack_message_changed")


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON document (dict keys and list indexes), the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(document: Any, path: tuple, value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document


@st.composite
def _mutated(draw, name: str, leaves: st.SearchStrategy = _json, only_text: bool = False):
    """A documented payload with some of its values replaced by anything, or removed."""
    document = load(name)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(document)
                 if p and (not only_text or isinstance(_at(document, p), str))]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        delete = not only_text and draw(st.booleans())
        document = _replace(document, path, draw(leaves), delete)
    return document


def _at(document: Any, path: tuple) -> Any:
    for step in path:
        document = document[step]
    return document


def _deliver(normalize, payload: Any) -> list:
    """What the webhook route does with a parsed delivery: normalize, then parse each record."""
    try:
        items = normalize(copy.deepcopy(payload))
    except MALFORMED:
        return []
    assert isinstance(items, list)
    parsed = []
    for item in items:
        try:
            parsed.append(record_input.parse(item))
        except ValidationError:
            continue
    return parsed


def _github(event: str):
    return lambda payload: github.normalize(event, payload)


@_SETTINGS
@given(st.sampled_from(sorted(GITHUB)), st.one_of(_json, st.dictionaries(_text, _json)))
def test_github_any_json_is_refused_or_normalized(event, payload):
    _deliver(_github(event), payload)


@_SETTINGS
@given(st.sampled_from(sorted(GITHUB)).flatmap(lambda e: st.tuples(st.just(e),
                                                                  _mutated(GITHUB[e]))))
def test_github_mutated_deliveries_are_refused_or_normalized(case):
    event, payload = case
    _deliver(_github(event), payload)


@_SETTINGS
@given(st.one_of(_json, st.sampled_from(JIRA).flatmap(_mutated)))
def test_jira_any_delivery_is_refused_or_normalized(payload):
    _deliver(jira.normalize, payload)


@_SETTINGS
@given(st.one_of(_json, st.sampled_from(SLACK).flatmap(_mutated)))
def test_slack_any_delivery_is_refused_or_normalized(payload):
    _deliver(slack.normalize, payload)
    for probe in (slack.challenge, slack.delivery_id):
        with contextlib.suppress(MALFORMED):
            probe(copy.deepcopy(payload))


# Text the contract accepts: no NULs, no lone surrogates; long enough to need clipping.
_clean_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
             max_size=60),
    st.sampled_from(["x" * 250_000, "y\n" * 5_000, "'; DROP TABLE records; --",
                     "MATCH (n) DETACH DELETE n"]),
)
# What names a delivery or routes it (identity, timestamps, event types) keeps its value.
_STRUCTURAL = {"full_name", "ts", "created_at", "updated_at", "submitted_at", "timestamp",
               "created", "updated", "self", "key", "id", "channel", "team_id", "html_url",
               "url", "number", "webhookEvent", "type", "subtype"}


def _valid_text_delivery(name: str) -> st.SearchStrategy:
    """The documented payload with any of its free-text values replaced by any clean text."""
    document = load(name)
    paths = [p for p in _paths(document)
             if isinstance(_at(document, p), str) and p[-1] not in _STRUCTURAL]

    @st.composite
    def build(draw):
        payload = copy.deepcopy(document)
        for path in draw(st.lists(st.sampled_from(paths), max_size=6, unique=True)):
            _replace(payload, path, draw(_clean_text), False)
        return payload

    return build()


@_SETTINGS
@given(st.sampled_from(sorted(GITHUB)).flatmap(
    lambda e: st.tuples(st.just(e), _valid_text_delivery(GITHUB[e]))))
def test_github_documented_payloads_with_any_text_stay_valid_records(case):
    event, payload = case
    items = github.normalize(event, payload)
    assert items and [record_input.parse(item) for item in items]


@_SETTINGS
@given(st.sampled_from(JIRA + SLACK).flatmap(
    lambda n: st.tuples(st.just(n), _valid_text_delivery(n))))
def test_jira_and_slack_documented_payloads_with_any_text_stay_valid_records(case):
    name, payload = case
    normalize = jira.normalize if name.startswith("jira") else slack.normalize
    items = normalize(payload)
    assert items and [record_input.parse(item) for item in items]


def test_deeply_nested_jira_description_is_read_to_a_bounded_depth():
    description: Any = {"type": "text", "text": "leaf"}
    for _ in range(100_000):
        description = {"type": "paragraph", "content": [description]}
    payload = load("jira_issue_created")
    payload["issue"]["fields"]["description"] = description
    [record] = jira.normalize(payload)
    assert "leaf" not in record["body"]
    payload["issue"]["fields"]["description"] = {"type": "doc", "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "leaf"}]}]}
    [record] = jira.normalize(payload)
    assert record["body"] == "leaf\n"


def test_slack_timestamps_out_of_range_are_refused():
    for ts in ("1e400", "1e20", "-1e20", "inf", "nan", 10**30):
        payload = load("slack_message")
        payload["event"]["ts"] = ts
        assert _deliver(slack.normalize, json.loads(json.dumps(payload))) == []


@_SETTINGS
@given(st.dictionaries(_text, _json))
def test_slack_event_type_is_total(payload):
    # The route names the event of every delivery it answers, refused or ignored ones too.
    assert isinstance(slack.event_type(payload), str)
    assert slack.event_type({"type": "event_callback", "event": {"type": "message"}}) == "message"


# Header bytes that are not UTF-8 reach the app as lone surrogates (surrogateescape).
_HEADER_GARBAGE = ["", "²", "١٢٣", "\udcff\udcfe", "sha256=\udced", "v0=\x00", "9" * 40]


def test_signature_checks_are_false_on_any_header_garbage():
    for value in _HEADER_GARBAGE:
        assert not signatures.hub_signature_valid("secret-0123456789", b"{}", value)
        for stamp in _HEADER_GARBAGE:
            assert not signatures.slack_signature_valid("secret-0123456789", b"{}", stamp,
                                                        value, now=1_700_000_000)


@_SETTINGS
@given(st.one_of(_json, st.sampled_from(_HEADER_GARBAGE)))
def test_delivery_ids_are_storable_text(value):
    text = delivery_text(value)
    assert "\x00" not in text and len(text) <= 200
    text.encode("utf-8")
