"""The installed `kushim` command against a live gateway process on the real services."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.api.support import LogBuffer, start_gateway, unique_email, wait_for

REPO = Path(__file__).resolve().parents[3]


def _kushim_argv() -> list[str]:
    installed = shutil.which("kushim", path=str(Path(sys.executable).parent))
    return [installed] if installed else [sys.executable, "-m", "kushim_cli"]


@pytest.fixture(scope="module")
def gateway_url(backends):
    process, port = start_gateway(LogBuffer(), backends.graph_addr, backends.lockcache_addr,
                                  name="api-cli")
    yield f"http://127.0.0.1:{port}"
    process.stop()


@pytest.fixture
def kushim(gateway_url, tmp_path):
    env = {"HOME": str(tmp_path), "KUSHIM_URL": gateway_url, "COLUMNS": "200",
           "PATH": os.environ.get("PATH", ""),
           "PYTHONPATH": os.pathsep.join(str(REPO / p) for p in ("cli", "gen"))}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603 - fixed argv
            [*_kushim_argv(), *args], input=stdin, capture_output=True, text=True, env=env,
            timeout=300, cwd=tmp_path,
        )
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run


def _records(tag: str) -> list[dict]:
    items = []
    for n in range(1, 9):
        key = f"{tag}-{n}"
        items.append({"externalId": key, "sourcePlatform": "jira", "artifactType": "task",
                      "title": f"{key}: payment retries time out", "author": "ada",
                      "timestamp": f"2024-05-0{n}T09:00:00+00:00",
                      "metadata": {"ticketId": key}})
        sha = f"{n:040x}"
        items.append({"externalId": sha, "sourcePlatform": "github", "artifactType": "commit",
                      "title": f"Fix {key}: back off between retries", "author": "bob",
                      "timestamp": f"2024-05-0{n}T12:00:00+00:00",
                      "metadata": {"commit": sha, "branch": f"fix/{key}"}})
    return items


def test_login_ingest_groups_context_health(kushim, tmp_path):
    email = unique_email()
    registered = kushim("login", "--register", "--email", email, "--password-stdin",
                        stdin="correct horse battery\n")
    assert registered.returncode == 0, registered.stderr
    token_file = tmp_path / ".config" / "kushim" / "credentials.json"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"

    tag = "PAY" + unique_email()[1:5].upper().replace("0", "Q")
    source = tmp_path / "records.jsonl"
    lines = [json.dumps(r) for r in _records(tag)]
    lines.insert(3, json.dumps({"externalId": "bad", "sourcePlatform": "jira"}))
    source.write_text("\n".join(lines) + "\n")
    ingested = kushim("ingest", str(source), "--batch-size", "5")
    assert ingested.returncode == 1, ingested.stderr
    assert "16" in ingested.stdout and "Rejected lines" in ingested.stdout
    assert "artifactType is required" in ingested.stdout

    again = kushim("ingest", str(source), "--batch-size", "5")
    assert "unchanged" in again.stdout

    groups = kushim("--json", "groups")
    assert groups.returncode == 0, groups.stderr
    listed = json.loads(groups.stdout)
    assert listed["total"] >= 1, "linked records should have formed context groups"

    health = kushim("health")
    assert health.returncode == 0 and "postgres" in health.stdout

    from kushim_cli.client import Client

    token = json.loads(token_file.read_text())["token"]
    api = Client(json.loads(token_file.read_text())["url"], token)
    found = api.get(f"/records?search={tag}-1&source=jira")
    record_id = found["items"][0]["id"]
    wait_for(lambda: api.request("GET", "/health/ready", answer_statuses=(503,)).get(
        "outboxPending") == 0)
    context = kushim("context", record_id, "--depth", "2")
    assert context.returncode == 0, context.stderr
    assert "back off between retries" in context.stdout
    missing = kushim("context", "00000000-0000-4000-8000-000000000000")
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr


def test_wrong_password_and_unreachable_server_are_clear(kushim, gateway_url):
    bad = kushim("login", "--email", unique_email(), "--password-stdin", stdin="whatever pw\n")
    assert bad.returncode == 1 and "invalid email or password" in bad.stderr
    down = kushim("--url", "http://127.0.0.1:1", "health")
    assert down.returncode == 2 and "cannot reach Kushim" in down.stderr
