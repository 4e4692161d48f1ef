"""Bad input for the HTTP fuzz suite: fixed corpora of what breaks servers (malformed JSON,
invalid UTF-8, NULs, wrong types, deep nesting, injection strings) and a seeded generator of
more of the same, so a larger budget tries more inputs and every run is reproducible."""

import json
import random
from typing import Any

# Text that must be stored as text: SQL, Cypher, template, path and shell injections.
INJECTIONS = [
    "'; DROP TABLE records; --",
    "\" OR 1=1 --",
    "' OR '1'='1",
    "1; DELETE FROM users WHERE 1=1",
    "') ON CONFLICT DO NOTHING; TRUNCATE links; --",
    "$1::uuid[]",
    "MATCH (n) DETACH DELETE n",
    "'}) MATCH (n) DETACH DELETE n //",
    "\"}) WITH 1 AS x CALL db.labels() YIELD label RETURN label //",
    "${jndi:ldap://127.0.0.1:1/a}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "$(rm -rf /)",
    "`id`",
    "%s%s%s%n",
    "\\",
    "\\u0000",
    "\u202e\u0301İ\U0001f600",
    "a" * 1_000,
]
# Text that must be refused (PostgreSQL text takes no NUL; UTF-8 has no lone surrogates).
UNSTORABLE = ["\x00", "a\x00b", "\ud800", "x\udfffx"]

# Values of the wrong JSON type for any field.
WRONG_TYPES: list[Any] = [
    None, True, False, 0, -1, 2**63, -(2**63) - 1, 1.5, 1e308, -0.0, "", " ", "x" * 70_000,
    [], [None], ["a", 1], {}, {"a": {"b": []}}, [[[]]],
]

# Bodies that are not JSON at all, or JSON a strict parser refuses.
MALFORMED_JSON = [
    b"{", b"}", b"[", b"{\"a\":}", b"{\"a\" 1}", b"{'a': 1}", b"{\"a\":1,}", b"[1,2,]",
    b"{\"a\":1}}", b"{\"a\":1} trailing", b"nul", b"tru", b"NaN", b"Infinity", b"-Infinity",
    b"{\"a\": NaN}", b"{\"a\": Infinity}", b"\"unterminated", b"\"\\x41\"", b"\"\\u12\"",
    b"1" * 5_000, b"1e99999", b"-", b"0x10", b"01", b"\xef\xbb\xbf{}", b"\t", b"/* c */ {}",
    b"{\"a\":1 // c\n}", b"[" * 10 + b"]" * 9, b"{\"a\":\"\n\"}", b"\x00", b"\x00{}",
    b"{}\x00", b"null", b"true", b"42", b"\"text\"", b"[]",
]

# Bytes that are not UTF-8: lone continuation, overlong, surrogate halves, truncated.
INVALID_UTF8 = [
    b"\xff", b"\xfe\xff", b"\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
    b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98",
]

NESTING_DEPTHS = [500, 900, 990, 1_000, 5_000, 100_000]

# Authorization headers that must all answer 401.
BAD_AUTHORIZATION = [
    "", "Bearer", "Bearer ", "Bearer  ", "bearer x", "Basic dXNlcjpwYXNz", "Bearer x.y.z",
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "Bearer ....", "Bearer a.b.c.d",
    "Bearer " + "A" * 4_000, "Token abc", "Bearer \tx", "Bearer %00", "Bearer ..\\..",
    *("Bearer " + s for s in INJECTIONS[:10]),
]

# Path ids that are not UUIDs.
BAD_IDS = [
    "0", "-1", "null", "undefined", "00000000-0000-0000-0000-00000000000g",
    "00000000000000000000000000000000", "{00000000-0000-0000-0000-000000000000}",
    "00000000-0000-0000-0000-0000000000000", "%00", "%ff", "%2e%2e%2f", "a%20b", "x" * 2_000,
    "'%20OR%201=1--", "..%2F..%2Fetc%2Fpasswd", "%E2%80%AE", "%F0%9F%98%80",
]


def nested(depth: int, kind: str = "list") -> bytes:
    opener, closer = (b"[", b"]") if kind == "list" else (b"{\"a\":", b"}")
    leaf = b"1"
    return opener * depth + leaf + closer * depth


def dumps(value: Any) -> bytes:
    """JSON bytes that keep lone surrogates as escapes (the wire form a client sends)."""
    return json.dumps(value, ensure_ascii=True).encode()


class Generator:
    """Seeded random inputs built from the corpora: budget n gives n more of each kind."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible inputs, not secrets

    def text(self) -> str:
        noise = "".join(chr(self.rng.randrange(1, 0x2FFFF)) for _ in range(self.rng.randrange(8)))
        pieces = [self.rng.choice(INJECTIONS), self.rng.choice([*UNSTORABLE, ""]), noise]
        self.rng.shuffle(pieces)
        return "".join(pieces)

    def storable_text(self) -> str:
        alphabet = [chr(c) for c in range(0x20, 0x7F)] + ["é", "İ", "\U0001f600", "\u202e", "\n"]
        noise = "".join(self.rng.choice(alphabet) for _ in range(self.rng.randrange(1, 40)))
        return self.rng.choice(INJECTIONS)[:200] + noise

    def value(self, depth: int = 0) -> Any:
        roll = self.rng.random()
        if depth > 3 or roll < 0.5:
            return self.rng.choice([*WRONG_TYPES[:-3], self.text()])
        if roll < 0.75:
            return [self.value(depth + 1) for _ in range(self.rng.randrange(4))]
        return {self.text(): self.value(depth + 1) for _ in range(self.rng.randrange(4))}

    def raw_body(self) -> bytes:
        roll = self.rng.random()
        if roll < 0.3:
            return bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 64)))
        base = bytearray(self.rng.choice(MALFORMED_JSON + [b'{"title": "x"}']))
        for _ in range(self.rng.randrange(1, 4)):
            at = self.rng.randrange(len(base) + 1)
            base[at:at] = self.rng.choice(INVALID_UTF8 + [b"\x00", b"\\u0000", b"\"", b"{"])
        return bytes(base)
