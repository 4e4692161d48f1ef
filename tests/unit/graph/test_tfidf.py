import math

import pytest
from kushim_graph.discovery.tfidf import (
    MAX_TOKEN_LENGTH,
    MAX_TOKENS,
    cosine,
    idf,
    term_frequencies,
    tokenize,
    top_terms,
)


def test_tokenize_lowercases_and_drops_noise():
    text = "The Login FAILS on Safari, and the login page 404s: retry_count=3 2024 ok"
    assert tokenize(text) == ["login", "fails", "safari", "login", "page", "404s", "retry", "count"]


def test_tokenize_unicode_words():
    assert tokenize("Überprüfung der Größe — café naïve 東京都 ß") == [
        "überprüfung",
        "der",
        "größe",
        "café",
        "naïve",
        "東京都",
    ]


def test_tokenize_drops_numeric_and_long_tokens():
    assert tokenize("12345 ٣٣٣ ⅧⅧⅧ " + "x" * (MAX_TOKEN_LENGTH + 1) + " keep") == ["keep"]
    assert tokenize("y" * MAX_TOKEN_LENGTH) == ["y" * MAX_TOKEN_LENGTH]


def test_tokenize_caps_token_count():
    assert len(tokenize("word " * (MAX_TOKENS + 10))) == MAX_TOKENS


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "a an of", None, 5])
def test_tokenize_empty(text):
    assert tokenize(text) == []


def test_term_frequencies():
    assert term_frequencies("cache cache miss, cache hit") == {"cache": 3, "miss": 1, "hit": 1}


def test_idf_by_hand():
    # n = 3 documents, term in 1: ln(4 / 2) + 1
    assert idf("a", {"a": 1}, 3) == pytest.approx(math.log(2) + 1)
    assert idf("unseen", {}, 3) == pytest.approx(math.log(4) + 1)
    assert idf("everywhere", {"everywhere": 3}, 3) == pytest.approx(1.0)
    # inconsistent counts are clamped, never negative weights
    assert idf("x", {"x": 10}, 3) == pytest.approx(1.0)
    assert idf("x", {"x": -2}, 0) == pytest.approx(1.0)


def test_cosine_by_hand():
    # n = 3, df(cache)=1 -> idf 1+ln2; df(miss)=3 -> idf 1; df(hit)=0 -> idf 1+ln4
    df = {"cache": 1, "miss": 3}
    a = {"cache": 2, "miss": 1}
    b = {"cache": 1, "hit": 1}
    i_cache, i_miss, i_hit = 1 + math.log(2), 1.0, 1 + math.log(4)
    dot = (2 * i_cache) * (1 * i_cache)
    norm_a = math.hypot(2 * i_cache, 1 * i_miss)
    norm_b = math.hypot(i_cache, i_hit)
    assert cosine(a, b, df, 3) == pytest.approx(dot / (norm_a * norm_b))


def test_cosine_identical_orthogonal_empty():
    tf = {"login": 2, "safari": 1}
    assert cosine(tf, tf, {}, 10) == pytest.approx(1.0)
    assert cosine(tf, {"cache": 1}, {}, 10) == 0.0
    assert cosine({}, tf, {}, 10) == 0.0
    assert cosine({"x": 0}, tf, {}, 10) == 0.0


def test_cosine_is_exactly_symmetric_and_bounded():
    a = {f"t{i}": i % 7 + 1 for i in range(50)}
    b = {f"t{i}": i % 5 + 1 for i in range(25, 90)}
    df = {f"t{i}": i % 11 for i in range(90)}
    assert cosine(a, b, df, 20) == cosine(b, a, df, 20)
    assert 0.0 <= cosine(a, b, df, 20) <= 1.0


def test_common_terms_count_less_than_rare_ones():
    df = {"bug": 99, "safari": 1}
    rare = cosine({"safari": 1, "bug": 1}, {"safari": 1, "login": 1}, df, 100)
    common = cosine({"safari": 1, "bug": 1}, {"bug": 1, "login": 1}, df, 100)
    assert rare > common


def test_top_terms():
    tf = {"cache": 3, "miss": 3, "redis": 1, "lock": 1}
    df = {"cache": 1, "miss": 9, "redis": 0, "lock": 0}
    # weights: cache 3*(ln(11/2)+1)=8.11, miss 3*(ln(11/10)+1)=3.29, redis=lock=ln(11)+1=3.40
    assert top_terms(tf, df, 10, 3) == ["cache", "lock", "redis"]
    assert top_terms(tf, df, 10, 0) == []
    assert top_terms({}, df, 10, 5) == []
