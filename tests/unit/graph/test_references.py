import pytest
from kushim_graph.discovery.references import (
    MAX_METADATA_DEPTH,
    MAX_REFERENCES_PER_KIND,
    MAX_SCANNED_CHARS,
    References,
    extract_references,
    identity_keys,
    lookup_keys,
    metadata_keys,
    standard_like_keys,
)

FULL_SHA = "0123456789abcdef0123456789abcdef01234567"


def refs(text: str = "", *, title: str = "", url: str = "", metadata=None) -> References:
    return extract_references(title, text, url, metadata or {})


# --- issue keys ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fixes PROJ-123 today", {"PROJ-123"}),
        ("AB-1 and ABCDEFGHIJ-99", {"AB-1", "ABCDEFGHIJ-99"}),
        ("(PROJ-7), [PROJ-8]. PROJ-9!", {"PROJ-7", "PROJ-8", "PROJ-9"}),
        ("branch feature/PROJ-12-login", {"PROJ-12"}),
        ("P2P-5 is a key with digits", {"P2P-5"}),
        ("end of sentence PROJ-4.", {"PROJ-4"}),
    ],
)
def test_issue_keys_found(text, expected):
    assert refs(text).issue_keys == expected


@pytest.mark.parametrize(
    "text",
    [
        "proj-123 lower case is prose, not Jira",
        "A-1 single letter",
        "ABCDEFGHIJK-1 eleven letters",
        "1PROJ-2 starts with a digit",
        "PROJ-0 and PROJ-012 leading zeros",
        "PROJ-12abc trailing letters",
        "xPROJ-12 glued to a word",
        "PROJ-1.2 is a version",
        "PROJ-12-13 is a range or date",
        "UTF-8 SHA-256 SHA-1 ISO-8601 RFC-2119 CVE-2021-44228 COVID-19 GPT-4 TLS-13 AES-256",
        "HTTP-2 IPV-6 MD-5 PEP-8 WIN-32 UINT-8",
    ],
)
def test_pseudo_keys_ignored(text):
    assert refs(text).issue_keys == frozenset()


def test_gh_alias_is_a_bare_issue_ref():
    found = refs("see GH-42")
    assert found.issue_keys == frozenset()
    assert found.issue_refs == {"#42"}


def test_labelled_ticket_ids_any_case_are_trusted():
    found = refs(metadata={"ticketId": "proj-5", "issueKey": " SHA-1 "})
    assert found.issue_keys == {"PROJ-5", "SHA-1"}


def test_labelled_ticket_id_must_look_like_a_key():
    assert refs(metadata={"ticketId": "not a key", "issueKey": 17}).issue_keys == frozenset()


# --- GitHub issue references ---


def test_bare_and_qualified_issue_refs():
    found = refs("Fixes #12, relates to Acme/Widget.js#7 and octo-org/repo_x#100")
    assert found.issue_refs == {"#12", "acme/widget.js#7", "octo-org/repo_x#100"}


def test_bare_ref_qualified_by_metadata_repo():
    assert refs("Fixes #12", metadata={"repo": "Acme/Widget"}).issue_refs == {"acme/widget#12"}


def test_bare_ref_qualified_by_repository_object():
    metadata = {"repository": {"full_name": "acme/widget", "default_branch": "main"}}
    assert refs("#3", metadata=metadata).issue_refs == {"acme/widget#3"}


def test_bare_ref_qualified_by_own_github_url():
    found = refs("closes #9", url="https://github.com/Acme/Widget/pull/10")
    assert found.issue_refs == {"acme/widget#9"}


@pytest.mark.parametrize(
    "text",
    [
        "#0 and #012",
        "color #12ab",
        "entity &#123; in html",
        "word#12 glued",
        "##12 double hash",
        "# 12 with a space",
        "inside a path-like token a/b/c#12",
    ],
)
def test_not_issue_refs(text):
    assert refs(text).issue_refs == frozenset()


def test_github_urls_yield_refs_and_shas():
    found = refs(
        "https://github.com/Acme/Widget/pull/12/commits/0a1b2c3d4e5f "
        "https://github.com/acme/widget/issues/4#issuecomment-1 "
        "https://github.com/acme/widget/commit/ABCDEF0123456789"
    )
    assert found.issue_refs == {"acme/widget#12", "acme/widget#4"}
    assert found.shas == {"0a1b2c3d4e5f", "abcdef0123456789"}


def test_jira_browse_url_yields_key():
    found = refs("see https://acme.atlassian.net/browse/proj-7?focused=1")
    assert found.issue_keys == {"PROJ-7"}


# --- SHAs ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("commit abc1234 landed", {"abc1234"}),
        (f"full {FULL_SHA} here", {FULL_SHA}),
        ("upper ABC1234F too", {"abc1234f"}),
        ("(a1b2c3d), a1b2c3e.", {"a1b2c3d", "a1b2c3e"}),
    ],
)
def test_shas_found(text, expected):
    assert refs(text).shas == expected


@pytest.mark.parametrize(
    "text",
    [
        "added decade facade deadbeef accede effaced",
        "1234567 20240101 pure numbers",
        "abc123 six chars",
        "0123456789abcdef0123456789abcdef012345678 forty-one chars",
        "MixedCase aBc1234",
        "0x1a2b3c4d hex literal",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "color #a1b2c3d4",
        "abc1234g not hex",
    ],
)
def test_not_shas(text):
    assert refs(text).shas == frozenset()


def test_labelled_shas_need_no_digit():
    metadata = {"commit": "ABCDEFA", "commits": ["1234567", {"id": "bcd1234", "message": "x"}]}
    assert refs(metadata=metadata).shas == {"abcdefa", "1234567", "bcd1234"}


def test_urls_are_cut_out_before_scanning_for_shas_and_keys():
    found = refs("asset https://cdn.example.com/app.abc1234f.js?v=PROJ-9 done")
    assert found.shas == frozenset()
    assert found.issue_keys == frozenset()
    assert found.urls == {"https://cdn.example.com/app.abc1234f.js?v=PROJ-9"}


# --- URLs ---


def test_urls_in_text_are_trimmed_and_normalized():
    found = refs(
        "See https://Example.com/a/?utm_campaign=z. Also <https://x.org/b|label> and "
        "[doc](https://docs.example.com/d#section), 'https://q.io/c'"
    )
    assert found.urls == {
        "https://example.com/a",
        "https://x.org/b",
        "https://docs.example.com/d",
        "https://q.io/c",
    }


# --- branches ---


def test_branches_from_metadata():
    metadata = {
        "branch": "Feature/Login",
        "ref": "refs/heads/fix/crash",
        "head_ref": "topic",
        "headRefName": "other-topic",
    }
    assert refs(metadata=metadata).branches == {
        "feature/login",
        "fix/crash",
        "topic",
        "other-topic",
    }


def test_base_branches_and_base_refs_ignored():
    metadata = {
        "branch": "main",
        "ref": "refs/heads/master",
        "base_ref": "release/1.2",
        "base": {"ref": "release/2.0"},
        "head": {"ref": "develop"},
        "other": {"ref": "refs/tags/v1.0"},
        "pull": {"ref": "refs/pull/3/merge"},
    }
    assert refs(metadata=metadata).branches == frozenset()


def test_branches_not_read_from_text():
    assert refs("pushed to branch feature/x").branches == frozenset()


def test_nested_github_payload():
    metadata = {
        "pull_request": {
            "head": {"ref": "feature/x", "sha": "0a1b2c3"},
            "base": {"ref": "release/9", "sha": "ffff111"},
        },
        "commits": [{"id": "1111aaa"}, {"sha": "2222bbb"}],
    }
    found = refs(metadata=metadata)
    assert found.branches == {"feature/x"}
    assert found.shas == {"0a1b2c3", "1111aaa", "2222bbb"}


def test_metadata_depth_limited():
    metadata: dict = {"branch": "top"}
    inner = metadata
    for _ in range(MAX_METADATA_DEPTH + 5):
        inner["next"] = {}
        inner = inner["next"]
    inner["branch"] = "too-deep"
    assert refs(metadata=metadata).branches == {"top"}


def test_unrelated_metadata_ignored():
    metadata = {"labels": ["PROJ-1", "abc1234"], "title": "see PROJ-2", "id": "abc1234"}
    assert refs(metadata=metadata) == References()


def test_references_capped_per_kind():
    text = " ".join(f"PROJ-{n}" for n in range(1, MAX_REFERENCES_PER_KIND + 50))
    assert len(refs(text).issue_keys) == MAX_REFERENCES_PER_KIND


def test_title_is_scanned_too():
    assert refs(title="PROJ-3: crash").issue_keys == {"PROJ-3"}


# --- identity keys ---


def test_identity_jira_ticket():
    keys = identity_keys("jira", "task", "proj-7", "https://acme.atlassian.net/browse/PROJ-7", {})
    assert keys == {"key:PROJ-7", "url:https://acme.atlassian.net/browse/PROJ-7"}


def test_identity_jira_ticket_from_metadata():
    keys = identity_keys("Jira", "issue", "10042", "", {"key": "OPS-3", "ticketId": "OPS-3"})
    assert keys == {"key:OPS-3"}


def test_identity_github_pull_request_from_url():
    keys = identity_keys(
        "github", "pull_request", "123456", "https://github.com/Acme/W/pull/12", {}
    )
    assert keys == {"gh:acme/w#12", "gh:#12", "url:https://github.com/Acme/W/pull/12"}


def test_identity_github_issue_from_metadata_and_external_id():
    assert identity_keys("github", "issue", "x", "", {"repo": "acme/w", "number": 5}) == {
        "gh:acme/w#5",
        "gh:#5",
    }
    assert identity_keys("github", "issue", "Acme/W#6", "", {}) == {"gh:acme/w#6", "gh:#6"}
    assert identity_keys("github", "issue", "acme/w/issues/7", "", {"number": True}) == {
        "gh:acme/w#7",
        "gh:#7",
    }


def test_identity_github_commit():
    keys = identity_keys(
        "github",
        "commit",
        "ABCDEF0123456789abcdef0123456789abcdef01",
        "https://github.com/acme/w/commit/abcdef0123456789abcdef0123456789abcdef01",
        {"branch": "feature/x"},
    )
    assert keys == {
        "sha:abcdef0",
        "branch:feature/x",
        "url:https://github.com/acme/w/commit/abcdef0123456789abcdef0123456789abcdef01",
    }


def test_identity_pull_request_branch_but_not_base():
    keys = identity_keys(
        "github", "pull_request", "", "", {"head_ref": "topic", "base_ref": "dev2"}
    )
    assert keys == {"branch:topic"}


def test_identity_slack_message_is_only_its_url():
    keys = identity_keys(
        "slack", "message", "C1/123.456", "https://acme.slack.com/archives/C1/p1", {}
    )
    assert keys == {"url:https://acme.slack.com/archives/C1/p1"}
    assert identity_keys("slack", "message", "PROJ-1", "", {"ticketId": "PROJ-1"}) == frozenset()


def test_identity_tolerates_garbage():
    assert identity_keys(None, None, None, None, None) == frozenset()  # type: ignore[arg-type]


# --- lookup keys and metadata keys ---


def test_lookup_keys_share_the_identity_key_space():
    found = refs(
        "PROJ-7 #12 acme/w#3 0123456789abcdef https://Example.com/x/",
        metadata={"branch": "topic"},
    )
    assert lookup_keys(found) == {
        "key:PROJ-7",
        "gh:#12",
        "gh:acme/w#3",
        "sha:0123456",
        "url:https://example.com/x",
        "branch:topic",
    }


def test_abbreviated_and_full_sha_meet():
    full = "0a23456789abcdef0123456789abcdef01234567"
    commit = identity_keys("github", "commit", full, "", {})
    assert lookup_keys(refs("fixed in 0a23456")) & commit == {"sha:0a23456"}
    short = identity_keys("github", "commit", "0A23456", "", {})
    assert lookup_keys(refs(f"fixed in {full}")) & short == {"sha:0a23456"}


def test_metadata_keys():
    metadata = {"branch": "Topic", "commit": "ABCDEF0123", "ticketId": "pr-1", "base_ref": "x"}
    assert metadata_keys(metadata) == {"branch:topic", "sha:abcdef0", "key:PR-1"}
    assert metadata_keys({"branch": "main", "title": "PROJ-1"}) == frozenset()


# --- robustness ---


def test_large_adversarial_body_completes():
    chunks = [
        "a" * 5000,
        "#" * 5000,
        "AAAAAAAAAA-" * 500,
        "a/" + "." * 5000 + "#",
        "https://" + "x" * 5000,
        "0123456789abcdef" * 300,
        "http://" * 700,
        "-1" * 2000,
        "\x00\ud800\U0001f600" * 1000,
    ]
    body = "".join(chunks) * 30
    assert len(body) > 1_000_000
    found = refs(body, metadata={"commits": ["abc1234"] * 100_000})
    assert isinstance(found, References)


def test_non_string_inputs_tolerated():
    weird = {1: "x", "branch": 5, "commits": [None, 3.5, {"id": 1234567}], "ref": b"x"}
    found = extract_references(None, 7, None, weird)  # type: ignore[arg-type]
    assert found == References()
    assert extract_references("t", "b", "u", None) == References()  # type: ignore[arg-type]


def test_text_is_read_up_to_the_scan_limit_only():
    filler = " " * (MAX_SCANNED_CHARS - len("ABC-1 "))
    refs = extract_references("", "ABC-1 " + filler + "XYZ-2 abc1234", "", {})
    assert refs.issue_keys == {"ABC-1"} and refs.shas == frozenset()
    assert standard_like_keys("ISO-1 " + filler + "UTF-8") == ["ISO-1"]
