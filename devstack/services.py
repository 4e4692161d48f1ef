"""The Kushim services as child processes, their output relayed to the console line by line
with the service's name in front."""

# ruff: noqa: S603 -- starting processes from fixed argv lists (no shell) is the job here

import collections
import contextlib
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from devstack.paths import REPO_ROOT
from devstack.process import POLL_INTERVAL, GroupLeader, StartAborted, StartError

log = logging.getLogger(__name__)

_print_lock = threading.Lock()  # whole lines from several relays, never interleaved


def relay_line(prefix: str, line: str, out: TextIO) -> None:
    with _print_lock:
        out.write(f"{prefix:<10}| {line.rstrip()}\n")
        out.flush()


class ServiceProcess(GroupLeader):
    """`ready_check` is called until it returns True (or the deadline passes, or the process
    dies). Like the servers, a service runs in its own session so a Ctrl-C reaches only
    devstack, which stops the services in order."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        ready_check: Callable[[], bool],
        *,
        cwd: Path = REPO_ROOT,
        start_timeout: float = 60.0,
        stop_timeout: float = 15.0,
        out: TextIO = sys.stdout,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.ready_check = ready_check
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.out = out
        self._proc: subprocess.Popen[str] | None = None
        self._relay: threading.Thread | None = None
        self._recent: collections.deque[str] = collections.deque(maxlen=3)

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def start(self, *, abort: threading.Event | None = None) -> None:
        """Start and wait for ready_check; setting `abort` gives up early (and stops it)."""
        started = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                start_new_session=True,
            )
        except OSError as error:
            raise StartError(f"{self.name}: {error}") from error
        self._relay = threading.Thread(
            target=self._relay_output, name=f"relay-{self.name}", daemon=True
        )
        self._relay.start()
        deadline = started + self.start_timeout
        while not self.ready_check():
            if self._proc.poll() is not None:
                self._relay.join(5)  # let the last words reach the console and _recent
                code = self._proc.returncode
                raise StartError(
                    f"{self.name} exited with code {code} while starting: {self.last_output()}"
                )
            if abort is not None and abort.is_set():
                self.stop()
                raise StartAborted(f"{self.name}: start aborted")
            if time.monotonic() > deadline:
                self.stop()
                seconds = f"{self.start_timeout:.0f} s"
                raise StartError(
                    f"{self.name} was not ready within {seconds}: {self.last_output()}"
                )
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(POLL_INTERVAL)
        log.info("%s ready in %.1f s", self.name, time.monotonic() - started)

    def last_output(self) -> str:
        return " | ".join(self._recent) or "(no output)"

    def _relay_output(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with self._proc.stdout:
            for line in self._proc.stdout:
                if line.strip():
                    self._recent.append(line.strip())
                relay_line(self.name, line, self.out)

    def stop(self) -> None:
        """SIGTERM, as Kubernetes stops a pod; SIGKILL after stop_timeout seconds."""
        self._terminate(signal.SIGTERM, self.stop_timeout)
        if self._relay is not None:
            self._relay.join(5)

    def __repr__(self) -> str:
        return f"<ServiceProcess {self.name} pid={self.pid}>"
