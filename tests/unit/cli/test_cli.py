import io
import json
import stat

import pytest
from kushim_cli import credentials, ingest
from kushim_cli.__main__ import run
from kushim_cli.client import ApiError, Client, ConnectionFailed
from rich.console import Console


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def _login(cli_env, monkeypatch, email="ada@example.com", register=True):
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    argv = ["login", "--email", email, "--password-stdin"] + (["--register"] if register else [])
    return run(argv, cli_env)


def _record(n: int, **fields) -> dict:
    body = {"externalId": f"T-{n}", "sourcePlatform": "jira", "artifactType": "task",
            "title": f"T-{n}: something", "author": "ada",
            "timestamp": "2024-05-01T12:00:00Z"}
    body.update(fields)
    return body


def test_login_saves_a_private_token(cli_env, monkeypatch, capsys):
    assert _login(cli_env, monkeypatch) == 0
    path = credentials.token_path(cli_env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    saved = json.loads(path.read_text())
    assert saved["email"] == "ada@example.com" and saved["token"].count(".") == 2
    assert "Logged in as ada@example.com" in capsys.readouterr().out
    assert _login(cli_env, monkeypatch) == 0


def test_login_with_a_wrong_password_is_a_clear_error(cli_env, monkeypatch, capsys):
    _login(cli_env, monkeypatch)
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong password\n"))
    code = run(["login", "--email", "ada@example.com", "--password-stdin"], cli_env)
    err = capsys.readouterr().err
    assert code == 1 and "invalid email or password" in err and "Traceback" not in err


def test_commands_need_a_token(cli_env, capsys):
    assert run(["groups"], cli_env) == 1
    assert "run `kushim login`" in capsys.readouterr().err


def test_a_bad_token_says_how_to_fix_it(cli_env, capsys):
    assert run(["groups"], {**cli_env, "KUSHIM_TOKEN": "nonsense"}) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "kushim login" in err


def test_connection_refused_is_one_line(cli_env, capsys):
    code = run(["health"], {**cli_env, "KUSHIM_URL": "http://127.0.0.1:1"})
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach Kushim at http://127.0.0.1:1" in err
    assert "Traceback" not in err


def test_health(cli_env, capsys, live_api):
    assert run(["health"], cli_env) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "postgres" in out
    live_api.backends.graph.down = True
    assert run(["--json", "health"], cli_env) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "down"


def test_ingest_batches_and_summarizes(cli_env, monkeypatch, capsys, tmp_path, live_api):
    _login(cli_env, monkeypatch)
    source = tmp_path / "records.jsonl"
    lines = [json.dumps(_record(n)) for n in range(7)]
    lines[3] = json.dumps(_record(3, timestamp="not a time"))
    lines.insert(5, "{broken")
    lines.insert(6, "")
    source.write_text("\n".join(lines) + "\n")
    code = run(["ingest", str(source), "--batch-size", "2"], cli_env)
    out = capsys.readouterr().out
    assert code == 1
    assert "created" in out and "Rejected lines" in out
    assert "timestamp" in out and "not valid JSON" in out
    ingests = [c for c in live_api.backends.graph.calls if c[0] == "IngestRecords"]
    assert [len(c[1].records) for c in ingests] == [2, 1, 2, 1]
    assert not ingest.checkpoint_path(source).exists()

    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps(_record(n)) for n in range(3)) + "\n")
    assert run(["ingest", str(good)], cli_env) == 0
    assert "unchanged" in capsys.readouterr().out


def test_ingest_resumes_after_the_last_acknowledged_line(cli_env, monkeypatch, capsys,
                                                         tmp_path, live_api):
    _login(cli_env, monkeypatch)
    source = tmp_path / "records.jsonl"
    source.write_text("\n".join(json.dumps(_record(n)) for n in range(6)) + "\n")
    real_send, calls = ingest._send, []

    def flaky(client, records):
        calls.append(len(records))
        if len(calls) == 2:
            raise ConnectionFailed("cannot reach Kushim: connection reset")
        return real_send(client, records)

    monkeypatch.setattr(ingest, "_send", flaky)
    assert run(["ingest", str(source), "--batch-size", "2"], cli_env) == 3
    err = capsys.readouterr().err
    assert "run the same command again to resume" in err
    saved = json.loads(ingest.checkpoint_path(source).read_text())
    assert saved["line"] == 2 and saved["counts"]["created"] == 2

    monkeypatch.setattr(ingest, "_send", real_send)
    assert run(["--json", "ingest", str(source), "--batch-size", "2"], cli_env) == 0
    captured = capsys.readouterr()
    assert "Resuming records.jsonl after line 2" in captured.err
    sent = [c[1] for c in live_api.backends.graph.calls if c[0] == "IngestRecords"]
    assert [r.external_id for c in sent for r in c.records] == [f"T-{n}" for n in range(6)]
    assert not ingest.checkpoint_path(source).exists()


def test_a_changed_input_ignores_its_old_checkpoint(cli_env, monkeypatch, capsys, tmp_path):
    _login(cli_env, monkeypatch)
    source = tmp_path / "records.jsonl"
    source.write_text(json.dumps(_record(1)) + "\n")
    ingest.checkpoint_path(source).write_text(json.dumps(
        {"line": 1, "offset": 5, "prefix": "0" * 64, "counts": {}}))
    assert run(["ingest", str(source)], cli_env) == 0
    assert "changed since its checkpoint" in capsys.readouterr().err


def test_ingest_missing_file(cli_env, monkeypatch, capsys, tmp_path):
    _login(cli_env, monkeypatch)
    assert run(["ingest", str(tmp_path / "nope.jsonl")], cli_env) == 1
    assert "no such file" in capsys.readouterr().err


def test_groups_and_context(cli_env, monkeypatch, capsys, live_api):
    _login(cli_env, monkeypatch)
    token = credentials.load(cli_env["KUSHIM_URL"], cli_env)
    from kushim_cli.client import Client

    client = Client(cli_env["KUSHIM_URL"], token)
    a = client.post("/records", _record(1))["record"]["id"]
    client.post("/records", _record(2, title="follow-up to T-1"))
    client.post("/context-groups", {"name": "Checkout", "recordIds": [a]})
    assert run(["groups"], cli_env) == 0
    assert "Checkout" in capsys.readouterr().out
    assert run(["context", a, "--depth", "1"], cli_env) == 0
    out = capsys.readouterr().out
    assert "follow-up to T-1" in out and "strong_contextual" in out and "Checkout" in out
    assert run(["--json", "context", a], cli_env) == 0
    assert len(json.loads(capsys.readouterr().out)["nodes"]) == 2
    missing = "00000000-0000-4000-8000-000000000000"
    assert run(["context", missing], cli_env) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_a_batch_retried_after_its_records_were_stored_reports_them_retried(
        cli_env, monkeypatch, tmp_path):
    _login(cli_env, monkeypatch)
    source = tmp_path / "records.jsonl"
    source.write_text("\n".join(json.dumps(_record(n)) for n in range(3)) + "\n")
    real_post, posts = Client.post, []

    def cut_off(client, path, body, **kwargs):
        answer = real_post(client, path, body, **kwargs)
        posts.append(path)
        if len(posts) == 1:  # stored, but the answer is lost: the gateway says 503
            raise ApiError(503, "unavailable", "upstream deadline exceeded")
        return answer

    monkeypatch.setattr(Client, "post", cut_off)
    monkeypatch.setattr(ingest.time, "sleep", lambda s: None)
    client = Client(cli_env["KUSHIM_URL"], credentials.load(cli_env["KUSHIM_URL"], cli_env))
    tally = ingest.ingest(client, source, batch_size=500, restart=False,
                          console=Console(file=io.StringIO()), wait_s=60.0)
    assert posts == ["/records", "/records"]
    assert tally.counts == {"created": 0, "updated": 0, "unchanged": 0, "retried": 3,
                            "rejected": 0}


class PendingRecords:
    """GET /records/{id}: the discovery states each record answers in turn."""

    def __init__(self, states: dict[str, list]) -> None:
        self.states = states
        self.reads: list[str] = []

    def get(self, path: str) -> dict:
        record_id = path.rsplit("/", 1)[1]
        self.reads.append(record_id)
        state = self.states[record_id].pop(0)
        if state == 404:
            raise ApiError(404, "not_found", "record not found")
        return {"id": record_id, "discoveryState": state}


def test_waiting_reads_the_oldest_pending_record_until_all_are_discovered(monkeypatch):
    monkeypatch.setattr(ingest, "POLL_S", 0.0)
    client = PendingRecords({"a": ["pending", "pending", "done"], "b": ["done"], "c": [404]})
    tally = ingest.Tally(pending=["a", "b", "c"])
    ingest.wait_for_discovery(client, tally, 60.0, Console(file=io.StringIO()))
    assert client.reads == ["a", "a", "a", "b", "c"]
    assert tally.still_pending == 0


def test_waiting_ends_at_its_timeout_and_says_what_is_still_pending(cli_env, capsys):
    client = PendingRecords({"a": ["pending"]})
    tally = ingest.Tally(pending=["a", "b"])
    ingest.wait_for_discovery(client, tally, 0.0, Console(file=io.StringIO()))
    assert tally.still_pending == 2 and client.reads == []


def test_waiting_stops_on_an_error_other_than_not_found():
    class Broken:
        def get(self, path):
            raise ApiError(401, "unauthorized", "token expired")

    with pytest.raises(ApiError):
        ingest.wait_for_discovery(Broken(), ingest.Tally(pending=["a"]), 60.0,
                                  Console(file=io.StringIO()))
