"""The chaos report as Markdown (devstack.readme_results puts it in chaos/README.md)."""

COLUMNS = ("scenario", "fault", "load held", "503s", "500s", "lost", "duplicates",
           "neo4j==pg", "result")


def _row(result: dict) -> list[str]:
    def known(value: object) -> str:
        return "?" if value is None else str(value)

    held = f"{result['requests']} req, {result['req_per_s']}/s, {result['acknowledged']} acked"
    if result.get("req_per_s_in_fault") is not None:
        held += f"; {result['req_per_s_in_fault']}/s in the fault"
    return [
        result["scenario"], result["fault"], held, str(result["unavailable_503"]),
        str(result["server_errors_500"]), known(result.get("lost")),
        known(result.get("duplicate_links")),
        {True: "yes", False: "no", None: "?"}[result.get("neo4j_matches_pg")],
        "pass" if result["passed"] else "**FAIL**",
    ]


def markdown(document: dict) -> str:
    lines = [
        f"Run {document['date']}, {document['seconds']:.0f} s in all, "
        f"{sum(r['passed'] for r in document['scenarios'])} of "
        f"{len(document['scenarios'])} scenarios passed.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(_row(r)) + " |" for r in document["scenarios"]]
    lines.append("")
    for result in document["scenarios"]:
        for text in [*result.get("problems", []), *result.get("failures", [])[:3]]:
            lines.append(f"- {result['scenario']}: {text}")
    return "\n".join(lines).rstrip() + "\n"
