"""The web page: static files under /ui/ (HTML, CSS, ES modules and the vendored graph
library). The page is plain files calling the public HTTP API from the same origin, so the
gateway only serves them; nothing is rendered on the server (see security_headers.py)."""

from pathlib import Path

from aiohttp import web

from kushim_api.errors import NotFound

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
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

routes = web.RouteTableDef()


def asset_path(name: str, root: Path = WEB_DIR) -> Path:
    """The file a /ui/ path names, or NotFound: only known file types, only inside root."""
    if not name:
        name = "index.html"
    try:
        candidate = (root / name).resolve()
    except (ValueError, OSError):  # a NUL byte, a name too long for the filesystem
        raise NotFound("no such page asset") from None
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

