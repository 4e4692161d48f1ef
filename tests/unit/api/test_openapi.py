import re

from kushim_api.app import create_app
from kushim_api.config import Config
from kushim_api.openapi import spec
from kushim_api.routes.page import PAGE_PATHS


def _registered():
    config = Config(environment="development", password_hash_profile="cheapest")  # noqa: S106
    app = create_app(config)
    found = set()
    for route in app.router.routes():
        # the web page's static files are not part of the HTTP API it calls
        if route.method in ("HEAD", "OPTIONS") or route.resource.canonical in PAGE_PATHS:
            continue
        found.add((route.method.lower(), route.resource.canonical))
    return found


def test_every_registered_route_is_described():
    described = {(method, path) for path, ops in spec()["paths"].items() for method in ops}
    missing = _registered() - described
    assert not missing, f"routes missing from /openapi.json: {sorted(missing)}"
    stale = described - _registered()
    assert not stale, f"/openapi.json describes routes that do not exist: {sorted(stale)}"


def test_every_reference_resolves_and_path_params_are_declared():
    document = spec()
    schemas = document["components"]["schemas"]
    text = repr(document)
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in schemas, name
    # every mention of a component is a reference ("$ref"), not a mangled key
    assert text.count("#/components/schemas/") == text.count("'$ref': '#/components/schemas/")
    for path, ops in document["paths"].items():
        params = set(re.findall(r"{(\w+)}", path))
        for op in ops.values():
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == params, (path, declared)
            assert op["responses"], path


def test_public_routes_are_marked_and_the_rest_need_a_token():
    for path, ops in spec()["paths"].items():
        public = path.startswith(("/health", "/auth/", "/webhooks/")) or path in (
            "/metrics", "/openapi.json")
        public = public and path not in ("/auth/logout", "/auth/password")
        for op in ops.values():
            assert (op.get("security") == []) is public, path


async def test_served_document_is_openapi_31(client):
    response = await client.get("/openapi.json")
    body = await response.json()
    assert body["openapi"] == "3.1.0" and "/records/{id}/context" in body["paths"]
