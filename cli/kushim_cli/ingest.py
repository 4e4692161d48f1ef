"""`kushim ingest FILE.jsonl`: batched, resumable upload with a summary of every outcome.

After each acknowledged batch a checkpoint next to the input records the last line
acknowledged, the byte offset after it and a hash of the bytes before it; running the same
command again resumes there when the input's beginning is unchanged.

Every outcome is the server's answer for that record. A batch sent again after a transient
failure (the earlier attempt may have stored part of it) reports the records it finds already
stored as `retried` (stored by the interrupted attempt, or before), never as `unchanged`. A
batch's records whose discovery the request's deadline left pending are discovered right after
it; by default the command then waits, with a second progress bar, until discovery is done
for every record it sent.
"""

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kushim_cli.client import ApiError, Client, CliError, ConnectionFailed

MAX_BATCH = 500
RETRIES = 3
MAX_KEPT_REJECTIONS = 1000
OUTCOMES = ("created", "updated", "unchanged", "retried", "rejected")
# While discovery is pending: how often the oldest pending record is looked at again.
POLL_S = 0.5


class IngestStopped(CliError):
    exit_code = 3


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    rejections: list[dict[str, Any]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # ids whose discovery was not done yet
    still_pending: int = 0  # after waiting: discovery not done when the wait ended

    def reject(self, line: int, reason: str, field_name: str | None = None) -> None:
        self.counts["rejected"] += 1
        if len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append({"line": line, "field": field_name, "reason": reason})


def checkpoint_path(source: Path) -> Path:
    return source.with_name(source.name + ".kushim-checkpoint")


def _prefix_hash(source: Path, offset: int) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as f:
        remaining = offset
        while remaining:
            chunk = f.read(min(remaining, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def load_checkpoint(source: Path) -> dict[str, Any] | None:
    try:
        saved = json.loads(checkpoint_path(source).read_text())
        offset = int(saved["offset"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if offset > source.stat().st_size or _prefix_hash(source, offset) != saved.get("prefix"):
        return None
    return saved


def save_checkpoint(source: Path, line: int, offset: int, tally: Tally) -> None:
    path = checkpoint_path(source)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({
        "line": line, "offset": offset, "prefix": _prefix_hash(source, offset),
        "counts": tally.counts, "rejections": tally.rejections,
    }))
    os.replace(tmp, path)


def _send(client: Client, records: list[dict]) -> tuple[list[dict], bool]:
    """(the results, whether the batch was sent more than once)."""
    delay = 0.5
    for attempt in range(RETRIES + 1):
        try:
            answer = client.post("/records", {"records": records}, timeout=300)
            return answer["results"], attempt > 0
        except (ConnectionFailed, ApiError) as exc:
            transient = isinstance(exc, ConnectionFailed) or exc.transient
            if not transient or attempt == RETRIES:
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _count_lines(source: Path, offset: int) -> int:
    with source.open("rb") as f:
        f.seek(offset)
        return sum(1 for _ in f)


def ingest(client: Client, source: Path, *, batch_size: int, restart: bool,
           console: Console, wait_s: float = 0.0) -> Tally:
    """wait_s: how long to wait at most, after the upload, for discovery (0: do not)."""
    if not source.is_file():
        raise CliError(f"{source}: no such file")
    batch_size = max(1, min(batch_size, MAX_BATCH))
    tally, line_no, offset = Tally(), 0, 0
    saved = None if restart else load_checkpoint(source)
    if saved is None and checkpoint_path(source).exists() and not restart:
        console.print(f"[yellow]{source.name} changed since its checkpoint: starting over[/]")
    if saved is not None:
        line_no, offset = saved["line"], saved["offset"]
        tally.counts.update(saved.get("counts", {}))
        tally.rejections = list(saved.get("rejections", []))
        console.print(f"Resuming {source.name} after line {line_no}")
    progress = Progress(
        TextColumn("[bold]ingest"), BarColumn(), MofNCompleteColumn(), TextColumn("lines"),
        TimeElapsedColumn(), console=console,
    )
    with progress, source.open("rb") as f:
        task = progress.add_task("ingest", total=line_no + _count_lines(source, offset),
                                 completed=line_no)
        f.seek(offset)
        batch: list[tuple[int, dict]] = []
        for raw in iter(f.readline, b""):
            line_no += 1
            offset += len(raw)
            item = _parse_line(raw, line_no, tally)
            if item is not None:
                batch.append((line_no, item))
            if len(batch) >= batch_size:
                _flush(client, batch, tally, line_no)
                batch = []
                save_checkpoint(source, line_no, offset, tally)
            progress.update(task, completed=line_no)
        if batch:
            _flush(client, batch, tally, line_no)
    checkpoint_path(source).unlink(missing_ok=True)
    if wait_s > 0:
        wait_for_discovery(client, tally, wait_s, console)
    return tally


def wait_for_discovery(client: Client, tally: Tally, wait_s: float, console: Console) -> None:
    """Until every record the upload left pending is discovered, or wait_s has passed.
    Discovery goes roughly in the order records were sent, so the oldest pending record is
    the one to look at: each record is read about once."""
    deadline = time.monotonic() + wait_s
    waiting = list(reversed(tally.pending))
    progress = Progress(
        TextColumn("[bold]discovery"), BarColumn(), MofNCompleteColumn(), TextColumn("records"),
        TimeElapsedColumn(), console=console,
    )
    with progress:
        task = progress.add_task("discovery", total=len(waiting))
        while waiting and time.monotonic() < deadline:
            record_id = waiting[-1]
            try:
                record = client.get(f"/records/{record_id}")
            except ApiError as exc:
                if exc.status != 404:
                    raise
                record = None  # deleted meanwhile: nothing left to discover
            if record is None or record.get("discoveryState") != "pending":
                waiting.pop()
                progress.advance(task)
            else:
                time.sleep(POLL_S)
    tally.still_pending = len(waiting)


def _parse_line(raw: bytes, line_no: int, tally: Tally) -> dict | None:
    if not raw.strip():
        return None
    try:
        item = json.loads(raw)
    except ValueError:
        tally.reject(line_no, "not valid JSON")
        return None
    if not isinstance(item, dict):
        tally.reject(line_no, "not a JSON object")
        return None
    return item


def _flush(client: Client, batch: list[tuple[int, dict]], tally: Tally, line_no: int) -> None:
    try:
        results, retried = _send(client, [item for _, item in batch])
    except ApiError as exc:
        if exc.status == 401:
            raise
        raise IngestStopped(
            f"batch ending at line {line_no} failed: {exc}; run the same command to resume"
        ) from None
    except ConnectionFailed as exc:
        raise IngestStopped(f"{exc}; run the same command again to resume") from None
    for result in results:
        line = batch[result["index"]][0]
        status = result["status"]
        if status == "rejected":
            error = result.get("error") or {}
            tally.reject(line, error.get("message", "rejected"), error.get("field"))
            continue
        if retried and status == "unchanged":
            status = "retried"
        tally.counts[status] += 1
        record = result.get("record") or {}
        if record.get("discoveryState") == "pending" and record.get("id"):
            tally.pending.append(record["id"])
