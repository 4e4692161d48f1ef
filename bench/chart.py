"""The results chart: one panel per section, a bar per row of its headline figure."""

import logging
import math
from pathlib import Path

log = logging.getLogger("bench")

# section -> (columns naming a bar, the figure drawn, axis label, log scale, target line)
PANELS = {
    "locks": (["client"], "ops_per_s", "acquire+release cycles/s", False, None),
    "cache": (["client"], "ops_per_s", "Get/s (log scale)", True, None),
    "http": (["request", "instances"], "req/s", "requests/s", False, None),
    "ingest": (["threshold", "stored_records"], "records_per_s", "records/s", False, None),
    "graph_context": (["read"], "p50_ms", "p50 ms (lower is better)", False, None),
    "read_mix": (["writes"], "hit_rate_pct", "context cache hit rate %", False, 70.0),
}


def _panel(section_name: str, rows: list[dict]) -> tuple[list[str], list[float], tuple]:
    names, figure, *rest = PANELS.get(section_name) or _fallback(rows)
    labels = [" · ".join(str(row.get(c, "")) for c in names) for row in rows]
    values = [float(row.get(figure) or 0) for row in rows]
    return labels, values, tuple(rest)


def _fallback(rows: list[dict]) -> tuple:
    """A section not listed above: text columns name the bar, the first number is drawn."""
    first = rows[0]
    names = [c for c, v in first.items() if isinstance(v, str)]
    figure = next(c for c, v in first.items() if isinstance(v, int | float))
    return names, figure, figure, False, None


def draw(document: dict, path: Path) -> Path | None:
    """Writes the PNG; None (and a log line) when matplotlib is missing or nothing measured."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("no chart: matplotlib is missing (make bench installs the bench extra)")
        return None
    sections = [(n, s) for n, s in document["sections"].items() if s.get("rows")]
    if not sections:
        return None
    columns = 2
    rows_of_panels = math.ceil(len(sections) / columns)
    figure, axes = plt.subplots(
        rows_of_panels, columns, figsize=(15, 3.6 * rows_of_panels), squeeze=False
    )
    for ax, (name, section) in zip(axes.flat, sections, strict=False):
        labels, values, (axis_label, log_scale, target) = _panel(name, section["rows"])
        bars = ax.barh(range(len(values)), values, color="#4c72b0")
        ax.set_yticks(range(len(values)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{name}: {section['title']}", fontsize=9, loc="left", wrap=True)
        ax.set_xlabel(axis_label, fontsize=8)
        if log_scale:
            ax.set_xscale("log")
        if target is not None:
            ax.axvline(target, color="#c44e52", linestyle="--", label=f"target {target:g}")
            ax.legend(fontsize=8, loc="lower right")
        figures = [f"{v:,.0f}" if v >= 1000 else f"{v:.4g}" for v in values]
        ax.bar_label(bars, labels=figures, fontsize=7, padding=2)
        ax.margins(x=0.15)
        if axis_label.endswith("%"):
            ax.set_xlim(0, 110)
    for ax in list(axes.flat)[len(sections) :]:
        ax.axis("off")
    machine = document["machine"]
    figure.suptitle(
        f"make bench {document['date']}: {machine['cpus']} CPUs, {machine['memory_gib']} GiB, "
        f"load {machine['load_at_start']} at start (ratios within this run are the comparison)",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
