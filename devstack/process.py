"""The lifecycle every local server shares: start as a child process, wait until it really
answers, stop gracefully, and the rough signals chaos tests need."""

# ruff: noqa: S603 -- starting processes from fixed argv lists (no shell) is the job here

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from devstack.probes import HOST, tcp_accepts

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.05


class StartError(RuntimeError):
    """A server did not come up. The message is one line naming the server and the reason."""


class StartAborted(StartError):
    """Start given up on request (another server of the stack failed, or Ctrl-C)."""


def log_tail(path: Path, offset: int = 0, lines: int = 3, limit: int = 400) -> str:
    """The last few non-empty lines written to path after offset, joined on one line."""
    try:
        with path.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    tail = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    joined = " | ".join(tail) or "(log is empty)"
    return joined if len(joined) <= limit else "..." + joined[-limit:]


class GroupLeader:
    """A child started as the leader of a session of its own: signals go to its whole process
    group, as a real crash or freeze would reach every process of a server or service."""

    name: str
    _proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running() else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send sig to the whole process group, as a crash would. With SIGKILL, also reap the
        leader, so running() is False on return."""
        if not self.running():
            return
        self._signal_group(sig)
        if sig == signal.SIGKILL:
            self._proc.wait()

    def pause(self) -> None:
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal_group(signal.SIGCONT)

    def _terminate(self, sig: signal.Signals, timeout: float) -> None:
        """Send sig to the leader and wait for it to exit; SIGKILL the whole group if it
        ignores sig for `timeout` seconds."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        self._signal_group(signal.SIGCONT)  # a paused child handles the signal once resumed
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s ignored %s for %.0f s; killing it", self.name, sig.name, timeout)
            self._signal_group(signal.SIGKILL)
            proc.wait()

    def _signal_group(self, sig: int) -> None:
        # Only while the leader lives: after it is reaped its pid (= group id) may be reused.
        if not self.running():
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)


class ServerProcess(GroupLeader):
    """Base class. Subclasses provide the command, the readiness probe and the URL.

    Each server runs in its own session (process group), so a Ctrl-C in the terminal reaches
    only devstack, which then stops servers in order; and pause/kill reach the whole server
    (PostgreSQL's backends too), as a real crash or freeze would. Output goes to a log file
    beside the data dir (<datadir>.log) because PostgreSQL needs its data dir to itself.
    """

    stop_signal = signal.SIGTERM
    start_timeout = 30.0
    stop_timeout = 20.0

    def __init__(self, name: str, datadir: Path | str, port: int) -> None:
        self.name = name
        # absolute(), not resolve(): a symlinked data dir keeps its own path
        self.datadir = Path(datadir).absolute()
        self.log_path = self.datadir.with_name(self.datadir.name + ".log")
        self._port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    # -- what subclasses define ----------------------------------------------------------
    def _command(self) -> Sequence[str]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    @property
    def url(self) -> str:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Create the data dir and configuration before the process starts."""
        self.datadir.mkdir(parents=True, exist_ok=True)

    def _popen_options(self) -> dict:
        return {}

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    def start(self, *, abort: threading.Event | None = None) -> None:
        """Start and wait until the server answers. Setting `abort` (from another thread)
        gives up early: the half-started server is killed and StartError raised."""
        if self.running():
            return
        if abort is not None and abort.is_set():
            raise StartAborted(f"{self.name}: start aborted")
        if tcp_accepts(self.port):
            raise StartError(
                f"{self.name}: port {HOST}:{self.port} is already in use by another process"
            )
        started = time.monotonic()
        try:
            self._prepare()
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("ab") as log_file:
                self._log_offset = log_file.tell()
                self._proc = subprocess.Popen(
                    list(self._command()),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    **{"cwd": self.datadir, **self._popen_options()},
                )
        except OSError as error:  # a missing binary, a data dir we may not write...
            raise StartError(f"{self.name}: {error}") from error
        self._wait_ready(abort)
        log.debug(
            "%s ready on %s:%s in %.1f s", self.name, HOST, self.port, time.monotonic() - started
        )

    def _wait_ready(self, abort: threading.Event | None) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise StartError(
                    f"{self.name} exited with code {code} while starting: {self.log_tail()}"
                )
            if abort is not None and abort.is_set():
                self.kill()
                raise StartAborted(f"{self.name}: start aborted")
            if self._ready():
                return
            if time.monotonic() > deadline:
                self.kill()
                raise StartError(
                    f"{self.name} did not answer on {HOST}:{self.port} within "
                    f"{self.start_timeout:.0f} s: {self.log_tail()}"
                )
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(POLL_INTERVAL)  # returns early if it dies

    def log_tail(self) -> str:
        return log_tail(self.log_path, self._log_offset)

    def log_text(self) -> str:
        """Everything this server wrote since its last start."""
        with self.log_path.open("rb") as f:
            f.seek(self._log_offset)
            return f.read().decode(errors="replace")

    def stop(self) -> None:
        """Graceful stop; SIGKILL only if the server ignores it for stop_timeout seconds."""
        self._terminate(self.stop_signal, self.stop_timeout)

    def __enter__(self) -> "ServerProcess":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} port={self.port} pid={self.pid}>"
