"""What the HTTP fuzz suite sent and what came back: per category, answers by status class,
and every answer that broke the contract (a 5xx, or an error outside the envelope)."""

import json
import os
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import requests

CODES = {
    400: "validation_error", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 429: "rate_limited", 503: "unavailable",
}
SETUP = "setup"
RESULTS = Path(__file__).resolve().parents[3] / "bench" / "results"


def envelope_problem(answer: requests.Response) -> str | None:
    """Why an error answer is not in the contract's envelope, or None when it is."""
    try:
        error = answer.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"{answer.status_code} body is not an error envelope: {answer.text[:200]!r}"
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return f"{answer.status_code} envelope without a message: {error!r:.200}"
    expected = CODES.get(answer.status_code)
    if expected and error.get("code") != expected:
        return f"{answer.status_code} answered with code {error.get('code')!r}"
    return None


class Tally:
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.by_category: dict[str, Counter] = defaultdict(Counter)
        self.problems: list[str] = []

    def check(self, category: str, label: str, answer: requests.Response,
              allowed: tuple[int, ...] | None = None) -> requests.Response:
        """Counts the answer; a 5xx, an error outside the envelope, or (with ``allowed``) any
        other status than those is a problem."""
        status = answer.status_code
        self.by_category[category][f"{status // 100}xx"] += 1
        problem = None
        if status >= 500:
            problem = f"{status} {answer.text[:300]!r}"
        elif status >= 400:
            problem = envelope_problem(answer)
        if problem is None and allowed is not None and status not in allowed:
            problem = f"{status} where {allowed} was expected: {answer.text[:200]!r}"
        if problem:
            self.problems.append(f"[{category}] {label}: {problem}")
        return answer

    def inputs(self) -> dict[str, Counter]:
        """The fuzz's own categories; the requests that set up its users are no input."""
        return {name: c for name, c in self.by_category.items() if name != SETUP}

    def totals(self) -> Counter:
        return sum(self.inputs().values(), Counter())

    def summary(self) -> dict:
        totals = self.totals()
        return {
            "run": datetime.now(UTC).isoformat(timespec="seconds"),
            "budget": self.budget,
            "inputs": sum(totals.values()),
            "answers": {k: totals.get(k, 0) for k in ("2xx", "3xx", "4xx", "5xx")},
            "categories": {
                name: {"inputs": sum(c.values()), **dict(sorted(c.items()))}
                for name, c in sorted(self.inputs().items())
            },
            "problems": len(self.problems),
        }

    def line(self, summary: dict) -> str:
        per = ", ".join(f"{name} {c['inputs']}" for name, c in summary["categories"].items())
        a = summary["answers"]
        return (f"fuzz: {summary['inputs']} inputs ({per}); 2xx {a['2xx']}, 4xx {a['4xx']}, "
                f"5xx {a['5xx']}; contract problems {summary['problems']}")

    def write(self, summary: dict) -> Path | None:
        """bench/results/fuzz-<UTC>.json, for runs given an explicit budget (make fuzz)."""
        if "FUZZ_EXAMPLES" not in os.environ:
            return None
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
        path = RESULTS / f"fuzz-{stamp}.json"
        path.write_text(json.dumps(summary, indent=2) + "\n")
        return path
