"""One route table per resource group."""

from aiohttp import web

from kushim_api.routes import (
    auth,
    data_sources,
    groups,
    links,
    operations,
    page,
    records,
    users,
    webhooks,
)

TABLES = (
    operations.routes, auth.routes, users.routes, records.routes, links.routes,
    groups.routes, data_sources.routes, webhooks.routes, page.routes,
)


def setup_routes(app: web.Application) -> None:
    for table in TABLES:
        app.router.add_routes(table)
