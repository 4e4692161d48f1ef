"""Links in free text: finding them, and normalizing them so that two spellings of one link
give one ``url:`` key.

Normalized form: ``scheme://host/path?query`` with scheme and host lower-cased, and no userinfo,
default port, fragment, trailing slash or tracking parameters. Only http(s) links count.
"""

import re
from typing import Any
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2_048
TRACKING_QUERY_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid"})
GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})

_URL_RE = re.compile(r"(?i)(?<![\w])https?://[^\s<>\"'`()\[\]{}|\\^\x00-\x1f\x7f]+")
# Punctuation that ends a sentence or wraps a link in Markdown rather than belonging to it.
_URL_TRAILING = ".,;:!?*_~'\""


def normalize_url(raw: Any) -> str | None:
    """``scheme://host/path?query`` lower-cased scheme and host, no userinfo, default port,
    fragment, trailing slash or tracking parameters; ``None`` for anything but http(s)."""
    if not isinstance(raw, str):
        return None
    raw = raw.strip()
    if not raw or len(raw) > MAX_URL_LENGTH or any(c.isspace() or c < " " for c in raw):
        return None
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    netloc = parts.netloc.rpartition("@")[2].lower()
    if scheme not in ("http", "https") or not netloc:
        return None
    default_port = ":80" if scheme == "http" else ":443"
    netloc = netloc.removesuffix(default_port)
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not _is_tracking(pair.split("=")[0])
    )
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}" + (f"?{query}" if query else "")


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in TRACKING_QUERY_PARAMS


def cut_urls(text: str) -> tuple[list[str], str]:
    """The normalized links of `text` in the order they appear, and the text with every link
    (normalizable or not) replaced by a space, so that nothing inside a link is read again."""
    found = (normalize_url(match[0].rstrip(_URL_TRAILING)) for match in _URL_RE.finditer(text))
    urls = [url for url in found if url]
    return urls, _URL_RE.sub(" ", text)


def github_segments(url: str) -> list[str] | None:
    """The path segments of a normalized GitHub link; ``None`` for any other host."""
    parts = urlsplit(url)
    if parts.netloc not in GITHUB_HOSTS:
        return None
    return [segment for segment in parts.path.split("/") if segment]
