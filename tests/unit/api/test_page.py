"""The web page's files as the gateway serves them, and the headers on every answer."""

import re
from pathlib import Path

import pytest
from kushim_api.errors import NotFound
from kushim_api.routes.page import WEB_DIR, asset_path
from kushim_api.security_headers import SECURITY_HEADERS

SCRIPTS = sorted((WEB_DIR / "js").rglob("*.js"))


def assert_strict_headers(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


async def test_the_page_is_served_without_a_token_with_the_strict_headers(client):
    response = await client.get("/ui/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<main id="main"' in await response.text()
    assert_strict_headers(response)


async def test_scripts_and_styles_have_their_types(client):
    script = await client.get("/ui/js/main.js")
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    style = await client.get("/ui/app.css")
    assert style.headers["Content-Type"] == "text/css; charset=utf-8"


async def test_the_root_and_the_bare_prefix_redirect_to_the_page(client):
    for path in ("/", "/ui"):
        response = await client.get(path, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (302, "/ui/")
        assert_strict_headers(response)


async def test_a_missing_asset_is_a_404_envelope_with_the_headers(client):
    response = await client.get("/ui/js/nothing.js")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    assert_strict_headers(response)


async def test_a_nul_byte_in_the_path_is_a_404_not_a_500(client):
    response = await client.get("/ui/index.html%00.js")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_api_answers_and_errors_carry_the_headers_too(client):
    assert_strict_headers(await client.get("/health"))
    unauthorized = await client.get("/records")
    assert unauthorized.status == 401
    assert_strict_headers(unauthorized)


@pytest.mark.parametrize("name", [
    "../app.py", "js/../../config.py", "../../../../etc/passwd", "/etc/passwd", "js",
    "index.html.bak", "js/main.js\x00.html",
])
def test_only_page_files_inside_the_web_folder_are_served(name):
    with pytest.raises(NotFound):
        asset_path(name)


def test_an_empty_name_is_the_index_and_unknown_types_are_refused(tmp_path: Path):
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "notes.txt").write_text("private")
    assert asset_path("", tmp_path) == (tmp_path / "index.html").resolve()
    with pytest.raises(NotFound):
        asset_path("notes.txt", tmp_path)


def test_the_html_has_no_inline_script_style_or_handler():
    html = re.sub(r"<!--.*?-->", "", (WEB_DIR / "index.html").read_text(), flags=re.S)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_no_script_parses_html_or_evaluates_strings(path: Path):
    # Record fields come from untrusted webhooks: the page builds DOM nodes with text only.
    source = path.read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function", "setAttribute(\"style\""):
        assert sink not in source, f"{path.name} uses {sink}"
