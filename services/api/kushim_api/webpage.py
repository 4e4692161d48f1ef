"""The web page: static files under /ui/ (HTML, CSS, ES modules and the vendored graph
library), and the security headers every response carries.

The page is plain files calling the public HTTP API from the same origin, so the gateway only
serves them; nothing is rendered on the server. The Content-Security-Policy allows scripts and
styles from this origin only (no inline code, no eval), and no framing."""

from pathlib import Path

from aiohttp import web

from kushim_api.errors import NotFound

WEB_DIR = Path(__file__).resolve().parent / "web"
PREFIX = "/ui/"
# Routes outside the HTTP API (and so outside /openapi.json): the page and its redirects.
PAGE_PATHS = ("/", "/ui", PREFIX + "{name}")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

routes = web.RouteTableDef()


def asset_path(name: str, root: Path = WEB_DIR) -> Path:
    """The file a /ui/ path names, or NotFound: only known file types, only inside root."""
    if not name:
        name = "index.html"
    candidate = (root / name).resolve()
    if (
        candidate.suffix not in CONTENT_TYPES
        or not candidate.is_relative_to(root)
        or not candidate.is_file()
    ):
        raise NotFound("no such page asset")
    return candidate


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound(PREFIX)


@routes.get("/ui")
async def ui_without_slash(request: web.Request) -> web.Response:
    raise web.HTTPFound(PREFIX)


@routes.get(PREFIX + "{name:.*}")
async def asset(request: web.Request) -> web.FileResponse:
    path = asset_path(request.match_info["name"])
    # Revalidated on every load (FileResponse answers 304 from Last-Modified), so a new
    # gateway version is picked up without cache-busting file names.
    return web.FileResponse(path, headers={
        "Content-Type": CONTENT_TYPES[path.suffix], "Cache-Control": "no-cache",
    })


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
