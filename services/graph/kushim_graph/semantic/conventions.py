"""Textual conventions by which people relate records without naming an id, each a rule a
person states without looking at any data set:

* ``Revert "<title>"`` (as a title, or a line of a squashed body) undoes the record titled
  <title>;
* a quoted subject in parentheses, ``("<title>")`` or ``('<title>')`` (kernel ``Fixes:``
  trailers, "see commit (...)"), names the record titled <title>;
* the same title on two or three records is one change applied on several branches (a
  cherry-pick, a backport); a backport's title may add its own pull request number, ``(#n)``,
  as GitHub's squash merges and backport bots do.

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
    quotes: tuple[tuple[str, str], ...] = ()  # quoted_titles() of its title and body


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
        for text in texts:
            self.by_title.setdefault(normalize_title(text.title), []).append(text)
            self.by_base.setdefault(base_title(text.title), []).append(text)
            for rule, title in text.quotes:
                self.quoting.setdefault(title, []).append((rule, text))

    def matches(self, text: Text) -> list[Match]:
        """The conventions that relate `text` to other records of the index."""
        found: dict[str, Match] = {}
        for rule, title in text.quotes:
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
                    newer, older = (
                        (text, other) if text.occurred_at >= other.occurred_at else (other, text)
                    )
                    found[other.id] = Match(newer.id, older.id, "same_change", title)
        return list(found.values())

    def _named(self, quoting: Text, title: str) -> Text | None:
        named = [t for t in self.by_title.get(title, []) if t.id != quoting.id]
        if not named or len(named) > MAX_COPIES:
            return None
        # The quoted record came first; of several copies the latest one before the quoting
        # record is the one undone or fixed (the branch the quoting record is on).
        earlier = [t for t in named if t.occurred_at <= quoting.occurred_at] or named
        return max(earlier, key=lambda t: t.occurred_at)
