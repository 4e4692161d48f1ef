"""One owner per profile: refusal while it lives, clean takeover once it is gone."""

import json
import os
import subprocess
import sys

import pytest

from devstack.profilelock import AlreadyRunning, ProcessRef, ProfileLock, process_start_time


def dead_process() -> ProcessRef:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    ref = ProcessRef.of(child.pid)
    child.wait()
    assert ref is not None and not ref.alive()
    return ref


def test_own_process_is_alive_and_identified_by_start_time():
    me = ProcessRef.of(os.getpid())
    assert me is not None and me.alive()
    assert not ProcessRef(os.getpid(), me.start_time + 1).alive()  # a recycled pid is not us
    assert process_start_time(2**22 + 1) is None


def test_second_owner_is_refused_with_the_first_ones_pid(tmp_path):
    first = ProfileLock(tmp_path, "run")
    first.acquire("run")
    try:
        with pytest.raises(AlreadyRunning) as refused:
            ProfileLock(tmp_path, "run").acquire("run")
        assert str(refused.value) == (
            f"kushim run profile is already running (pid {os.getpid()}); stop it first"
        )
        assert ProfileLock(tmp_path, "run").holder().mode == "run"
    finally:
        first.release()
    assert ProfileLock(tmp_path, "run").holder() is None
    assert not (tmp_path / "stack.pid").exists()


def test_stale_pidfile_of_a_dead_owner_is_replaced(tmp_path):
    dead = dead_process()
    leftover = dead_process()
    (tmp_path / "stack.pid").write_text(
        json.dumps(
            {
                "pid": dead.pid,
                "start_time": dead.start_time,
                "mode": "up",
                "ready": True,
                "children": {"redis": [leftover.pid, leftover.start_time]},
            }
        )
    )
    lock = ProfileLock(tmp_path, "test-1")
    assert lock.holder() is None
    lock.acquire("test")
    try:
        holder = lock.holder()
        assert holder is not None and holder.owner.pid == os.getpid() and holder.children == {}
    finally:
        lock.release()


def test_update_records_live_children_only(tmp_path):
    lock = ProfileLock(tmp_path, "x")
    lock.acquire("library")
    try:
        lock.update(ready=True, children={"me": os.getpid(), "gone": dead_process().pid})
        holder = ProfileLock(tmp_path, "x").holder()
        assert holder.ready
        assert list(holder.children) == ["me"]
    finally:
        lock.release()
