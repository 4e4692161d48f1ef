"""Extract the references a record makes, and the keys by which other records refer to it.

Both sides live in one key space so a storage layer can index them by ``(user_id, key)`` and find
candidates in both directions without scanning:

``key:PROJ-7`` (Jira issue key) · ``gh:o/r#12`` and ``gh:#12`` (GitHub issue or pull request) ·
``sha:abc1234`` (commit, always its first 7 hex digits, so abbreviated and full SHAs meet) ·
``url:https://host/path`` (normalized URL) · ``branch:feature/x`` (head branch, never a base one).

Decisions, each chosen to keep false links rare, because a shared key is a strong signal:

* Issue keys in free text must be upper case (Jira always writes them so) and not in
  ``PSEUDO_KEY_PREFIXES`` ("UTF-8", "SHA-256", "ISO-8601", "GPT-4", ...). Those are
  :func:`standard_like_keys`: one still refers to a record when the user has a record with
  exactly that key (a Jira project ``ISO``); the semantic pass checks that, in either arrival
  order, so common standard names never flood the reference index. Labelled metadata values
  (``ticketId``, ``issueKey``) are trusted as given, in any case. ``GH-12`` is GitHub's alias
  for ``#12`` and is read as such.
* A SHA in free text is 7-40 hex digits of one case, containing at least one digit and at least
  one letter a-f: words like "added", "decade", "facade" and numbers like "1234567" are not SHAs.
  Labelled metadata values (``sha``, ``commit``, ``commits``) are trusted as any 7-40 hex.
* URLs are scanned first and cut out of the text, so that path segments and query strings of
  arbitrary links yield no keys or SHAs; GitHub and Jira links are parsed for what they name.
* Branches come from metadata only (``branch``, ``ref``, ``head_ref``, ...). Anything under a
  ``base`` key and base branches such as main/master/develop are ignored: they connect everything.
* Everything is bounded: metadata is walked to ``MAX_METADATA_DEPTH`` and ``MAX_METADATA_NODES``,
  each kind keeps at most ``MAX_REFERENCES_PER_KIND`` values, a title or body is read up to
  ``MAX_SCANNED_CHARS``, and every regex runs in linear time.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

# normalize_url is part of this module's interface: callers and tests import it from here.
from kushim_graph.discovery.urls import cut_urls, github_segments, normalize_url

MAX_REFERENCES_PER_KIND = 256
MAX_METADATA_DEPTH = 8
MAX_METADATA_NODES = 5_000
MAX_METADATA_VALUE_LENGTH = 512
# The gateway's body limit: whatever a record says past it is not read, so a megabyte body sent
# to graph directly costs what the largest body through the gateway does.
MAX_SCANNED_CHARS = 200_000

# Hyphenated tokens that look like issue keys but name standards, algorithms, versions or models.
# (Word lists read better as one string; ruff's SIM905 would make them one word per line.)
PSEUDO_KEY_PREFIXES = frozenset(
    "AES ANSI ARM BASE BF CP CSS CVE COVID ECMA ES FP GPT HTML HTTP HTTPS IEC IEEE INT IPV ISO "  # noqa: SIM905
    "LATIN MD MP PEP RFC RSA SHA SSL TLS TCP UDP UCS UINT UTF WIN".split()
)
BASE_BRANCHES = frozenset(
    "main master develop development dev trunk default head staging production prod "  # noqa: SIM905
    "gh-pages".split()
)

_KEY_TEXT_RE = re.compile(r"(?<![\w-])([A-Z][A-Z0-9]{1,9})-([1-9][0-9]{0,9})(?![\w]|[-.][0-9])")
_KEY_FULL_RE = re.compile(r"([A-Za-z][A-Za-z0-9]{1,9})-([1-9][0-9]{0,9})")
_REPO = r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}"
_REPO_FULL_RE = re.compile(_REPO)
_QUALIFIED_REF_RE = re.compile(r"(?<![\w./-])(" + _REPO + r")#([1-9][0-9]{0,9})(?!\w)")
_BARE_REF_RE = re.compile(r"(?<![\w&#/])#([1-9][0-9]{0,9})(?!\w)")
_SHA_TEXT_RE = re.compile(r"(?<![\w#-])(?:[0-9a-f]{7,40}|[0-9A-F]{7,40})(?![\w-])")
_HEX_FULL_RE = re.compile(r"[0-9a-f]{7,40}")
_ISSUE_NUMBER_RE = re.compile(r"[1-9][0-9]{0,9}")
_HAS_DIGIT_RE = re.compile(r"[0-9]")
_HAS_HEX_LETTER_RE = re.compile(r"[a-fA-F]")
_GH_EXTERNAL_RE = re.compile(r"(" + _REPO + r")(?:#|/(?:pull|pulls|issues)/)([1-9][0-9]{0,9})")

# Metadata field names, compared lower-cased with "_" and "-" removed.
_FIELD_KINDS = {
    **dict.fromkeys(("ticketid", "ticket", "issuekey", "jirakey"), "key"),
    **dict.fromkeys(
        ("commit", "commits", "sha", "commitid", "commitsha", "headcommit", "headsha"), "sha"
    ),
    **dict.fromkeys(("branch", "branchname", "ref", "headref", "headrefname"), "branch"),
}
_CHILD_FIELDS = {"key": {"key"}, "sha": {"id", "sha", "hash"}, "branch": {"name", "ref"}}
_SKIPPED_FIELDS = frozenset({"base", "baseref", "baserefname", "basebranch"})
_TOP_LEVEL_KEY_FIELDS = ("key", "ticketid", "issuekey")
_TOP_LEVEL_SHA_FIELDS = ("sha", "commit", "commitid", "id")


@dataclass(frozen=True)
class References:
    """What one record mentions, normalized (see the module docstring for the forms)."""

    issue_keys: frozenset[str] = frozenset()
    issue_refs: frozenset[str] = frozenset()
    shas: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    branches: frozenset[str] = frozenset()


@dataclass
class _Found:
    keys: dict[str, None] = field(default_factory=dict)
    refs: dict[str, None] = field(default_factory=dict)
    shas: dict[str, None] = field(default_factory=dict)
    urls: dict[str, None] = field(default_factory=dict)
    branches: dict[str, None] = field(default_factory=dict)
    repo: str | None = None

    @staticmethod
    def add(bucket: dict[str, None], value: str) -> None:
        # dicts keep first-seen order, so the cap keeps the same values on every run.
        if len(bucket) < MAX_REFERENCES_PER_KIND:
            bucket[value] = None


def _upper_key(value: str) -> str | None:
    match = _KEY_FULL_RE.fullmatch(value.strip())
    return f"{match[1].upper()}-{match[2]}" if match else None


def _labelled_sha(value: str) -> str | None:
    value = value.strip().lower()
    return value if _HEX_FULL_RE.fullmatch(value) else None


def _repo_name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("full_name", value.get("fullName"))
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.lower().startswith(("http://", "https://")):
        url = normalize_url(value)
        segments = github_segments(url) if url else None
        value = "/".join(segments[:2]) if segments and len(segments) >= 2 else ""
    return value.lower() if _REPO_FULL_RE.fullmatch(value) else None


def _branch_name(value: str) -> str | None:
    value = value.strip()
    if value.startswith("refs/"):
        if not value.startswith("refs/heads/"):
            return None  # tags, pull refs and notes are not branches
        value = value.removeprefix("refs/heads/")
    value = value.lower()
    if not value or len(value) > 255 or value in BASE_BRANCHES:
        return None
    if any(c.isspace() or not c.isprintable() for c in value):
        return None
    return value


def _collect_url(found: _Found, url: str) -> None:
    """GitHub issue, pull and commit links and Jira ``/browse/KEY`` links name records."""
    segments = github_segments(url)
    if segments and len(segments) >= 4 and _REPO_FULL_RE.fullmatch("/".join(segments[:2])):
        repo = "/".join(segments[:2]).lower()
        kind, ident = segments[2], segments[3]
        if kind in ("pull", "pulls", "issues") and _ISSUE_NUMBER_RE.fullmatch(ident):
            found.add(found.refs, f"{repo}#{ident}")
            if len(segments) >= 6 and segments[4] == "commits" and _labelled_sha(segments[5]):
                found.add(found.shas, segments[5].lower())
        elif kind == "commit" and _labelled_sha(ident):
            found.add(found.shas, ident.lower())
        return
    path = urlsplit(url).path.split("/")
    for before, segment in zip(path, path[1:], strict=False):
        key = _upper_key(segment) if before == "browse" else None
        if key:
            found.add(found.keys, key)


def _scan_text(found: _Found, text: str) -> None:
    urls, text = cut_urls(text[:MAX_SCANNED_CHARS])
    for url in urls:
        found.add(found.urls, url)
        _collect_url(found, url)
    for match in _KEY_TEXT_RE.finditer(text):
        if match[1] == "GH":
            _add_bare_ref(found, match[2])
        elif match[1] not in PSEUDO_KEY_PREFIXES:
            found.add(found.keys, f"{match[1]}-{match[2]}")
    for match in _QUALIFIED_REF_RE.finditer(text):
        found.add(found.refs, f"{match[1].lower()}#{match[2]}")
    for match in _BARE_REF_RE.finditer(text):
        _add_bare_ref(found, match[1])
    for match in _SHA_TEXT_RE.finditer(text):
        sha = match[0]
        if _HAS_DIGIT_RE.search(sha) and _HAS_HEX_LETTER_RE.search(sha):
            found.add(found.shas, sha.lower())


def standard_like_keys(text: str) -> list[str]:
    """Keys in free text that look like standard names (``ISO-1``, ``UTF-8``), which
    :func:`extract_references` leaves out."""
    _, text = cut_urls(text[:MAX_SCANNED_CHARS])
    keys = {
        f"{match[1]}-{match[2]}": None
        for match in _KEY_TEXT_RE.finditer(text)
        if match[1] in PSEUDO_KEY_PREFIXES
    }
    return list(islice(keys, MAX_REFERENCES_PER_KIND))


def _add_bare_ref(found: _Found, number: str) -> None:
    # When the record's repository is known, "#12" can only mean that repository's #12.
    found.add(found.refs, f"{found.repo}#{number}" if found.repo else f"#{number}")


def _field_name(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def _walk_metadata(metadata: Any) -> _Found:
    """Collect labelled keys, SHAs, branches and the repository from arbitrary JSON-like data."""
    found = _Found()
    if not isinstance(metadata, Mapping):
        return found
    found.repo = _repo_name(metadata.get("repo")) or _repo_name(metadata.get("repository"))
    stack: list[tuple[Any, str | None, int]] = [(metadata, None, 0)]
    budget = MAX_METADATA_NODES
    while stack:
        value, kind, depth = stack.pop()
        if isinstance(value, str):
            _collect_labelled(found, kind, value)
            continue
        if depth >= MAX_METADATA_DEPTH:
            continue
        if isinstance(value, Mapping):
            children: Iterable[tuple[Any, Any]] = islice(value.items(), max(budget, 0))
        elif isinstance(value, list | tuple):
            children = ((None, item) for item in islice(value, max(budget, 0)))
        else:
            continue
        for key, child in children:
            budget -= 1
            child_kind = kind
            if key is not None:
                name = _field_name(key) if isinstance(key, str) else ""
                if name in _SKIPPED_FIELDS:
                    continue
                child_kind = _FIELD_KINDS.get(name)
                if child_kind is None and kind is not None and name in _CHILD_FIELDS[kind]:
                    child_kind = kind
                if depth == 0 and name == "key":
                    child_kind = "key"
            stack.append((child, child_kind, depth + 1))
    return found


def _collect_labelled(found: _Found, kind: str | None, value: str) -> None:
    if kind is None or len(value) > MAX_METADATA_VALUE_LENGTH:
        return
    if kind == "key":
        key = _upper_key(value)
        if key:
            found.add(found.keys, key)
    elif kind == "sha":
        sha = _labelled_sha(value)
        if sha:
            found.add(found.shas, sha)
    else:
        branch = _branch_name(value)
        if branch:
            found.add(found.branches, branch)


def extract_references(title: str, body: str, url: str, metadata: Mapping[str, Any]) -> References:
    """Everything the record mentions; ``url`` (its own link) only qualifies bare ``#12``."""
    found = _walk_metadata(metadata)
    own_url = normalize_url(url)
    if found.repo is None and own_url:
        found.repo = _repo_name(own_url)
    for text in (title, body):
        if isinstance(text, str):
            _scan_text(found, text)
    return References(
        issue_keys=frozenset(found.keys),
        issue_refs=frozenset(found.refs),
        shas=frozenset(found.shas),
        urls=frozenset(found.urls),
        branches=frozenset(found.branches),
    )


def metadata_keys(metadata: Mapping[str, Any]) -> frozenset[str]:
    """``branch:``, ``sha:`` and ``key:`` values labelled in metadata (shared-metadata signal)."""
    found = _walk_metadata(metadata)
    return frozenset(
        [f"branch:{branch}" for branch in found.branches]
        + [f"sha:{sha[:7]}" for sha in found.shas]
        + [f"key:{key}" for key in found.keys]
    )


def _top_level(metadata: Any, names: Iterable[str]) -> list[Any]:
    if not isinstance(metadata, Mapping):
        return []
    by_name = {_field_name(k): v for k, v in islice(metadata.items(), 1_000) if isinstance(k, str)}
    return [by_name[name] for name in names if name in by_name]


def identity_keys(
    source_platform: str,
    artifact_type: str,
    external_id: str,
    url: str,
    metadata: Mapping[str, Any],
) -> frozenset[str]:
    """The keys by which other records refer to this one."""
    platform = source_platform.strip().lower() if isinstance(source_platform, str) else ""
    kind = artifact_type.strip().lower() if isinstance(artifact_type, str) else ""
    ext = external_id.strip() if isinstance(external_id, str) else ""
    keys: set[str] = set()
    own = _Found()
    own_url = normalize_url(url)
    if own_url:
        keys.add(f"url:{own_url}")
        _collect_url(own, own_url)
    labelled = _walk_metadata(metadata)
    if platform == "jira":
        values = [ext, *_top_level(metadata, _TOP_LEVEL_KEY_FIELDS)]
        keys.update(f"key:{k}" for v in values if isinstance(v, str) and (k := _upper_key(v)))
        keys.update(f"key:{key}" for key in own.keys)
    if platform == "github" and kind in ("issue", "pull_request"):
        refs = set(own.refs)
        match = _GH_EXTERNAL_RE.fullmatch(ext)
        if match:
            refs.add(f"{match[1].lower()}#{match[2]}")
        repo = labelled.repo or (_repo_name(own_url) if own_url else None)
        for number in _top_level(metadata, ("number",)):
            valid = not isinstance(number, bool) and _ISSUE_NUMBER_RE.fullmatch(str(number))
            if repo and valid:
                refs.add(f"{repo}#{number}")
        for ref in refs:
            keys.update((f"gh:{ref}", f"gh:#{ref.partition('#')[2]}"))
    if kind == "commit":
        values = [ext, *_top_level(metadata, _TOP_LEVEL_SHA_FIELDS)]
        shas = {s for v in values if isinstance(v, str) and (s := _labelled_sha(v))}
        keys.update(f"sha:{sha[:7]}" for sha in shas | set(own.shas))
    if kind in ("pull_request", "commit"):
        keys.update(f"branch:{branch}" for branch in labelled.branches)
    return frozenset(keys)


def lookup_keys(refs: References) -> frozenset[str]:
    """A record's mentions in the key space of :func:`identity_keys`."""
    return frozenset(
        [f"key:{key}" for key in refs.issue_keys]
        + [f"gh:{ref}" for ref in refs.issue_refs]
        + [f"sha:{sha[:7]}" for sha in refs.shas]
        + [f"url:{url}" for url in refs.urls]
        + [f"branch:{branch}" for branch in refs.branches]
    )
