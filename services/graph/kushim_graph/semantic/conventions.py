"""Textual conventions by which people relate records without naming an id, each a rule a
person states without looking at any data set:

* ``Revert "<title>"`` (as a title, or a line of a squashed body) undoes the record titled
  <title>;
* a quoted subject in parentheses, ``("<title>")`` or ``('<title>')`` (kernel ``Fixes:``
  trailers, "see commit (...)"), names the record titled <title>;
* the same title on two or three records is one change applied on several branches (a
  cherry-pick, a backport); a backport's title may add its own pull request number, ``(#n)``,
  as GitHub's squash merges and backport bots do;
* a key that looks like a standard name (``ISO-1``, see
  ``discovery.references.standard_like_keys``) names the record whose identity is exactly
  that key (a Jira ticket of project ISO), when the user has one.

Titles are compared after normalization (case, whitespace, hex ids cut), so ids removed from or
added to a text do not matter. Every regex here runs in linear time: no nested quantifiers.
"""

import re
from dataclasses import dataclass

# A change applied on more places than this is a template (a release step, a bump), not one
# change that travelled.
MAX_COPIES = 3
# Shorter titles ("Fix typo", "wip") are too common to identify a change by.
MIN_TITLE_WORDS = 3
MAX_TITLE_CHARS = 300

KEY_REFERENCE = "key_reference"

_REVERT_RE = re.compile(r'^[\s*-]*revert\s+"(.+)"\s*$', re.IGNORECASE | re.MULTILINE)
_QUOTED_SUBJECT_RE = re.compile(r"""\(\s*(?:"([^"\n]{1,300})"|'([^'\n]{1,300})')\s*\)""")
_PR_SUFFIX_RE = re.compile(r"(\s*\(#[0-9]{1,10}\))+$")
_HEX_RE = re.compile(r"\b[0-9a-fA-F]{7,40}\b")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Text:
    """What the conventions need of one record."""

    id: str
    title: str
    occurred_at: float  # seconds since the epoch
    kind: str = ""  # platform/artifact type
    # what its title and body name: (rule, normalized title) from quoted_titles(), and
    # ("key_reference", key) from standard_like_keys()
    quotes: tuple[tuple[str, str], ...] = ()
    identity: tuple[str, ...] = ()  # its identity keys ("key:ISO-1", ...)


@dataclass(frozen=True)
class Match:
    newer: str
    older: str
    rule: str  # "revert" | "quoted_subject" | "same_change"
    phrase: str


def normalize_title(title: str) -> str:
    return _SPACE_RE.sub(" ", _HEX_RE.sub("", title[:MAX_TITLE_CHARS])).strip(" .").lower()


def base_title(title: str) -> str:
    """The normalized title without the pull request numbers a merge appends to it."""
    return _PR_SUFFIX_RE.sub("", normalize_title(title)).strip(" .")


def _identifying(title: str) -> bool:
    return len(title.split()) >= MIN_TITLE_WORDS


def quoted_titles(title: str, body: str) -> list[tuple[str, str]]:
    """(rule, normalized title) a record names by convention."""
    found = []
    body = body[:20_000]
    for source in (title[:MAX_TITLE_CHARS], body):
        for revert in _REVERT_RE.finditer(source):
            found.append(("revert", normalize_title(revert.group(1))))
    for quoted in _QUOTED_SUBJECT_RE.finditer(body):
        found.append(("quoted_subject", normalize_title(quoted.group(1) or quoted.group(2))))
    return list(dict.fromkeys((rule, t) for rule, t in found if _identifying(t)))


class TitleIndex:
    """The user's records by normalized title and by change text, for the conventions."""

    def __init__(self, texts: list[Text]) -> None:
        self.by_title: dict[str, list[Text]] = {}
        self.by_base: dict[str, list[Text]] = {}
        self.quoting: dict[str, list[tuple[str, Text]]] = {}
        self.by_identity: dict[str, list[Text]] = {}
        self.naming_key: dict[str, list[Text]] = {}
        for text in texts:
            self.by_title.setdefault(normalize_title(text.title), []).append(text)
            self.by_base.setdefault(base_title(text.title), []).append(text)
            for rule, value in text.quotes:
                if rule == KEY_REFERENCE:
                    self.naming_key.setdefault(f"key:{value}", []).append(text)
                else:
                    self.quoting.setdefault(value, []).append((rule, text))
            for key in text.identity:
                self.by_identity.setdefault(key, []).append(text)

    def matches(self, text: Text) -> list[Match]:
        """The conventions that relate `text` to other records of the index."""
        found: dict[str, Match] = {}
        self._keys(text, found)
        for rule, title in text.quotes:
            if rule == KEY_REFERENCE:
                continue
            older = self._named(text, title)
            if older is not None:
                found.setdefault(older.id, Match(text.id, older.id, rule, title))
        # In the other arrival order: records that quote this one's title.
        title = normalize_title(text.title)
        for rule, quoting in self.quoting.get(title, []):
            if quoting.id != text.id and quoting.id not in found:
                named = self._named(quoting, title)
                if named is not None and named.id == text.id:
                    found[quoting.id] = Match(quoting.id, text.id, rule, title)
        title = base_title(text.title)
        copies = self.by_base.get(title, [])
        if _identifying(title) and 1 < len(copies) <= MAX_COPIES:
            for other in copies:
                if other.id != text.id and other.id not in found:
                    found[other.id] = _ordered(text, other, "same_change", title)
        return list(found.values())

    def _keys(self, text: Text, found: dict[str, Match]) -> None:
        """Standard-like keys naming exactly one record's identity, both directions."""
        for rule, key in text.quotes:
            named = self.by_identity.get(f"key:{key}", []) if rule == KEY_REFERENCE else []
            if len(named) == 1 and named[0].id != text.id:
                found.setdefault(named[0].id, _ordered(text, named[0], KEY_REFERENCE, key))
        for identity in text.identity:
            if len(self.by_identity.get(identity, [])) != 1:
                continue
            for naming in self.naming_key.get(identity, []):
                if naming.id != text.id:
                    found.setdefault(
                        naming.id,
                        _ordered(text, naming, KEY_REFERENCE, identity.removeprefix("key:")),
                    )

    def _named(self, quoting: Text, title: str) -> Text | None:
        named = [t for t in self.by_title.get(title, []) if t.id != quoting.id]
        if not named or len(named) > MAX_COPIES:
            return None
        # The quoted record came first; of several copies the latest one before the quoting
        # record is the one undone or fixed (the branch the quoting record is on).
        earlier = [t for t in named if t.occurred_at <= quoting.occurred_at] or named
        return max(earlier, key=lambda t: t.occurred_at)


def _ordered(a: Text, b: Text, rule: str, phrase: str) -> Match:
    newer, older = (a, b) if a.occurred_at >= b.occurred_at else (b, a)
    return Match(newer.id, older.id, rule, phrase)
