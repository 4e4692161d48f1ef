"""One owner per profile: a lockfile held with flock while a devstack process owns the profile's
servers, and a pidfile saying who that is and which child processes it started.

flock gives mutual exclusion and vanishes with its holder, so a crash never leaves a profile
locked. The pidfile (written atomically, separate from the lockfile so a rename never swaps the
locked inode) names the holder for the "already running" message and lets the next owner stop
servers that a crashed owner left behind. Processes are identified by pid plus start time, so a
recycled pid is never mistaken for ours."""

import contextlib
import fcntl
import json
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

LEFTOVER_STOP_TIMEOUT = 30.0


class AlreadyRunning(RuntimeError):
    """The profile is owned by another live devstack process."""


def process_start_time(pid: int) -> int | None:
    """Start time of pid in clock ticks since boot, or None if there is no such live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    if fields[0] == "Z":  # a zombie has exited; only its parent's wait is missing
        return None
    return int(fields[19])


@dataclass
class ProcessRef:
    pid: int
    start_time: int

    @classmethod
    def of(cls, pid: int) -> "ProcessRef | None":
        start_time = process_start_time(pid)
        return None if start_time is None else cls(pid, start_time)

    def alive(self) -> bool:
        return process_start_time(self.pid) == self.start_time


@dataclass
class Holder:
    owner: ProcessRef
    mode: str
    ready: bool = False
    children: dict[str, ProcessRef] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "pid": self.owner.pid,
                "start_time": self.owner.start_time,
                "mode": self.mode,
                "ready": self.ready,
                "children": {
                    name: [ref.pid, ref.start_time] for name, ref in self.children.items()
                },
            }
        )

    @classmethod
    def from_json(cls, text: str) -> "Holder":
        data = json.loads(text)
        return cls(
            owner=ProcessRef(data["pid"], data["start_time"]),
            mode=data["mode"],
            ready=data["ready"],
            children={
                name: ProcessRef(pid, start) for name, (pid, start) in data["children"].items()
            },
        )


class ProfileLock:
    def __init__(self, directory: Path, label: str) -> None:
        self.directory = directory
        self.label = label
        self.lock_path = directory / "stack.lock"
        self.pid_path = directory / "stack.pid"
        self._fd: int | None = None
        self._holder: Holder | None = None

    def holder(self) -> Holder | None:
        """The live owner of the profile, if any."""
        holder = self._read()
        return holder if holder and holder.owner.alive() else None

    def check_free(self) -> None:
        """Raise AlreadyRunning if a live process owns the profile."""
        holder = self.holder()
        if holder is not None:
            raise AlreadyRunning(self._running_message(holder.owner.pid))

    def _running_message(self, pid: object) -> str:
        return f"kushim {self.label} profile is already running (pid {pid}); stop it first"

    def acquire(self, mode: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self._read()
            pid = holder.owner.pid if holder else "unknown"
            raise AlreadyRunning(self._running_message(pid)) from None
        self._fd = fd
        stale = self._read()
        if stale is not None:
            log.info("removing stale pidfile of %s (pid %s is gone)", self.label, stale.owner.pid)
            stop_leftovers(stale.children)
        owner = ProcessRef.of(os.getpid())
        assert owner is not None
        self._holder = Holder(owner=owner, mode=mode)
        self._write()

    def update(self, *, ready: bool | None = None, children: dict[str, int] | None = None) -> None:
        """Record readiness and (more) child processes; refs of exited children are dropped."""
        if self._holder is None:
            return
        if ready is not None:
            self._holder.ready = ready
        for name, pid in (children or {}).items():
            ref = ProcessRef.of(pid)
            if ref is not None:
                self._holder.children[name] = ref
        self._write()

    def release(self) -> None:
        if self._fd is None:
            return
        self.pid_path.unlink(missing_ok=True)
        os.close(self._fd)  # closing drops the flock
        self._fd = None
        self._holder = None

    def _read(self) -> Holder | None:
        try:
            return Holder.from_json(self.pid_path.read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self) -> None:
        assert self._holder is not None
        scratch = self.pid_path.with_name(self.pid_path.name + ".tmp")
        scratch.write_text(self._holder.to_json() + "\n")
        scratch.replace(self.pid_path)


def stop_leftovers(children: dict[str, ProcessRef]) -> None:
    """Stop servers left running by an owner that died: SIGTERM to each one's process group
    (each was started as a session leader), then SIGKILL whatever outlives the deadline."""
    alive = {name: ref for name, ref in children.items() if ref.alive()}
    for name, ref in alive.items():
        log.info("stopping %s left running by a previous owner (pid %s)", name, ref.pid)
        _signal_group(ref.pid, signal.SIGTERM)
        _signal_group(ref.pid, signal.SIGCONT)
    deadline = time.monotonic() + LEFTOVER_STOP_TIMEOUT
    while alive and time.monotonic() < deadline:
        alive = {name: ref for name, ref in alive.items() if ref.alive()}
        time.sleep(0.1)  # polling processes that are not our children: there is nothing to wait on
    for name, ref in alive.items():
        log.warning("killing %s (pid %s): it ignored SIGTERM", name, ref.pid)
        _signal_group(ref.pid, signal.SIGKILL)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
