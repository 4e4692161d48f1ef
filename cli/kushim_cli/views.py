"""Read-only commands: groups, context, health."""

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from kushim_cli.client import Client


def _print_json(console: Console, value: Any) -> None:
    console.print_json(json.dumps(value))


def groups(client: Client, console: Console, *, limit: int, offset: int, as_json: bool) -> int:
    page = client.get(f"/context-groups?limit={limit}&offset={offset}")
    if as_json:
        _print_json(console, page)
        return 0
    table = Table(title=f"Context groups ({page['total']})")
    for column in ("name", "members", "coherence", "topics", "updated", "id"):
        table.add_column(column)
    for group in page["items"]:
        table.add_row(group["name"], str(group["memberCount"]), f"{group['coherence']:.2f}",
                      ", ".join(group["topics"][:5]), group.get("updatedAt") or "", group["id"])
    console.print(table)
    shown = page["offset"] + len(page["items"])
    if shown < page["total"]:
        console.print(f"{page['total'] - shown} more: use --offset {shown}")
    return 0


def context(client: Client, console: Console, record_id: str, *, depth: int,
            as_json: bool) -> int:
    sub = client.get(f"/records/{record_id}/context?depth={depth}")
    if as_json:
        _print_json(console, sub)
        return 0
    titles = {node["id"]: node["title"] for node in sub["nodes"]}
    nodes = Table(title=f"Records within {depth} of {record_id}")
    for column in ("platform", "type", "title", "id"):
        nodes.add_column(column)
    for node in sub["nodes"]:
        nodes.add_row(node["sourcePlatform"], node["artifactType"], node["title"], node["id"])
    console.print(nodes)
    links = Table(title="Links")
    for column in ("from", "to", "confidence", "type", "method"):
        links.add_column(column)
    for link in sub["links"]:
        links.add_row(titles.get(link["sourceRecordId"], link["sourceRecordId"]),
                      titles.get(link["targetRecordId"], link["targetRecordId"]),
                      f"{link['confidence']:.2f}", link["linkType"], link["method"])
    console.print(links)
    if sub.get("groups"):
        console.print("Groups: " + ", ".join(g["name"] for g in sub["groups"]))
    return 0


def health(client: Client, console: Console, *, as_json: bool) -> int:
    report = client.request("GET", "/health/ready", answer_statuses=(503,))
    if as_json:
        _print_json(console, report)
    else:
        colour = {"ok": "green", "degraded": "yellow"}.get(report["status"], "red")
        console.print(f"Kushim at {client.base_url}: [{colour}]{report['status']}[/]")
        table = Table()
        table.add_column("dependency")
        table.add_column("state")
        for name, state in sorted(report.get("dependencies", {}).items()):
            table.add_row(name, state)
        console.print(table)
    return 0 if report["status"] in ("ok", "degraded") else 1
