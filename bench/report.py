"""Bench results as Markdown (devstack.readme_results puts them in bench/README.md)."""


README_HEAD = """# Benchmarks

`make bench` (python -m bench) writes its latest tables below.

"""


def _cell(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _machine(document: dict) -> list[str]:
    m = document["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    return [
        f"Run {document['date']}, {document['wall_seconds']:.0f} s in all, on {m['cpus']} CPUs "
        f"({m['cpu_model']}), {m['memory_gib']} GiB, {m['kernel']}. Load average (1/5/15 min) "
        f"{m['load_at_start']} at start, {m['load_at_end']} at end. Versions: {versions}.",
        "",
    ]


def markdown(document: dict, chart: str | None = None) -> str:
    lines = _machine(document)
    if chart:
        lines += [f"![bench chart](results/{chart})", ""]
    for name, section in document["sections"].items():
        lines.append(f"### {name}: {section['title']}")
        lines.append("")
        rows = section.get("rows") or []
        if rows:
            columns = list(rows[0])
            lines.append("| " + " | ".join(columns) + " |")
            lines.append("|" + "---|" * len(columns))
            for row in rows:
                lines.append("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |")
            lines.append("")
        for note in section.get("notes") or []:
            lines.append(f"- {note}")
        if section.get("notes"):
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
